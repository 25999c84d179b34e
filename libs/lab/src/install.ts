import { buildCustomResourceDefinitions, RESOURCE_DEFINITIONS } from '@strait/api';
import { CrClient, CustomResourceDefinitionResource, NamespaceResource, RestClient, serverSideApply, type Manifest } from '@strait/kube';
import type { KubeConfig } from '@kubernetes/client-node';

export const FIELD_MANAGER = 'strait-lab';

/** Installs Strait's CRDs and namespaces into one cluster and waits until every kind is served. */
export async function installStrait(kc: KubeConfig, namespaces: readonly string[], timeoutMs = 60_000): Promise<void> {
  const rest = new RestClient(kc);
  for (const crd of buildCustomResourceDefinitions()) {
    await serverSideApply(rest, crd as unknown as Manifest, { fieldManager: FIELD_MANAGER, force: true, descriptor: CustomResourceDefinitionResource });
  }
  for (const name of namespaces) {
    await serverSideApply(rest, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { fieldManager: FIELD_MANAGER, descriptor: NamespaceResource });
  }
  // Established, then listable: discovery lags the condition a little.
  const deadline = Date.now() + timeoutMs;
  for (const def of RESOURCE_DEFINITIONS) {
    const client = new CrClient(rest, def.descriptor);
    for (;;) {
      try {
        await client.list({ namespace: namespaces[0] ?? 'default' });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`CRD ${def.descriptor.plural}.${def.descriptor.group} not served after ${timeoutMs} ms: ${String(err)}`, { cause: err });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}
