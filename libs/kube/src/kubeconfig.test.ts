import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kubeConfigFrom } from './kubeconfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'strait-kube-kc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = join(dir, 'config');
writeFileSync(
  file,
  `apiVersion: v1
kind: Config
clusters:
- name: one
  cluster: { server: https://127.0.0.1:6443, insecure-skip-tls-verify: true }
- name: two
  cluster: { server: https://127.0.0.2:6443, insecure-skip-tls-verify: true }
users:
- name: admin
  user: { token: secret-token }
contexts:
- name: a
  context: { cluster: one, user: admin }
- name: b
  context: { cluster: two, user: admin }
current-context: a
`,
);

describe('kubeConfigFrom', () => {
  it('loads an explicit file and honours a context', () => {
    expect(kubeConfigFrom({ kubeconfig: file }).getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(kubeConfigFrom({ kubeconfig: file, context: 'b' }).getCurrentCluster()?.server).toBe('https://127.0.0.2:6443');
  });

  it('fails with specific errors, never echoing credentials', () => {
    expect(() => kubeConfigFrom({ kubeconfig: join(dir, 'missing') })).toThrow(/kubeconfig: file not found: .*missing/);
    expect(() => kubeConfigFrom({ kubeconfig: '' })).toThrow(/path is empty/);
    let msg = '';
    try {
      kubeConfigFrom({ kubeconfig: file, context: 'nope' });
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toMatch(/context "nope" not found/);
    expect(msg).not.toContain('secret-token');
    const noCurrent = join(dir, 'nocurrent');
    writeFileSync(noCurrent, 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n');
    expect(() => kubeConfigFrom({ kubeconfig: noCurrent })).toThrow(/has no current cluster/);
  });
});
