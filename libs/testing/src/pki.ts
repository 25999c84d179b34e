import { execFile } from 'node:child_process';
import { generateKeyPair } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const genKeyPair = promisify(generateKeyPair);

/** A certificate and its private key, as PEM files. */
export interface CertFiles {
  certFile: string;
  keyFile: string;
}

export interface CertificateAuthority extends CertFiles {
  readonly dir: string;
  readonly commonName: string;
}

export interface ServerCertOptions {
  /** File base name inside the CA's directory (`<name>.crt`, `<name>.key`). */
  name: string;
  commonName: string;
  dnsNames?: readonly string[];
  ips?: readonly string[];
}

export interface ClientCertOptions {
  name: string;
  /** Becomes the Kubernetes user name. */
  commonName: string;
  /** Each becomes an O= attribute: the Kubernetes groups. */
  groups?: readonly string[];
}

export interface ServiceAccountKeys {
  privateKeyFile: string;
  publicKeyFile: string;
}

/** Validity of every certificate. The clusters live minutes; a year leaves room for clock skew. */
const DAYS = '365';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9:._@-]*$/;
const FILE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** A minimal openssl config, so the system openssl.cnf adds no extensions of its own. */
const MIN_CONFIG = '[req]\ndistinguished_name = dn\n[dn]\n';

/** Rejects names that would need escaping in an X.509 subject. */
export function assertSubjectName(what: string, value: string): void {
  if (!NAME_RE.test(value) || value.length > 64) {
    throw new Error(
      `${what} ${JSON.stringify(value)} is not allowed: use 1-64 characters of letters, digits and ":._@-", starting with a letter or digit`,
    );
  }
}

/** `-subj` argument: one O= per group, then CN=. */
export function subject(commonName: string, groups: readonly string[] = []): string {
  assertSubjectName('common name', commonName);
  for (const g of groups) assertSubjectName('group', g);
  return [...groups.map((g) => `/O=${g}`), `/CN=${commonName}`].join('');
}

/** subjectAltName extension value for DNS names and IPs. */
export function subjectAltName(dnsNames: readonly string[] = [], ips: readonly string[] = []): string {
  return [...dnsNames.map((d) => `DNS:${d}`), ...ips.map((ip) => `IP:${ip}`)].join(',');
}

type CertKind =
  | { kind: 'ca' }
  | { kind: 'server'; dnsNames: readonly string[]; ips: readonly string[] }
  | { kind: 'client' };

/** Arguments for one `openssl req -x509` call that makes a P-256 key and its certificate. */
export function opensslCertArgs(opts: {
  configFile: string;
  certFile: string;
  keyFile: string;
  subject: string;
  cert: CertKind;
  ca?: CertFiles;
}): string[] {
  const args = [
    'req', '-x509', '-config', opts.configFile,
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', opts.keyFile, '-out', opts.certFile,
    '-subj', opts.subject, '-days', DAYS,
  ];
  if (opts.ca) args.push('-CA', opts.ca.certFile, '-CAkey', opts.ca.keyFile);
  const ext: string[] = [];
  switch (opts.cert.kind) {
    case 'ca':
      ext.push('basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature');
      break;
    case 'server': {
      ext.push('basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth');
      const san = subjectAltName(opts.cert.dnsNames, opts.cert.ips);
      if (san) ext.push(`subjectAltName=${san}`);
      break;
    }
    case 'client':
      ext.push('basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth');
      break;
  }
  for (const e of ext) args.push('-addext', e);
  return args;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('the `openssl` command is needed to create test certificates but is not installed', { cause: err });
    throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

async function configFile(dir: string): Promise<string> {
  const f = join(dir, 'openssl.cnf');
  await writeFile(f, MIN_CONFIG);
  return f;
}

function files(dir: string, name: string): CertFiles {
  if (!FILE_RE.test(name)) throw new Error(`certificate file name ${JSON.stringify(name)} is not allowed`);
  return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
}

/** A self-signed CA (P-256) in `dir` (`ca.crt`, `ca.key`). Certificates it issues go to the same directory. */
export async function createCa(dir: string, commonName: string): Promise<CertificateAuthority> {
  const f = files(dir, 'ca');
  await openssl(
    opensslCertArgs({ configFile: await configFile(dir), ...f, subject: subject(commonName), cert: { kind: 'ca' } }),
  );
  return { dir, commonName, ...f };
}

/** A serving certificate signed by `ca`. */
export async function issueServerCert(ca: CertificateAuthority, opts: ServerCertOptions): Promise<CertFiles> {
  const f = files(ca.dir, opts.name);
  await openssl(
    opensslCertArgs({
      configFile: join(ca.dir, 'openssl.cnf'),
      ...f,
      subject: subject(opts.commonName),
      cert: { kind: 'server', dnsNames: opts.dnsNames ?? [], ips: opts.ips ?? [] },
      ca,
    }),
  );
  return f;
}

/** A client certificate signed by `ca`: CN is the user, each O is a group. */
export async function issueClientCert(ca: CertificateAuthority, opts: ClientCertOptions): Promise<CertFiles> {
  const f = files(ca.dir, opts.name);
  await openssl(
    opensslCertArgs({
      configFile: join(ca.dir, 'openssl.cnf'),
      ...f,
      subject: subject(opts.commonName, opts.groups),
      cert: { kind: 'client' },
      ca,
    }),
  );
  return f;
}

/** The service-account token signing key pair (ECDSA P-256, ES256), made with node:crypto. */
export async function createServiceAccountKeys(dir: string): Promise<ServiceAccountKeys> {
  const { privateKey, publicKey } = await genKeyPair('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const privateKeyFile = join(dir, 'sa.key');
  const publicKeyFile = join(dir, 'sa.pub');
  await writeFile(privateKeyFile, privateKey, { mode: 0o600 });
  await writeFile(publicKeyFile, publicKey);
  return { privateKeyFile, publicKeyFile };
}
