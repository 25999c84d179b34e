import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { examples, ORIGIN_CLUSTER_LABEL } from '@strait/api';
import { startServiceProcess, type ServiceProcess } from '@strait/runtime/testing';
import { freePort, sharedControlPlane } from '@strait/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHelm, valuesArgs } from './helm.ts';
import { eventually, kubectl, kubectlResult, serviceAccountKubeconfig, serviceAccountMay } from './kube.ts';
import { BROKER_CHART, REPO_ROOT, STRAIT_CHART } from './paths.ts';

const suffix = randomBytes(3).toString('hex');
const brokerNs = `strait-broker-${suffix}`;
const releaseNs = `strait-broker-rel-${suffix}`;
const release = `broker${suffix}`;
const VALUES = { brokerNamespace: brokerNs, members: [{ clusterID: 'east' }, { clusterID: 'west' }, { clusterID: 'north' }] };
const localNs = `strait-broker-local-${suffix}`;
const work = mkdtempSync(join(tmpdir(), 'strait-broker-it-'));
let admin = '';
let east = '';
let west = '';
const processes: ServiceProcess[] = [];

function cluster(name: string, origin: string, clusterID = origin): string {
  const c = examples.cluster(name);
  return JSON.stringify({ ...c, metadata: { name, namespace: brokerNs, labels: { [ORIGIN_CLUSTER_LABEL]: origin } }, spec: { ...c.spec, clusterID } });
}
function endpoint(name: string, origin: string): string {
  const e = examples.endpoint(name);
  return JSON.stringify({ ...e, metadata: { name, namespace: brokerNs, labels: { [ORIGIN_CLUSTER_LABEL]: origin } }, spec: { ...e.spec, clusterID: origin } });
}

beforeAll(() => {
  admin = sharedControlPlane().kubeconfigPath;
});

afterAll(async () => {
  await runHelm(['uninstall', release, '-n', releaseNs, '--kubeconfig', admin, '--wait', '--timeout', '60s']).catch(() => undefined);
  for (const p of processes) await p.kill();
  for (const ns of [brokerNs, releaseNs, localNs]) await kubectlResult(admin, ['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
  rmSync(work, { recursive: true, force: true });
});

describe('charts/strait-broker installed into a real API server', () => {
  it('installs: CRDs, namespace, member identities with tokens, Role, admission policy', async () => {
    const { args, cleanup } = valuesArgs({ values: [VALUES] });
    try {
      const r = await runHelm(['install', release, BROKER_CHART, '-n', releaseNs, '--create-namespace', '--kubeconfig', admin, '--timeout', '120s', ...args]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    } finally {
      cleanup();
    }
    for (const m of ['east', 'west']) {
      await kubectl(admin, ['-n', brokerNs, 'get', 'serviceaccount', `strait-member-${m}`]);
      // kube-controller-manager fills the long-lived token Secret a member puts into its broker kubeconfig.
      await eventually(`token of member ${m}`, async () => ((await kubectl(admin, ['-n', brokerNs, 'get', 'secret', `strait-member-${m}-token`, '-o', 'jsonpath={.data.token}'])).length > 0 ? true : undefined));
    }
    await kubectl(admin, ['get', 'validatingadmissionpolicy', `strait-broker-origin.${brokerNs}.${release}`]);
    east = await serviceAccountKubeconfig(admin, brokerNs, 'strait-member-east', join(work, 'east.kubeconfig'));
    west = await serviceAccountKubeconfig(admin, brokerNs, 'strait-member-west', join(work, 'west.kubeconfig'));
  });

  it('a member writes its own Cluster and Endpoint and reads every member’s', async () => {
    // The policy takes effect a moment after it is created: wait until a dry run of a foreign write is refused.
    await eventually('origin policy in force', async () => {
      const r = await kubectlResult(east, ['create', '--dry-run=server', '-f', '-'], cluster('probe', 'west'));
      return r.ok ? undefined : true;
    });
    await kubectl(east, ['create', '-f', '-'], { input: cluster('east', 'east') });
    await kubectl(east, ['create', '-f', '-'], { input: endpoint('east', 'east') });
    await kubectl(west, ['create', '-f', '-'], { input: cluster('west', 'west') });
    await kubectl(east, ['-n', brokerNs, 'label', 'cluster', 'east', 'extra=1']);
    const names = (await kubectl(east, ['-n', brokerNs, 'get', 'clusters', '-o', 'name'])).trim().split('\n').sort();
    expect(names).toEqual(['cluster.net.strait.io/east', 'cluster.net.strait.io/west']);
  });

  it('refuses a member writing another member’s objects, with the policy’s message', async () => {
    const foreignCreate = await kubectlResult(east, ['create', '-f', '-'], endpoint('west', 'west'));
    expect(foreignCreate.ok).toBe(false);
    expect(foreignCreate.stderr).toMatch(/member east may only write objects labelled net.strait.io\/origin-cluster=east \(got west\)/);
    // Own label but another cluster's ID in the spec.
    const spoofed = await kubectlResult(east, ['create', '-f', '-'], cluster('spoof', 'east', 'west'));
    expect(spoofed.ok).toBe(false);
    expect(spoofed.stderr).toMatch(/member east may only write objects whose spec.clusterID is east/);
    // Taking over west's object by relabelling it, or deleting it.
    const relabel = await kubectlResult(east, ['-n', brokerNs, 'label', '--overwrite', 'cluster', 'west', `${ORIGIN_CLUSTER_LABEL}=east`]);
    expect(relabel.ok).toBe(false);
    expect(relabel.stderr).toMatch(/the net.strait.io\/origin-cluster label cannot be changed \(from west to east\)/);
    const del = await kubectlResult(east, ['-n', brokerNs, 'delete', 'cluster', 'west']);
    expect(del.ok).toBe(false);
    expect((await kubectl(admin, ['-n', brokerNs, 'get', 'cluster', 'west', '-o', `jsonpath={.metadata.labels.net\\.strait\\.io/origin-cluster}`])).trim()).toBe('west');
    // Members do not delete (as in broker-sync's access model): a cluster's objects are removed by the Broker's admin.
    expect((await kubectlResult(east, ['-n', brokerNs, 'delete', 'endpoint.net.strait.io', 'east'])).ok).toBe(false);
  });

  it('grants members nothing outside the Broker objects (SubjectAccessReview)', async () => {
    for (const m of ['strait-member-east', 'strait-member-west']) {
      expect(await serviceAccountMay(admin, brokerNs, m, { verb: 'watch', group: 'net.strait.io', resource: 'endpoints', namespace: brokerNs })).toBe(true);
      expect(await serviceAccountMay(admin, brokerNs, m, { verb: 'get', resource: 'secrets', name: `${m}-token`, namespace: brokerNs })).toBe(false);
      expect(await serviceAccountMay(admin, brokerNs, m, { verb: 'create', group: 'net.strait.io', resource: 'clusters', namespace: 'default' })).toBe(false);
      expect(await serviceAccountMay(admin, brokerNs, m, { verb: 'create', group: 'net.strait.io', resource: 'tunnelendpoints', namespace: brokerNs })).toBe(false);
    }
  });

  it('broker-sync, with a member identity the chart made, exports its Cluster to the Broker without a refusal', async () => {
    // The member cluster's side (here the same API server): every Strait CRD, as the strait chart installs them.
    await kubectl(admin, ['apply', '--server-side', '--field-manager=strait-chart-test', '-f', join(STRAIT_CHART, 'crds')]);
    await kubectl(admin, ['wait', '--for=condition=Established', '--timeout=60s', '-f', join(STRAIT_CHART, 'crds')]);
    await kubectl(admin, ['create', 'namespace', localNs]);
    const kubeconfig = await serviceAccountKubeconfig(admin, brokerNs, 'strait-member-north', join(work, 'north.kubeconfig'));
    const proc = startServiceProcess(
      join(REPO_ROOT, 'apps/broker-sync/src/main.ts'),
      [
        '--cluster-id=north',
        `--kubeconfig=${admin}`,
        `--namespace=${localNs}`,
        `--broker-kubeconfig=${kubeconfig}`,
        `--broker-namespace=${brokerNs}`,
        '--pod-cidrs=10.30.0.0/16',
        '--service-cidrs=10.31.0.0/16',
        '--external-cidr=10.32.0.0/16',
        `--probe-addr=127.0.0.1:${await freePort()}`,
      ],
      { env: { POD_NAME: 'broker-sync-north-0' } },
    );
    processes.push(proc);
    const t0 = performance.now();
    const origin = await eventually(
      'north Cluster on the Broker',
      async () => {
        const r = await kubectlResult(admin, ['-n', brokerNs, 'get', 'cluster', 'north', '-o', `jsonpath={.metadata.labels.net\\.strait\\.io/origin-cluster}`]);
        return r.ok && r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
      },
      60_000,
      () => (proc.stdout + proc.stderr).split('\n').slice(-12).join('\n'),
    );
    console.log(`broker-sync exported its Cluster to the Broker in ${(performance.now() - t0).toFixed(0)} ms`);
    expect(origin).toBe('north');
    expect(proc.stdout + proc.stderr).not.toMatch(/HTTP 403|is forbidden|denied request/i);
    expect((await proc.stop()).code).toBe(0);
  });
});
