/**
 * Resource descriptors: everything needed to address a kind over the REST API without discovery.
 * The shape matches `@strait/api`'s `ResourceDescriptor` (structural), so its constants can be passed as-is.
 */

export interface ResourceDescriptor {
  /** API group; '' for the core group (Pods, ConfigMaps, Events v1, ...). */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Lower-case plural used in URLs, e.g. 'tunnelendpoints'. */
  readonly plural: string;
  readonly namespaced: boolean;
}

/** The fields of ObjectMeta the library relies on. Both client-node's V1ObjectMeta and plain JSON satisfy it. */
export interface ObjectMetaLike {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: Date | string;
  creationTimestamp?: Date | string;
  ownerReferences?: unknown[];
  managedFields?: unknown[];
}

/**
 * Any Kubernetes object. Objects read through this library are plain JSON as sent by the API server,
 * so timestamps are RFC 3339 strings even where client-node's model classes declare `Date`.
 */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMetaLike;
}

/** A reference to one object: `namespace` is required for namespaced kinds and ignored otherwise. */
export interface ObjectRef {
  name: string;
  namespace?: string;
}

/** Well-known descriptors of built-in kinds used by Strait. */
export const ConfigMapResource = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
} as const satisfies ResourceDescriptor;

export const SecretResource = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  namespaced: true,
} as const satisfies ResourceDescriptor;

export const PodResource = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  namespaced: true,
} as const satisfies ResourceDescriptor;

export const NodeResource = {
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  namespaced: false,
} as const satisfies ResourceDescriptor;

export const NamespaceResource = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  namespaced: false,
} as const satisfies ResourceDescriptor;

export const LeaseResource = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
} as const satisfies ResourceDescriptor;

export const EventResource = {
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  namespaced: true,
} as const satisfies ResourceDescriptor;

export const CoreEventResource = {
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  namespaced: true,
} as const satisfies ResourceDescriptor;

export const CustomResourceDefinitionResource = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
} as const satisfies ResourceDescriptor;

/** `group/version`, or just `version` for the core group. */
export function apiVersionOf(d: ResourceDescriptor): string {
  return d.group === '' ? d.version : `${d.group}/${d.version}`;
}

/**
 * The URL path of a collection or of one object, e.g.
 * `/apis/net.strait.io/v1alpha1/namespaces/ns/tunnelendpoints/name/status`.
 * Omit `namespace` on a namespaced kind to address all namespaces (list/watch only).
 */
export function resourcePath(
  d: ResourceDescriptor,
  opts: { namespace?: string | undefined; name?: string | undefined; subresource?: string | undefined } = {},
): string {
  const root = d.group === '' ? `/api/${d.version}` : `/apis/${d.group}/${d.version}`;
  let path = root;
  if (d.namespaced && opts.namespace !== undefined) {
    path += `/namespaces/${encodeURIComponent(opts.namespace)}`;
  }
  path += `/${d.plural}`;
  if (opts.name !== undefined) {
    path += `/${encodeURIComponent(opts.name)}`;
    if (opts.subresource !== undefined) path += `/${opts.subresource}`;
  }
  return path;
}

/** Cache/workqueue key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(obj: KubeObject): string {
  const name = obj.metadata?.name ?? '';
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

/** Inverse of {@link objectKey}. */
export function parseObjectKey(key: string): ObjectRef {
  const i = key.indexOf('/');
  if (i < 0) return { name: key };
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** Throws a specific error when a descriptor is malformed (bad input must never reach the URL). */
export function validateDescriptor(d: ResourceDescriptor): void {
  const bad = (field: string, why: string): never => {
    throw new TypeError(`invalid resource descriptor: ${field} ${why} (got ${JSON.stringify(d)})`);
  };
  if (typeof d !== 'object' || d === null) bad('descriptor', 'must be an object');
  if (typeof d.group !== 'string' || !/^[a-z0-9.-]*$/.test(d.group)) bad('group', "must be a DNS name or '' for core");
  if (typeof d.version !== 'string' || !/^v[0-9]+([a-z]+[0-9]+)?$/.test(d.version)) bad('version', 'must look like v1, v1beta1');
  if (typeof d.kind !== 'string' || !/^[A-Z][A-Za-z0-9]*$/.test(d.kind)) bad('kind', 'must be a CamelCase kind');
  if (typeof d.plural !== 'string' || !/^[a-z0-9-]+$/.test(d.plural)) bad('plural', 'must be a lower-case resource name');
  if (typeof d.namespaced !== 'boolean') bad('namespaced', 'must be a boolean');
}
