import { createHash } from 'node:crypto';
import type { NatMapping, NatMappingNodeStatus } from '@strait/api';
import { setCondition, type ApplyObject, type Condition } from '@strait/kube';
import type { NatEntryProblem, NatMappingResult } from '@strait/net';

/**
 * Status of a NatMapping, written by every gateway node for itself.
 *
 * `status.nodes` is a list-map keyed by `node`: each node server-side-applies ITS entry with its own
 * field manager (`natmapping-operator/<node>`), so nodes never overwrite each other's entries.
 *
 * Conditions are shared by all nodes, so every node computes them the same way from the object
 * itself (the node entries it holds, for the current generation) plus the validity of the entries,
 * which is the same on every node. A node writes them (forced) together with its entry, then checks
 * them again on the object the API server returned (which holds every node's latest entry) and
 * rewrites them once if they changed: the last writer always leaves conditions that agree with all
 * entries, and a node whose entry and conditions already match the object writes nothing.
 *  - Valid:  True (AllEntriesValid) | False (InvalidEntries: how many, the first ones named).
 *  - Ready:  True (Programmed) when every node that reported the current generation translates all
 *            valid entries; False (NotProgrammed) naming the nodes behind and their first error.
 *            Entries of older generations (a node that is down, or gone for good) do not count.
 */

export const CONDITION_READY = 'Ready';
export const CONDITION_VALID = 'Valid';

/** Limits of the status schema (libs/api NatMappingNodeStatusSchema). */
const MAX_ERRORS = 16;
const MAX_ERROR_LENGTH = 1024;

/** Field manager of this node's status writes (at most 128 characters). */
export function fieldManagerFor(node: string): string {
  const m = `natmapping-operator/${node}`;
  return m.length <= 128 ? m : `natmapping-operator/${node.slice(0, 80)}-${createHash('sha256').update(node).digest('hex').slice(0, 16)}`;
}

function clip(s: string): string {
  return s.length <= MAX_ERROR_LENGTH ? s : `${s.slice(0, MAX_ERROR_LENGTH - 3)}...`;
}

/** `status.nodes[].errors` of this node: the apply error first, then the excluded entries in order. */
export function nodeErrors(result: NatMappingResult, applyError: string | undefined): string[] {
  const out: string[] = [];
  if (applyError) out.push(clip(`apply failed: ${applyError}`));
  const problems = result.problems;
  const room = MAX_ERRORS - out.length;
  const shown = problems.length <= room ? problems : problems.slice(0, room - 1);
  for (const p of shown) out.push(clip(p.message));
  if (shown.length < problems.length) {
    const rest = problems.slice(shown.length).reduce((n, p) => n + p.count, 0);
    out.push(`... and ${rest} more excluded entries (see Events)`);
  }
  return out;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function findNode(obj: NatMapping, node: string): NatMappingNodeStatus | undefined {
  return obj.status?.nodes?.find((n) => n.node === node);
}

/** Equal ignoring lastApplied. */
export function sameNodeStatus(a: NatMappingNodeStatus | undefined, b: NatMappingNodeStatus | undefined): boolean {
  if (!a || !b) return a === b;
  const ea = a.errors ?? [];
  const eb = b.errors ?? [];
  return (
    a.node === b.node &&
    a.programmed === b.programmed &&
    a.observedGeneration === b.observedGeneration &&
    ea.length === eb.length &&
    ea.every((x, i) => x === eb[i])
  );
}

/** This node's entry; lastApplied moves only when something else in the entry changes. */
export function desiredNodeStatus(args: {
  node: string;
  result: NatMappingResult;
  programmed: number;
  applyError: string | undefined;
  existing: NatMappingNodeStatus | undefined;
  now: Date;
}): NatMappingNodeStatus {
  const entry: NatMappingNodeStatus = {
    node: args.node,
    programmed: args.programmed,
    errors: nodeErrors(args.result, args.applyError),
    ...(args.result.generation !== undefined ? { observedGeneration: args.result.generation } : {}),
  };
  const lastApplied = sameNodeStatus(entry, args.existing) && args.existing?.lastApplied ? args.existing.lastApplied : rfc3339(args.now);
  return { ...entry, lastApplied };
}

/** `nodes` with `mine` in place of this node's entry (sorted by node name). */
export function mergeNodeStatus(nodes: readonly NatMappingNodeStatus[] | undefined, mine: NatMappingNodeStatus): NatMappingNodeStatus[] {
  return [...(nodes ?? []).filter((n) => n.node !== mine.node), mine].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

function listNames(names: readonly string[], max = 5): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

function firstProblems(problems: readonly NatEntryProblem[], max = 3): string {
  const shown = problems.slice(0, max).map((p) => p.message);
  return problems.length > max ? `${shown.join('; ')}; ...` : shown.join('; ');
}

/**
 * Ready and Valid for `obj` whose node entries are `nodes` (already merged with this node's), given
 * this node's view of the entries' validity. lastTransitionTime is kept from the object's conditions
 * while the status stays the same.
 */
export function computeConditions(args: {
  obj: NatMapping;
  nodes: readonly NatMappingNodeStatus[];
  result: NatMappingResult;
  now: Date;
}): Condition[] {
  const { obj, nodes, result, now } = args;
  const generation = obj.metadata?.generation;
  const expected = result.ownedExternalIPs.length;
  const current = nodes.filter((n) => n.observedGeneration === generation);
  const behind = current.filter((n) => n.programmed < expected);
  const existing = (obj.status?.conditions ?? []) as Condition[];
  const base = { ...(generation !== undefined ? { observedGeneration: generation } : {}) };

  let conditions = setCondition(
    existing.filter((c) => c.type === CONDITION_READY || c.type === CONDITION_VALID),
    result.invalid === 0
      ? { type: CONDITION_VALID, status: 'True', reason: 'AllEntriesValid', message: `all ${result.entries} entries are valid`, ...base }
      : {
          type: CONDITION_VALID,
          status: 'False',
          reason: 'InvalidEntries',
          message: `${result.invalid} of ${result.entries} entries are not programmed: ${firstProblems(result.problems)} (see status.nodes[].errors and Events)`,
          ...base,
        },
    now,
  );
  let ready: Omit<Condition, 'lastTransitionTime'>;
  if (current.length === 0) {
    ready = { type: CONDITION_READY, status: 'Unknown', reason: 'NoReport', message: `no gateway node has reported generation ${String(generation)} yet`, ...base };
  } else if (behind.length > 0) {
    const detail = behind.map((n) => `${n.node}: ${n.programmed} of ${expected} valid entries programmed${n.errors?.[0]?.startsWith('apply failed') ? ` (${n.errors[0]})` : ''}`);
    ready = { type: CONDITION_READY, status: 'False', reason: 'NotProgrammed', message: detail.slice(0, 5).join('; '), ...base };
  } else {
    ready = {
      type: CONDITION_READY,
      status: 'True',
      reason: 'Programmed',
      message: `${expected} valid entries programmed on ${current.length} gateway node(s): ${listNames(current.map((n) => n.node))}`,
      ...base,
    };
  }
  conditions = setCondition(conditions, ready, now);
  return conditions.sort((a, b) => (a.type < b.type ? -1 : 1));
}

/** Equal ignoring lastTransitionTime, order-insensitive; only the types this operator writes. */
export function sameConditions(a: readonly Condition[] | undefined, b: readonly Condition[] | undefined): boolean {
  const key = (cs: readonly Condition[] | undefined): string =>
    JSON.stringify(
      (cs ?? [])
        .filter((c) => c.type === CONDITION_READY || c.type === CONDITION_VALID)
        .map((c) => [c.type, c.status, c.reason, c.message, c.observedGeneration ?? null])
        .sort(),
    );
  return key(a) === key(b);
}

/** The server-side apply body of this node's status: its entry and the shared conditions. */
export function statusApplyBody(obj: NatMapping, mine: NatMappingNodeStatus, conditions: Condition[]): ApplyObject<NatMapping> {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: { name: obj.metadata?.name ?? '', namespace: obj.metadata?.namespace ?? '' },
    status: { nodes: [mine], conditions },
  } as ApplyObject<NatMapping>;
}
