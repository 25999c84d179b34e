/**
 * The generated CRDs on a real kube-apiserver: they install, objects of every kind are accepted,
 * bad input is rejected by the API server itself with messages naming the field, the status
 * subresource works, and the TypeScript validators agree with the server's CEL rules.
 */
import { randomBytes } from 'node:crypto';
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  loadYaml,
  type KubeConfig,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
// eslint-disable-next-line @nx/enforce-module-boundaries -- integration tests run against the real control plane from the test harness (type:testing)
import { sharedKubeConfig } from '@strait/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP, API_VERSION } from './constants.ts';
import { buildCustomResourceDefinitions } from './crd/build.ts';
import { examples } from './resources/examples.ts';
import { NAT_MAPPING_MAX_ENTRIES, type NatMapping } from './resources/nat-mapping.ts';
import { validateTunnelEndpointSpec, type TunnelEndpoint } from './resources/tunnel-endpoint.ts';

const FIELD_MANAGER = 'strait-api-int-test';
const namespace = `strait-api-${randomBytes(4).toString('hex')}`;
const crds = buildCustomResourceDefinitions();

let kc: KubeConfig;
let objects: KubernetesObjectApi;
let custom: CustomObjectsApi;
let extensions: ApiextensionsV1Api;
let core: CoreV1Api;
/** CRDs that did not exist before this test (the only ones it deletes). */
const createdCrds: string[] = [];

interface StatusCause {
  field?: string;
  message?: string;
  reason?: string;
}

function causesOf(error: unknown): StatusCause[] {
  if (!(error instanceof ApiException)) throw error;
  const body = typeof error.body === 'string' ? (JSON.parse(error.body) as unknown) : error.body;
  return ((body as { details?: { causes?: StatusCause[] } }).details?.causes ?? []) as StatusCause[];
}

/** Creates the object and expects the API server to reject it; returns the field errors. */
async function rejected(object: KubernetesObject): Promise<StatusCause[]> {
  try {
    await objects.create(object, undefined, 'All');
  } catch (error) {
    expect((error as ApiException<unknown>).code).toBe(422);
    return causesOf(error);
  }
  throw new Error(`the API server accepted ${JSON.stringify(object)}`);
}

async function accepted(object: KubernetesObject, dryRun?: 'All'): Promise<KubernetesObject> {
  return objects.create(object, undefined, dryRun, FIELD_MANAGER);
}

function inNamespace<T extends KubernetesObject>(object: T, name?: string): T {
  return { ...object, metadata: { ...object.metadata, namespace, ...(name ? { name } : {}) } };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

beforeAll(async () => {
  kc = sharedKubeConfig();
  objects = KubernetesObjectApi.makeApiClient(kc);
  custom = kc.makeApiClient(CustomObjectsApi);
  extensions = kc.makeApiClient(ApiextensionsV1Api);
  core = kc.makeApiClient(CoreV1Api);

  for (const crd of crds) {
    const exists = await extensions.readCustomResourceDefinition({ name: crd.metadata.name }).then(
      () => true,
      (error: unknown) => {
        if (error instanceof ApiException && error.code === 404) return false;
        throw error;
      },
    );
    if (!exists) createdCrds.push(crd.metadata.name);
    // client-node serializes known kinds by its model's field names (xKubernetesValidations, _enum):
    // load the plain object into the model first, or those fields are silently dropped.
    const body = loadYaml<V1CustomResourceDefinition>(JSON.stringify(crd));
    await objects.patch(body, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }
  for (const crd of crds) {
    await waitFor(`${crd.metadata.name} Established`, async () => {
      const current = await extensions.readCustomResourceDefinition({ name: crd.metadata.name });
      return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    });
  }
  // Discovery lags Established a little: wait until every kind can be listed.
  for (const crd of crds) {
    await waitFor(`${crd.spec.names.plural} served`, async () => {
      await objects.list(`${API_GROUP}/${API_VERSION}`, crd.spec.names.kind, 'default');
      return true;
    });
  }
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
  for (const name of createdCrds) await extensions?.deleteCustomResourceDefinition({ name }).catch(() => undefined);
});

describe('Strait CRDs on kube-apiserver', () => {
  it('accepts a valid object of every kind', async () => {
    for (const object of [examples.cluster(), examples.endpoint(), examples.tunnelEndpoint(), examples.natMapping(), examples.gateway()]) {
      const created = await accepted(inNamespace(object as KubernetesObject));
      expect(created.metadata?.uid).toBeTruthy();
    }
  });

  it('rejects a TunnelEndpoint with a bad CIDR, naming the field', async () => {
    const object = inNamespace(examples.tunnelEndpoint(), 'bad-cidr');
    object.spec.remote.podCIDRs = ['10.20.0.0/33'];
    const causes = await rejected(object);
    expect(causes).toContainEqual(
      expect.objectContaining({ field: 'spec.remote.podCIDRs[0]', message: expect.stringContaining('"10.20.0.0/33" is not a valid CIDR') }),
    );
    const hostBits = inNamespace(examples.tunnelEndpoint(), 'host-bits');
    hostBits.spec.remap = { remotePodCIDR: '10.120.0.1/16' };
    expect(await rejected(hostBits)).toContainEqual(
      expect.objectContaining({ field: 'spec.remap.remotePodCIDR', message: expect.stringContaining('host bits') }),
    );
  });

  it('rejects a NatMapping whose externalIP lies outside externalCIDR, naming the field', async () => {
    const object = inNamespace(examples.natMapping(), 'outside');
    object.spec.entries.push({ externalIP: '10.33.0.1', realIP: '192.168.1.1' });
    const causes = await rejected(object);
    expect(causes).toEqual([
      expect.objectContaining({
        field: 'spec.entries',
        message: expect.stringContaining('every externalIP must lie inside externalCIDR 10.32.0.0/16'),
      }),
    ]);
  });

  it('rejects duplicate externalIPs', async () => {
    const object = inNamespace(examples.natMapping(), 'duplicate');
    object.spec.entries.push({ externalIP: '10.32.0.5', realIP: '192.168.1.1' });
    const causes = await rejected(object);
    expect(causes).toContainEqual(expect.objectContaining({ field: 'spec.entries[2]', reason: 'FieldValueDuplicate' }));
  });

  it('rejects an invalid realIP and a non-canonical externalIP', async () => {
    const object = inNamespace(examples.natMapping(), 'bad-ips');
    object.spec.externalCIDR = 'fd00:32::/64';
    object.spec.entries = [{ externalIP: 'fd00:32:0::5', realIP: '192.168.1.300' }];
    const causes = await rejected(object);
    expect(causes).toContainEqual(
      expect.objectContaining({ field: 'spec.entries[0].externalIP', message: expect.stringContaining('not in canonical form') }),
    );
    expect(causes).toContainEqual(
      expect.objectContaining({ field: 'spec.entries[0].realIP', message: expect.stringContaining('is not a valid IP address') }),
    );
  });

  it('rejects an unknown backend', async () => {
    const object = inNamespace(examples.tunnelEndpoint(), 'gre') as KubernetesObject & { spec: Record<string, unknown> };
    object.spec['backend'] = 'gre';
    const causes = await rejected(object);
    expect(causes).toContainEqual(expect.objectContaining({ field: 'spec.backend', reason: 'FieldValueNotSupported' }));
  });

  it('rejects settings that do not match the backend', async () => {
    const object = inNamespace(examples.tunnelEndpoint(), 'mismatch');
    object.spec.backend = 'ipsec';
    expect(await rejected(object)).toContainEqual(
      expect.objectContaining({ field: 'spec.backendConfig', message: expect.stringContaining('backendConfig must set ipsec') }),
    );
  });

  it('accepts an Endpoint offering several backends, and refuses one without the preferred backend\'s settings', async () => {
    const offer = inNamespace(examples.endpoint(), 'offer');
    offer.spec.backend = 'ipsec';
    offer.spec.backendConfig = { ...offer.spec.backendConfig, ipsec: { ikeID: 'cluster-b', port: 500, natTPort: 4500 }, vxlan: { port: 4789 } };
    expect((await accepted(offer, 'All')).metadata?.name).toBe('offer');
    const missing = inNamespace(examples.endpoint(), 'no-preferred');
    missing.spec.backend = 'vxlan';
    expect(await rejected(missing)).toContainEqual(
      expect.objectContaining({ field: 'spec.backendConfig', message: expect.stringContaining('backendConfig must set vxlan, the preferred backend') }),
    );
  });

  it.each([0, 70000])('rejects port %i', async (port) => {
    const object = inNamespace(examples.tunnelEndpoint(), `port-${port}`);
    object.spec.endpoint.port = port;
    expect(await rejected(object)).toContainEqual(expect.objectContaining({ field: 'spec.endpoint.port' }));
  });

  it('rejects overlapping pod and service CIDRs of a Cluster', async () => {
    const object = inNamespace(examples.cluster(), 'overlap');
    object.spec.serviceCIDRs = ['10.20.128.0/24'];
    expect(await rejected(object)).toContainEqual(
      expect.objectContaining({ field: 'spec.serviceCIDRs', message: expect.stringContaining('serviceCIDRs must not overlap podCIDRs') }),
    );
  });

  it('keeps clusterID immutable', async () => {
    const created = (await accepted(inNamespace(examples.cluster(), 'immutable'))) as ReturnType<typeof examples.cluster>;
    created.spec.clusterID = 'cluster-z';
    const error = await objects.replace(created).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(causesOf(error)).toContainEqual(expect.objectContaining({ field: 'spec.clusterID', message: expect.stringContaining('clusterID is immutable') }));
  });

  it(`accepts a NatMapping with ${NAT_MAPPING_MAX_ENTRIES} entries (CEL runtime cost within budget)`, async () => {
    const object: NatMapping = inNamespace(examples.natMapping(), 'large');
    object.spec.entries = Array.from({ length: NAT_MAPPING_MAX_ENTRIES }, (_, i) => ({
      externalIP: `10.32.${Math.floor(i / 256)}.${i % 256}`,
      realIP: `192.168.${Math.floor(i / 256)}.${i % 256}`,
    }));
    await accepted(object, 'All');
    object.spec.entries.push({ externalIP: '10.32.200.1', realIP: '192.168.200.1' });
    expect(await rejected(object)).toContainEqual(expect.objectContaining({ field: 'spec.entries', reason: 'FieldValueTooMany' }));
  });

  it('serves status as a subresource', async () => {
    const created = (await accepted(inNamespace(examples.tunnelEndpoint(), 'status'))) as TunnelEndpoint;
    const base = { group: API_GROUP, version: API_VERSION, namespace, plural: 'tunnelendpoints', name: 'status' };
    const header = { apiVersion: created.apiVersion, kind: created.kind, metadata: { name: 'status', namespace } };

    // Writing status through the main resource is ignored...
    await objects.replace({ ...created, status: { phase: 'Error' } } as TunnelEndpoint);
    let current = (await objects.read(header)) as TunnelEndpoint;
    expect(current.status).toBeUndefined();

    // ...through /status it is stored, and does not bump the generation.
    const status = {
      phase: 'Connected',
      interface: 'wg-cluster-b',
      latency: { lastMs: 1.5, minMs: 1, averageMs: 1.2, maxMs: 2, stdDevMs: 0.1, samples: 10 },
      lastHandshakeTime: '2025-01-01T00:00:00Z',
      observedGeneration: current.metadata.generation,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Connected', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' }],
    };
    await custom.replaceNamespacedCustomObjectStatus({ ...base, body: { ...current, status } });
    current = (await objects.read(header)) as TunnelEndpoint;
    expect(current.status).toEqual(status);
    expect(current.metadata.generation).toBe(created.metadata.generation);

    // Status is validated too.
    const error = await custom
      .replaceNamespacedCustomObjectStatus({ ...base, body: { ...current, status: { ...status, phase: 'Up' } } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(causesOf(error)).toContainEqual(expect.objectContaining({ field: 'status.phase' }));
  });

  it('agrees with the TypeScript validators on IP and CIDR syntax', async () => {
    const ips = ['10.0.0.1', '010.0.0.1', '256.1.1.1', 'fd00::1', 'FD00::1', 'fd00:0::1', '::ffff:1.2.3.4', '::1.2.3.4', 'fe80::1%eth0', '1::2::3', '1:2:3:4:5:6:7::'];
    const cidrs = ['10.1.0.0/16', '10.1.0.1/16', '10.1.0.0/33', '10.1.0.0/08', 'fd00::/64', 'FD00::/64', 'fd00:0::/64', '::ffff:10.0.0.0/104', '0.0.0.0/0'];
    const cases: Array<{ what: string; spec: TunnelEndpoint['spec'] }> = [
      ...ips.map((ip) => ({ what: `address ${ip}`, spec: { ...examples.tunnelEndpoint().spec, endpoint: { address: ip, port: 51820 } } })),
      ...cidrs.map((cidr) => ({ what: `CIDR ${cidr}`, spec: { ...examples.tunnelEndpoint().spec, remap: { localPodCIDR: cidr } } })),
    ];
    const disagreements: string[] = [];
    for (const [i, c] of cases.entries()) {
      const local = validateTunnelEndpointSpec(c.spec).ok;
      const object = inNamespace({ ...examples.tunnelEndpoint(), spec: c.spec }, `parity-${i}`);
      const server = await objects.create(object, undefined, 'All').then(
        () => true,
        (error: unknown) => {
          causesOf(error);
          return false;
        },
      );
      if (local !== server) disagreements.push(`${c.what}: TypeScript ${local ? 'accepts' : 'rejects'}, API server ${server ? 'accepts' : 'rejects'}`);
    }
    expect(disagreements).toEqual([]);
  });
});
