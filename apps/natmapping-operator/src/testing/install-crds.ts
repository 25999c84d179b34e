import type { KubeConfig } from '@kubernetes/client-node';
import { NatMappingDefinition, NatMappingResource, buildCustomResourceDefinition, type CustomResourceDefinition } from '@strait/api';
import { CrClient, CustomResourceDefinitionResource, type KubeObject } from '@strait/kube';

/**
 * Test support: installs (server-side apply, idempotent) the NatMapping CRD on a control plane and
 * waits until the API server serves the kind in `namespace`.
 */
export async function installNatMappingCrd(kc: KubeConfig, namespace: string, timeoutMs = 60_000): Promise<void> {
  const crds = new CrClient<CustomResourceDefinition & KubeObject>(kc, CustomResourceDefinitionResource, { fieldManager: 'strait-test' });
  const crd = buildCustomResourceDefinition(NatMappingDefinition);
  await crds.apply(crd, { force: true });
  const mappings = new CrClient(kc, NatMappingResource);
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const c = (await crds.get({ name: crd.metadata.name })) as { status?: { conditions?: { type: string; status: string }[] } } | undefined;
      if (c?.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) {
        await mappings.list({ namespace });
        return;
      }
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the NatMapping CRD was not served within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}
