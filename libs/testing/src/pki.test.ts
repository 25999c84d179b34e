import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createCa,
  createServiceAccountKeys,
  issueClientCert,
  issueServerCert,
  opensslCertArgs,
  subject,
  subjectAltName,
} from './pki.ts';

describe('certificate arguments', () => {
  it('builds subjects with one O per group', () => {
    expect(subject('alice', ['system:masters', 'strait:testers'])).toBe('/O=system:masters/O=strait:testers/CN=alice');
    expect(subject('system:kube-controller-manager')).toBe('/CN=system:kube-controller-manager');
  });

  it('rejects names that would need escaping', () => {
    expect(() => subject('a/b')).toThrow(/common name "a\/b" is not allowed/);
    expect(() => subject('ok', ['x=y'])).toThrow(/group "x=y" is not allowed/);
    expect(() => subject('')).toThrow(/not allowed/);
  });

  it('lists DNS names and IPs in subjectAltName', () => {
    expect(subjectAltName(['localhost'], ['127.0.0.1', '10.96.0.1'])).toBe('DNS:localhost,IP:127.0.0.1,IP:10.96.0.1');
  });

  it('signs server and client certificates with the CA and marks their usage', () => {
    const ca = { certFile: 'ca.crt', keyFile: 'ca.key' };
    const server = opensslCertArgs({
      configFile: 'c.cnf', certFile: 's.crt', keyFile: 's.key', subject: '/CN=s',
      cert: { kind: 'server', dnsNames: ['localhost'], ips: ['127.0.0.1'] }, ca,
    });
    expect(server).toEqual(expect.arrayContaining(['-CA', 'ca.crt', '-CAkey', 'ca.key', 'extendedKeyUsage=serverAuth', 'subjectAltName=DNS:localhost,IP:127.0.0.1']));
    const client = opensslCertArgs({ configFile: 'c.cnf', certFile: 'c.crt', keyFile: 'c.key', subject: '/CN=c', cert: { kind: 'client' }, ca });
    expect(client).toContain('extendedKeyUsage=clientAuth');
    const root = opensslCertArgs({ configFile: 'c.cnf', certFile: 'ca.crt', keyFile: 'ca.key', subject: '/CN=ca', cert: { kind: 'ca' } });
    expect(root).toContain('basicConstraints=critical,CA:TRUE');
    expect(root).not.toContain('-CA');
  });
});

describe('certificates made with openssl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strait-pki-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('issues a CA, a serving certificate with SANs and client certificates with groups', async () => {
    const ca = await createCa(dir, 'strait-test-ca');
    const caCert = new X509Certificate(readFileSync(ca.certFile));
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toBe('CN=strait-test-ca');

    const server = await issueServerCert(ca, {
      name: 'apiserver', commonName: 'kube-apiserver',
      dnsNames: ['localhost', 'kubernetes.default.svc'], ips: ['127.0.0.1', '10.96.0.1'],
    });
    const serverCert = new X509Certificate(readFileSync(server.certFile));
    expect(serverCert.ca).toBe(false);
    expect(serverCert.verify(caCert.publicKey)).toBe(true);
    expect(serverCert.subjectAltName).toBe('DNS:localhost, DNS:kubernetes.default.svc, IP Address:127.0.0.1, IP Address:10.96.0.1');
    expect(serverCert.checkIP('10.96.0.1')).toBe('10.96.0.1');
    expect(serverCert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);

    const admin = await issueClientCert(ca, { name: 'admin', commonName: 'strait-admin', groups: ['system:masters', 'extra'] });
    const adminCert = new X509Certificate(readFileSync(admin.certFile));
    expect(adminCert.subject.split('\n')).toEqual(['O=system:masters', 'O=extra', 'CN=strait-admin']);
    expect(adminCert.verify(caCert.publicKey)).toBe(true);
    expect(adminCert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(adminCert.checkPrivateKey(createPrivateKey(readFileSync(admin.keyFile)))).toBe(true);
  });

  it('creates a P-256 service-account key pair', async () => {
    const keys = await createServiceAccountKeys(dir);
    const priv = createPrivateKey(readFileSync(keys.privateKeyFile));
    const pub = createPublicKey(readFileSync(keys.publicKeyFile));
    expect(priv.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const sig = sign('sha256', Buffer.from('x'), priv);
    expect(verify('sha256', Buffer.from('x'), pub, sig)).toBe(true);
  });
});
