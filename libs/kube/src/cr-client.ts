/**
 * Typed client for one resource kind (custom resources and built-in kinds alike), generic over a
 * {@link ResourceDescriptor} and the object type. Built on {@link RestClient}, i.e. on client-node's
 * authenticated transport, with explicit content types:
 *  - merge patch            application/merge-patch+json
 *  - JSON patch (RFC 6902)  application/json-patch+json
 *  - server-side apply      application/apply-patch+yaml (fieldManager required, force optional)
 * `get` returns undefined on 404; every other failure is a {@link KubeApiError} naming kind/namespace/name and the
 * HTTP status (see isNotFound, isConflict, isGone).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import {
  apiVersionOf,
  resourcePath,
  validateDescriptor,
  type KubeObject,
  type ObjectRef,
  type ResourceDescriptor,
} from './descriptor.ts';
import { KubeApiError, isNotFound, type ApiStatus } from './errors.ts';
import { ContentType, RestClient } from './rest.ts';

export type DeepPartial<T> = T extends Array<infer U>
  ? Array<DeepPartial<U>>
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** An apply configuration: the fields this manager owns, plus the object's identity. */
export type ApplyObject<T> = DeepPartial<T> & { metadata: { name: string; namespace?: string } };

export type JsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

export type PatchType = 'merge' | 'json' | 'strategic';

export interface ListOptions {
  /** Omit for all namespaces (namespaced kinds) — ignored for cluster-scoped kinds. */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  /** Page size; the client follows `continue` tokens and returns every item. Default 500. */
  pageSize?: number | undefined;
  /** '' (default) = most recent (quorum read); '0' = any (from the watch cache). */
  resourceVersion?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface ListResult<T> {
  items: T[];
  /** The collection's resourceVersion: start a watch here to see every later change. */
  resourceVersion: string;
}

export interface WatchOptions {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  /** Start after this version (from a list or the last event). */
  resourceVersion?: string | undefined;
  allowWatchBookmarks?: boolean | undefined;
  /** The server ends the watch after this many seconds (a healthy watch always ends and is refreshed). */
  timeoutSeconds?: number | undefined;
  signal?: AbortSignal | undefined;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

export interface WriteOptions {
  dryRun?: boolean | undefined;
  fieldManager?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface PatchOptions extends WriteOptions {
  /** Default 'merge'. 'strategic' works on built-in kinds only. */
  type?: PatchType | undefined;
}

export interface ApplyOptions {
  /** Defaults to the client's fieldManager. */
  fieldManager?: string | undefined;
  /** Take ownership of fields other managers own instead of failing with 409. */
  force?: boolean | undefined;
  dryRun?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' | undefined;
  gracePeriodSeconds?: number | undefined;
  /** Delete only this exact object (fails with 409 otherwise). */
  preconditions?: { uid?: string; resourceVersion?: string } | undefined;
  dryRun?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Operations on one kind. Implemented by {@link CrClient} (real API server) and by the in-memory fake
 * (`FakeKubeApi`), so informers, controllers and leader election run unchanged against either.
 */
export interface ResourceClient<T extends KubeObject> {
  readonly descriptor: ResourceDescriptor;
  create(obj: T, opts?: WriteOptions): Promise<T>;
  /** undefined when the object does not exist. */
  get(ref: ObjectRef, opts?: { signal?: AbortSignal | undefined }): Promise<T | undefined>;
  list(opts?: ListOptions): Promise<ListResult<T>>;
  /** PUT: optimistic concurrency through metadata.resourceVersion (409 when stale). */
  replace(obj: T, opts?: WriteOptions): Promise<T>;
  patch(ref: ObjectRef, patch: unknown, opts?: PatchOptions): Promise<T>;
  apply(obj: ApplyObject<T>, opts?: ApplyOptions): Promise<T>;
  /** true when deleted (or deletion started), false when it did not exist. */
  delete(ref: ObjectRef, opts?: DeleteOptions): Promise<boolean>;
  updateStatus(obj: T, opts?: WriteOptions): Promise<T>;
  patchStatus(ref: ObjectRef, patch: unknown, opts?: PatchOptions): Promise<T>;
  applyStatus(obj: ApplyObject<T>, opts?: ApplyOptions): Promise<T>;
  /**
   * Streams events until the server ends the watch (resolves) or it fails (rejects with KubeApiError;
   * an in-stream ERROR with code 410 rejects with an error for which isGone() is true). Aborting
   * `opts.signal` resolves it.
   */
  watch(opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void): Promise<void>;
}

export interface CrClientOptions {
  /** Field manager for writes and server-side apply. Default 'strait'. */
  fieldManager?: string;
}

const PATCH_CONTENT: Record<PatchType, ContentType> = {
  merge: ContentType.mergePatch,
  json: ContentType.jsonPatch,
  strategic: ContentType.strategicMergePatch,
};

export class CrClient<T extends KubeObject> implements ResourceClient<T> {
  readonly descriptor: ResourceDescriptor;
  readonly rest: RestClient;
  readonly fieldManager: string;
  private readonly apiVersion: string;

  constructor(rest: RestClient | KubeConfig, descriptor: ResourceDescriptor, opts: CrClientOptions = {}) {
    validateDescriptor(descriptor);
    this.rest = rest instanceof RestClient ? rest : new RestClient(rest);
    this.descriptor = descriptor;
    this.apiVersion = apiVersionOf(descriptor);
    this.fieldManager = opts.fieldManager ?? 'strait';
    if (!this.fieldManager || this.fieldManager.length > 128) {
      throw new TypeError(`CrClient ${descriptor.kind}: fieldManager must be 1-128 characters`);
    }
  }

  async create(obj: T, opts: WriteOptions = {}): Promise<T> {
    const ns = this.namespaceOf('create', obj.metadata?.namespace, obj.metadata?.name ?? obj.metadata?.generateName);
    if (!obj.metadata?.name && !obj.metadata?.generateName) {
      throw new TypeError(`create ${this.descriptor.kind}: metadata.name (or metadata.generateName) is required`);
    }
    return this.fill(
      await this.rest.request<T>(
        {
          method: 'POST',
          path: resourcePath(this.descriptor, { namespace: ns }),
          query: this.writeQuery(opts),
          body: this.withType(obj),
          signal: opts.signal,
        },
        this.subject('create', ns, obj.metadata?.name),
      ),
    );
  }

  async get(ref: ObjectRef, opts: { signal?: AbortSignal | undefined } = {}): Promise<T | undefined> {
    const { ns, name } = this.ref('get', ref);
    try {
      return this.fill(
        await this.rest.request<T>(
          { method: 'GET', path: resourcePath(this.descriptor, { namespace: ns, name }), signal: opts.signal },
          this.subject('get', ns, name),
        ),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list(opts: ListOptions = {}): Promise<ListResult<T>> {
    const ns = this.descriptor.namespaced ? opts.namespace : undefined;
    const pageSize = opts.pageSize ?? 500;
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new TypeError(`list ${this.descriptor.kind}: pageSize must be a positive integer`);
    const items: T[] = [];
    let resourceVersion = '';
    let cont: string | undefined;
    do {
      const page: { metadata?: { resourceVersion?: string; continue?: string }; items?: T[] } = await this.rest.request(
        {
          method: 'GET',
          path: resourcePath(this.descriptor, { namespace: ns }),
          query: {
            labelSelector: opts.labelSelector || undefined,
            fieldSelector: opts.fieldSelector || undefined,
            limit: pageSize,
            continue: cont,
            resourceVersion: cont ? undefined : opts.resourceVersion || undefined,
          },
          signal: opts.signal,
        },
        this.subject('list', ns),
      );
      if (!cont) resourceVersion = page.metadata?.resourceVersion ?? '';
      for (const item of page.items ?? []) items.push(this.fill(item));
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  async replace(obj: T, opts: WriteOptions = {}): Promise<T> {
    const { ns, name } = this.ref('replace', { name: obj.metadata?.name ?? '', namespace: obj.metadata?.namespace });
    return this.fill(
      await this.rest.request<T>(
        {
          method: 'PUT',
          path: resourcePath(this.descriptor, { namespace: ns, name }),
          query: this.writeQuery(opts),
          body: this.withType(obj),
          signal: opts.signal,
        },
        this.subject('replace', ns, name),
      ),
    );
  }

  async patch(ref: ObjectRef, patch: unknown, opts: PatchOptions = {}): Promise<T> {
    return this.doPatch('patch', ref, patch, opts, undefined);
  }

  /** Merge patch (RFC 7386): objects merge, arrays are replaced, null deletes a field. */
  mergePatch(ref: ObjectRef, patch: DeepPartial<T> | Record<string, unknown>, opts: WriteOptions = {}): Promise<T> {
    return this.doPatch('patch', ref, patch, { ...opts, type: 'merge' }, undefined);
  }

  /** JSON patch (RFC 6902). A failing `test` op rejects the whole patch. */
  jsonPatch(ref: ObjectRef, ops: JsonPatchOp[], opts: WriteOptions = {}): Promise<T> {
    return this.doPatch('patch', ref, ops, { ...opts, type: 'json' }, undefined);
  }

  async apply(obj: ApplyObject<T>, opts: ApplyOptions = {}): Promise<T> {
    return this.doApply('apply', obj, opts, undefined);
  }

  async delete(ref: ObjectRef, opts: DeleteOptions = {}): Promise<boolean> {
    const { ns, name } = this.ref('delete', ref);
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (opts.propagationPolicy) body['propagationPolicy'] = opts.propagationPolicy;
    if (opts.gracePeriodSeconds !== undefined) body['gracePeriodSeconds'] = opts.gracePeriodSeconds;
    if (opts.preconditions) body['preconditions'] = opts.preconditions;
    try {
      await this.rest.request<ApiStatus | T>(
        {
          method: 'DELETE',
          path: resourcePath(this.descriptor, { namespace: ns, name }),
          query: { dryRun: opts.dryRun ? 'All' : undefined },
          body,
          signal: opts.signal,
        },
        this.subject('delete', ns, name),
      );
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async updateStatus(obj: T, opts: WriteOptions = {}): Promise<T> {
    const { ns, name } = this.ref('update status of', { name: obj.metadata?.name ?? '', namespace: obj.metadata?.namespace });
    return this.fill(
      await this.rest.request<T>(
        {
          method: 'PUT',
          path: resourcePath(this.descriptor, { namespace: ns, name, subresource: 'status' }),
          query: this.writeQuery(opts),
          body: this.withType(obj),
          signal: opts.signal,
        },
        this.subject('update status of', ns, name),
      ),
    );
  }

  patchStatus(ref: ObjectRef, patch: unknown, opts: PatchOptions = {}): Promise<T> {
    return this.doPatch('patch status of', ref, patch, opts, 'status');
  }

  applyStatus(obj: ApplyObject<T>, opts: ApplyOptions = {}): Promise<T> {
    return this.doApply('apply status of', obj, opts, 'status');
  }

  async watch(opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void): Promise<void> {
    const ns = this.descriptor.namespaced ? opts.namespace : undefined;
    const subject = this.subject('watch', ns);
    let stream: AsyncIterable<string>;
    try {
      stream = await this.rest.openStream(
      {
        method: 'GET',
        path: resourcePath(this.descriptor, { namespace: ns }),
        query: {
          watch: 'true',
          labelSelector: opts.labelSelector || undefined,
          fieldSelector: opts.fieldSelector || undefined,
          resourceVersion: opts.resourceVersion || undefined,
          allowWatchBookmarks: opts.allowWatchBookmarks ? 'true' : undefined,
          timeoutSeconds: opts.timeoutSeconds,
        },
          signal: opts.signal,
        },
        subject,
      );
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
    for await (const line of stream) {
      let ev: { type?: string; object?: unknown };
      try {
        ev = JSON.parse(line) as typeof ev;
      } catch (cause) {
        throw new KubeApiError({ ...subject, status: 200, serverMessage: 'watch stream carried a line that is not JSON', cause });
      }
      if (ev.type === 'ERROR') {
        const st = (ev.object ?? {}) as ApiStatus;
        throw new KubeApiError({ ...subject, status: st.code ?? 500, reason: st.reason, serverMessage: st.message });
      }
      if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED' || ev.type === 'BOOKMARK') {
        onEvent({ type: ev.type, object: ev.type === 'BOOKMARK' ? (ev.object as T) : this.fill(ev.object as T) });
      }
      if (opts.signal?.aborted) return;
    }
  }

  private async doPatch(verb: string, ref: ObjectRef, patch: unknown, opts: PatchOptions, sub: string | undefined): Promise<T> {
    const { ns, name } = this.ref(verb, ref);
    const type = opts.type ?? 'merge';
    if (!(type in PATCH_CONTENT)) throw new TypeError(`${verb} ${this.descriptor.kind}: unknown patch type ${String(type)}`);
    if (type === 'json' && !Array.isArray(patch)) throw new TypeError(`${verb} ${this.descriptor.kind}: a JSON patch must be an array of operations`);
    if (type !== 'json' && (typeof patch !== 'object' || patch === null || Array.isArray(patch))) {
      throw new TypeError(`${verb} ${this.descriptor.kind}: a ${type} patch must be an object`);
    }
    return this.fill(
      await this.rest.request<T>(
        {
          method: 'PATCH',
          path: resourcePath(this.descriptor, { namespace: ns, name, subresource: sub }),
          query: this.writeQuery(opts),
          body: patch,
          contentType: PATCH_CONTENT[type],
          signal: opts.signal,
        },
        this.subject(verb, ns, name),
      ),
    );
  }

  private async doApply(verb: string, obj: ApplyObject<T>, opts: ApplyOptions, sub: string | undefined): Promise<T> {
    const { ns, name } = this.ref(verb, { name: obj.metadata?.name ?? '', namespace: obj.metadata?.namespace });
    const body = this.withType(obj as unknown as KubeObject) as { metadata?: Record<string, unknown> };
    if (body.metadata && 'managedFields' in body.metadata) {
      // The server rejects apply configurations that carry managedFields (e.g. an object read back from the server).
      const { managedFields: _drop, ...meta } = body.metadata;
      body.metadata = meta;
    }
    return this.fill(
      await this.rest.request<T>(
        {
          method: 'PATCH',
          path: resourcePath(this.descriptor, { namespace: ns, name, subresource: sub }),
          query: {
            fieldManager: opts.fieldManager ?? this.fieldManager,
            force: opts.force ? 'true' : undefined,
            dryRun: opts.dryRun ? 'All' : undefined,
          },
          body,
          contentType: ContentType.apply,
          signal: opts.signal,
        },
        this.subject(verb, ns, name),
      ),
    );
  }

  private writeQuery(opts: WriteOptions) {
    return { fieldManager: opts.fieldManager ?? this.fieldManager, dryRun: opts.dryRun ? 'All' : undefined };
  }

  private namespaceOf(verb: string, ns: string | undefined, name: string | undefined): string | undefined {
    if (!this.descriptor.namespaced) return undefined;
    if (!ns) {
      throw new TypeError(
        `${verb} ${this.descriptor.kind}${name ? ` ${name}` : ''}: metadata.namespace is required (${this.descriptor.kind} is namespaced)`,
      );
    }
    return ns;
  }

  private ref(verb: string, ref: ObjectRef): { ns: string | undefined; name: string } {
    if (typeof ref?.name !== 'string' || ref.name === '') throw new TypeError(`${verb} ${this.descriptor.kind}: name is required`);
    return { ns: this.namespaceOf(verb, ref.namespace, ref.name), name: ref.name };
  }

  private subject(verb: string, namespace?: string, name?: string) {
    return { verb, kind: this.descriptor.kind, namespace, name };
  }

  private withType<O extends KubeObject>(obj: O): O {
    return { ...obj, apiVersion: obj.apiVersion ?? this.apiVersion, kind: obj.kind ?? this.descriptor.kind };
  }

  /** List items come without apiVersion/kind; fill them in so every object looks the same. */
  private fill(obj: T): T {
    if (obj && typeof obj === 'object' && (!obj.apiVersion || !obj.kind)) {
      obj.apiVersion ??= this.apiVersion;
      obj.kind ??= this.descriptor.kind;
    }
    return obj;
  }
}
