import { NatMappingResource, type NatMapping } from '@strait/api';
import {
  Controller,
  EventRecorder,
  Informer,
  generationChanged,
  isNotFound,
  objectKey,
  type EventsV1Event,
  type ReconcileMetricsSink,
  type ResourceClient,
  type WorkqueueMetricsSink,
} from '@strait/kube';
import { computeNatState, programmedEntries, type NatDesiredState, type NatEntryProblem, type NatMappingResult } from '@strait/net';
import type { Logger } from 'pino';
import type { NatDatapath } from './datapath.ts';
import type { NatMetrics } from './metrics.ts';
import {
  computeConditions,
  desiredNodeStatus,
  fieldManagerFor,
  findNode,
  mergeNodeStatus,
  nodeErrors,
  sameConditions,
  sameNodeStatus,
  statusApplyBody,
} from './node-status.ts';

/**
 * natmapping-operator's reconcilers, on every gateway node for that node:
 *
 *  - `natmapping-table` (one key): the desired NAT maps are computed from ALL NatMappings of the
 *    namespace (pure, `computeNatState`) and applied to this node's gateway namespace by the
 *    datapath, which writes only the difference. Any NatMapping change enqueues the same key, so a
 *    burst of changes is coalesced into one apply.
 *  - `natmapping-status` (one key per NatMapping): this node's entry in status.nodes (server-side
 *    apply with this node's field manager), the shared conditions, and Warning Events for entries
 *    that are excluded.
 *
 * Deletion needs no finalizer. A finalizer would have to be removed by every gateway node, so one
 * node that is down or decommissioned would keep every deleted NatMapping in Terminating for good.
 * Instead each node diffs the desired state of all mappings against its kernel: a deleted mapping's
 * entries are simply absent from the next desired state and removed by that diff — also when the
 * node was down while the mapping was deleted (the first apply after a start reads the table back).
 * Entries another mapping also holds stay.
 *
 * Stopping leaves the kernel as it is; a restart reads the table back and writes nothing when it
 * already matches.
 */

export const TABLE_KEY = '\u0000natmap-table';
export const REPORTING_CONTROLLER = 'net.strait.io/natmapping-operator';
/** Most Warning events per mapping and reconcile (the rest is summarised in one event). */
const MAX_EVENTS_PER_RECONCILE = 10;

export interface NatMappingOperatorOptions {
  readonly client: ResourceClient<NatMapping>;
  readonly events: ResourceClient<EventsV1Event>;
  readonly namespace: string;
  readonly nodeName: string;
  readonly datapath: NatDatapath;
  readonly logger: Logger;
  readonly metrics?: NatMetrics | undefined;
  readonly controllerMetrics?:
    | { workqueue(name: string): WorkqueueMetricsSink; reconciler(name: string): ReconcileMetricsSink }
    | undefined;
  /** Read the table back from the kernel at this period (repairs changes made behind Strait's back). */
  readonly verifyIntervalMs?: number | undefined;
  /** Informer watch timeout (tests shorten it). */
  readonly watchTimeoutSeconds?: number | undefined;
  readonly now?: (() => Date) | undefined;
}

/** What the status of a mapping would say, to enqueue only the mappings whose status changes. */
interface Published {
  readonly generation: number | undefined;
  readonly programmed: number;
  readonly errors: string;
}

export class NatMappingOperator {
  readonly informer: Informer<NatMapping>;
  readonly table: Controller;
  readonly status: Controller;
  readonly #o: NatMappingOperatorOptions;
  readonly #log: Logger;
  readonly #recorder: EventRecorder;
  readonly #fieldManager: string;
  readonly #now: () => Date;
  #desired: NatDesiredState | undefined;
  #applyError: string | undefined;
  #synced = false;
  #verifyDue = false;
  #verifyTimer: NodeJS.Timeout | undefined;
  readonly #published = new Map<string, Published>();
  /** Event notes already sent, per mapping uid (a restart relies on status.nodes[].errors instead). */
  readonly #reported = new Map<string, Set<string>>();

  constructor(o: NatMappingOperatorOptions) {
    this.#o = o;
    this.#log = o.logger;
    this.#now = o.now ?? (() => new Date());
    this.#fieldManager = fieldManagerFor(o.nodeName);
    this.informer = new Informer<NatMapping>({
      client: o.client,
      namespace: o.namespace,
      logger: o.logger,
      name: 'natmappings',
      ...(o.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: o.watchTimeoutSeconds } : {}),
    });
    this.#recorder = new EventRecorder({ client: o.events, reportingController: REPORTING_CONTROLLER, reportingInstance: o.nodeName, logger: o.logger });
    this.table = new Controller({
      name: 'natmapping-table',
      logger: o.logger,
      reconcile: () => this.#reconcileTable(),
      workqueueMetrics: o.controllerMetrics?.workqueue('natmapping-table'),
      reconcileMetrics: o.controllerMetrics?.reconciler('natmapping-table'),
    });
    // Status writes by any node do not change the table: only spec changes, creation and deletion do.
    this.table.watch(this.informer, { keys: () => TABLE_KEY, updateFilter: generationChanged });
    this.status = new Controller({
      name: 'natmapping-status',
      logger: o.logger,
      concurrency: 4,
      reconcile: (key) => this.#reconcileStatus(key),
      workqueueMetrics: o.controllerMetrics?.workqueue('natmapping-status'),
      reconcileMetrics: o.controllerMetrics?.reconciler('natmapping-status'),
    });
    // Every change, status included: another node's write may leave conditions to update.
    this.status.watch(this.informer);
  }

  /** True once the table has been applied successfully (readiness). */
  get synced(): boolean {
    return this.#synced;
  }

  /** The desired state last computed. */
  get desired(): NatDesiredState | undefined {
    return this.#desired;
  }

  async start(opts: { syncTimeoutMs?: number } = {}): Promise<void> {
    // Once at start even without any NatMapping: the table is then created (or adopted, or emptied
    // of the entries of mappings deleted while this process was away).
    this.table.enqueue(TABLE_KEY);
    await this.table.start(opts);
    await this.status.start(opts);
    const every = this.#o.verifyIntervalMs;
    if (every !== undefined && every > 0) {
      this.#verifyTimer = setInterval(() => this.verifyNow(), every);
      this.#verifyTimer.unref();
    }
  }

  /** Reads the table back from the kernel at the next apply (and triggers one). */
  verifyNow(): void {
    this.#verifyDue = true;
    this.table.enqueue(TABLE_KEY);
  }

  /** Stops reconciling. The kernel state stays as it is. */
  async stop(): Promise<void> {
    if (this.#verifyTimer) clearInterval(this.#verifyTimer);
    await this.status.stop();
    await this.table.stop();
  }

  async #reconcileTable(): Promise<void> {
    const t0 = performance.now();
    const verify = this.#verifyDue;
    this.#verifyDue = false;
    // A mapping being deleted (someone else's finalizer holds it) is already out of the desired state.
    const next = computeNatState(this.informer.list().filter((m) => !m.metadata?.deletionTimestamp));
    let failure: unknown;
    try {
      const out = await this.#o.datapath.sync(next, { verify });
      const seconds = (performance.now() - t0) / 1000;
      if (out.kind !== 'none') {
        this.#o.metrics?.applyDuration.observe({ kind: out.kind }, seconds);
        this.#o.metrics?.transactions.inc({ kind: out.kind }, out.transactions);
        this.#log.info(
          { kind: out.kind, transactions: out.transactions, added: out.elementsAdded, removed: out.elementsRemoved, readBack: out.readBack, ms: Math.round(seconds * 10_000) / 10 },
          'NAT table updated',
        );
      } else if (out.readBack) {
        this.#log.info({ readBack: true, entries: next.maps[4].size + next.maps[6].size }, 'NAT table already up to date');
      }
      this.#applyError = undefined;
      this.#synced = true;
    } catch (e) {
      failure = e;
      this.#applyError = e instanceof Error ? e.message : String(e);
      this.#o.metrics?.applyErrors.inc();
      if (verify) this.#verifyDue = true;
    }
    // Published only now, so that status never pairs a new desired state with the old kernel state.
    this.#desired = next;
    const programmed = this.#o.datapath.programmed;
    this.#o.metrics?.mapElements.set({ family: 'ipv4' }, programmed?.maps[4].size ?? 0);
    this.#o.metrics?.mapElements.set({ family: 'ipv6' }, programmed?.maps[6].size ?? 0);
    for (const [key, r] of next.mappings) {
      const p: Published = { generation: r.generation, programmed: programmedEntries(r, programmed), errors: nodeErrors(r, this.#applyError).join('\n') };
      this.#o.metrics?.setMapping(key, p.programmed, r.invalid);
      const before = this.#published.get(key);
      if (!before || before.generation !== p.generation || before.programmed !== p.programmed || before.errors !== p.errors) {
        this.#published.set(key, p);
        this.status.enqueue(key);
      }
    }
    for (const key of [...this.#published.keys()]) {
      if (next.mappings.has(key)) continue;
      this.#published.delete(key);
      this.#o.metrics?.removeMapping(key);
    }
    if (failure !== undefined) throw failure;
  }

  async #reconcileStatus(key: string): Promise<{ requeueAfter: number } | void> {
    const desired = this.#desired;
    if (!desired) return { requeueAfter: 250 };
    const obj = this.informer.get(key);
    if (!obj || obj.metadata?.deletionTimestamp) return;
    const result = desired.mappings.get(key);
    // Not yet seen by the table reconciler at this generation: it enqueues this key after applying.
    if (!result || result.generation !== obj.metadata?.generation) return;
    const now = this.#now();
    const node = this.#o.nodeName;
    const existing = findNode(obj, node);
    const mine = desiredNodeStatus({
      node,
      result,
      programmed: programmedEntries(result, this.#o.datapath.programmed),
      applyError: this.#applyError,
      existing,
      now,
    });
    const conditions = computeConditions({ obj, nodes: mergeNodeStatus(obj.status?.nodes, mine), result, now });
    const entryChanged = !sameNodeStatus(existing, mine);
    if (!entryChanged && sameConditions(obj.status?.conditions, conditions)) return;

    if (entryChanged) this.#emitEvents(obj, result, existing?.errors ?? []);
    let fresh: NatMapping;
    try {
      fresh = await this.#o.client.applyStatus(statusApplyBody(obj, mine, conditions), { fieldManager: this.#fieldManager, force: true });
    } catch (e) {
      if (isNotFound(e)) return; // deleted meanwhile
      throw e;
    }
    // The answer holds every node's latest entry: settle the shared conditions on it.
    const settled = computeConditions({ obj: fresh, nodes: fresh.status?.nodes ?? [mine], result, now: this.#now() });
    if (!sameConditions(fresh.status?.conditions, settled)) {
      await this.#o.client
        .applyStatus(statusApplyBody(fresh, mine, settled), { fieldManager: this.#fieldManager, force: true })
        .catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
    }
  }

  /** Warning Events for excluded entries and apply failures not reported before. */
  #emitEvents(obj: NatMapping, result: NatMappingResult, alreadyInStatus: readonly string[]): void {
    const uid = obj.metadata?.uid ?? objectKey(obj);
    let sent = this.#reported.get(uid);
    if (!sent) {
      sent = new Set();
      this.#reported.set(uid, sent);
    }
    const inStatus = new Set(alreadyInStatus);
    const notes: { reason: string; note: string }[] = [];
    if (this.#applyError) {
      const note = `node ${this.#o.nodeName}: apply failed: ${this.#applyError}`;
      if (!inStatus.has(`apply failed: ${this.#applyError}`)) notes.push({ reason: 'ApplyFailed', note });
    }
    const fresh: NatEntryProblem[] = result.problems.filter((p) => !inStatus.has(p.message) && !sent.has(p.message));
    for (const p of fresh.slice(0, MAX_EVENTS_PER_RECONCILE)) {
      notes.push({ reason: eventReason(p), note: `${p.message}; not programmed, the other entries are` });
    }
    if (fresh.length > MAX_EVENTS_PER_RECONCILE) {
      notes.push({ reason: 'InvalidEntries', note: `... and ${fresh.length - MAX_EVENTS_PER_RECONCILE} more excluded entries` });
    }
    for (const p of fresh) sent.add(p.message);
    for (const { reason, note } of notes) void this.#recorder.warning(obj, reason, note, { descriptor: NatMappingResource, action: 'Program' });
    // Forget mappings that are gone.
    if (this.#reported.size > 4 * (this.#desired?.mappings.size ?? 0) + 16) {
      const live = new Set(this.informer.list().map((m) => m.metadata?.uid ?? objectKey(m)));
      for (const k of this.#reported.keys()) if (!live.has(k)) this.#reported.delete(k);
    }
  }
}

function eventReason(p: NatEntryProblem): string {
  switch (p.reason) {
    case 'ConflictingExternalIP':
    case 'DuplicateAcrossMappings':
      return 'ConflictingEntry';
    case 'InvalidMapping':
      return 'InvalidMapping';
    default:
      return 'InvalidEntry';
  }
}
