import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServiceProcess, type ServiceProcess } from '@strait/runtime/testing';
import { freePort, sharedControlPlane } from '@strait/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helmTemplate, runHelm, valuesArgs, type KubeManifest } from './helm.ts';
import { eventually, kubectl, kubectlResult, serviceAccountKubeconfig, serviceAccountMay, type AccessCheck } from './kube.ts';
import { REPO_ROOT, STRAIT_CHART } from './paths.ts';

const suffix = randomBytes(3).toString('hex');
const ns = `strait-chart-${suffix}`;
const release = `it${suffix}`;
const nodeName = `strait-chart-node-${suffix}`;
const VALUES = { global: { clusterID: 'chart-it' }, gatewayService: { type: 'NodePort' } };
const work = mkdtempSync(join(tmpdir(), 'strait-chart-it-'));

let admin = '';
let objects: KubeManifest[] = [];
const processes: ServiceProcess[] = [];

const sa = (service: string) => `${release}-${service}`;

beforeAll(async () => {
  admin = sharedControlPlane().kubeconfigPath;
  objects = await helmTemplate(STRAIT_CHART, { values: [VALUES], release, namespace: ns });
});

afterAll(async () => {
  for (const p of processes) await p.kill();
  await runHelm(['uninstall', release, '-n', ns, '--kubeconfig', admin, '--wait', '--timeout', '60s']).catch(() => undefined);
  await kubectlResult(admin, ['delete', 'node', nodeName, '--ignore-not-found', '--wait=false']);
  await kubectlResult(admin, ['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
  rmSync(work, { recursive: true, force: true });
});

describe('charts/strait installed into a real API server', () => {
  it('installs: every rendered object is accepted and exists', async () => {
    const { args, cleanup } = valuesArgs({ values: [VALUES] });
    const t0 = performance.now();
    try {
      const r = await runHelm(['install', release, STRAIT_CHART, '-n', ns, '--create-namespace', '--kubeconfig', admin, '--timeout', '120s', ...args]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    } finally {
      cleanup();
    }
    console.log(`helm install of ${objects.length} objects (+ CRDs): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const manifest = objects.map((o) => JSON.stringify(o)).join('\n');
    const names = (await kubectl(admin, ['get', '-o', 'name', '-f', '-'], { input: manifest })).trim().split('\n');
    expect(names).toHaveLength(objects.length);
    for (const crd of ['clusters', 'endpoints', 'gateways', 'natmappings', 'tunnelendpoints']) {
      await kubectl(admin, ['get', 'crd', `${crd}.net.strait.io`, '-o', 'name']);
    }
  });

  // What each service does (from its code) and something it must not do.
  const allowed: Record<string, AccessCheck[]> = {
    'tunnel-operator': [
      { verb: 'watch', group: 'net.strait.io', resource: 'tunnelendpoints', namespace: ns },
      { verb: 'patch', group: 'net.strait.io', resource: 'tunnelendpoints', subresource: 'status', namespace: ns },
      { verb: 'create', group: 'net.strait.io', resource: 'endpoints', namespace: ns },
      { verb: 'patch', group: 'net.strait.io', resource: 'endpoints', namespace: ns },
      { verb: 'delete', group: 'net.strait.io', resource: 'endpoints', namespace: ns },
      { verb: 'patch', group: 'net.strait.io', resource: 'gateways', subresource: 'status', namespace: ns },
      { verb: 'get', resource: 'secrets', name: `${release}-gateway-keys`, namespace: ns },
      { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', name: `${release}-gateway`, namespace: ns },
      { verb: 'watch', group: 'coordination.k8s.io', resource: 'leases', name: `${release}-gateway`, namespace: ns },
      { verb: 'create', group: 'events.k8s.io', resource: 'events', namespace: ns },
    ],
    'labeler-operator': [
      { verb: 'list', resource: 'pods', namespace: ns },
      { verb: 'patch', resource: 'pods', namespace: ns },
      { verb: 'watch', group: 'coordination.k8s.io', resource: 'leases', name: `${release}-gateway`, namespace: ns },
      { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', name: `${release}-labeler-operator`, namespace: ns },
      { verb: 'watch', group: 'coordination.k8s.io', resource: 'leases', name: `${release}-labeler-operator`, namespace: ns },
      { verb: 'patch', group: 'events.k8s.io', resource: 'events', namespace: ns },
    ],
    'natmapping-operator': [
      { verb: 'watch', group: 'net.strait.io', resource: 'natmappings', namespace: ns },
      { verb: 'patch', group: 'net.strait.io', resource: 'natmappings', subresource: 'status', namespace: ns },
      { verb: 'create', group: 'events.k8s.io', resource: 'events', namespace: ns },
    ],
    'route-agent': [
      { verb: 'watch', group: 'net.strait.io', resource: 'endpoints', namespace: ns },
      { verb: 'get', group: 'coordination.k8s.io', resource: 'leases', name: `${release}-gateway`, namespace: ns },
      { verb: 'list', resource: 'nodes' },
      { verb: 'watch', group: 'net.strait.io', resource: 'tunnelendpoints', namespace: ns },
      { verb: 'create', group: 'events.k8s.io', resource: 'events', namespace: 'default' },
    ],
    'broker-sync': [
      { verb: 'create', group: 'net.strait.io', resource: 'tunnelendpoints', namespace: ns },
      { verb: 'delete', group: 'net.strait.io', resource: 'natmappings', namespace: ns },
      { verb: 'patch', group: 'net.strait.io', resource: 'clusters', namespace: ns },
      { verb: 'patch', group: 'net.strait.io', resource: 'clusters', subresource: 'status', namespace: ns },
      { verb: 'watch', group: 'net.strait.io', resource: 'endpoints', namespace: ns },
      { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', name: `${release}-broker-sync`, namespace: ns },
      { verb: 'update', group: 'net.strait.io', resource: 'tunnelendpoints', namespace: ns },
      { verb: 'list', group: 'net.strait.io', resource: 'natmappings', namespace: ns },
      { verb: 'create', group: 'net.strait.io', resource: 'clusters', namespace: ns },
    ],
  };
  const refused: Record<string, AccessCheck[]> = {
    'tunnel-operator': [
      { verb: 'get', resource: 'secrets', name: 'another-secret', namespace: ns },
      { verb: 'list', resource: 'secrets', namespace: ns },
      { verb: 'patch', resource: 'pods', namespace: ns },
      { verb: 'create', group: 'net.strait.io', resource: 'tunnelendpoints', namespace: ns },
      { verb: 'watch', group: 'net.strait.io', resource: 'tunnelendpoints', namespace: 'default' },
      { verb: 'watch', group: 'coordination.k8s.io', resource: 'leases', namespace: ns },
    ],
    'labeler-operator': [
      // Moving the gateway is the tunnel operators' election, never the labeler's.
      { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', name: `${release}-gateway`, namespace: ns },
      { verb: 'delete', resource: 'pods', namespace: ns },
      { verb: 'get', resource: 'secrets', name: `${release}-gateway-keys`, namespace: ns },
      { verb: 'patch', resource: 'pods', namespace: 'kube-system' },
    ],
    'natmapping-operator': [
      { verb: 'patch', group: 'net.strait.io', resource: 'natmappings', namespace: ns },
      { verb: 'get', resource: 'secrets', name: `${release}-gateway-keys`, namespace: ns },
      { verb: 'watch', group: 'net.strait.io', resource: 'tunnelendpoints', namespace: ns },
    ],
    'route-agent': [
      { verb: 'patch', resource: 'nodes' },
      { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', name: `${release}-gateway`, namespace: ns },
      { verb: 'create', group: 'net.strait.io', resource: 'endpoints', namespace: ns },
      { verb: 'create', group: 'events.k8s.io', resource: 'events', namespace: 'kube-system' },
      { verb: 'list', resource: 'pods', namespace: ns },
      { verb: 'patch', group: 'net.strait.io', resource: 'gateways', namespace: ns },
    ],
    'broker-sync': [
      { verb: 'create', group: 'net.strait.io', resource: 'endpoints', namespace: ns },
      { verb: 'list', resource: 'configmaps', namespace: ns },
      { verb: 'get', resource: 'secrets', name: `${release}-gateway-keys`, namespace: ns },
      { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', name: `${release}-gateway`, namespace: ns },
      { verb: 'patch', resource: 'pods', namespace: ns },
      // Nothing beyond what its code calls.
      { verb: 'patch', group: 'net.strait.io', resource: 'tunnelendpoints', namespace: ns },
      { verb: 'update', group: 'net.strait.io', resource: 'clusters', namespace: ns },
      { verb: 'get', group: 'net.strait.io', resource: 'endpoints', namespace: ns },
    ],
  };

  it.each(Object.keys(allowed))('%s: its ServiceAccount may do what the service does and is refused what it must not', async (service) => {
    const denied: string[] = [];
    for (const c of allowed[service]!) if (!(await serviceAccountMay(admin, ns, sa(service), c))) denied.push(JSON.stringify(c));
    expect(denied, 'refused although the service needs it').toEqual([]);
    const granted: string[] = [];
    for (const c of refused[service]!) if (await serviceAccountMay(admin, ns, sa(service), c)) granted.push(JSON.stringify(c));
    expect(granted, 'allowed although the service must not').toEqual([]);
  });

  it("the labeler, running as the chart's ServiceAccount with the chart's flags, moves the active label and the gateway Service's EndpointSlices follow", async () => {
    // A node and two gateway pods bound to it, Running and Ready (no kubelet here: the status is written directly).
    await kubectl(admin, ['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName } }) });
    const gatewayLabels = (objects.find((o) => o.kind === 'DaemonSet' && o.metadata.name === sa('tunnel-operator')) as KubeManifest & {
      spec: { template: { metadata: { labels: Record<string, string> } } };
    }).spec.template.metadata.labels;
    const pods = [
      { name: `${release}-gw-a`, ip: '10.244.7.10' },
      { name: `${release}-gw-b`, ip: '10.244.7.11' },
    ];
    for (const p of pods) {
      await kubectl(admin, ['create', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: p.name, namespace: ns, labels: gatewayLabels },
          spec: { nodeName, containers: [{ name: 'tunnel-operator', image: 'strait/tunnel-operator:test' }] },
        }),
      });
      const now = new Date().toISOString();
      await kubectl(admin, [
        '-n', ns, 'patch', 'pod', p.name, '--subresource=status', '--type=merge',
        '-p', JSON.stringify({ status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }], conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } }),
      ]);
    }

    // The labeler process: the chart's args, the chart's ServiceAccount (a bound token), a local probe port.
    const labeler = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === sa('labeler-operator')) as KubeManifest & {
      spec: { template: { spec: { containers: Array<{ args: string[] }> } } };
    };
    const kubeconfig = await serviceAccountKubeconfig(admin, ns, sa('labeler-operator'), join(work, 'labeler.kubeconfig'));
    const probe = await freePort();
    const args = [
      ...labeler.spec.template.spec.containers[0]!.args.filter((a) => !a.startsWith('--probe-addr=')),
      `--probe-addr=127.0.0.1:${probe}`,
      `--kubeconfig=${kubeconfig}`,
    ];
    const proc = startServiceProcess(join(REPO_ROOT, 'apps/labeler-operator/src/main.ts'), args, { env: { POD_NAME: `${release}-labeler-0` } });
    processes.push(proc);
    await proc.waitForReady(60_000);

    const leaseName = `${release}-gateway`;
    const writeLease = async (holder: string) => {
      const lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: leaseName, namespace: ns },
        // MicroTime: RFC 3339 with microseconds.
        spec: { holderIdentity: holder, leaseDurationSeconds: 3600, renewTime: new Date().toISOString().replace('Z', '000Z') },
      };
      await kubectl(admin, ['apply', '--server-side', '--force-conflicts', '--field-manager=test-gateway-election', '-f', '-'], { input: JSON.stringify(lease) });
    };
    const sliceAddresses = async (): Promise<string[]> => {
      const out = await kubectl(admin, ['-n', ns, 'get', 'endpointslices', '-l', `kubernetes.io/service-name=${leaseName}`, '-o', 'json']);
      const list = JSON.parse(out) as { items: Array<{ endpoints?: Array<{ addresses: string[] }> }> };
      return list.items.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses)).sort();
    };
    const roles = async (): Promise<Record<string, string>> => {
      const out = await kubectl(admin, ['-n', ns, 'get', 'pods', '-o', 'json']);
      const list = JSON.parse(out) as { items: Array<{ metadata: { name: string; labels?: Record<string, string> } }> };
      return Object.fromEntries(list.items.map((p) => [p.metadata.name, p.metadata.labels?.['net.strait.io/gateway'] ?? '']));
    };

    let t0 = performance.now();
    await writeLease(pods[0]!.name);
    await eventually('gateway Service endpoints = pod a', async () => ((await sliceAddresses()).join() === pods[0]!.ip ? true : undefined), 30_000);
    console.log(`Lease held by pod a → gateway Service endpoints [${pods[0]!.ip}] in ${(performance.now() - t0).toFixed(0)} ms`);
    expect(await roles()).toMatchObject({ [pods[0]!.name]: 'active', [pods[1]!.name]: 'standby' });

    t0 = performance.now();
    await writeLease(pods[1]!.name);
    await eventually('gateway Service endpoints = pod b', async () => ((await sliceAddresses()).join() === pods[1]!.ip ? true : undefined), 30_000);
    console.log(`Lease moved to pod b → gateway Service endpoints [${pods[1]!.ip}] in ${(performance.now() - t0).toFixed(0)} ms`);
    expect(await roles()).toMatchObject({ [pods[0]!.name]: 'standby', [pods[1]!.name]: 'active' });

    const stop = await proc.stop();
    expect(stop.code).toBe(0);
    expect(proc.stdout + proc.stderr).not.toMatch(/forbidden/i);
  });
});
