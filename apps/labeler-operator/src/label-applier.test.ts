import { GATEWAY_APP_LABEL, GATEWAY_APP_LABEL_VALUE, GATEWAY_LEASE_NAME, GATEWAY_ROLE_LABEL } from '@strait/api';
import { FakeKubeApi, PodResource, type ResourceClient } from '@strait/kube';
import { afterEach, describe, expect, it } from 'vitest';
import { planLabels, desiredRoles, type GatewayPod, type LabelPlan } from './gateway-roles.ts';
import { applyLabelPlan, roleLabelPatch } from './label-applier.ts';

const NS = 'strait-system';
const ROLE = GATEWAY_ROLE_LABEL;
const FENCE = 'net.strait.io/gateway-fence';
const APP = { [GATEWAY_APP_LABEL]: GATEWAY_APP_LABEL_VALUE };

let api: FakeKubeApi;
afterEach(() => api?.stop());

/** A pod client that records when each patch starts and ends; `delayMs` slows chosen pods down. */
function recording(inner: ResourceClient<GatewayPod>, delayMs: Record<string, number> = {}) {
  const log: string[] = [];
  const client: Pick<ResourceClient<GatewayPod>, 'patch'> = {
    async patch(ref, patch, opts) {
      const to = Array.isArray(patch)
        ? (patch.at(-2) as { value: string }).value
        : (patch as { metadata: { labels: Record<string, string> } }).metadata.labels[ROLE];
      log.push(`start ${ref.name} ${to}`);
      try {
        const d = delayMs[ref.name] ?? 0;
        if (d) await new Promise((r) => setTimeout(r, d));
        return await inner.patch(ref, patch, opts);
      } finally {
        log.push(`end ${ref.name} ${to}`);
      }
    },
  };
  return { client, log };
}

async function setup(pods: Array<[string, string | undefined]>) {
  api = new FakeKubeApi({ latencyMs: 2 });
  const admin = api.client<GatewayPod>(PodResource, { admin: true });
  const created: GatewayPod[] = [];
  for (const [name, role] of pods) {
    // A pod with a role label was written by the labeler before: it carries a fence token.
    created.push(await admin.create({ metadata: { name, namespace: NS, labels: { ...APP, ...(role ? { [ROLE]: role } : {}) }, ...(role ? { annotations: { [FENCE]: `f-${name}` } } : {}) } }));
  }
  return { admin, pods: api.client<GatewayPod>(PodResource), created };
}

function heldBy(holder: string) {
  return { metadata: { name: GATEWAY_LEASE_NAME, namespace: NS }, spec: { holderIdentity: holder, leaseDurationSeconds: 10, renewTime: new Date().toISOString() } };
}

function plan(created: GatewayPod[], holder: string): LabelPlan {
  return planLabels(created, desiredRoles(heldBy(holder), created, Date.now()));
}

function roles(admin: FakeKubeApi): Record<string, string | undefined> {
  return Object.fromEntries(admin.snapshot<GatewayPod>(PodResource).map((p) => [p.metadata.name, p.metadata.labels?.[ROLE]]));
}

describe('applyLabelPlan', () => {
  it('a pod written before: JSON patch testing uid and fence token, then setting label and a new token', () => {
    const change = { name: 'a', uid: 'u', resourceVersion: '42', labels: { app: 'x', [ROLE]: 'active' }, fence: 'f1', from: 'active', to: 'standby' } as const;
    expect(roleLabelPatch(change, 'f2')).toEqual({
      type: 'json',
      body: [
        { op: 'test', path: '/metadata/uid', value: 'u' },
        { op: 'test', path: '/metadata/annotations/net.strait.io~1gateway-fence', value: 'f1' },
        { op: 'add', path: '/metadata/labels/net.strait.io~1gateway', value: 'standby' },
        { op: 'add', path: '/metadata/annotations/net.strait.io~1gateway-fence', value: 'f2' },
      ],
    });
  });

  it('a pod never written (no token) or without labels: merge patch with the resourceVersion as precondition', () => {
    const expected = { type: 'merge', body: { metadata: { resourceVersion: '42', labels: { [ROLE]: 'active' }, annotations: { [FENCE]: 'f2' } } } };
    expect(roleLabelPatch({ name: 'a', uid: 'u', resourceVersion: '42', labels: { app: 'x' }, fence: undefined, from: undefined, to: 'active' }, 'f2')).toEqual(expected);
    expect(roleLabelPatch({ name: 'a', uid: 'u', resourceVersion: '42', labels: undefined, fence: 'f1', from: undefined, to: 'active' }, 'f2')).toEqual(expected);
  });

  it('promotes the holder only after every demotion has completed, even a slow one', async () => {
    const { pods, created } = await setup([
      ['gw-a', 'active'],
      ['gw-b', 'standby'],
      ['gw-c', 'active'],
      ['gw-d', undefined],
    ]);
    const rec = recording(pods, { 'gw-c': 60 });
    const out = await applyLabelPlan(plan(created, 'gw-b'), { pods: rec.client, namespace: NS, mayWrite: () => true });
    expect(out).toMatchObject({ promoted: true, complete: true, heldBack: undefined, failed: [] });
    const promoteAt = rec.log.indexOf('start gw-b active');
    expect(promoteAt).toBeGreaterThan(rec.log.indexOf('end gw-a standby'));
    expect(promoteAt).toBeGreaterThan(rec.log.indexOf('end gw-c standby'));
    // demotions and first labels run together
    expect(rec.log.slice(0, 3).sort()).toEqual(['start gw-a standby', 'start gw-c standby', 'start gw-d standby']);
    expect(roles(api)).toEqual({ 'gw-a': 'standby', 'gw-b': 'active', 'gw-c': 'standby', 'gw-d': 'standby' });
    expect(out.written.map((w) => w.change.name).sort()).toEqual(['gw-a', 'gw-b', 'gw-c', 'gw-d']);
  });

  it('never two active pods at any committed state of the API', async () => {
    const { pods, created } = await setup([
      ['gw-a', 'active'],
      ['gw-b', 'standby'],
    ]);
    const state = new Map(created.map((p) => [p.metadata.name, p.metadata.labels?.[ROLE]]));
    let maxActive = 0;
    const ac = new AbortController();
    const watching = api.client<GatewayPod>(PodResource, { admin: true }).watch({ namespace: NS, resourceVersion: String(api.currentRv), signal: ac.signal }, (ev) => {
      state.set(ev.object.metadata.name, ev.object.metadata.labels?.[ROLE]);
      maxActive = Math.max(maxActive, [...state.values()].filter((r) => r === 'active').length);
    });
    await applyLabelPlan(plan(created, 'gw-b'), { pods, namespace: NS, mayWrite: () => true });
    await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await watching;
    expect(state.get('gw-b')).toBe('active');
    expect(maxActive).toBe(1);
  });

  it('unrelated changes since the read (annotations, other labels, status) do not fail the writes', async () => {
    const { admin, pods, created } = await setup([
      ['gw-a', 'active'],
      ['gw-b', 'standby'],
    ]);
    const p = plan(created, 'gw-b');
    for (const name of ['gw-a', 'gw-b']) {
      await admin.patch({ namespace: NS, name }, { metadata: { annotations: { touched: 'yes' }, labels: { extra: 'x' } } });
      await admin.patchStatus({ namespace: NS, name }, { status: { phase: 'Running' } });
    }
    const out = await applyLabelPlan(p, { pods, namespace: NS, mayWrite: () => true });
    expect(out).toMatchObject({ promoted: true, complete: true, failed: [] });
    expect(roles(api)).toEqual({ 'gw-a': 'standby', 'gw-b': 'active' });
  });

  it('every write sets a new fence token; a write made from an older token fails (a late write cannot land)', async () => {
    const { pods, created } = await setup([
      ['gw-a', 'active'],
      ['gw-b', 'standby'],
    ]);
    let n = 0;
    const tokens = () => `t${++n}`;
    const p = plan(created, 'gw-b');
    expect(await applyLabelPlan(p, { pods, namespace: NS, mayWrite: () => true, newFence: tokens })).toMatchObject({ promoted: true, complete: true });
    const fences = Object.fromEntries(api.snapshot<GatewayPod>(PodResource).map((x) => [x.metadata.name, x.metadata.annotations?.[FENCE]]));
    expect(fences).toEqual({ 'gw-a': 't1', 'gw-b': 't2' });
    // The same plan again, as a request delayed from before would be: refused, nothing changes.
    const late = await applyLabelPlan(p, { pods, namespace: NS, mayWrite: () => true, newFence: tokens });
    expect(late.failed.map((f) => [f.change.name, f.reason, f.status])).toEqual([['gw-a', 'precondition', 422]]);
    expect(late).toMatchObject({ promoted: false, heldBack: 'a demotion failed' });
    expect(roles(api)).toEqual({ 'gw-a': 'standby', 'gw-b': 'active' });
  });

  it('a demotion whose pod another labeler write changed since the read fails and holds the promotion back', async () => {
    const { admin, pods, created } = await setup([
      ['gw-a', 'active'],
      ['gw-b', 'standby'],
    ]);
    const p = plan(created, 'gw-b');
    await admin.patch({ namespace: NS, name: 'gw-a' }, { metadata: { annotations: { [FENCE]: 'someone-else' } } });
    const out = await applyLabelPlan(p, { pods, namespace: NS, mayWrite: () => true });
    expect(out).toMatchObject({ promoted: false, complete: false, heldBack: 'a demotion failed' });
    expect(out.failed).toMatchObject([{ change: { name: 'gw-a' }, reason: 'precondition', status: 422 }]);
    expect(roles(api)).toEqual({ 'gw-a': 'active', 'gw-b': 'standby' });
  });

  it('a pod never written by the labeler is promoted only at the resourceVersion it was read at', async () => {
    const { admin, pods, created } = await setup([['gw-b', undefined]]);
    const p = plan(created, 'gw-b');
    await admin.patch({ namespace: NS, name: 'gw-b' }, { metadata: { labels: { extra: 'x' } } });
    const out = await applyLabelPlan(p, { pods, namespace: NS, mayWrite: () => true });
    expect(out).toMatchObject({ promoted: false, failed: [{ reason: 'conflict', status: 409 }] });
    expect(roles(api)['gw-b']).toBeUndefined();
    const again = api.snapshot<GatewayPod>(PodResource);
    expect(await applyLabelPlan(plan(again, 'gw-b'), { pods, namespace: NS, mayWrite: () => true })).toMatchObject({ promoted: true });
    expect(api.snapshot<GatewayPod>(PodResource)[0]?.metadata.annotations?.[FENCE]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a pod without any label is written with its resourceVersion as precondition (409 when stale)', async () => {
    api = new FakeKubeApi({ latencyMs: 1 });
    const admin = api.client<GatewayPod>(PodResource, { admin: true });
    const bare = await admin.create({ metadata: { name: 'gw-x', namespace: NS } });
    const p = planLabels([bare], desiredRoles(heldBy('gw-x'), [bare], Date.now()));
    await admin.patch({ namespace: NS, name: 'gw-x' }, { metadata: { annotations: { a: 'b' } } });
    const out = await applyLabelPlan(p, { pods: api.client<GatewayPod>(PodResource), namespace: NS, mayWrite: () => true });
    expect(out).toMatchObject({ promoted: false, failed: [{ reason: 'conflict', status: 409 }] });
  });

  it('a demotion that fails with a server error also holds the promotion back', async () => {
    const { pods, created } = await setup([
      ['gw-a', 'active'],
      ['gw-b', undefined],
    ]);
    api.failNext('patch');
    const out = await applyLabelPlan(plan(created, 'gw-b'), { pods, namespace: NS, mayWrite: () => true });
    expect(out).toMatchObject({ promoted: false, heldBack: 'a demotion failed', failed: [{ reason: 'error', status: 500 }] });
    expect(roles(api)['gw-b']).toBeUndefined();
  });

  it('a demoted pod that is gone (404) counts as demoted', async () => {
    const { admin, pods, created } = await setup([
      ['gw-a', 'active'],
      ['gw-b', 'standby'],
    ]);
    await admin.delete({ namespace: NS, name: 'gw-a' });
    const out = await applyLabelPlan(plan(created, 'gw-b'), { pods, namespace: NS, mayWrite: () => true });
    expect(out).toMatchObject({ promoted: true, complete: true });
    expect(out.gone.map((c) => c.name)).toEqual(['gw-a']);
    expect(roles(api)).toEqual({ 'gw-b': 'active' });
  });

  it('a recreated holder pod (same name, labels and token, new uid) is not promoted from the stale read', async () => {
    const { admin, pods, created } = await setup([['gw-b', 'standby']]);
    await admin.delete({ namespace: NS, name: 'gw-b' });
    await admin.create({ metadata: { name: 'gw-b', namespace: NS, labels: { ...APP, [ROLE]: 'standby' }, annotations: { [FENCE]: 'f-gw-b' } } });
    const out = await applyLabelPlan(plan(created, 'gw-b'), { pods, namespace: NS, mayWrite: () => true });
    expect(out).toMatchObject({ promoted: false, complete: false, failed: [{ reason: 'precondition' }] });
    expect(roles(api)['gw-b']).toBe('standby');
  });

  it('a failed first label (not a demotion) does not hold the promotion back', async () => {
    const { pods, created } = await setup([
      ['gw-a', undefined],
      ['gw-b', 'standby'],
    ]);
    api.failNext('patch');
    const out = await applyLabelPlan(plan(created, 'gw-b'), { pods, namespace: NS, mayWrite: () => true });
    expect(out).toMatchObject({ promoted: true, complete: false, heldBack: undefined });
    expect(out.failed.map((f) => f.change.name)).toEqual(['gw-a']);
  });

  it('writes nothing without permission; stops before the promotion when permission is lost', async () => {
    const { pods, created } = await setup([
      ['gw-a', 'active'],
      ['gw-b', 'standby'],
    ]);
    const p = plan(created, 'gw-b');
    let out = await applyLabelPlan(p, { pods, namespace: NS, mayWrite: () => false });
    expect(out).toMatchObject({ written: [], promoted: false, complete: false, heldBack: 'not allowed to write' });
    expect(roles(api)).toEqual({ 'gw-a': 'active', 'gw-b': 'standby' });

    let allowed = 1;
    out = await applyLabelPlan(p, { pods, namespace: NS, mayWrite: () => allowed-- > 0 });
    expect(out).toMatchObject({ promoted: false, heldBack: 'not allowed to write' });
    expect(roles(api)).toEqual({ 'gw-a': 'standby', 'gw-b': 'standby' });
  });

  it('holds the promotion back when the Lease moved on during the demotions', async () => {
    const { pods, created } = await setup([
      ['gw-a', 'active'],
      ['gw-b', 'standby'],
    ]);
    const out = await applyLabelPlan(plan(created, 'gw-b'), { pods, namespace: NS, mayWrite: () => true, stillWanted: () => false });
    expect(out).toMatchObject({ promoted: false, heldBack: 'no longer wanted' });
    expect(roles(api)).toEqual({ 'gw-a': 'standby', 'gw-b': 'standby' });
  });
});
