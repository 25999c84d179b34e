/**
 * Server-side apply of arbitrary objects (manifests), resolving the resource from apiVersion/kind by
 * discovery (cached per group/version). For a known kind prefer `CrClient.apply`, which needs no discovery.
 */
import { CrClient, type ApplyOptions } from './cr-client.ts';
import type { KubeObject, ResourceDescriptor } from './descriptor.ts';
import { RestClient } from './rest.ts';

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** Maps apiVersion + kind to a {@link ResourceDescriptor} through the discovery API. */
export class Discovery {
  private readonly rest: RestClient;
  private readonly cache = new Map<string, ApiResource[]>();

  constructor(rest: RestClient) {
    this.rest = rest;
  }

  async descriptorFor(apiVersion: string, kind: string): Promise<ResourceDescriptor> {
    if (!apiVersion || !kind) throw new TypeError('discovery: apiVersion and kind are required');
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    for (const fresh of [false, true]) {
      const res = await this.resources(apiVersion, fresh);
      const r = res.find((x) => x.kind === kind && !x.name.includes('/'));
      if (r) return { group, version, kind, plural: r.name, namespaced: r.namespaced };
    }
    throw new Error(`discovery: the API server does not serve kind ${kind} in ${apiVersion}`);
  }

  private async resources(apiVersion: string, fresh: boolean): Promise<ApiResource[]> {
    const cached = this.cache.get(apiVersion);
    if (cached && !fresh) return cached;
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const list = await this.rest.request<{ resources?: ApiResource[] }>(
      { method: 'GET', path },
      { verb: 'discover', kind: apiVersion },
    );
    const res = list?.resources ?? [];
    this.cache.set(apiVersion, res);
    return res;
  }
}

export type Manifest = KubeObject & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

/**
 * Server-side apply (application/apply-patch+yaml) of one object. `fieldManager` is required.
 * Pass `descriptor` to skip discovery.
 */
export async function serverSideApply<T extends KubeObject = KubeObject>(
  rest: RestClient,
  obj: Manifest,
  opts: ApplyOptions & { fieldManager: string; descriptor?: ResourceDescriptor; discovery?: Discovery },
): Promise<T> {
  if (!opts.fieldManager) throw new TypeError('server-side apply: fieldManager is required');
  if (!obj?.apiVersion || !obj.kind) throw new TypeError('server-side apply: apiVersion and kind are required');
  if (!obj.metadata?.name) throw new TypeError(`server-side apply ${obj.kind}: metadata.name is required`);
  const descriptor = opts.descriptor ?? (await (opts.discovery ?? new Discovery(rest)).descriptorFor(obj.apiVersion, obj.kind));
  const client = new CrClient<T>(rest, descriptor, { fieldManager: opts.fieldManager });
  return client.apply(obj as never, opts);
}
