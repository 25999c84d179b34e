import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_GROUP_VERSION, examples } from '@strait/api';
import { startServiceProcess, type ServiceProcess } from '@strait/runtime/testing';
import { freePort, sharedControlPlane } from '@strait/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helmTemplate, runHelm, valuesArgs, type KubeManifest } from '../helm.ts';
import { kubectl, kubectlResult, serviceAccountKubeconfig } from '../kube.ts';
import { REPO_ROOT, STRAIT_CHART } from '../paths.ts';
import { checkDashboard, formatDashboardChecks, lintMetrics, scrapeServices, waitForScrapes, type MetricsTarget } from './check.ts';
import { renderDashboardFiles } from './files.ts';
import { ScratchNode } from './node-namespace.ts';
import type { LocalPrometheus } from './prometheus.ts';

/**
 * The dashboards against what the services really export. The chart is installed into the shared control
 * plane; every service runs as a process with the chart's flags: labeler-operator and broker-sync on the
 * host, tunnel-operator, natmapping-operator and route-agent in a scratch node (a network namespace with
 * the API server and NATS relayed in); tunnel-operator, natmapping-operator, route-agent and the labeler
 * use their chart ServiceAccounts and must log no refusal (broker-sync uses the admin's: no Broker is
 * installed here). A TunnelEndpoint and a NatMapping make the per-peer and per-mapping series exist.
 * Debian's Prometheus scrapes them; promtool evaluates every panel query, and every selector must match.
 */

/** Series that need a live peer (a completed handshake, in-tunnel health probes): there is no second cluster here. */
const NEEDS_CONNECTED_PEER = new Map([
  ['strait_tunnel_rtt_seconds_bucket', 'needs in-tunnel health probes answered by a connected peer'],
  ['strait_tunnel_last_handshake_age_seconds', 'needs a completed handshake with a connected peer'],
]);

const suffix = randomBytes(3).toString('hex');
const ns = `strait-dash-${suffix}`;
const release = `dash${suffix}`;
const work = mkdtempSync(join(tmpdir(), 'strait-dash-'));
const node = new ScratchNode(`sdash-${suffix}`, randomInt(100, 250), work);
const gatewayNetns = `sdash-gw-${suffix}`;
const hostProcesses: ServiceProcess[] = [];
/** Output of the processes that run as their chart ServiceAccount. */
const withChartIdentity: Array<{ service: string; output: () => string }> = [];
let prometheus: LocalPrometheus | undefined;
let admin = '';
const targets: MetricsTarget[] = [];

type Workload = KubeManifest & { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } };

/** The chart's args of a service with some flags replaced (or added). */
function chartArgs(objects: KubeManifest[], service: string, overrides: Record<string, string>): string[] {
  const w = objects.find((o) => (o.kind === 'DaemonSet' || o.kind === 'Deployment') && o.metadata.name === `${release}-${service}`) as Workload;
  const args = w.spec.template.spec.containers[0]!.args.filter((a) => !Object.keys(overrides).some((k) => a.startsWith(`--${k}=`)));
  return [...args, ...Object.entries(overrides).map(([k, v]) => `--${k}=${v}`)];
}

const main = (service: string) => join(REPO_ROOT, 'apps', service, 'src/main.ts');

beforeAll(async () => {
  const cp = sharedControlPlane();
  admin = cp.kubeconfigPath;
  const natsPort = Number(new URL(cp.nats.url).port);
  const apiPort = Number(new URL(cp.server).port);
  const values = { global: { clusterID: 'dash', nats: { url: cp.nats.url, user: cp.nats.user, password: cp.nats.password } } };
  const { args, cleanup } = valuesArgs({ values: [values] });
  try {
    const r = await runHelm(['install', release, STRAIT_CHART, '-n', ns, '--create-namespace', '--kubeconfig', admin, ...args]);
    if (r.code !== 0) throw new Error(`helm install: ${r.stderr}`);
  } finally {
    cleanup();
  }
  const objects = await helmTemplate(STRAIT_CHART, { values: [values], release, namespace: ns });
  const natsPasswordFile = join(work, 'nats-password');
  writeFileSync(natsPasswordFile, cp.nats.password ?? '', { mode: 0o600 });
  const sa = async (service: string) => serviceAccountKubeconfig(admin, ns, `${release}-${service}`, join(work, `${service}.kubeconfig`));

  // The scratch node: API server and NATS relayed in, a gateway namespace made beforehand.
  node.create();
  node.adoptNetns(gatewayNetns);
  await node.relayIn(apiPort);
  await node.relayIn(natsPort);
  const common = { 'nats-password-file': natsPasswordFile };
  const nodeEnv = { NODE_NAME: `${release}-node`, POD_NAME: `${release}-gateway-0`, STRAIT_ENDPOINT_IP: node.nodeIp, STRAIT_NODE_IP: node.nodeIp };
  // The scratch node's Node object: a gateway node with its address (route-agent finds gateway nodes by label).
  await kubectl(admin, ['create', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: `${release}-node`, labels: { 'strait.io/gateway': 'true' } } }),
  });
  await kubectl(admin, ['patch', 'node', `${release}-node`, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: node.nodeIp }] } })]);
  const tunnel = node.run('tunnel-operator', process.execPath, [
    main('tunnel-operator'),
    ...chartArgs(objects, 'tunnel-operator', { ...common, kubeconfig: await sa('tunnel-operator'), 'netns-name': gatewayNetns, 'state-dir': join(work, 'gateway-state') }),
  ], nodeEnv);
  const natmapping = node.run('natmapping-operator', process.execPath, [
    main('natmapping-operator'),
    ...chartArgs(objects, 'natmapping-operator', { ...common, kubeconfig: await sa('natmapping-operator'), 'netns-name': gatewayNetns }),
  ], nodeEnv);
  withChartIdentity.push({ service: 'tunnel-operator', output: tunnel.output }, { service: 'natmapping-operator', output: natmapping.output });
  const routeAgent = node.run('route-agent', process.execPath, [main('route-agent'), ...chartArgs(objects, 'route-agent', { ...common, kubeconfig: await sa('route-agent') })], nodeEnv);
  withChartIdentity.push({ service: 'route-agent', output: routeAgent.output });
  targets.push(
    { service: 'tunnel-operator', address: `${node.nodeIp}:9101` },
    { service: 'natmapping-operator', address: `${node.nodeIp}:9103` },
    { service: 'route-agent', address: `${node.nodeIp}:9104` },
  );
  for (const [service, kubeconfig] of [['labeler-operator', await sa('labeler-operator')], ['broker-sync', admin]] as const) {
    const port = await freePort();
    const proc = startServiceProcess(main(service), chartArgs(objects, service, { ...common, kubeconfig, 'probe-addr': `127.0.0.1:${port}` }), {
      env: { POD_NAME: `${release}-${service}-0` },
    });
    hostProcesses.push(proc);
    if (service === 'labeler-operator') withChartIdentity.push({ service, output: () => proc.stdout + proc.stderr });
    targets.push({ service, address: `127.0.0.1:${port}` });
  }

  // A peer and a NAT mapping, so the per-peer and per-mapping series exist.
  const tep = examples.tunnelEndpoint('dash-peer');
  const { remap: _remap, ...tepSpec } = tep.spec as typeof tep.spec & { remap?: unknown };
  const nm = examples.natMapping('dash-peer');
  for (const obj of [
    { ...tep, apiVersion: API_GROUP_VERSION, metadata: { name: 'dash-peer', namespace: ns }, spec: { ...tepSpec, remoteClusterID: 'dash-peer' } },
    { ...nm, metadata: { name: 'dash-peer', namespace: ns }, spec: { ...nm.spec, clusterID: 'dash-peer' } },
  ]) {
    await kubectl(admin, ['create', '-f', '-'], { input: JSON.stringify(obj) });
  }
  prometheus = await scrapeServices(
    await freePort(),
    targets.map((t) => ({ ...t, labels: { namespace: ns } })),
  );
}, 300_000);

afterAll(async () => {
  await prometheus?.stop();
  for (const p of hostProcesses) await p.stop().catch(() => p.kill());
  await node.close();
  await runHelm(['uninstall', release, '-n', ns, '--kubeconfig', admin, '--wait', '--timeout', '60s']).catch(() => undefined);
  await kubectlResult(admin, ['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
  await kubectlResult(admin, ['delete', 'node', `${release}-node`, '--ignore-not-found', '--wait=false']);
  rmSync(work, { recursive: true, force: true });
}, 120_000);

describe('dashboards against the running services, through Debian’s Prometheus', () => {
  it('scrapes every service, and promtool finds their metrics well-formed', async () => {
    const p = prometheus!;
    // Wait for the peer's series (the tunnel operator refreshes status every 2 s) and a few scrapes for rate().
    const waited = await waitForScrapes(p, targets, {
      minMs: 5000,
      timeoutMs: 150_000,
      ready: async () =>
        (await p.query('count(strait_tunnel_status{peer="dash-peer"})').catch(() => [])).length > 0 &&
        (await p.query('count(strait_natmapping_entries_programmed)').catch(() => [])).length > 0,
      context: () => node.output(),
    });
    console.log(`all ${targets.length} targets up with per-peer and per-mapping series after ${(waited / 1000).toFixed(1)} s`);
    // The services running as their chart ServiceAccounts did their work without a refusal.
    for (const p of withChartIdentity) expect(p.output(), `${p.service} as its chart ServiceAccount`).not.toMatch(/HTTP 403|is forbidden/i);
    // prom-client's default nodejs_active_*_total gauges draw a naming complaint; Strait's own metrics must draw none.
    for (const t of targets) expect(await lintMetrics(t.address), `${t.service}: promtool check metrics`).toEqual([]);
  }, 240_000);

  const files = renderDashboardFiles();
  it.each(files.map((f) => [f.name, f] as const))('%s: every query evaluates without error and every selector matches a scraped series', async (_name, f) => {
    const c = await checkDashboard(prometheus!, f, { exempt: NEEDS_CONNECTED_PEER, rateInterval: '10s' });
    console.log(formatDashboardChecks([c]));
    expect(c.queries).toBeGreaterThan(0);
    expect(c.failed, 'queries Prometheus refused').toEqual([]);
    expect(c.missing, 'selectors without a scraped series').toEqual([]);
  });
});
