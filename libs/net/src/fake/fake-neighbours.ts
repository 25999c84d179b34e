import { report, type ApplyReport, type Netns } from '../apply-report.ts';
import { isEmptyDiff } from '../diff.ts';
import type { LinkScope } from '../links.ts';
import {
  fdbKey,
  fdbOps,
  neighbourKey,
  neighbourOps,
  normalizeFdb,
  normalizeNeighbours,
  planFdb,
  planNeighbours,
  type FdbEntry,
  type FdbSpec,
  type Neighbour,
  type NeighbourSpec,
  type NeighboursPort,
} from '../neighbours.ts';
import type { FakeState } from './state.ts';

export class FakeNeighbours implements NeighboursPort {
  readonly #s: FakeState;
  constructor(state: FakeState) {
    this.#s = state;
  }
  #owned(netns: Netns, owner: string, kind?: string): Set<string> {
    return new Set([...this.#s.ns(netns).links.values()].filter((l) => l.owner === owner && (!kind || l.kind === kind)).map((l) => l.name));
  }
  async listNeighbours(netns: Netns, scope: LinkScope): Promise<Neighbour[]> {
    const owned = this.#owned(netns, scope.owner);
    return this.#s.ns(netns).neighbours.filter((n) => owned.has(n.dev));
  }
  async applyNeighbours(netns: Netns, desired: readonly NeighbourSpec[], scope: LinkScope): Promise<ApplyReport> {
    const want = normalizeNeighbours(desired, this.#owned(netns, scope.owner));
    const plan = planNeighbours(await this.listNeighbours(netns, scope), want);
    if (isEmptyDiff(plan)) return report(0, 0, 0, plan.unchanged.length, 0);
    this.#s.writeOps(netns, 'ip', neighbourOps(plan));
    const ns = this.#s.ns(netns);
    const gone = new Set([...plan.remove, ...plan.change.map((c) => c.from)].map(neighbourKey));
    ns.neighbours = ns.neighbours.filter((n) => !gone.has(neighbourKey(n)));
    ns.neighbours.push(...plan.add, ...plan.change.map((c) => c.to));
    return report(plan.add.length, plan.remove.length, plan.change.length, plan.unchanged.length, 1);
  }
  async listFdb(netns: Netns, scope: LinkScope): Promise<FdbEntry[]> {
    const owned = this.#owned(netns, scope.owner, 'vxlan');
    return this.#s.ns(netns).fdb.filter((e) => owned.has(e.dev));
  }
  async applyFdb(netns: Netns, desired: readonly FdbSpec[], scope: LinkScope): Promise<ApplyReport> {
    const want = normalizeFdb(desired, this.#owned(netns, scope.owner, 'vxlan'));
    const plan = planFdb(await this.listFdb(netns, scope), want);
    if (isEmptyDiff(plan)) return report(0, 0, 0, plan.unchanged.length, 0);
    this.#s.writeOps(netns, 'bridge', fdbOps(plan));
    const ns = this.#s.ns(netns);
    const gone = new Set([...plan.remove, ...plan.change.map((c) => c.from)].map(fdbKey));
    ns.fdb = ns.fdb.filter((e) => !gone.has(fdbKey(e)));
    ns.fdb.push(...plan.add, ...plan.change.map((c) => c.to));
    return report(plan.add.length, plan.remove.length, plan.change.length, plan.unchanged.length, 1);
  }
}
