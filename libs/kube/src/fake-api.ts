/**
 * An in-memory Kubernetes API for unit tests of informers, controllers, leader election and the services
 * built on them. `fake.client(descriptor)` returns a {@link ResourceClient} with the real API's semantics where
 * they matter to controllers: resourceVersions, optimistic concurrency (409), AlreadyExists, 404, finalizers and
 * deletionTimestamp, generation bumps on spec changes, the status subresource, watch resume from a
 * resourceVersion with 410 Gone after compaction, bookmarks, label/field selectors.
 * Fault injection: failNext(), setDown() (API server unreachable), restart() (new watch cache: old versions
 * are Gone), breakWatches(), silenceWatches() (a hung connection).
 * Server-side apply is approximated as a merge patch that creates the object when missing (no field ownership).
 */
import type {
  ApplyObject,
  ApplyOptions,
  DeleteOptions,
  ListOptions,
  ListResult,
  PatchOptions,
  ResourceClient,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from './cr-client.ts';
import { apiVersionOf, objectKey, type KubeObject, type ObjectRef, type ResourceDescriptor } from './descriptor.ts';
import { KubeApiError } from './errors.ts';

type Obj = KubeObject & { metadata: NonNullable<KubeObject['metadata']>; spec?: unknown; status?: unknown } & Record<string, unknown>;

interface HistoryEntry {
  rv: number;
  res: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  obj: Obj;
}

interface Watcher {
  res: string;
  namespace: string | undefined;
  label: string | undefined;
  field: string | undefined;
  onEvent: (ev: WatchEvent<Obj>) => void;
  end: (err?: unknown) => void;
  silenced: boolean;
}

export interface FakeKubeApiOptions {
  /** Send a BOOKMARK to every open watch at this interval. Default: none. */
  bookmarkIntervalMs?: number;
  /** Delay of every request (ms). Default 0 (still asynchronous). */
  latencyMs?: number;
}

const clone = <T>(v: T): T => structuredClone(v);

function resKey(d: ResourceDescriptor): string {
  return `${d.group}/${d.version}/${d.plural}`;
}

export class FakeKubeApi {
  private rv = 1;
  private uid = 0;
  private readonly stores = new Map<string, Map<string, Obj>>();
  private readonly descriptors = new Map<string, ResourceDescriptor>();
  private history: HistoryEntry[] = [];
  /** Watches may resume only from versions >= this. */
  private oldestRv = 1;
  private readonly watchers = new Set<Watcher>();
  private readonly failures: Array<{ verb: string; err: unknown }> = [];
  private down = false;
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private readonly latencyMs: number;
  /** Requests served, by verb (create, get, list, replace, patch, apply, delete, updateStatus, patchStatus, watch). */
  readonly calls: Record<string, number> = {};

  constructor(opts: FakeKubeApiOptions = {}) {
    this.latencyMs = opts.latencyMs ?? 0;
    if (opts.bookmarkIntervalMs) {
      this.bookmarkTimer = setInterval(() => this.bookmark(), opts.bookmarkIntervalMs);
      this.bookmarkTimer.unref();
    }
  }

  /**
   * A client for one kind. With `admin: true` its requests bypass setDown() and failNext(): the test's own
   * hand, changing the cluster while the components under test cannot reach it.
   */
  client<T extends KubeObject>(descriptor: ResourceDescriptor, opts: { admin?: boolean } = {}): ResourceClient<T> {
    this.descriptors.set(resKey(descriptor), descriptor);
    return new FakeResourceClient<T>(this, descriptor, opts.admin ?? false);
  }

  /** The next request of this verb ('*' for any) fails with `err` (default a 500). */
  failNext(verb: string, err?: unknown): void {
    this.failures.push({ verb, err: err ?? new KubeApiError({ status: 500, verb, kind: 'fake', reason: 'InternalError', serverMessage: 'injected failure' }) });
  }

  /** While down every request fails as unreachable and open watches break. */
  setDown(down: boolean): void {
    this.down = down;
    if (down) this.breakWatches();
  }

  /** A restarted API server: open watches break and resuming from any earlier version gets 410 Gone. */
  restart(): void {
    this.compact();
    this.breakWatches();
  }

  /** Forget the event history: watches resuming from an earlier version get 410 Gone. */
  compact(): void {
    this.oldestRv = this.rv;
    this.history = [];
  }

  breakWatches(err?: unknown): void {
    for (const w of [...this.watchers]) w.end(err ?? this.unreachable('watch'));
  }

  /** Open watches stay open but receive nothing more (a hung connection). */
  silenceWatches(): void {
    for (const w of this.watchers) w.silenced = true;
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  stop(): void {
    clearInterval(this.bookmarkTimer);
    for (const w of [...this.watchers]) w.end();
  }

  /** Direct read of the store (no request counted). */
  snapshot<T extends KubeObject>(d: ResourceDescriptor): T[] {
    return [...this.store(resKey(d)).values()].map((o) => clone(o) as unknown as T);
  }

  // ---- request handling (used by FakeResourceClient) ----

  async begin(verb: string, signal?: AbortSignal, admin = false): Promise<void> {
    this.calls[verb] = (this.calls[verb] ?? 0) + 1;
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    else await Promise.resolve();
    if (signal?.aborted) throw new KubeApiError({ status: 0, verb, kind: 'fake', serverMessage: 'request aborted' });
    if (admin) return;
    if (this.down) throw this.unreachable(verb);
    const i = this.failures.findIndex((f) => f.verb === verb || f.verb === '*');
    if (i >= 0) {
      const [f] = this.failures.splice(i, 1);
      throw f?.err;
    }
  }

  private unreachable(verb: string): KubeApiError {
    return new KubeApiError({ status: 0, verb, kind: 'fake', serverMessage: 'connect ECONNREFUSED (fake API server down)' });
  }

  store(res: string): Map<string, Obj> {
    let s = this.stores.get(res);
    if (!s) this.stores.set(res, (s = new Map()));
    return s;
  }

  nextUid(): string {
    return `00000000-0000-4000-8000-${(++this.uid).toString(16).padStart(12, '0')}`;
  }

  /** Stores a new version of the object (or removes it) and emits the event. */
  commit(d: ResourceDescriptor, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: Obj): Obj {
    const res = resKey(d);
    const version = ++this.rv;
    obj.metadata.resourceVersion = String(version);
    const key = objectKey(obj);
    if (type === 'DELETED') this.store(res).delete(key);
    else this.store(res).set(key, obj);
    const entry: HistoryEntry = { rv: version, res, type, obj: clone(obj) };
    this.history.push(entry);
    for (const w of this.watchers) if (w.res === res) this.deliver(w, entry);
    return clone(obj);
  }

  get currentRv(): number {
    return this.rv;
  }

  watch(d: ResourceDescriptor, opts: WatchOptions, onEvent: (ev: WatchEvent<Obj>) => void): Promise<void> {
    const res = resKey(d);
    return new Promise<void>((resolve, reject) => {
      let ended = false;
      const w: Watcher = {
        res,
        namespace: d.namespaced ? opts.namespace : undefined,
        label: opts.labelSelector,
        field: opts.fieldSelector,
        onEvent,
        silenced: false,
        end: (err) => {
          if (ended) return;
          ended = true;
          this.watchers.delete(w);
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve();
        },
      };
      const onAbort = () => w.end();
      if (opts.signal?.aborted) {
        resolve();
        return;
      }
      const timer = opts.timeoutSeconds ? setTimeout(() => w.end(), opts.timeoutSeconds * 1000) : undefined;
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const from = opts.resourceVersion ? Number(opts.resourceVersion) : undefined;
      if (from !== undefined && (!Number.isFinite(from) || from < this.oldestRv)) {
        w.end(new KubeApiError({ status: 410, verb: 'watch', kind: d.kind, reason: 'Expired', serverMessage: `too old resource version: ${opts.resourceVersion} (${this.oldestRv})` }));
        return;
      }
      this.watchers.add(w);
      if (from === undefined) {
        for (const o of this.store(res).values()) this.deliver(w, { rv: this.rv, res, type: 'ADDED', obj: clone(o) });
      } else {
        for (const e of this.history) if (e.rv > from && e.res === res) this.deliver(w, e);
      }
    });
  }

  private deliver(w: Watcher, e: HistoryEntry): void {
    if (w.silenced) return;
    if (!matches(e.obj, w.namespace, w.label, w.field)) return;
    const obj = clone(e.obj);
    queueMicrotask(() => {
      if (this.watchers.has(w) && !w.silenced) w.onEvent({ type: e.type, object: obj });
    });
  }

  private bookmark(): void {
    for (const w of this.watchers) {
      if (w.silenced) continue;
      const rv = String(this.rv);
      queueMicrotask(() => {
        if (this.watchers.has(w) && !w.silenced) w.onEvent({ type: 'BOOKMARK', object: { metadata: { resourceVersion: rv } } as Obj });
      });
    }
  }
}

function matches(obj: Obj, namespace: string | undefined, label: string | undefined, field: string | undefined): boolean {
  if (namespace !== undefined && obj.metadata.namespace !== namespace) return false;
  if (label && !labelsMatch(obj.metadata.labels ?? {}, label)) return false;
  if (field) {
    for (const term of field.split(',').map((t) => t.trim()).filter(Boolean)) {
      const neg = term.includes('!=');
      const [k, v] = term.split(neg ? '!=' : /==?/) as [string, string];
      const actual = k === 'metadata.name' ? obj.metadata.name : k === 'metadata.namespace' ? obj.metadata.namespace : undefined;
      if (neg ? actual === v : actual !== v) return false;
    }
  }
  return true;
}

/** Equality-based label selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated (AND). */
export function labelsMatch(labels: Record<string, string>, selector: string): boolean {
  for (const raw of selector.split(',')) {
    const term = raw.trim();
    if (!term) continue;
    if (term.startsWith('!')) {
      if (term.slice(1) in labels) return false;
    } else if (term.includes('!=')) {
      const [k, v] = term.split('!=') as [string, string];
      if (labels[k.trim()] === v.trim()) return false;
    } else if (term.includes('=')) {
      const [k, v] = term.split(/==?/) as [string, string];
      if (labels[k.trim()] !== v.trim()) return false;
    } else if (!(term in labels)) return false;
  }
  return true;
}

/** RFC 7386 JSON merge patch. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return clone(patch);
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 JSON patch (add, remove, replace, test, move, copy). Throws a 422 KubeApiError on failure. */
export function applyJsonPatch(doc: unknown, ops: Array<Record<string, unknown>>, kind = 'fake'): unknown {
  let root = clone(doc);
  const fail = (msg: string) => new KubeApiError({ status: 422, verb: 'patch', kind, reason: 'Invalid', serverMessage: msg });
  const parse = (p: string) => {
    if (p === '') return [];
    if (!p.startsWith('/')) throw fail(`bad JSON pointer ${p}`);
    return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  };
  const get = (path: string[]): unknown => {
    let cur: unknown = root;
    for (const seg of path) {
      if (cur === null || typeof cur !== 'object') return undefined;
      cur = (cur as Record<string, unknown>)[seg];
    }
    return cur;
  };
  const parentOf = (path: string[]) => {
    const parent = get(path.slice(0, -1));
    if (parent === null || typeof parent !== 'object') throw fail(`path ${path.join('/')} has no parent`);
    return parent as Record<string, unknown> | unknown[];
  };
  const add = (path: string[], value: unknown) => {
    if (path.length === 0) {
      root = value;
      return;
    }
    const parent = parentOf(path);
    const last = path[path.length - 1] as string;
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(i) || i < 0 || i > parent.length) throw fail(`bad array index ${last}`);
      parent.splice(i, 0, value);
    } else parent[last] = value;
  };
  const remove = (path: string[]) => {
    const parent = parentOf(path);
    const last = path[path.length - 1] as string;
    if (Array.isArray(parent)) {
      const i = Number(last);
      if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw fail(`bad array index ${last}`);
      return parent.splice(i, 1)[0];
    }
    if (!(last in parent)) throw fail(`path /${path.join('/')} does not exist`);
    const v = parent[last];
    delete parent[last];
    return v;
  };
  for (const op of ops) {
    const path = parse(String(op['path']));
    switch (op['op']) {
      case 'add':
        add(path, clone(op['value']));
        break;
      case 'remove':
        remove(path);
        break;
      case 'replace':
        remove(path);
        add(path, clone(op['value']));
        break;
      case 'test':
        if (JSON.stringify(get(path)) !== JSON.stringify(op['value'])) throw fail(`test failed at ${String(op['path'])}`);
        break;
      case 'move':
        add(path, remove(parse(String(op['from']))));
        break;
      case 'copy':
        add(path, clone(get(parse(String(op['from'])))));
        break;
      default:
        throw fail(`unknown op ${String(op['op'])}`);
    }
  }
  return root;
}

class FakeResourceClient<T extends KubeObject> implements ResourceClient<T> {
  readonly descriptor: ResourceDescriptor;
  private readonly api: FakeKubeApi;
  private readonly res: string;
  private readonly admin: boolean;

  constructor(api: FakeKubeApi, d: ResourceDescriptor, admin: boolean) {
    this.api = api;
    this.descriptor = d;
    this.res = resKey(d);
    this.admin = admin;
  }

  private err(status: number, verb: string, reason: string, ref: Partial<ObjectRef>, msg: string): KubeApiError {
    return new KubeApiError({ status, verb, kind: this.descriptor.kind, namespace: ref.namespace, name: ref.name, reason, serverMessage: msg });
  }

  private key(verb: string, ref: Partial<ObjectRef>): string {
    if (!ref.name) throw new TypeError(`${verb} ${this.descriptor.kind}: name is required`);
    if (this.descriptor.namespaced && !ref.namespace) throw new TypeError(`${verb} ${this.descriptor.kind} ${ref.name}: metadata.namespace is required (${this.descriptor.kind} is namespaced)`);
    return this.descriptor.namespaced ? `${ref.namespace}/${ref.name}` : ref.name;
  }

  private existing(verb: string, ref: Partial<ObjectRef>): Obj {
    const cur = this.api.store(this.res).get(this.key(verb, ref));
    if (!cur) throw this.err(404, verb, 'NotFound', ref, `${this.descriptor.plural} "${ref.name}" not found`);
    return cur;
  }

  private out(o: Obj): T {
    return clone(o) as unknown as T;
  }

  /** Writes a new version of an existing object, applying API-server rules. */
  private write(verb: string, cur: Obj, next: Obj, statusOnly: boolean): T {
    const ref = { name: cur.metadata.name, namespace: cur.metadata.namespace };
    const wantRv = next.metadata?.resourceVersion;
    if (wantRv && wantRv !== cur.metadata.resourceVersion) {
      throw this.err(409, verb, 'Conflict', ref, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    let obj: Obj;
    if (statusOnly) {
      obj = clone(cur);
      obj.status = clone(next.status);
    } else {
      obj = clone(next);
      obj.status = clone(cur.status);
      // immutable / server-owned metadata
      obj.metadata = {
        ...obj.metadata,
        name: cur.metadata.name,
        namespace: cur.metadata.namespace,
        uid: cur.metadata.uid,
        creationTimestamp: cur.metadata.creationTimestamp,
        generation: cur.metadata.generation,
      };
      if (cur.metadata.deletionTimestamp) obj.metadata.deletionTimestamp = cur.metadata.deletionTimestamp;
      if (JSON.stringify(cur.spec) !== JSON.stringify(obj.spec)) obj.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    }
    if (obj.metadata.deletionTimestamp && !(obj.metadata.finalizers ?? []).length) {
      return this.out(this.api.commit(this.descriptor, 'DELETED', obj));
    }
    if (JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: '' } }) === JSON.stringify({ ...cur, metadata: { ...cur.metadata, resourceVersion: '' } })) {
      return this.out(cur); // no-op writes do not bump the resourceVersion
    }
    return this.out(this.api.commit(this.descriptor, 'MODIFIED', obj));
  }

  async create(obj: T, opts: WriteOptions = {}): Promise<T> {
    const o = clone(obj) as unknown as Obj;
    const key = this.key('create', { name: o.metadata?.name, namespace: o.metadata?.namespace });
    await this.api.begin('create', opts.signal, this.admin);
    if (this.api.store(this.res).has(key)) {
      throw this.err(409, 'create', 'AlreadyExists', { name: o.metadata.name, namespace: o.metadata.namespace }, `${this.descriptor.plural} "${o.metadata.name}" already exists`);
    }
    o.apiVersion ??= apiVersionOf(this.descriptor);
    o.kind ??= this.descriptor.kind;
    o.metadata = { ...o.metadata, uid: this.api.nextUid(), generation: 1, creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
    if (!this.descriptor.namespaced) delete o.metadata.namespace;
    delete o.metadata.deletionTimestamp;
    if (opts.dryRun) return this.out(o);
    return this.out(this.api.commit(this.descriptor, 'ADDED', o));
  }

  async get(ref: ObjectRef, opts: { signal?: AbortSignal | undefined } = {}): Promise<T | undefined> {
    const key = this.key('get', ref);
    await this.api.begin('get', opts.signal, this.admin);
    const cur = this.api.store(this.res).get(key);
    return cur ? this.out(cur) : undefined;
  }

  async list(opts: ListOptions = {}): Promise<ListResult<T>> {
    await this.api.begin('list', opts.signal, this.admin);
    const ns = this.descriptor.namespaced ? opts.namespace : undefined;
    const items = [...this.api.store(this.res).values()]
      .filter((o) => matches(o, ns, opts.labelSelector, opts.fieldSelector))
      .map((o) => this.out(o));
    return { items, resourceVersion: String(this.api.currentRv) };
  }

  async replace(obj: T, opts: WriteOptions = {}): Promise<T> {
    const o = obj as unknown as Obj;
    const ref = { name: o.metadata?.name, namespace: o.metadata?.namespace };
    this.key('replace', ref);
    await this.api.begin('replace', opts.signal, this.admin);
    return this.write('replace', this.existing('replace', ref), clone(o), false);
  }

  async patch(ref: ObjectRef, patch: unknown, opts: PatchOptions = {}): Promise<T> {
    this.key('patch', ref);
    await this.api.begin('patch', opts.signal, this.admin);
    return this.doPatch('patch', ref, patch, opts, false);
  }

  private doPatch(verb: string, ref: ObjectRef, patch: unknown, opts: PatchOptions, statusOnly: boolean): T {
    const cur = this.existing(verb, ref);
    const base = { ...clone(cur), metadata: { ...clone(cur.metadata), resourceVersion: undefined } };
    const next = (opts.type === 'json' ? applyJsonPatch(base, patch as Array<Record<string, unknown>>, this.descriptor.kind) : applyMergePatch(base, patch)) as Obj;
    return this.write(verb, cur, next, statusOnly);
  }

  async apply(obj: ApplyObject<T>, opts: ApplyOptions = {}): Promise<T> {
    return this.doApply('apply', obj, opts, false);
  }

  private async doApply(verb: string, obj: ApplyObject<T>, opts: ApplyOptions, statusOnly: boolean): Promise<T> {
    const o = clone(obj) as unknown as Obj;
    const ref = { name: o.metadata?.name, namespace: o.metadata?.namespace };
    const key = this.key(verb, ref);
    await this.api.begin(verb, opts.signal, this.admin);
    const cur = this.api.store(this.res).get(key);
    if (!cur) {
      if (statusOnly) throw this.err(404, verb, 'NotFound', ref, `${this.descriptor.plural} "${ref.name}" not found`);
      o.apiVersion ??= apiVersionOf(this.descriptor);
      o.kind ??= this.descriptor.kind;
      o.metadata = { ...o.metadata, uid: this.api.nextUid(), generation: 1, creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
      delete o.metadata.managedFields;
      return this.out(this.api.commit(this.descriptor, 'ADDED', o));
    }
    const base = { ...clone(cur), metadata: { ...clone(cur.metadata), resourceVersion: undefined } };
    delete o.metadata.managedFields;
    return this.write(verb, cur, applyMergePatch(base, o) as Obj, statusOnly);
  }

  async delete(ref: ObjectRef, opts: DeleteOptions = {}): Promise<boolean> {
    const key = this.key('delete', ref);
    await this.api.begin('delete', opts.signal, this.admin);
    const cur = this.api.store(this.res).get(key);
    if (!cur) return false;
    if (opts.preconditions?.uid && opts.preconditions.uid !== cur.metadata.uid) throw this.err(409, 'delete', 'Conflict', ref, 'uid precondition failed');
    if (opts.preconditions?.resourceVersion && opts.preconditions.resourceVersion !== cur.metadata.resourceVersion) {
      throw this.err(409, 'delete', 'Conflict', ref, 'resourceVersion precondition failed');
    }
    if (opts.dryRun) return true;
    if ((cur.metadata.finalizers ?? []).length > 0) {
      if (!cur.metadata.deletionTimestamp) {
        const obj = clone(cur);
        obj.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        this.api.commit(this.descriptor, 'MODIFIED', obj);
      }
      return true;
    }
    this.api.commit(this.descriptor, 'DELETED', clone(cur));
    return true;
  }

  async updateStatus(obj: T, opts: WriteOptions = {}): Promise<T> {
    const o = obj as unknown as Obj;
    const ref = { name: o.metadata?.name, namespace: o.metadata?.namespace };
    this.key('updateStatus', ref);
    await this.api.begin('updateStatus', opts.signal, this.admin);
    return this.write('updateStatus', this.existing('updateStatus', ref), clone(o), true);
  }

  async patchStatus(ref: ObjectRef, patch: unknown, opts: PatchOptions = {}): Promise<T> {
    this.key('patchStatus', ref);
    await this.api.begin('patchStatus', opts.signal, this.admin);
    return this.doPatch('patchStatus', ref, patch, opts, true);
  }

  async applyStatus(obj: ApplyObject<T>, opts: ApplyOptions = {}): Promise<T> {
    return this.doApply('applyStatus', obj, opts, true);
  }

  async watch(opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void): Promise<void> {
    try {
      await this.api.begin('watch', opts.signal, this.admin);
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
    if (opts.signal?.aborted) return;
    return this.api.watch(this.descriptor, opts, onEvent as unknown as (ev: WatchEvent<Obj>) => void);
  }
}
