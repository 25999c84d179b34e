import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { brokerAccessManifests, memberRoleBinding, policyExpressions, renderBrokerAccessYaml } from './access.ts';

describe('the Broker access model', () => {
  it('is shipped up to date in manifests/broker-access.yaml (node apps/broker-sync/scripts/render-manifests.ts)', async () => {
    const file = readFileSync(new URL('../manifests/broker-access.yaml', import.meta.url), 'utf8');
    expect(file).toBe(await renderBrokerAccessYaml({ namespace: 'strait-broker' }));
  });

  it('grants members read and create/update on Cluster and Endpoint in the Broker namespace only', () => {
    const [ns, role, binding, policy, policyBinding] = brokerAccessManifests({ namespace: 'b' });
    expect(ns).toMatchObject({ kind: 'Namespace', metadata: { name: 'b' } });
    expect(role).toMatchObject({ kind: 'Role', metadata: { namespace: 'b' }, rules: [{ apiGroups: ['net.strait.io'], resources: ['clusters', 'endpoints'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] }] });
    expect(JSON.stringify(role)).not.toMatch(/delete|\*/);
    expect(binding).toMatchObject({ kind: 'RoleBinding', subjects: [{ kind: 'Group', name: 'strait:members' }] });
    expect(policy).toMatchObject({ kind: 'ValidatingAdmissionPolicy', spec: { failurePolicy: 'Fail' } });
    expect(policyBinding).toMatchObject({ spec: { validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'b' } } } } });
    expect(memberRoleBinding('b', 'cluster-a')).toMatchObject({ subjects: [{ kind: 'User', name: 'strait:member:cluster-a' }] });
    expect(memberRoleBinding('b', 'cluster-a', 'ServiceAccount')).toMatchObject({ subjects: [{ kind: 'ServiceAccount', name: 'strait-member-cluster-a', namespace: 'b' }] });
  });

  it('derives the member from the user name or the ServiceAccount (prefix lengths match)', () => {
    const e = policyExpressions('strait-broker');
    expect(e.member).toContain(".substring('strait:member:'.length)".replace("'strait:member:'.length", String('strait:member:'.length)));
    expect(e.member).toContain(`.substring(${'system:serviceaccount:strait-broker:strait-member-'.length})`);
  });
});
