import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiException, CoreV1Api, RbacAuthorizationV1Api, AdmissionregistrationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane } from './control-plane.ts';
import { liveProcesses } from './process.ts';
import { sweepStaleWorkdirs } from './workdir.ts';
import type { ClusterHandle, ControlPlane } from './types.ts';

const suffix = () => Math.random().toString(36).slice(2, 8);

/** A process is alive if /proc lists it and it is not a zombie waiting for its new parent to reap it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

async function eventually<T>(fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe('startControlPlane: two clusters and NATS', () => {
  let cp: ControlPlane;
  const progress: string[] = [];

  beforeAll(async () => {
    cp = await startControlPlane({
      clusters: [{ name: 'east', controllerManager: true }, { name: 'west' }],
      nats: true,
      onProgress: (m) => progress.push(m),
    });
  });
  afterAll(async () => {
    await cp?.stop();
  });

  const core = (kc: KubeConfig) => kc.makeApiClient(CoreV1Api);
  const cluster = (name: 'east' | 'west'): ClusterHandle => cp.cluster(name);

  it('starts both clusters, each with its own port, CA and directory, and reports progress', async () => {
    expect(cp.clusters.map((c) => c.name)).toEqual(['east', 'west']);
    const [east, west] = [cluster('east'), cluster('west')];
    expect(east.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(east.server).not.toBe(west.server);
    expect(readFileSync(east.caFile, 'utf8')).not.toBe(readFileSync(west.caFile, 'utf8'));
    expect(east.dir.startsWith(cp.dir)).toBe(true);
    expect(east.controllerManager).toBe(true);
    expect(west.controllerManager).toBe(false);
    for (const c of cp.clusters) {
      const ns = await core(c.kubeConfig()).readNamespace({ name: 'default' });
      expect(ns.metadata?.name).toBe('default');
    }
    expect(progress.some((m) => m.startsWith('east: kube-apiserver ready'))).toBe(true);
    expect(progress.some((m) => m.startsWith('control plane ready'))).toBe(true);
  });

  it('keeps the clusters apart: a namespace created in one is absent in the other', async () => {
    const [east, west] = [cluster('east'), cluster('west')];
    const name = `only-east-${suffix()}`;
    await core(east.kubeConfig()).createNamespace({ body: { metadata: { name } } });
    expect(await statusOf(core(east.kubeConfig()).readNamespace({ name }))).toBe(200);
    expect(await statusOf(core(west.kubeConfig()).readNamespace({ name }))).toBe(404);
  });

  it('a west admin certificate is not accepted by east (separate CAs)', async () => {
    const [east, west] = [cluster('east'), cluster('west')];
    const kc = west.kubeConfig();
    const eastCa = east.kubeConfig().getCurrentCluster()?.caData;
    const westCluster = kc.getCurrentCluster();
    if (!westCluster || !eastCa) throw new Error('kubeconfig without cluster');
    kc.clusters = [{ ...westCluster, server: east.server, caData: eastCa }];
    expect(await statusOf(core(kc).readNamespace({ name: 'default' }))).toBe(401);
  });

  it('an added user is Forbidden until a RoleBinding grants access', async () => {
    const east = cluster('east');
    const ns = `rbac-${suffix()}`;
    await core(east.kubeConfig()).createNamespace({ body: { metadata: { name: ns } } });
    const user = await east.addUser(`alice-${suffix()}`, ['strait:testers']);
    expect(user.groups).toEqual(['strait:testers']);
    const asUser = core(user.kubeConfig());
    expect(await statusOf(asUser.listNamespacedConfigMap({ namespace: ns }))).toBe(403);

    const rbac = east.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'read-configmaps' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'testers-read-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'strait:testers' }],
      },
    });
    await eventually(async () => expect(await statusOf(asUser.listNamespacedConfigMap({ namespace: ns }))).toBe(200));
    // Only what was granted: no writes, nothing in other namespaces.
    expect(await statusOf(asUser.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'x' } } }))).toBe(403);
    expect(await statusOf(asUser.listNamespacedConfigMap({ namespace: 'default' }))).toBe(403);
    // kube-controller-manager fills the aggregated ClusterRoles: binding `view` grants reading services.
    expect(await statusOf(asUser.listNamespacedService({ namespace: ns }))).toBe(403);
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'testers-view' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'strait:testers' }],
      },
    });
    await eventually(async () => expect(await statusOf(asUser.listNamespacedService({ namespace: ns }))).toBe(200));
    await expect(east.addUser(user.name)).rejects.toThrow(/already exists/);
    await expect(east.addUser('bad/name')).rejects.toThrow(/not allowed/);
  });

  it('enforces a ValidatingAdmissionPolicy', async () => {
    const west = cluster('west');
    const kc = west.kubeConfig();
    const adm = kc.makeApiClient(AdmissionregistrationV1Api);
    const ns = `vap-${suffix()}`;
    await core(kc).createNamespace({ body: { metadata: { name: ns, labels: { 'strait-vap-test': ns } } } });
    const name = `deny-forbidden-${suffix()}`;
    await adm.createValidatingAdmissionPolicy({
      body: {
        metadata: { name },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['configmaps'] }],
          },
          validations: [{ expression: "!has(object.data) || !('forbidden' in object.data)", message: 'no forbidden key' }],
        },
      },
    });
    await adm.createValidatingAdmissionPolicyBinding({
      body: {
        metadata: { name },
        spec: {
          policyName: name,
          validationActions: ['Deny'],
          matchResources: { namespaceSelector: { matchLabels: { 'strait-vap-test': ns } } },
        },
      },
    });
    const api = core(kc);
    await eventually(async () => {
      const err = await api
        .createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `c-${suffix()}` }, data: { forbidden: '1' } } })
        .then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ApiException);
      expect((err as ApiException<string>).code).toBe(422);
      expect(String((err as ApiException<string>).body)).toContain('no forbidden key');
    });
    expect(await statusOf(api.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'fine' }, data: { ok: '1' } } }))).toBe(200);
    await adm.deleteValidatingAdmissionPolicyBinding({ name });
    await adm.deleteValidatingAdmissionPolicy({ name });
  });

  it('runs kube-controller-manager where asked: service accounts, root CA ConfigMap, namespace deletion, EndpointSlices', async () => {
    const east = cluster('east');
    const api = core(east.kubeConfig());
    const ns = `kcm-${suffix()}`;
    await api.createNamespace({ body: { metadata: { name: ns } } });
    await eventually(() => api.readNamespacedServiceAccount({ namespace: ns, name: 'default' }));
    await eventually(() => api.readNamespacedConfigMap({ namespace: ns, name: 'kube-root-ca.crt' }));
    // A Service without selector plus Endpoints: the mirroring controller writes an EndpointSlice.
    await api.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'gw' }, spec: { ports: [{ port: 4500, protocol: 'UDP' }] } },
    });
    await api.createNamespacedEndpoints({
      namespace: ns,
      body: { metadata: { name: 'gw' }, subsets: [{ addresses: [{ ip: '10.1.2.3' }], ports: [{ port: 4500, protocol: 'UDP' }] }] },
    });
    const { DiscoveryV1Api } = await import('@kubernetes/client-node');
    const disc = east.kubeConfig().makeApiClient(DiscoveryV1Api);
    await eventually(async () => {
      const slices = await disc.listNamespacedEndpointSlice({ namespace: ns, labelSelector: 'kubernetes.io/service-name=gw' });
      expect(slices.items.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses))).toEqual(['10.1.2.3']);
    });
    await api.deleteNamespace({ name: ns });
    await eventually(async () => expect(await statusOf(api.readNamespace({ name: ns }))).toBe(404));

    // The west cluster has no controller manager: no default service account appears.
    const westApi = core(cluster('west').kubeConfig());
    const westNs = `nokcm-${suffix()}`;
    await westApi.createNamespace({ body: { metadata: { name: westNs } } });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await statusOf(westApi.readNamespacedServiceAccount({ namespace: westNs, name: 'default' }))).toBe(404);
  });

  it('NATS accepts the user and the token identity and nobody else; restarts on the same port', async () => {
    const nats = cp.nats;
    if (!nats) throw new Error('no NATS');
    expect(nats.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    const subject = `strait.test.${suffix()}`;
    const nc1 = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
    const nc2 = await connect({ servers: nats.url, token: nats.token });
    try {
      const sub = nc2.subscribe(subject, { max: 1 });
      await nc2.flush();
      nc1.publish(subject, 'hello');
      for await (const m of sub) expect(m.string()).toBe('hello');
    } finally {
      await nc1.close();
      await nc2.close();
    }
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(/auth/i);
    await expect(connect({ servers: nats.url, user: nats.user, pass: 'wrong', reconnect: false })).rejects.toThrow(/auth/i);
    await expect(connect({ servers: nats.url, token: 'wrong', reconnect: false })).rejects.toThrow(/auth/i);

    await nats.stop();
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow();
    await nats.start();
    const nc3 = await connect({ servers: nats.url, token: nats.token });
    await nc3.close();
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`stopApiServer(${signal}) / startApiServer keep the port and the data`, async () => {
      const west = cluster('west');
      const server = west.server;
      const name = `survives-${signal.toLowerCase()}-${suffix()}`;
      await core(west.kubeConfig()).createNamespace({ body: { metadata: { name } } });
      await west.stopApiServer(signal);
      await expect(core(west.kubeConfig()).readNamespace({ name })).rejects.toThrow();
      await west.startApiServer();
      expect(west.server).toBe(server);
      const ns = await core(west.kubeConfig()).readNamespace({ name });
      expect(ns.metadata?.name).toBe(name);
    });
  }

  it('stop() kills every process, waits for them and removes the directory', async () => {
    const pids = cp.pids();
    // 2 etcd + 2 kube-apiserver + 1 kube-controller-manager + nats-server
    expect(pids).toHaveLength(6);
    expect(pids.every(alive)).toBe(true);
    const dir = cp.dir;
    expect(existsSync(dir)).toBe(true);
    await cp.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(liveProcesses().filter((p) => pids.includes(p.pid ?? -1))).toEqual([]);
    if (process.env['STRAIT_KEEP_TEST_DIRS'] !== '1') expect(existsSync(dir)).toBe(false);
    await cp.stop(); // idempotent
  });
});

describe('a test process that dies', () => {
  const fixture = join(import.meta.dirname, 'fixtures', 'hold-control-plane.ts');

  async function holdControlPlane() {
    const node = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => node.once('exit', (_c, s) => resolve(s)));
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      node.stdout.on('data', (b: Buffer) => {
        buf += b.toString();
        if (buf.includes('\n')) resolve(buf);
      });
      node.once('exit', (code) => reject(new Error(`fixture exited early (${code})`)));
    });
    return { node, exited, ...(JSON.parse(line) as { pids: number[]; dir: string }) };
  }

  async function allDead(pids: number[], timeoutMs = 10_000): Promise<void> {
    await eventually(async () => expect(pids.filter(alive)).toEqual([]), timeoutMs);
  }

  it('takes its control plane down on SIGTERM: processes killed, directory removed', async () => {
    const h = await holdControlPlane();
    expect(h.pids).toHaveLength(3);
    expect(h.pids.every(alive)).toBe(true);
    h.node.kill('SIGTERM');
    expect(await h.exited).toBe('SIGTERM');
    await allDead(h.pids);
    if (process.env['STRAIT_KEEP_TEST_DIRS'] !== '1') expect(existsSync(h.dir)).toBe(false);
  });

  it('takes its processes down even on SIGKILL; the next start-up sweeps the directory', async () => {
    const h = await holdControlPlane();
    h.node.kill('SIGKILL');
    await h.exited;
    await allDead(h.pids);
    expect(existsSync(h.dir)).toBe(true);
    expect(sweepStaleWorkdirs()).toContain(h.dir);
    expect(existsSync(h.dir)).toBe(false);
  });
});
