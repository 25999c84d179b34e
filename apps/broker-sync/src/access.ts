import { API_GROUP, BROKER_MEMBER_USER_PREFIX, BROKER_MEMBERS_GROUP, ORIGIN_CLUSTER_LABEL } from '@strait/api';

/**
 * The Broker's access model as Kubernetes objects (rendered to apps/broker-sync/manifests/ and applied by
 * the tests against a real API server):
 *  - a Role in the Broker namespace: read, create and update (patch) Cluster and Endpoint objects, nothing
 *    else, nowhere else; bound to the group every member identity is in (`strait:members`), or per member
 *    with {@link memberRoleBinding};
 *  - a ValidatingAdmissionPolicy (+ binding, Deny) on every write by a member identity: the object's origin
 *    label and spec.clusterID must name the caller's own cluster, and the origin label never changes.
 * A member identity is the user `strait:member:<cluster ID>` (client certificate CN, or any authenticator)
 * or the ServiceAccount `strait-member-<cluster ID>` in the Broker namespace.
 */

export interface BrokerAccessOptions {
  readonly namespace: string;
}

export const BROKER_MEMBER_ROLE = 'strait-broker-member';
export const BROKER_ORIGIN_POLICY = 'strait-broker-origin';
export const SERVICE_ACCOUNT_PREFIX = 'strait-member-';

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<string, unknown>;

const LABELS = { 'app.kubernetes.io/part-of': 'strait', 'app.kubernetes.io/component': 'broker' };

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The CEL expressions of the policy (exported for the docs and the unit test). */
export function policyExpressions(namespace: string) {
  const user = 'request.userInfo.username';
  const sa = `system:serviceaccount:${namespace}:${SERVICE_ACCOUNT_PREFIX}`;
  const label = quote(ORIGIN_CLUSTER_LABEL);
  const originOf = (o: string) => `(${o} != null && has(${o}.metadata.labels) && ${label} in ${o}.metadata.labels ? ${o}.metadata.labels[${label}] : '')`;
  return {
    isMember: `${user}.startsWith(${quote(BROKER_MEMBER_USER_PREFIX)}) || ${user}.startsWith(${quote(sa)})`,
    member: `${user}.startsWith(${quote(BROKER_MEMBER_USER_PREFIX)}) ? ${user}.substring(${BROKER_MEMBER_USER_PREFIX.length}) : ${user}.substring(${sa.length})`,
    origin: originOf('object'),
    oldOrigin: originOf('oldObject'),
  };
}

export function brokerAccessManifests(o: BrokerAccessOptions): Manifest[] {
  const ns = o.namespace;
  const e = policyExpressions(ns);
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: LABELS } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: BROKER_MEMBER_ROLE, namespace: ns, labels: LABELS },
      rules: [{ apiGroups: [API_GROUP], resources: ['clusters', 'endpoints'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: BROKER_MEMBER_ROLE, namespace: ns, labels: LABELS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: BROKER_MEMBER_ROLE },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: BROKER_MEMBERS_GROUP }],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: BROKER_ORIGIN_POLICY, labels: LABELS },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [{ apiGroups: [API_GROUP], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['clusters', 'endpoints', 'clusters/status', 'endpoints/status'] }],
        },
        matchConditions: [{ name: 'member-identity', expression: e.isMember }],
        variables: [
          { name: 'member', expression: e.member },
          { name: 'origin', expression: e.origin },
          { name: 'oldOrigin', expression: e.oldOrigin },
        ],
        validations: [
          {
            expression: "request.operation != 'UPDATE' || variables.oldOrigin == variables.origin",
            messageExpression: `'the ${ORIGIN_CLUSTER_LABEL} label cannot be changed (from ' + variables.oldOrigin + ' to ' + variables.origin + ')'`,
            reason: 'Forbidden',
          },
          {
            expression: "request.operation == 'DELETE' || variables.origin == variables.member",
            messageExpression: `'member ' + variables.member + ' may only write objects labelled ${ORIGIN_CLUSTER_LABEL}=' + variables.member + ' (got ' + (variables.origin == '' ? 'no label' : variables.origin) + ')'`,
            reason: 'Forbidden',
          },
          {
            expression: "request.operation == 'DELETE' || (has(object.spec) && has(object.spec.clusterID) && object.spec.clusterID == variables.member)",
            messageExpression: "'member ' + variables.member + ' may only write objects whose spec.clusterID is ' + variables.member",
            reason: 'Forbidden',
          },
          {
            expression: "request.operation != 'DELETE' || variables.oldOrigin == variables.member",
            messageExpression: "'member ' + variables.member + ' may only delete its own objects'",
            reason: 'Forbidden',
          },
        ],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: BROKER_ORIGIN_POLICY, labels: LABELS },
      spec: {
        policyName: BROKER_ORIGIN_POLICY,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } },
      },
    },
  ];
}

/** A RoleBinding for one member identity (when identities are not in the `strait:members` group). */
export function memberRoleBinding(namespace: string, clusterId: string, kind: 'User' | 'ServiceAccount' = 'User'): Manifest {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${SERVICE_ACCOUNT_PREFIX}${clusterId}`, namespace, labels: LABELS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: BROKER_MEMBER_ROLE },
    subjects: [
      kind === 'User'
        ? { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `${BROKER_MEMBER_USER_PREFIX}${clusterId}` }
        : { kind: 'ServiceAccount', name: `${SERVICE_ACCOUNT_PREFIX}${clusterId}`, namespace },
    ],
  };
}

/** The YAML file shipped in apps/broker-sync/manifests/ (multi-document). */
export async function renderBrokerAccessYaml(o: BrokerAccessOptions): Promise<string> {
  const { stringify } = await import('yaml');
  const header = `# Generated by apps/broker-sync/scripts/render-manifests.ts from src/access.ts: do not edit.\n# The Broker's access model (namespace ${o.namespace}): see docs/broker.md.\n`;
  return header + brokerAccessManifests(o).map((m) => `---\n${stringify(m, { lineWidth: 0 })}`).join('');
}
