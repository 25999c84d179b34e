import {
  API_GROUP_VERSION,
  ClusterResource,
  HEARTBEAT_ANNOTATION,
  ORIGIN_CLUSTER_LABEL,
  REMAPS_ANNOTATION,
  REMOTE_CLUSTER_LABEL,
  type Cluster,
  type ClusterSpec,
  type Endpoint,
  type NatMapping,
  type TunnelEndpoint,
} from '@strait/api';
import { isNotFound, jsonEqual, setCondition, type ConditionInput, type EventRecorder, type KubeObject, type ResourceClient } from '@strait/kube';
import type { Logger } from 'pino';
import type { BrokerSyncMetrics } from './metrics.ts';
import {
  OWNED_SELECTOR,
  chooseBackend,
  desiredNatMapping,
  desiredTunnelEndpoint,
  originOf,
  parseRemaps,
  parseRemote,
  planRemaps,
  renderRemaps,
  type LocalPlan,
  type RemotePeer,
} from '@strait/broker';

export const FIELD_MANAGER = 'strait-broker-sync';
/** Cap of the retry backoff (workqueue and informers): a peer may need this long to write again after the Broker returns. */
export const RETRY_CAP_MS = 10_000;
const REPORTING_SKIP = 'RemoteClusterSkipped';
/** Condition on the local Cluster's status: the last pass with the Broker. */
export const SYNC_CONDITION = 'BrokerSynced';

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 512);
}

export interface BrokerSyncOptions {
  readonly clusterId: string;
  /** Namespace of Strait's local objects (the local Cluster and Endpoint, TunnelEndpoints, NatMappings). */
  readonly namespace: string;
  readonly brokerNamespace: string;
  readonly local: {
    readonly clusters: ResourceClient<Cluster>;
    readonly endpoints: ResourceClient<Endpoint>;
    readonly teps: ResourceClient<TunnelEndpoint>;
    readonly natMappings: ResourceClient<NatMapping>;
  };
  readonly broker: {
    readonly clusters: ResourceClient<Cluster>;
    readonly endpoints: ResourceClient<Endpoint>;
  };
  readonly events: EventRecorder;
  /** When set, the local Cluster is written from it (flags); otherwise it must exist. */
  readonly localSpec?: ClusterSpec | undefined;
  readonly pool: readonly string[];
  /** A remote cluster whose heartbeat is older than this is treated as gone; 0 disables. */
  readonly staleAfterMs: number;
  readonly heartbeatIntervalMs: number;
  /** Called after the exported Endpoint changed on the Broker (NATS hint). */
  readonly onEndpointExported?: ((endpoint: Endpoint) => void) | undefined;
  readonly metrics?: BrokerSyncMetrics | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
}

export interface SyncReport {
  readonly imported: string[];
  readonly remapped: Record<string, string>;
  readonly skipped: Record<string, string>;
  readonly removed: string[];
  readonly exported: boolean;
  /** ms until the next pass is due (heartbeat, staleness). */
  readonly nextInMs: number;
}

type Labelled = KubeObject & { metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> } };

/** Groups Broker objects by their origin label (one per cluster: the one named like the cluster wins). */
function byOrigin<T extends Labelled>(items: readonly T[]): Map<string, T> {
  const out = new Map<string, T>();
  for (const o of items) {
    const origin = originOf(o);
    if (!origin) continue;
    const prev = out.get(origin);
    if (!prev || o.metadata?.name === origin) out.set(origin, o);
  }
  return out;
}

/**
 * One full pass: read the local plan and the Broker, export ours, produce one TunnelEndpoint (and
 * NatMapping) per remote cluster, remove those of clusters that left. A failed read of the Broker
 * changes nothing locally and throws (the caller retries with backoff).
 */
export class BrokerSync {
  readonly #o: BrokerSyncOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  /** Since when every read of the Broker succeeded (undefined after a failure): staleness is judged only after that long. */
  #brokerSeenSince: number | undefined;
  #lastSkipped = new Map<string, string>();

  constructor(o: BrokerSyncOptions) {
    this.#o = o;
    this.#log = o.logger;
    this.#now = o.now ?? Date.now;
  }

  async #localCluster(): Promise<Cluster> {
    const o = this.#o;
    if (o.localSpec) {
      return o.local.clusters.apply(
        { apiVersion: API_GROUP_VERSION, kind: 'Cluster', metadata: { name: o.clusterId, namespace: o.namespace }, spec: o.localSpec } as never,
        { fieldManager: FIELD_MANAGER, force: true },
      );
    }
    const c = await o.local.clusters.get({ namespace: o.namespace, name: o.clusterId });
    if (!c) throw new Error(`the local Cluster ${o.namespace}/${o.clusterId} does not exist (give --pod-cidrs and --service-cidrs to have it written)`);
    return c;
  }

  async syncOnce(): Promise<SyncReport> {
    const o = this.#o;
    const m = o.metrics;
    const t0 = performance.now();
    try {
      const r = await this.#pass();
      m?.passes.inc({ result: 'success' });
      return r;
    } catch (e) {
      m?.passes.inc({ result: 'error' });
      throw e;
    } finally {
      m?.passDuration.observe((performance.now() - t0) / 1000);
    }
  }

  async #pass(): Promise<SyncReport> {
    const o = this.#o;
    const m = o.metrics;
    const now = this.#now();

    // 1. Local plan.
    let localCluster: Cluster;
    let localEndpoint: Endpoint | undefined;
    let existingTeps: TunnelEndpoint[];
    let existingNms: NatMapping[];
    try {
      localCluster = await this.#localCluster();
      const eps = (await o.local.endpoints.list({ namespace: o.namespace })).items.filter((e) => e.spec?.clusterID === o.clusterId);
      localEndpoint = eps.find((e) => e.metadata?.name === o.clusterId) ?? eps[0];
      existingTeps = (await o.local.teps.list({ namespace: o.namespace, labelSelector: OWNED_SELECTOR })).items;
      existingNms = (await o.local.natMappings.list({ namespace: o.namespace, labelSelector: OWNED_SELECTOR })).items;
    } catch (e) {
      m?.errors.inc({ stage: 'local' });
      throw e;
    }
    const spec = localCluster.spec;
    const local: LocalPlan = { clusterId: o.clusterId, namespace: o.namespace, podCidrs: spec.podCIDRs, serviceCidrs: spec.serviceCIDRs, externalCidr: spec.externalCIDR };

    // 2. The Broker (a failure here leaves every local object as it is).
    let brokerClusters: Cluster[];
    let brokerEndpoints: Endpoint[];
    try {
      // Endpoints first: a member exports its Cluster before its Endpoint, so every Endpoint listed has its
      // Cluster in the later list (two lists are not one snapshot).
      brokerEndpoints = (await o.broker.endpoints.list({ namespace: o.brokerNamespace, labelSelector: ORIGIN_CLUSTER_LABEL })).items;
      brokerClusters = (await o.broker.clusters.list({ namespace: o.brokerNamespace, labelSelector: ORIGIN_CLUSTER_LABEL })).items;
      m?.brokerUp.set(1);
      this.#brokerSeenSince ??= now;
    } catch (e) {
      m?.brokerUp.set(0);
      this.#brokerSeenSince = undefined;
      m?.errors.inc({ stage: 'broker_read' });
      await this.#setStatus(localCluster, { type: SYNC_CONDITION, status: 'False', reason: 'BrokerUnreachable', message: `reading the Broker failed: ${firstLine(e)}; local objects kept as they are` });
      throw e;
    }
    const clusters = byOrigin(brokerClusters);
    const endpoints = byOrigin(brokerEndpoints);
    const ownExported = clusters.get(o.clusterId);
    const ownEndpoint = endpoints.get(o.clusterId);
    clusters.delete(o.clusterId);
    endpoints.delete(o.clusterId);

    // 3. Check every remote cluster; stale ones count as gone.
    const peers: RemotePeer[] = [];
    const skipped = new Map<string, string>();
    const stale = new Set<string>();
    for (const id of [...new Set([...clusters.keys(), ...endpoints.keys()])].sort()) {
      // An Endpoint without its Cluster: a member joining or leaving between our two lists, absent for now.
      if (!clusters.has(id)) continue;
      const r = parseRemote(id, clusters.get(id), endpoints.get(id), local);
      if (!r.ok) {
        skipped.set(id, r.reason);
        continue;
      }
      // Heartbeats could not be renewed while the Broker was out of our sight (or down): the clock starts when we see it again.
      // Peers get the retry cap on top to renew theirs.
      const seen = Math.max(r.peer.heartbeatMs ?? 0, (this.#brokerSeenSince ?? now) + RETRY_CAP_MS);
      if (o.staleAfterMs > 0 && r.peer.heartbeatMs !== undefined && now - seen > o.staleAfterMs) {
        stale.add(id);
        continue;
      }
      // No cable driver in common with our gateway's offers: reported like a malformed peer, no TunnelEndpoint.
      if (r.peer.endpoint && localEndpoint) {
        try {
          chooseBackend(o.clusterId, localEndpoint.spec, id, r.peer.endpoint);
        } catch (e) {
          skipped.set(id, (e as Error).message);
          continue;
        }
      }
      peers.push(r.peer);
    }

    // 4. Remaps: existing TunnelEndpoints are the persisted choices; skipped peers keep theirs, frozen.
    const tepOf = new Map(existingTeps.map((t) => [t.metadata?.labels?.[REMOTE_CLUSTER_LABEL] ?? '', t]));
    const reserved = [...spec.podCIDRs, ...spec.serviceCIDRs, ...(spec.externalCIDR ? [spec.externalCIDR] : [])];
    for (const id of skipped.keys()) {
      const t = tepOf.get(id);
      if (t?.spec?.remap?.remotePodCIDR) reserved.push(t.spec.remap.remotePodCIDR);
      else if (t) reserved.push(...(t.spec?.remote?.podCIDRs ?? []));
    }
    const presentations = new Map(peers.filter((p) => p.presentation).map((p) => [p.clusterId, p.presentation!]));
    // Without a TunnelEndpoint (local objects lost), our last announcement on the Broker is the persisted choice.
    let announced = new Map<string, string>();
    try {
      announced = parseRemaps(ownExported?.metadata?.annotations?.[REMAPS_ANNOTATION]);
    } catch {
      // ours, but unreadable: decided afresh
    }
    const decisions = planRemaps({
      localClusterId: o.clusterId,
      reserved,
      presentations,
      pool: o.pool,
      peers: peers.map((p) => {
        const t = tepOf.get(p.clusterId);
        return {
          clusterId: p.clusterId,
          podCidrs: p.cluster.podCIDRs,
          current: t ? (t.spec?.remap?.remotePodCIDR ?? null) : announced.get(p.clusterId),
          ...(p.views ? { views: p.views } : {}),
        };
      }),
    });
    const remapped = new Map<string, string>();
    const accepted = new Map<string, string | undefined>();
    for (const d of decisions) {
      if (!d.ok) {
        skipped.set(d.clusterId, d.reason);
        continue;
      }
      accepted.set(d.clusterId, d.remotePodCIDR);
      if (d.remotePodCIDR) remapped.set(d.clusterId, d.remotePodCIDR);
    }
    // A skipped peer that keeps its TunnelEndpoint keeps announcing the remap it has.
    for (const id of skipped.keys()) {
      const r = tepOf.get(id)?.spec?.remap?.remotePodCIDR;
      if (r) remapped.set(id, r);
    }
    this.#reportSkipped(localCluster, skipped);

    // 5. Export ours (the Cluster with our remap choices and heartbeat, and the Endpoint).
    let exportError: unknown;
    try {
      await this.#export(localCluster, localEndpoint, ownExported, ownEndpoint, remapped, now);
    } catch (e) {
      exportError = e;
      m?.errors.inc({ stage: 'export' });
      this.#log.warn({ err: (e as Error).message }, 'export to the Broker failed');
    }

    // 6. Local objects.
    const imported: string[] = [];
    let importError: unknown;
    for (const p of peers) {
      if (!accepted.has(p.clusterId)) continue;
      const rp = accepted.get(p.clusterId);
      try {
        // Both Endpoints are needed to choose the pair's backend: until our gateway has published ours, no TunnelEndpoint.
        if (p.endpoint && localEndpoint) {
          const created = await this.#writeTep(tepOf.get(p.clusterId), desiredTunnelEndpoint(p, local, localEndpoint.spec, rp));
          if (created) void o.events.normal(localCluster, 'RemoteClusterImported', `TunnelEndpoint ${p.clusterId} created${rp ? ` (remote pods addressed as ${rp})` : ''}`, { descriptor: ClusterResource });
          imported.push(p.clusterId);
        }
        const nm = desiredNatMapping(p, local, rp);
        const cur = existingNms.find((x) => x.metadata?.labels?.[REMOTE_CLUSTER_LABEL] === p.clusterId);
        // Offered once the peer is imported (has an Endpoint); kept up to date afterwards.
        if (nm) {
          if (p.endpoint || cur) await this.#writeNatMapping(cur, nm);
        }
        // No external CIDR (any more), or no pod CIDR of its family: nothing to offer.
        else if (cur) await o.local.natMappings.delete({ namespace: o.namespace, name: cur.metadata?.name ?? '' });
      } catch (e) {
        importError ??= e;
        m?.errors.inc({ stage: 'import' });
        this.#log.warn({ peer: p.clusterId, err: (e as Error).message }, 'writing the local objects of a remote cluster failed');
      }
    }

    // 7. Clusters that left (gone from the Broker or stale): their objects go. Skipped ones stay as they are.
    // A Broker list without our own Cluster (a restarted or restored Broker not yet serving everything) removes nothing.
    const keep = new Set([...accepted.keys(), ...skipped.keys(), ...(ownExported ? [] : [...existingTeps, ...existingNms].map((x) => x.metadata?.labels?.[REMOTE_CLUSTER_LABEL] ?? ''))]);
    const removed: string[] = [];
    const owned: Array<[KubeObject, ResourceClient<KubeObject>]> = [
      ...existingTeps.map((t): [KubeObject, ResourceClient<KubeObject>] => [t, o.local.teps as unknown as ResourceClient<KubeObject>]),
      ...existingNms.map((n): [KubeObject, ResourceClient<KubeObject>] => [n, o.local.natMappings as unknown as ResourceClient<KubeObject>]),
    ];
    for (const [obj, client] of owned) {
      const id = obj.metadata?.labels?.[REMOTE_CLUSTER_LABEL] ?? '';
      if (keep.has(id)) continue;
      try {
        await client.delete({ namespace: o.namespace, name: obj.metadata?.name ?? '' });
      } catch (e) {
        if (!isNotFound(e)) {
          importError ??= e;
          continue;
        }
      }
      if (!removed.includes(id)) {
        removed.push(id);
        const reason = stale.has(id) ? 'stale' : 'left';
        m?.removed.inc({ reason });
        this.#log.info({ peer: id, reason }, 'remote cluster removed');
        void o.events.normal(localCluster, 'RemoteClusterRemoved', `${id} ${reason === 'stale' ? `sent no heartbeat for more than ${Math.round(o.staleAfterMs / 1000)} s` : 'left the Broker'}: its TunnelEndpoint and NatMapping were removed`, { descriptor: ClusterResource });
      }
    }

    m?.remoteClusters.set(imported.length);
    m?.remaps.set([...remapped.keys()].filter((k) => accepted.has(k)).length);
    const summary = `${imported.length} remote cluster(s) imported, ${remapped.size} remapped, ${skipped.size} skipped${skipped.size ? ` (${[...skipped.keys()].join(', ')})` : ''}`;
    if (exportError) await this.#setStatus(localCluster, { type: SYNC_CONDITION, status: 'False', reason: 'ExportFailed', message: `exporting to the Broker failed: ${firstLine(exportError)}; ${summary}` });
    else if (importError) await this.#setStatus(localCluster, { type: SYNC_CONDITION, status: 'False', reason: 'ImportFailed', message: `writing local objects failed: ${firstLine(importError)}; ${summary}` });
    else await this.#setStatus(localCluster, { type: SYNC_CONDITION, status: 'True', reason: 'Synced', message: summary });
    if (exportError) throw exportError;
    if (importError) throw importError;
    const nextInMs = Math.max(100, Math.min(o.heartbeatIntervalMs, o.staleAfterMs > 0 ? Math.ceil(o.staleAfterMs / 4) : Infinity));
    return { imported, remapped: Object.fromEntries(remapped), skipped: Object.fromEntries(skipped), removed, exported: true, nextInMs };
  }

  /** The local Cluster's BrokerSynced condition (written only when it changes). */
  async #setStatus(localCluster: Cluster, cond: ConditionInput): Promise<void> {
    const cur = localCluster.status?.conditions?.find((c) => c.type === cond.type);
    if (cur && cur.status === cond.status && cur.reason === cond.reason && cur.message === cond.message) return;
    const conditions = setCondition(localCluster.status?.conditions, cond, new Date(this.#now()));
    try {
      await this.#o.local.clusters.patchStatus({ namespace: this.#o.namespace, name: this.#o.clusterId }, { status: { conditions } }, { type: 'merge' });
    } catch (e) {
      this.#log.warn({ err: firstLine(e) }, 'writing the local Cluster status failed');
    }
  }

  #reportSkipped(localCluster: Cluster, skipped: Map<string, string>): void {
    for (const [id, reason] of skipped) {
      this.#o.metrics?.skipped.inc({ peer: id });
      if (this.#lastSkipped.get(id) !== reason) this.#log.warn({ peer: id, reason }, 'remote cluster skipped');
      void this.#o.events.warning(localCluster, REPORTING_SKIP, `remote cluster ${id} skipped: ${reason}`, { descriptor: ClusterResource });
    }
    this.#lastSkipped = skipped;
  }

  async #export(localCluster: Cluster, localEndpoint: Endpoint | undefined, current: Cluster | undefined, cur: Endpoint | undefined, remaps: ReadonlyMap<string, string>, now: number): Promise<void> {
    const o = this.#o;
    const hb = current?.metadata?.annotations?.[HEARTBEAT_ANNOTATION];
    const hbMs = hb ? Date.parse(hb) : NaN;
    const heartbeat = Number.isFinite(hbMs) && now - hbMs < 0.8 * o.heartbeatIntervalMs && now >= hbMs - 60_000 ? hb! : new Date(now).toISOString();
    const annotations = { [REMAPS_ANNOTATION]: renderRemaps(remaps), [HEARTBEAT_ANNOTATION]: heartbeat };
    const labels = { [ORIGIN_CLUSTER_LABEL]: o.clusterId };
    const unchanged =
      current &&
      jsonEqual(current.spec, localCluster.spec) &&
      current.metadata?.labels?.[ORIGIN_CLUSTER_LABEL] === o.clusterId &&
      current.metadata?.annotations?.[REMAPS_ANNOTATION] === annotations[REMAPS_ANNOTATION] &&
      current.metadata?.annotations?.[HEARTBEAT_ANNOTATION] === heartbeat;
    if (!unchanged) {
      await o.broker.clusters.apply(
        { apiVersion: API_GROUP_VERSION, kind: 'Cluster', metadata: { name: o.clusterId, namespace: o.brokerNamespace, labels, annotations }, spec: localCluster.spec } as never,
        { fieldManager: FIELD_MANAGER, force: true },
      );
      o.metrics?.exports.inc({ kind: 'Cluster' });
    }
    if (!localEndpoint) return;
    const body = { apiVersion: API_GROUP_VERSION, kind: 'Endpoint', metadata: { name: o.clusterId, namespace: o.brokerNamespace, labels }, spec: localEndpoint.spec };
    if (!cur || !jsonEqual(cur.spec, localEndpoint.spec) || cur.metadata?.labels?.[ORIGIN_CLUSTER_LABEL] !== o.clusterId) {
      const written = await o.broker.endpoints.apply(body as never, { fieldManager: FIELD_MANAGER, force: true });
      o.metrics?.exports.inc({ kind: 'Endpoint' });
      this.#log.info({ endpoint: `${o.brokerNamespace}/${o.clusterId}`, resourceVersion: written.metadata?.resourceVersion }, 'Endpoint exported to the Broker');
      o.onEndpointExported?.(written);
    }
  }

  /** Creates or updates the TunnelEndpoint; returns true when it was created. Foreign labels, annotations and finalizers stay. */
  async #writeTep(cur: TunnelEndpoint | undefined, want: TunnelEndpoint): Promise<boolean> {
    const teps = this.#o.local.teps;
    if (!cur) {
      await teps.create(want, { fieldManager: FIELD_MANAGER });
      return true;
    }
    const wantAnn = want.metadata?.annotations ?? {};
    const curAnn = { ...cur.metadata?.annotations };
    // The health-check annotation is ours: it goes when the remote Endpoint no longer has one.
    for (const k of Object.keys(curAnn)) if (k.startsWith('net.strait.io/') && !(k in wantAnn)) delete curAnn[k];
    const next = { ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata?.labels, ...want.metadata?.labels }, annotations: { ...curAnn, ...wantAnn } }, spec: want.spec } as TunnelEndpoint;
    if (jsonEqual(next.spec, cur.spec) && jsonEqual(next.metadata?.labels, cur.metadata?.labels) && jsonEqual(next.metadata?.annotations, cur.metadata?.annotations ?? {})) return false;
    await teps.replace(next, { fieldManager: FIELD_MANAGER });
    return false;
  }

  /** Creates or updates the NatMapping; its entries are not ours and stay. */
  async #writeNatMapping(cur: NatMapping | undefined, want: NatMapping): Promise<void> {
    const nms = this.#o.local.natMappings;
    if (!cur) {
      await nms.create(want, { fieldManager: FIELD_MANAGER });
      return;
    }
    const spec = { ...want.spec, entries: cur.spec?.entries ?? [] };
    if (jsonEqual(spec, cur.spec) && Object.entries(want.metadata?.labels ?? {}).every(([k, v]) => cur.metadata?.labels?.[k] === v)) return;
    if (cur.spec?.clusterID !== want.spec.clusterID) {
      await nms.delete({ namespace: cur.metadata?.namespace, name: cur.metadata?.name ?? '' });
      await nms.create(want, { fieldManager: FIELD_MANAGER });
      return;
    }
    await nms.replace({ ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata?.labels, ...want.metadata?.labels } }, spec } as NatMapping, { fieldManager: FIELD_MANAGER });
  }
}
