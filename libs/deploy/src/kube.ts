import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { locateBinaries } from '@strait/testing';
import { stringify } from 'yaml';

/** kubectl against one API server (the test's admin kubeconfig), failing with kubectl's stderr. */
export function kubectl(kubeconfig: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      locateBinaries().path('kubectl'),
      ['--kubeconfig', kubeconfig, ...args],
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp' } },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** kubectl that resolves to its exit status and output instead of throwing. */
export function kubectlResult(kubeconfig: string, args: readonly string[], input?: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      locateBinaries().path('kubectl'),
      ['--kubeconfig', kubeconfig, ...args],
      { timeout: 60_000, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp' } },
      (err, stdout, stderr) => resolve({ ok: !err, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** The admin kubeconfig's server and CA (for building other identities' kubeconfigs). */
export function clusterOf(adminKubeconfig: string): { server: string; caData: string } {
  const text = readFileSync(adminKubeconfig, 'utf8');
  const server = /server:\s*(\S+)/.exec(text)?.[1];
  const caData = /certificate-authority-data:\s*(\S+)/.exec(text)?.[1];
  if (!server || !caData) throw new Error(`${adminKubeconfig}: no server or embedded CA`);
  return { server, caData };
}

/**
 * Writes a kubeconfig for a ServiceAccount, with a bound token the API server issues (TokenRequest),
 * so a process runs with exactly the permissions the chart gave that ServiceAccount.
 */
export async function serviceAccountKubeconfig(adminKubeconfig: string, namespace: string, serviceAccount: string, path: string): Promise<string> {
  const token = (await kubectl(adminKubeconfig, ['-n', namespace, 'create', 'token', serviceAccount, '--duration=1h'])).trim();
  const { server, caData } = clusterOf(adminKubeconfig);
  const user = `${namespace}/${serviceAccount}`;
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server, 'certificate-authority-data': caData } }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user, namespace } }],
      'current-context': 'c',
    }),
    { mode: 0o600 },
  );
  return path;
}

export interface AccessCheck {
  verb: string;
  group?: string;
  resource: string;
  subresource?: string;
  name?: string;
  /** Omitted: cluster scope. */
  namespace?: string;
}

/** Asks the API server (SubjectAccessReview) whether a ServiceAccount may do something. */
export async function serviceAccountMay(adminKubeconfig: string, namespace: string, serviceAccount: string, check: AccessCheck): Promise<boolean> {
  const review = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: `system:serviceaccount:${namespace}:${serviceAccount}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
      resourceAttributes: {
        verb: check.verb,
        group: check.group ?? '',
        resource: check.resource,
        ...(check.subresource ? { subresource: check.subresource } : {}),
        ...(check.name ? { name: check.name } : {}),
        ...(check.namespace ? { namespace: check.namespace } : {}),
      },
    },
  };
  const out = await kubectl(adminKubeconfig, ['create', '-o', 'json', '-f', '-'], { input: JSON.stringify(review) });
  return (JSON.parse(out) as { status?: { allowed?: boolean } }).status?.allowed === true;
}

/** Polls until `fn` returns a value (not undefined); rejects with the last state on timeout. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000, describeLast?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = String(err);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${lastErr ? ` (last error: ${lastErr})` : ''}${describeLast ? ` (${describeLast()})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
