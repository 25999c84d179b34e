import type { Netns } from '../apply-report.ts';
import {
  NFT_FAMILIES,
  normalizeTable,
  planElementUpdate,
  planTable,
  type NftElementChanges,
  type NftSetRef,
  type NftApplyReport,
  type NftChain,
  type NftFamily,
  type NftPort,
  type NftSet,
  type NftTable,
  type NftTableRef,
  type NftTableSpec,
} from '../nftables.ts';
import { assertStraitTableName } from '../ownership.ts';
import { NetSpecError } from '../validate.ts';
import type { FakeState } from './state.ts';

const NO_CHANGE: NftApplyReport = { changed: false, writes: 0, script: '', chainsRewritten: 0, elementsAdded: 0, elementsRemoved: 0 };

/**
 * nftables in memory. Applies the same plan as the real port; handles behave like the kernel's:
 * unchanged chains, rules and sets keep theirs, re-declared or re-written ones get new ones.
 */
export class FakeNftTables implements NftPort {
  readonly #s: FakeState;
  constructor(state: FakeState) {
    this.#s = state;
  }

  async listTables(netns: Netns): Promise<NftTableRef[]> {
    return [...this.#s.ns(netns).nft.values()].map((t) => ({ family: t.family, name: t.name }));
  }

  async read(netns: Netns, family: NftFamily, name: string): Promise<NftTable | undefined> {
    assertStraitTableName(name);
    if (!NFT_FAMILIES.includes(family)) throw new NetSpecError('family', `${JSON.stringify(family)} is not an nftables family`);
    return this.#s.ns(netns).nft.get(`${family} ${name}`);
  }

  async apply(netns: Netns, desired: NftTableSpec): Promise<NftApplyReport> {
    const want = normalizeTable(desired);
    const key = `${want.family} ${want.name}`;
    const ns = this.#s.ns(netns);
    const current = ns.nft.get(key);
    const plan = planTable(current, want);
    if (plan.script === '') return NO_CHANGE;
    this.#s.write(netns, 'nft', plan.script.trimEnd().split('\n'));
    const declared = new Set(plan.declaredChains);
    const rewritten = new Set(plan.rewrittenChains);
    const declaredSets = new Set(plan.declaredSets);
    const chains = new Map<string, NftChain>();
    for (const [n, c] of want.chains) {
      const cur = current?.chains.get(n);
      chains.set(n, {
        ...c,
        handle: declared.has(n) || !cur ? this.#s.handle() : cur.handle,
        ruleHandles: rewritten.has(n) || !cur ? c.rules.map(() => this.#s.handle()) : cur.ruleHandles,
        rules: [],
      });
    }
    const sets = new Map<string, NftSet>();
    for (const [n, st] of want.sets) {
      const cur = current?.sets.get(n);
      sets.set(n, { ...st, handle: declaredSets.has(n) || !cur ? this.#s.handle() : cur.handle });
    }
    ns.nft.set(key, { family: want.family, name: want.name, handle: current?.handle ?? this.#s.handle(), chains, sets });
    const { script, chainsRewritten, elementsAdded, elementsRemoved } = plan;
    return { changed: true, writes: 1, script, chainsRewritten, elementsAdded, elementsRemoved };
  }

  async updateElements(netns: Netns, ref: NftSetRef, changes: NftElementChanges): Promise<NftApplyReport> {
    assertStraitTableName(ref.table);
    const ns = this.#s.ns(netns);
    const key = `${ref.family} ${ref.table}`;
    const table = ns.nft.get(key);
    if (!table) throw new NetSpecError('table', `${ref.family} ${ref.table} does not exist`);
    const plan = planElementUpdate(table, ref, changes);
    if (plan.script === '') return NO_CHANGE;
    this.#s.write(netns, 'nft', plan.script.trimEnd().split('\n'));
    ns.nft.set(key, plan.next);
    return { changed: true, writes: 1, script: plan.script, chainsRewritten: 0, elementsAdded: plan.added, elementsRemoved: plan.removed };
  }

  async deleteTable(netns: Netns, family: NftFamily, name: string): Promise<NftApplyReport> {
    assertStraitTableName(name);
    const ns = this.#s.ns(netns);
    const key = `${family} ${name}`;
    if (!ns.nft.has(key)) return NO_CHANGE;
    const script = `delete table ${family} ${name}\n`;
    this.#s.write(netns, 'nft', [script.trimEnd()]);
    ns.nft.delete(key);
    return { changed: true, writes: 1, script, chainsRewritten: 0, elementsAdded: 0, elementsRemoved: 0 };
  }

  /** Test helper: a table of another tool (any name), invisible to Strait's reads. */
  seedForeign(netns: Netns, family: NftFamily, name: string): void {
    this.#s.ns(netns).nft.set(`${family} ${name}`, { family, name, handle: this.#s.handle(), chains: new Map(), sets: new Map() });
  }
}
