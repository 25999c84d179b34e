import type { KubeConfig } from '@kubernetes/client-node';
import { RESOURCE_DEFINITIONS, buildCustomResourceDefinition, type CustomResourceDefinition } from '@strait/api';
import { CrClient, CustomResourceDefinitionResource, RestClient, serverSideApply, type KubeObject } from '@strait/kube';
import { brokerAccessManifests } from '@strait/broker';

type Crd = CustomResourceDefinition & KubeObject;

async function waitEstablished(crds: CrClient<Crd>, names: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const c = (await crds.get({ name }).catch(() => undefined)) as { status?: { conditions?: { type: string; status: string }[] } } | undefined;
      if (c?.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not established within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Test support: installs every Strait CRD (server-side apply). `lenient` installs Cluster and Endpoint with an
 * open spec (as a Broker running another Strait release's CRDs would accept), so that tests can put objects
 * on the Broker that this release refuses.
 */
export async function installStraitCrds(kc: KubeConfig, o: { lenient?: boolean; timeoutMs?: number } = {}): Promise<void> {
  const crds = new CrClient<Crd>(kc, CustomResourceDefinitionResource, { fieldManager: 'strait-test' });
  const names: string[] = [];
  for (const def of RESOURCE_DEFINITIONS) {
    const crd = buildCustomResourceDefinition(def) as Crd & CustomResourceDefinition;
    if (o.lenient && (def.descriptor.kind === 'Cluster' || def.descriptor.kind === 'Endpoint')) {
      const root = crd.spec.versions[0]!.schema.openAPIV3Schema as Record<string, unknown> & { properties: Record<string, unknown> };
      root.properties['spec'] = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
      delete root['x-kubernetes-validations'];
    }
    await crds.apply(crd, { force: true });
    names.push(crd.metadata.name);
  }
  await waitEstablished(crds, names, o.timeoutMs ?? 60_000);
}

/** Test support: the Broker's access model (src/access.ts) applied to a real API server. */
export async function applyBrokerAccess(kc: KubeConfig, namespace: string): Promise<void> {
  const rest = new RestClient(kc);
  for (const m of brokerAccessManifests({ namespace })) await serverSideApply(rest, m as never, { fieldManager: 'strait-test', force: true });
}
