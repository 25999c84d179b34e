import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { addSharedUser, sharedControlPlane, sharedKubeConfig } from './shared.ts';

const suffix = () => Math.random().toString(36).slice(2, 8);

describe('the shared control plane (globalSetup)', () => {
  it('is provided to test files and reachable with the admin kubeconfig', async () => {
    const info = sharedControlPlane();
    expect(info.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(info.kubeconfigPath.startsWith(info.dir)).toBe(true);
    const api = sharedKubeConfig().makeApiClient(CoreV1Api);
    const name = `shared-${suffix()}`;
    await api.createNamespace({ body: { metadata: { name } } });
    try {
      expect((await api.readNamespace({ name })).metadata?.name).toBe(name);
    } finally {
      await api.deleteNamespace({ name });
    }
  });

  it('runs kube-controller-manager (default service accounts appear)', async () => {
    const api = sharedKubeConfig().makeApiClient(CoreV1Api);
    const sa = await api.readNamespacedServiceAccount({ namespace: 'default', name: 'default' });
    expect(sa.metadata?.name).toBe('default');
  });

  it('adds users without permissions', async () => {
    const user = await addSharedUser(`shared-user-${suffix()}`);
    const err = await user
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .listNamespace()
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<unknown>).code).toBe(403);
  });

  it('provides NATS with its two identities', async () => {
    const { nats } = sharedControlPlane();
    const a = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
    const b = await connect({ servers: nats.url, token: nats.token });
    await Promise.all([a.close(), b.close()]);
  });
});
