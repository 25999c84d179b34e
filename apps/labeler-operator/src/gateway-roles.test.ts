import { GATEWAY_APP_LABEL, GATEWAY_APP_LABEL_VALUE, GATEWAY_LEASE_NAME, GATEWAY_ROLE_LABEL } from '@strait/api';
import type { Lease } from '@strait/kube';
import { describe, expect, it } from 'vitest';
import { activeHolder, describeVerdict, desiredRoles, leaseVerdict, planIsEmpty, planLabels, type GatewayPod } from './gateway-roles.ts';

const NOW = Date.parse('2030-01-01T00:00:10.000Z');
const ROLE = GATEWAY_ROLE_LABEL;

function lease(spec: Lease['spec']): Lease {
  return { metadata: { name: GATEWAY_LEASE_NAME, namespace: 'strait-system', resourceVersion: '7' }, spec };
}
/** Held by `holder`, renewed `agoMs` before NOW, for `seconds`. */
function held(holder: string, agoMs = 100, seconds = 2): Lease {
  return lease({ holderIdentity: holder, leaseDurationSeconds: seconds, renewTime: new Date(NOW - agoMs).toISOString().replace('Z', '000Z') });
}
function pod(name: string, role?: string, rv = '10'): GatewayPod {
  return { metadata: { name, namespace: 'strait-system', uid: `uid-${name}`, resourceVersion: rv, labels: { [GATEWAY_APP_LABEL]: GATEWAY_APP_LABEL_VALUE, ...(role ? { [ROLE]: role } : {}) } } };
}
const roles = (d: ReturnType<typeof desiredRoles>) => Object.fromEntries(d.roles);

describe('leaseVerdict', () => {
  it('is held until renewTime + leaseDurationSeconds, expired from then on', () => {
    expect(leaseVerdict(held('gw-a', 1999, 2), NOW)).toEqual({ state: 'held', holder: 'gw-a', expiresAtMs: NOW + 1 });
    expect(leaseVerdict(held('gw-a', 2000, 2), NOW)).toEqual({ state: 'expired', holder: 'gw-a', expiredAtMs: NOW });
    expect(leaseVerdict(held('gw-a', 60_000, 15), NOW)).toMatchObject({ state: 'expired', holder: 'gw-a' });
  });

  it('reads MicroTime (microseconds) and plain RFC 3339 renew times', () => {
    expect(leaseVerdict(lease({ holderIdentity: 'a', leaseDurationSeconds: 1, renewTime: '2030-01-01T00:00:09.500123Z' }), NOW)).toEqual({
      state: 'held',
      holder: 'a',
      expiresAtMs: NOW + 500,
    });
    expect(leaseVerdict(lease({ holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: '2030-01-01T00:00:00Z' }), NOW)).toMatchObject({ state: 'held' });
  });

  it('no Lease, no holder, and a released Lease (holder cleared) have no active gateway', () => {
    expect(leaseVerdict(undefined, NOW)).toEqual({ state: 'no-lease' });
    expect(leaseVerdict(lease(undefined), NOW)).toEqual({ state: 'no-holder' });
    expect(leaseVerdict(lease({ holderIdentity: '', leaseDurationSeconds: 1, renewTime: new Date(NOW).toISOString() }), NOW)).toEqual({ state: 'no-holder' });
    expect(leaseVerdict(lease({ holderIdentity: null }), NOW)).toEqual({ state: 'no-holder' });
  });

  it('does not trust a holder without a usable renewTime or duration', () => {
    expect(leaseVerdict(lease({ holderIdentity: 'a', leaseDurationSeconds: 15 }), NOW)).toMatchObject({ state: 'malformed', why: expect.stringContaining('renewTime') });
    expect(leaseVerdict(lease({ holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: 'yesterday' }), NOW)).toMatchObject({ state: 'malformed' });
    expect(leaseVerdict(lease({ holderIdentity: 'a', renewTime: new Date(NOW).toISOString() }), NOW)).toMatchObject({
      state: 'malformed',
      why: expect.stringContaining('leaseDurationSeconds'),
    });
    expect(leaseVerdict(lease({ holderIdentity: 'a', leaseDurationSeconds: 0, renewTime: new Date(NOW).toISOString() }), NOW)).toMatchObject({ state: 'malformed' });
  });

  it('activeHolder and describeVerdict', () => {
    expect(activeHolder(leaseVerdict(held('gw-a'), NOW))).toBe('gw-a');
    expect(activeHolder(leaseVerdict(held('gw-a', 5000), NOW))).toBe('');
    expect(describeVerdict(leaseVerdict(held('gw-a'), NOW), 'ns/l')).toBe('gw-a holds Lease ns/l');
    expect(describeVerdict(leaseVerdict(held('gw-a', 5000), NOW), 'ns/l')).toBe('Lease ns/l held by gw-a expired at 2030-01-01T00:00:07.000Z');
    expect(describeVerdict({ state: 'no-lease' }, 'ns/l')).toBe('Lease ns/l does not exist');
    expect(describeVerdict({ state: 'no-holder' }, 'ns/l')).toBe('Lease ns/l has no holder');
  });
});

describe('desiredRoles', () => {
  const pods = [pod('gw-a'), pod('gw-b'), pod('gw-c')];

  it('holder present: its pod active, every other pod standby', () => {
    const d = desiredRoles(held('gw-b'), pods, NOW);
    expect(d.active).toBe('gw-b');
    expect(roles(d)).toEqual({ 'gw-a': 'standby', 'gw-b': 'active', 'gw-c': 'standby' });
  });

  it('no Lease, no holder, expired or malformed Lease: all standby', () => {
    for (const l of [undefined, lease({}), held('gw-b', 2500, 2), lease({ holderIdentity: 'gw-b' })]) {
      const d = desiredRoles(l, pods, NOW);
      expect(d.active).toBeUndefined();
      expect(roles(d)).toEqual({ 'gw-a': 'standby', 'gw-b': 'standby', 'gw-c': 'standby' });
    }
  });

  it('holder whose pod is missing: all standby (the verdict still names the holder)', () => {
    const d = desiredRoles(held('gw-z'), pods, NOW);
    expect(d.active).toBeUndefined();
    expect(d.verdict).toMatchObject({ state: 'held', holder: 'gw-z' });
    expect(new Set(d.roles.values())).toEqual(new Set(['standby']));
  });

  it('no pods: nothing desired', () => {
    const d = desiredRoles(held('gw-a'), [], NOW);
    expect(d.roles.size).toBe(0);
    expect(d.active).toBeUndefined();
  });

  it('many pods: exactly one active', () => {
    const many = Array.from({ length: 50 }, (_, i) => pod(`gw-${i}`, i % 3 === 0 ? 'active' : undefined));
    const d = desiredRoles(held('gw-17'), many, NOW);
    expect([...d.roles.values()].filter((r) => r === 'active')).toHaveLength(1);
    expect(d.roles.get('gw-17')).toBe('active');
  });

  it('is pure: same input, same output; the input is not modified', () => {
    const input = [pod('gw-a', 'active'), pod('gw-b')];
    const copy = structuredClone(input);
    expect(roles(desiredRoles(held('gw-b'), input, NOW))).toEqual(roles(desiredRoles(held('gw-b'), input, NOW)));
    expect(input).toEqual(copy);
  });
});

describe('planLabels', () => {
  it('demotes the old active pod, labels unlabelled pods standby, promotes the holder', () => {
    const pods = [pod('gw-c'), pod('gw-a', 'active', '11'), pod('gw-b', 'standby', '12'), pod('gw-d', 'bogus')];
    const plan = planLabels(pods, desiredRoles(held('gw-b'), pods, NOW));
    const labels = (role: string) => ({ [GATEWAY_APP_LABEL]: GATEWAY_APP_LABEL_VALUE, [ROLE]: role });
    expect(plan.demote).toEqual([{ name: 'gw-a', uid: 'uid-gw-a', resourceVersion: '11', labels: labels('active'), from: 'active', to: 'standby' }]);
    expect(plan.label.map((c) => [c.name, c.from, c.to])).toEqual([
      ['gw-c', undefined, 'standby'],
      ['gw-d', 'bogus', 'standby'],
    ]);
    expect(plan.promote).toEqual({ name: 'gw-b', uid: 'uid-gw-b', resourceVersion: '12', labels: labels('standby'), from: 'standby', to: 'active' });
  });

  it('several active pods (e.g. labelled by hand): every one but the holder is demoted', () => {
    const pods = [pod('gw-a', 'active'), pod('gw-b', 'active'), pod('gw-c', 'active')];
    const plan = planLabels(pods, desiredRoles(held('gw-b'), pods, NOW));
    expect(plan.demote.map((c) => c.name)).toEqual(['gw-a', 'gw-c']);
    expect(plan.promote).toBeUndefined();
  });

  it('expired Lease: the active pod is demoted, nothing promoted', () => {
    const pods = [pod('gw-a', 'active'), pod('gw-b', 'standby')];
    const plan = planLabels(pods, desiredRoles(held('gw-a', 10_000), pods, NOW));
    expect(plan.demote.map((c) => c.name)).toEqual(['gw-a']);
    expect(plan.promote).toBeUndefined();
  });

  it('uncertain pods (a promotion of unknown outcome) are demoted again unless they are to be active', () => {
    const pods = [pod('gw-a', 'standby'), pod('gw-b', 'standby'), pod('gw-c', 'active')];
    const uncertain = new Map([
      ['gw-a', 'uid-gw-a'],
      ['gw-c', 'uid-gw-c'],
    ]);
    const plan = planLabels(pods, desiredRoles(held('gw-c'), pods, NOW), { uncertain });
    expect(plan.demote.map((c) => [c.name, c.from, c.to])).toEqual([['gw-a', 'standby', 'standby']]);
    expect(plan.promote).toBeUndefined();
    // a different pod under the same name is not the uncertain one
    const other = planLabels(pods, desiredRoles(held('gw-c'), pods, NOW), { uncertain: new Map([['gw-a', 'old-uid']]) });
    expect(planIsEmpty(other)).toBe(true);
  });

  it('converged: empty plan', () => {
    const pods = [pod('gw-a', 'standby'), pod('gw-b', 'active')];
    const plan = planLabels(pods, desiredRoles(held('gw-b'), pods, NOW));
    expect(planIsEmpty(plan)).toBe(true);
  });
});
