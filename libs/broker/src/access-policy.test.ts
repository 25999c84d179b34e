import { describe, expect, it } from 'vitest';
import { brokerAccessManifests, memberRoleBinding, memberServiceAccountUser, originPolicy, originPolicyBinding, policyExpressions } from './access-policy.ts';

describe('the Broker access model', () => {
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
    expect(memberServiceAccountUser('b', 'cluster-a')).toBe('system:serviceaccount:b:strait-member-cluster-a');
  });

  it('derives the member from the user name or the ServiceAccount, by prefix, whatever the namespace length', () => {
    const e = policyExpressions('strait-broker');
    expect(e.isMember).toBe(
      "request.userInfo.username.startsWith('strait:member:') || request.userInfo.username.startsWith('system:serviceaccount:strait-broker:strait-member-') || 'strait:members' in request.userInfo.groups",
    );
    expect(e.member).toContain(".substring(size('strait:member:'))");
    expect(e.member).toContain(".substring(size('system:serviceaccount:strait-broker:strait-member-'))");
    // A group member with neither name form gets no cluster ID, and the first validation refuses it.
    expect(e.member.endsWith(": ''")).toBe(true);
    const validations = (originPolicy({ namespace: 'x' }).spec as { validations: Array<{ expression: string }> }).validations;
    expect(validations[0]!.expression).toBe("variables.member != ''");
  });

  it('takes the policy name, actions and labels of a chart', () => {
    const o = { namespace: 'n', policyName: 'p.n.r', validationActions: ['Warn'], labels: { a: 'b' } };
    expect(originPolicy(o).metadata).toEqual({ name: 'p.n.r', labels: { a: 'b' } });
    expect(originPolicyBinding(o)).toMatchObject({ metadata: { name: 'p.n.r' }, spec: { policyName: 'p.n.r', validationActions: ['Warn'] } });
  });
});
