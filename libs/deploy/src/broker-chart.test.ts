import { describe, expect, it } from 'vitest';
import { helmTemplate, runHelm, valuesArgs, type KubeManifest } from './helm.ts';
import { BROKER_CHART } from './paths.ts';

const MEMBERS = { members: [{ clusterID: 'east' }, { clusterID: 'west', user: 'strait-member:west' }] };

describe('charts/strait-broker', { timeout: 60_000 }, () => {
  it('passes helm lint with no members and with members', async () => {
    for (const values of [[], [MEMBERS]]) {
      const { args, cleanup } = valuesArgs({ values });
      try {
        const r = await runHelm(['lint', BROKER_CHART, '--strict', ...args]);
        expect(r.stdout + r.stderr).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      } finally {
        cleanup();
      }
    }
  });

  it('renders one identity per member, the member Role and the origin admission policy', async () => {
    const objects = await helmTemplate(BROKER_CHART, { values: [MEMBERS], release: 'b', includeCrds: true });
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'CustomResourceDefinition/clusters.net.strait.io',
        'CustomResourceDefinition/endpoints.net.strait.io',
        'Namespace/strait-broker',
        'Role/strait-member',
        'ServiceAccount/strait-member-east',
        'Secret/strait-member-east-token',
        'RoleBinding/strait-member-east',
        'RoleBinding/strait-member-west',
        'ValidatingAdmissionPolicy/strait-broker-origin.strait-broker.b',
        'ValidatingAdmissionPolicyBinding/strait-broker-origin.strait-broker.b',
      ]),
    );
    expect(names.filter((n) => n.startsWith('CustomResourceDefinition/'))).toHaveLength(2);
    // A `user` member has no ServiceAccount; its RoleBinding names the user.
    expect(names).not.toContain('ServiceAccount/strait-member-west');
    const west = objects.find((o) => o.metadata.name === 'strait-member-west' && o.kind === 'RoleBinding') as KubeManifest & { subjects: unknown[] };
    expect(west.subjects).toEqual([{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'strait-member:west' }]);
    const policy = objects.find((o) => o.kind === 'ValidatingAdmissionPolicy') as KubeManifest & { spec: { matchConditions: Array<{ expression: string }> } };
    expect(policy.spec.matchConditions[0]!.expression).toBe(
      "request.userInfo.username in {'system:serviceaccount:strait-broker:strait-member-east': 'east', 'strait-member:west': 'west'}",
    );
  });

  it('refuses a bad member with a message naming the field', async () => {
    const err = await helmTemplate(BROKER_CHART, { values: [{ members: [{ clusterID: 'East_1' }] }] }).catch((e: unknown) => e as Error);
    expect(String(err)).toMatch(/at '\/members\/0\/clusterID': 'East_1' does not match pattern/);
    const err2 = await helmTemplate(BROKER_CHART, { values: [{ members: [{ id: 'east' }] }] }).catch((e: unknown) => e as Error);
    expect(String(err2)).toMatch(/at '\/members\/0'/);
  });
});
