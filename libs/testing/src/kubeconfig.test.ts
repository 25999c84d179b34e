import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderKubeconfig, writeKubeconfig } from './kubeconfig.ts';

const spec = {
  clusterName: 'east',
  server: 'https://127.0.0.1:6443',
  caPem: 'CA PEM\n',
  userName: 'alice',
  clientCertPem: 'CERT PEM\n',
  clientKeyPem: 'KEY PEM\n',
};

describe('renderKubeconfig', () => {
  it('renders one cluster, one user and the current context with embedded data', () => {
    const doc = parse(renderKubeconfig(spec)) as Record<string, unknown>;
    expect(doc).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'east', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': Buffer.from('CA PEM\n').toString('base64') } }],
      users: [
        {
          name: 'alice',
          user: {
            'client-certificate-data': Buffer.from('CERT PEM\n').toString('base64'),
            'client-key-data': Buffer.from('KEY PEM\n').toString('base64'),
          },
        },
      ],
      contexts: [{ name: 'alice@east', context: { cluster: 'east', user: 'alice' } }],
      'current-context': 'alice@east',
      preferences: {},
    });
  });

  it('sets a namespace when given', () => {
    const doc = parse(renderKubeconfig({ ...spec, namespace: 'ns1' })) as { contexts: Array<{ context: { namespace?: string } }> };
    expect(doc.contexts[0]?.context.namespace).toBe('ns1');
  });

  it('rejects a server that is not https://host:port', () => {
    expect(() => renderKubeconfig({ ...spec, server: 'http://127.0.0.1:1' })).toThrow(/must be https/);
  });

  it('is understood by @kubernetes/client-node', () => {
    const kc = new KubeConfig();
    kc.loadFromString(renderKubeconfig(spec));
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(kc.getCurrentUser()?.name).toBe('alice');
    expect(kc.getCurrentUser()?.certData).toBe(Buffer.from('CERT PEM\n').toString('base64'));
  });

  it('writes the file with mode 0600 from PEM files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strait-kubeconfig-test-'));
    try {
      for (const f of ['ca', 'c', 'k']) writeFileSync(join(dir, f), `${f} pem`);
      const path = await writeKubeconfig(join(dir, 'x.kubeconfig'), {
        clusterName: 'c', server: 'https://127.0.0.1:1', caFile: join(dir, 'ca'), userName: 'u',
        certFile: join(dir, 'c'), keyFile: join(dir, 'k'),
      });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readFileSync(path, 'utf8')).toContain(Buffer.from('k pem').toString('base64'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
