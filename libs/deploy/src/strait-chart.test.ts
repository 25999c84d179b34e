import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GATEWAY_APP_LABEL, GATEWAY_APP_LABEL_VALUE, GATEWAY_ROLE_ACTIVE, GATEWAY_ROLE_LABEL } from '@strait/api';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SYNC_HINT, staleCrdCopies } from './crd-sync.ts';
import { findManifest, helmTemplate, parseManifests, runHelm, valuesArgs, type KubeManifest } from './helm.ts';
import { API_CRD_DIR, CHART_CRDS, REPO_ROOT, STRAIT_CHART } from './paths.ts';

const SERVICES = ['tunnel-operator', 'labeler-operator', 'natmapping-operator', 'route-agent', 'broker-sync'] as const;
const BASE = { global: { clusterID: 'cluster-a' } };

interface Container {
  name: string;
  args: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  securityContext?: Record<string, unknown>;
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: { containers: Container[]; volumes?: Array<{ name: string; secret?: { secretName: string } }>; hostNetwork?: boolean; serviceAccountName: string };
}

function workload(objects: KubeManifest[], service: string): KubeManifest & { spec: { template: PodTemplate; replicas?: number } } {
  const hit = objects.find((o) => (o.kind === 'Deployment' || o.kind === 'DaemonSet') && o.metadata.name.endsWith(`-${service}`));
  if (!hit) throw new Error(`no workload for ${service}`);
  return hit as KubeManifest & { spec: { template: PodTemplate; replicas?: number } };
}

function flagsOf(objects: KubeManifest[], service: string): Map<string, string> {
  const args = workload(objects, service).spec.template.spec.containers[0]!.args;
  return new Map(args.map((a) => [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
}

async function refusal(values: Record<string, unknown>): Promise<string> {
  const err = await helmTemplate(STRAIT_CHART, { values: [BASE, values] }).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!err) throw new Error(`helm template accepted ${JSON.stringify(values)}`);
  return err.message;
}

describe('charts/strait', { timeout: 60_000 }, () => {
  it('passes helm lint with default and non-default values', async () => {
    for (const values of [[BASE], [BASE, { gatewayService: { type: 'NodePort' }, global: { serviceMonitor: { enabled: true }, nats: { url: 'nats://nats:4222', token: 't' } } }]]) {
      const { args, cleanup } = valuesArgs({ values });
      try {
        const r = await runHelm(['lint', STRAIT_CHART, '--strict', ...args]);
        expect(r.stdout + r.stderr, 'helm lint').toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
        expect(r.code).toBe(0);
      } finally {
        cleanup();
      }
    }
  });

  it('renders every service with its ServiceAccount, Role, RoleBinding and workload from the default values', async () => {
    const objects = await helmTemplate(STRAIT_CHART, { values: [BASE], release: 'strait', namespace: 'strait-system' });
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    for (const s of SERVICES) {
      for (const kind of ['ServiceAccount', 'Role', 'RoleBinding']) expect(kinds).toContain(`${kind}/strait-${s}`);
      expect(kinds).toContain(`Service/strait-${s}-metrics`);
      const w = workload(objects, s);
      expect(w.spec.template.spec.serviceAccountName).toBe(`strait-${s}`);
      const flags = flagsOf(objects, s);
      expect(flags.get('cluster-id')).toBe('cluster-a');
      expect(flags.get('namespace')).toBe('strait-system');
    }
    // Node agents are DaemonSets; the API-only services are Deployments with 2 replicas.
    expect(workload(objects, 'tunnel-operator').kind).toBe('DaemonSet');
    expect(workload(objects, 'natmapping-operator').kind).toBe('DaemonSet');
    expect(workload(objects, 'route-agent').kind).toBe('DaemonSet');
    expect(workload(objects, 'labeler-operator').spec.replicas).toBe(2);
    expect(workload(objects, 'broker-sync').spec.replicas).toBe(2);
    // PodDisruptionBudgets for the HA services; no ServiceMonitor without the operator's CRDs.
    expect(objects.filter((o) => o.kind === 'PodDisruptionBudget').map((o) => o.metadata.name).sort()).toEqual([
      'strait-broker-sync',
      'strait-labeler-operator',
      'strait-tunnel-operator',
    ]);
    expect(objects.filter((o) => o.kind === 'ServiceMonitor')).toEqual([]);
    // The shared key Secret with a generated WireGuard key (32 bytes, base64 inside base64).
    const keys = findManifest(objects, 'Secret', 'strait-gateway-keys') as KubeManifest & { data: Record<string, string> };
    expect(Buffer.from(Buffer.from(keys.data['wireguard-private-key']!, 'base64').toString(), 'base64')).toHaveLength(32);
    expect(keys.data['ipsec-psk']).toBeUndefined();
  });

  it('wires the gateway: Service selecting the active pod, labeler selector and Lease names agreeing with the gateway pods', async () => {
    const objects = await helmTemplate(STRAIT_CHART, { values: [BASE], release: 'east' });
    const svc = findManifest(objects, 'Service', 'east-gateway') as KubeManifest & { spec: Record<string, unknown> & { selector: Record<string, string>; ports: Array<Record<string, unknown>> } };
    expect(svc.spec['type']).toBe('LoadBalancer');
    expect(svc.spec.selector).toEqual({ [GATEWAY_APP_LABEL]: GATEWAY_APP_LABEL_VALUE, 'app.kubernetes.io/instance': 'east', [GATEWAY_ROLE_LABEL]: GATEWAY_ROLE_ACTIVE });
    expect(svc.spec.ports.map((p) => [p['name'], p['protocol'], p['port']])).toEqual([
      ['wireguard', 'UDP', 51820],
      ['ike', 'UDP', 500],
      ['ike-natt', 'UDP', 4500],
    ]);
    const gatewayPodLabels = workload(objects, 'tunnel-operator').spec.template.metadata.labels;
    const labeler = flagsOf(objects, 'labeler-operator');
    for (const term of labeler.get('gateway-selector')!.split(',')) {
      const [k, v] = term.split('=');
      expect(gatewayPodLabels[k!], term).toBe(v);
    }
    const tunnel = flagsOf(objects, 'tunnel-operator');
    // WireGuard only unless asked (VXLAN is unencrypted).
    expect(tunnel.get('backends')).toBe('wireguard');
    expect(labeler.get('gateway-lease-name')).toBe(tunnel.get('lease-name'));
    expect(tunnel.get('lease-name')).toBe('east-gateway');
    expect(tunnel.get('key-secret')).toBe('east-gateway-keys');
    expect(labeler.get('lease-name')).not.toBe(tunnel.get('lease-name'));
    // route-agent's --lease-name is the gateway Lease it follows.
    expect(flagsOf(objects, 'route-agent').get('lease-name')).toBe(tunnel.get('lease-name'));
  });

  it('renders non-default values: NodePort, ServiceMonitors, NATS credentials as files, extra and removed flags, existing Secrets', async () => {
    const objects = await helmTemplate(STRAIT_CHART, {
      release: 'west',
      namespace: 'net',
      values: [
        BASE,
        {
          global: {
            logLevel: 'debug',
            podCIDRs: ['10.1.0.0/16'],
            serviceCIDRs: ['10.96.0.0/12'],
            externalCIDR: '10.9.0.0/16',
            image: { registry: 'registry.example/strait', tag: '1.2.3' },
            serviceMonitor: { enabled: true, labels: { release: 'prom' } },
            nats: { url: 'nats://a:4222,nats://b:4222', user: 'strait', password: 'pw' },
            gatewayKeys: { create: false, existingSecret: 'my-keys' },
          },
          gatewayService: { type: 'NodePort', ports: { wireguard: { port: 51820, nodePort: 31820 } } },
          'tunnel-operator': { podCIDRs: ['10.1.0.0/16', '10.2.0.0/16'], backends: ['ipsec', 'vxlan'], flags: { 'wireguard-port': 51821, 'state-dir': null, 'brand-new-flag': 'x' }, leaderElection: { leaseDuration: '4s', renewDeadline: '3s', retryPeriod: '500ms' } },
          'labeler-operator': { replicas: 3, logLevel: 'warn', tolerations: [{ key: 'k', operator: 'Exists' }] },
          'broker-sync': { broker: { kubeconfigSecret: 'broker-access', kubeconfigKey: 'config', namespace: 'brokers' } },
          'route-agent': { enabled: false },
          dashboards: { enabled: false },
        },
      ],
    });
    const svc = findManifest(objects, 'Service', 'west-gateway') as KubeManifest & { spec: { type: string; ports: Array<Record<string, unknown>> } };
    expect(svc.spec.type).toBe('NodePort');
    expect(svc.spec.ports[0]).toMatchObject({ nodePort: 31820, targetPort: 51821 });
    expect(objects.filter((o) => o.kind === 'ServiceMonitor').map((o) => o.metadata.labels?.['release'])).toEqual(['prom', 'prom', 'prom', 'prom']);
    expect(objects.some((o) => o.metadata.name.includes('route-agent'))).toBe(false);
    expect(objects.some((o) => o.kind === 'ConfigMap')).toBe(false);
    expect(objects.some((o) => o.kind === 'Secret' && o.metadata.name === 'west-gateway-keys')).toBe(false);
    const nats = findManifest(objects, 'Secret', 'west-nats') as KubeManifest & { data: Record<string, string> };
    expect(Buffer.from(nats.data['password']!, 'base64').toString()).toBe('pw');

    const tunnel = flagsOf(objects, 'tunnel-operator');
    expect(tunnel.get('pod-cidrs')).toBe('10.1.0.0/16,10.2.0.0/16');
    expect(tunnel.get('backends')).toBe('ipsec,vxlan');
    expect(svc.spec.ports.map((p) => [p['name'], p['port'], p['targetPort']])).toContainEqual(['vxlan', 4789, 4789]);
    expect(tunnel.get('wireguard-port')).toBe('51821');
    expect(tunnel.get('brand-new-flag')).toBe('x');
    expect(tunnel.has('state-dir')).toBe(false);
    expect(tunnel.get('lease-duration')).toBe('4s');
    expect(tunnel.get('key-secret')).toBe('my-keys');
    expect(tunnel.get('log-level')).toBe('debug');
    expect(tunnel.get('nats-url')).toBe('nats://a:4222,nats://b:4222');
    expect(tunnel.get('nats-password-file')).toBe('/var/run/strait/nats/password');
    // The password itself is in no argument or env value.
    expect(JSON.stringify(workload(objects, 'tunnel-operator').spec.template)).not.toContain('"pw"');
    const tunnelPod = workload(objects, 'tunnel-operator').spec.template.spec;
    expect(tunnelPod.volumes?.find((v) => v.name === 'nats-credentials')?.secret?.secretName).toBe('west-nats');
    expect(tunnelPod.containers[0]!.volumeMounts?.map((m) => m.mountPath)).toContain('/var/run/strait/nats');
    expect(JSON.stringify(tunnelPod)).toContain('registry.example/strait/tunnel-operator:1.2.3');

    const labeler = workload(objects, 'labeler-operator');
    expect(labeler.spec.replicas).toBe(3);
    expect(flagsOf(objects, 'labeler-operator').get('log-level')).toBe('warn');
    const broker = flagsOf(objects, 'broker-sync');
    expect(broker.get('broker-kubeconfig')).toBe('/var/run/strait/broker/config');
    expect(broker.get('broker-namespace')).toBe('brokers');
    expect([broker.get('pod-cidrs'), broker.get('service-cidrs'), broker.get('external-cidr')]).toEqual(['10.1.0.0/16', '10.96.0.0/12', '10.9.0.0/16']);
    const tunnelRole = findManifest(objects, 'Role', 'west-tunnel-operator') as KubeManifest & { rules: Array<{ resources: string[]; resourceNames?: string[] }> };
    expect(tunnelRole.rules.find((r) => r.resources.includes('secrets'))?.resourceNames).toEqual(['my-keys']);
  });

  it('refuses bad values with a message naming the field', async () => {
    expect(await refusal({ global: { clusterID: 'Cluster_A' } })).toMatch(/at '\/global\/clusterID': 'Cluster_A' does not match pattern/);
    expect(await refusal({ gatewayService: { type: 'ClusterIP' } })).toMatch(/at '\/gatewayService\/type': value must be one of 'LoadBalancer', 'NodePort'/);
    expect(await refusal({ 'tunnel-operator': { backends: ['wireguard', 'gre'] } })).toMatch(/at '\/tunnel-operator\/backends\/1': value must be one of 'wireguard', 'ipsec', 'vxlan'/);
    expect(await refusal({ 'labeler-operator': { replicas: 0 } })).toMatch(/at '\/labeler-operator\/replicas': minimum: got 0, want 1/);
    expect(await refusal({ 'labeler-operator': { replica: 2 } })).toMatch(/at '\/labeler-operator': additional properties 'replica' not allowed/);
    expect(await refusal({ 'tunnel-operator': { leaderElection: { leaseDuration: 'soon', renewDeadline: '1s', retryPeriod: '1s' } } })).toMatch(
      /at '\/tunnel-operator\/leaderElection\/leaseDuration': 'soon' does not match pattern/,
    );
    expect(await refusal({ 'tunnel-operator': { podCIDRs: ['10.0.0.0'] } })).toMatch(/at '\/tunnel-operator\/podCIDRs\/0'/);
    expect(await refusal({ 'route-agent': { flags: { '--log-level': 'debug' } } })).toMatch(/invalid propertyName '--log-level'[\s\S]*does not match pattern/);
    expect(await refusal({ global: { gatewayKeys: { create: false } } })).toMatch(/at '\/global\/gatewayKeys\/existingSecret': minLength: got 0, want 1/);
    expect(await refusal({ global: { nats: { url: 'http://nats:4222' } } })).toMatch(/at '\/global\/nats\/url'/);
  });

  it('refuses a missing cluster ID', async () => {
    const r = await runHelm(['template', 'x', STRAIT_CHART]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/at '\/global\/clusterID': minLength: got 0, want 1/);
  });

  it('passes only flags the services know (from each service --help)', async () => {
    const objects = await helmTemplate(STRAIT_CHART, { values: [BASE, { global: { nats: { url: 'nats://n:4222', user: 'u', token: 't' } } }] });
    const run = promisify(execFile);
    // Every service prints its flags; run them side by side (each loads only its config module).
    const helps = await Promise.all(
      SERVICES.map((s) => run(process.execPath, [join(REPO_ROOT, 'apps', s, 'src/main.ts'), '--help'], { env: { PATH: process.env['PATH'] ?? '' } })),
    );
    SERVICES.forEach((s, i) => {
      const known = new Set([...helps[i]!.stdout.matchAll(/^\s+--([a-z0-9-]+)/gm)].map((m) => m[1]));
      const unknown = [...flagsOf(objects, s).keys()].filter((f) => !known.has(f));
      expect(unknown, `${s}: flags the chart passes but ${s} --help does not list`).toEqual([]);
      // POD_NAME and NODE_NAME are the env names the services read.
      const env = workload(objects, s).spec.template.spec.containers[0]!.env!.map((e) => e.name);
      expect(env).toEqual(expect.arrayContaining(['POD_NAME', 'NODE_NAME']));
    });
  }, 60_000);

  it('grants least privilege: no wildcards, Secrets only by name, cluster scope only for route-agent nodes', async () => {
    const objects = await helmTemplate(STRAIT_CHART, { values: [BASE] });
    for (const role of objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole') as Array<KubeManifest & { rules: Array<Record<string, string[]>> }>) {
      for (const rule of role.rules) {
        expect([...(rule['verbs'] ?? []), ...(rule['resources'] ?? []), ...(rule['apiGroups'] ?? [])], `${role.metadata.name}`).not.toContain('*');
        if (rule['resources']?.includes('secrets')) expect(rule['resourceNames'], `${role.metadata.name} reads Secrets by name only`).toBeDefined();
      }
    }
    const clusterRoles = objects.filter((o) => o.kind === 'ClusterRole') as Array<KubeManifest & { rules: Array<Record<string, string[]>> }>;
    expect(clusterRoles.map((r) => r.metadata.name)).toEqual(['strait-system-strait-route-agent']);
    expect(clusterRoles[0]!.rules.flatMap((r) => r['resources'])).toEqual(['nodes']);
  });

  it('ships the dashboards as ConfigMaps labelled for the Grafana sidecar', async () => {
    const objects = await helmTemplate(STRAIT_CHART, { values: [BASE] });
    const maps = objects.filter((o) => o.kind === 'ConfigMap') as Array<KubeManifest & { data: Record<string, string> }>;
    expect(maps.length).toBeGreaterThanOrEqual(6);
    for (const m of maps) {
      expect(m.metadata.labels?.['grafana_dashboard']).toBe('1');
      const [file, json] = Object.entries(m.data)[0]!;
      expect(file).toMatch(/^strait-[a-z-]+\.json$/);
      expect((JSON.parse(json) as { uid: string }).uid).toMatch(/^strait-/);
    }
  });
});

describe('CRDs in the charts', { timeout: 60_000 }, () => {
  it('equal what libs/api generates (fails when a chart copy is stale)', () => {
    expect(staleCrdCopies(), SYNC_HINT).toEqual([]);
  });

  it('are what helm installs (helm template --include-crds)', async () => {
    const objects = await helmTemplate(STRAIT_CHART, { values: [BASE], includeCrds: true });
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
    const expected = CHART_CRDS[STRAIT_CHART]!.map((f) => parse(readFileSync(join(API_CRD_DIR, f), 'utf8')) as KubeManifest);
    expect(crds).toEqual(expected);
    expect(parseManifests(readFileSync(join(API_CRD_DIR, 'all.yaml'), 'utf8')).map((c) => c.metadata.name).sort()).toEqual(crds.map((c) => c.metadata.name).sort());
  });
});
