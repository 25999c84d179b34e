/**
 * The Broker's access model as Kubernetes objects, the one definition behind both
 * apps/broker-sync/manifests/broker-access.yaml and the Broker chart's templates (charts/strait-broker,
 * rendered by libs/deploy's sync-charts):
 *  - a Role in the Broker namespace: read, create and update (patch) Cluster and Endpoint objects, nothing
 *    else, nowhere else (no delete: a cluster's objects are removed by the Broker's admin); bound to the
 *    group every member identity is in (`strait:members`), or per member with {@link memberRoleBinding};
 *  - a ValidatingAdmissionPolicy (+ binding) on every write by a member identity: the object's origin
 *    label and spec.clusterID must name the caller's own cluster, and the origin label never changes.
 *
 * A member identity is the user `strait:member:<cluster ID>` (client certificate CN, or any authenticator)
 * or the ServiceAccount `strait-member-<cluster ID>` in the Broker namespace: the member's cluster ID is
 * read from its name (prefix form), so adding a member needs an identity and a binding, never a policy
 * change (docs/adr/0008). Anyone in the group `strait:members` whose name has neither form is refused
 * every write.
 */
import { API_GROUP, BROKER_MEMBER_USER_PREFIX, BROKER_MEMBERS_GROUP, ORIGIN_CLUSTER_LABEL } from '@strait/api';

export interface BrokerAccessOptions {
  /** The Broker namespace holding every member's Cluster and Endpoint. */
  readonly namespace: string;
  /** Name of the (cluster-scoped) admission policy and its binding; default {@link BROKER_ORIGIN_POLICY}. */
  readonly policyName?: string;
  /** The binding's actions; default `['Deny']` (the access model). */
  readonly validationActions?: readonly string[];
  /** Labels of every object; default {@link BROKER_ACCESS_LABELS}. */
  readonly labels?: Readonly<Record<string, string>>;
}

export const BROKER_MEMBER_ROLE = 'strait-broker-member';
export const BROKER_ORIGIN_POLICY = 'strait-broker-origin';
/** ServiceAccount of a member in the Broker namespace: `strait-member-<cluster ID>`. */
export const BROKER_MEMBER_SERVICE_ACCOUNT_PREFIX = 'strait-member-';
export const BROKER_ACCESS_LABELS: Readonly<Record<string, string>> = { 'app.kubernetes.io/part-of': 'strait', 'app.kubernetes.io/component': 'broker' };

export type BrokerManifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<string, unknown>;

/** The Role's rules: what any member may do in the Broker namespace. */
export const BROKER_MEMBER_RULES = [{ apiGroups: [API_GROUP], resources: ['clusters', 'endpoints'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] }] as const;

/** User name of a member's ServiceAccount. */
export function memberServiceAccountUser(namespace: string, clusterId: string): string {
  return `system:serviceaccount:${namespace}:${BROKER_MEMBER_SERVICE_ACCOUNT_PREFIX}${clusterId}`;
}

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The CEL expressions of the policy. The namespace is inserted as given (the chart passes a template
 * expression), so no expression depends on its length.
 */
export function policyExpressions(namespace: string) {
  const user = 'request.userInfo.username';
  const prefix = quote(BROKER_MEMBER_USER_PREFIX);
  const sa = quote(`system:serviceaccount:${namespace}:${BROKER_MEMBER_SERVICE_ACCOUNT_PREFIX}`);
  const label = quote(ORIGIN_CLUSTER_LABEL);
  const originOf = (o: string) => `(${o} != null && has(${o}.metadata.labels) && ${label} in ${o}.metadata.labels ? ${o}.metadata.labels[${label}] : '')`;
  return {
    isMember: `${user}.startsWith(${prefix}) || ${user}.startsWith(${sa}) || ${quote(BROKER_MEMBERS_GROUP)} in request.userInfo.groups`,
    member: `${user}.startsWith(${prefix}) ? ${user}.substring(size(${prefix})) : ${user}.startsWith(${sa}) ? ${user}.substring(size(${sa})) : ''`,
    origin: originOf('object'),
    oldOrigin: originOf('oldObject'),
  };
}

export function memberRole(o: BrokerAccessOptions): BrokerManifest {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: BROKER_MEMBER_ROLE, namespace: o.namespace, labels: { ...(o.labels ?? BROKER_ACCESS_LABELS) } },
    rules: BROKER_MEMBER_RULES.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })),
  };
}

/** The RoleBinding of the group `strait:members` (client-certificate members, O=strait:members). */
export function membersGroupRoleBinding(o: BrokerAccessOptions): BrokerManifest {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: BROKER_MEMBER_ROLE, namespace: o.namespace, labels: { ...(o.labels ?? BROKER_ACCESS_LABELS) } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: BROKER_MEMBER_ROLE },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: BROKER_MEMBERS_GROUP }],
  };
}

export function originPolicy(o: BrokerAccessOptions): BrokerManifest {
  const e = policyExpressions(o.namespace);
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: o.policyName ?? BROKER_ORIGIN_POLICY, labels: { ...(o.labels ?? BROKER_ACCESS_LABELS) } },
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
          expression: "variables.member != ''",
          messageExpression: `'user ' + request.userInfo.username + ' is in the group ${BROKER_MEMBERS_GROUP} but is not named ${BROKER_MEMBER_USER_PREFIX}<cluster ID>'`,
          reason: 'Forbidden',
        },
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
  };
}

export function originPolicyBinding(o: BrokerAccessOptions): BrokerManifest {
  const name = o.policyName ?? BROKER_ORIGIN_POLICY;
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name, labels: { ...(o.labels ?? BROKER_ACCESS_LABELS) } },
    spec: {
      policyName: name,
      validationActions: [...(o.validationActions ?? ['Deny'])],
      matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': o.namespace } } },
    },
  };
}

/** The whole model for a Broker whose members are in the group `strait:members`: namespace, Role, group binding, policy. */
export function brokerAccessManifests(o: BrokerAccessOptions): BrokerManifest[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.namespace, labels: { ...(o.labels ?? BROKER_ACCESS_LABELS) } } },
    memberRole(o),
    membersGroupRoleBinding(o),
    originPolicy(o),
    originPolicyBinding(o),
  ];
}

/** A RoleBinding for one member identity (when identities are not in the `strait:members` group). */
export function memberRoleBinding(namespace: string, clusterId: string, kind: 'User' | 'ServiceAccount' = 'User'): BrokerManifest {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${BROKER_MEMBER_SERVICE_ACCOUNT_PREFIX}${clusterId}`, namespace, labels: { ...BROKER_ACCESS_LABELS } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: BROKER_MEMBER_ROLE },
    subjects: [
      kind === 'User'
        ? { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `${BROKER_MEMBER_USER_PREFIX}${clusterId}` }
        : { kind: 'ServiceAccount', name: `${BROKER_MEMBER_SERVICE_ACCOUNT_PREFIX}${clusterId}`, namespace },
    ],
  };
}
