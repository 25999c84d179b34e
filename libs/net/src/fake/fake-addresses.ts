import { addressKey, addressOps, normalizeAddresses, planAddresses, type Address, type AddressSpec, type AddressesPort } from '../addresses.ts';
import { report, type ApplyReport, type Netns } from '../apply-report.ts';
import { isEmptyDiff } from '../diff.ts';
import type { LinkScope } from '../links.ts';
import type { FakeState } from './state.ts';

export class FakeAddresses implements AddressesPort {
  readonly #s: FakeState;
  constructor(state: FakeState) {
    this.#s = state;
  }
  #owned(netns: Netns, owner: string): Set<string> {
    return new Set([...this.#s.ns(netns).links.values()].filter((l) => l.owner === owner).map((l) => l.name));
  }
  async list(netns: Netns, scope: LinkScope): Promise<Address[]> {
    const owned = this.#owned(netns, scope.owner);
    return this.#s.ns(netns).addresses.filter((a) => owned.has(a.dev));
  }
  async apply(netns: Netns, desired: readonly AddressSpec[], scope: LinkScope): Promise<ApplyReport> {
    const want = normalizeAddresses(desired);
    const ns = this.#s.ns(netns);
    const plan = planAddresses(ns.addresses, want, this.#owned(netns, scope.owner), netns);
    if (isEmptyDiff(plan)) return report(0, 0, 0, plan.unchanged.length, 0);
    this.#s.writeOps(netns, 'ip', addressOps(plan));
    const gone = new Set([...plan.remove, ...plan.change.map((c) => c.from)].map(addressKey));
    ns.addresses = ns.addresses.filter((a) => !gone.has(addressKey(a)));
    ns.addresses.push(...plan.add, ...plan.change.map((c) => c.to));
    return report(plan.add.length, plan.remove.length, plan.change.length, plan.unchanged.length, 1);
  }
  deleteOwned(netns: Netns, scope: LinkScope): Promise<ApplyReport> {
    return this.apply(netns, [], scope);
  }
}
