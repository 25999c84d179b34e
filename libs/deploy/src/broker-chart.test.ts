import { memberRole, originPolicy, originPolicyBinding } from '@strait/broker';
import { describe, expect, it } from 'vitest';
import { brokerAccessTemplate, staleChartTemplates } from './broker-access-sync.ts';
import { SYNC_HINT } from './crd-sync.ts';
import { helmTemplate, runHelm, valuesArgs, type KubeManifest } from './helm.ts';
import { BROKER_CHART } from './paths.ts';

const MEMBERS = { members: [{ clusterID: 'east' }, { clusterID: 'west', user: 'strait:member:west' }] };

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
        'Role/strait-broker-member',
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
    expect(west.subjects).toEqual([{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'strait:member:west' }]);
    expect(west).toMatchObject({ roleRef: { kind: 'Role', name: 'strait-broker-member' } });
  });

  it('carries exactly the access model of libs/broker (Role rules, CEL, binding), whatever the members', async () => {
    for (const values of [{ members: [] }, MEMBERS, { ...MEMBERS, brokerNamespace: 'a-much-longer-broker-namespace', validationActions: ['Warn', 'Audit'] }]) {
      const objects = await helmTemplate(BROKER_CHART, { values: [values], release: 'b' });
      const ns = (values as { brokerNamespace?: string }).brokerNamespace ?? 'strait-broker';
      const role = objects.find((o) => o.kind === 'Role')!;
      const policy = objects.find((o) => o.kind === 'ValidatingAdmissionPolicy')!;
      const binding = objects.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding')!;
      const o = { namespace: ns, policyName: `strait-broker-origin.${ns}.b`, labels: role.metadata.labels ?? {}, validationActions: (values as { validationActions?: string[] }).validationActions ?? ['Deny'] };
      expect(role).toEqual(memberRole(o));
      expect(policy).toEqual(originPolicy(o));
      expect(binding).toEqual(originPolicyBinding(o));
    }
  });

  it('ships templates/access-policy.yaml up to date with libs/broker', () => {
    expect(staleChartTemplates(), SYNC_HINT).toEqual([]);
    expect(brokerAccessTemplate()).toContain('{{ .Values.brokerNamespace }}');
  });

  it('refuses a bad member with a message naming the field', async () => {
    const err = await helmTemplate(BROKER_CHART, { values: [{ members: [{ clusterID: 'East_1' }] }] }).catch((e: unknown) => e as Error);
    expect(String(err)).toMatch(/at '\/members\/0\/clusterID': 'East_1' does not match pattern/);
    const err2 = await helmTemplate(BROKER_CHART, { values: [{ members: [{ id: 'east' }] }] }).catch((e: unknown) => e as Error);
    expect(String(err2)).toMatch(/at '\/members\/0'/);
    // The policy reads a member's cluster ID from its user name: another name would be no member at all.
    const err3 = await helmTemplate(BROKER_CHART, { values: [{ members: [{ clusterID: 'east', user: 'alice' }] }] }).catch((e: unknown) => e as Error);
    expect(String(err3)).toMatch(/at '\/members\/0\/user': 'alice' does not match pattern/);
    const err4 = await helmTemplate(BROKER_CHART, { values: [{ members: [{ clusterID: 'east', user: 'strait:member:west' }] }] }).catch((e: unknown) => e as Error);
    expect(String(err4)).toMatch(/members\[0\]\.user: "strait:member:west" must be strait:member:east/);
  });
});
