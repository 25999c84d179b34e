import type { Netns } from '../apply-report.ts';
import type { Route, RouteSpec } from '../routes.ts';
import { normalizeRoute } from '../routes.ts';
import type { Rule, RuleSpec } from '../rules.ts';
import { normalizeRule } from '../rules.ts';
import { FakeAddresses } from './fake-addresses.ts';
import { FakeLinks } from './fake-links.ts';
import { FakeNeighbours } from './fake-neighbours.ts';
import { FakeNetns } from './fake-netns.ts';
import { FakeNftTables } from './fake-nftables.ts';
import { FakeRoutes } from './fake-routes.ts';
import { FakeRules } from './fake-rules.ts';
import { FakeSysctl } from './fake-sysctl.ts';
import { FakeState } from './state.ts';

/**
 * All `@strait/net` ports in memory, over one shared fake kernel — for unit tests of drivers and
 * operators. `writes` lists every write transaction; `failNext()` makes the next matching write
 * fail like the kernel would (changing nothing).
 */
export class FakeNetwork {
  readonly state = new FakeState();
  readonly netns = new FakeNetns(this.state);
  readonly links = new FakeLinks(this.state);
  readonly addresses = new FakeAddresses(this.state);
  readonly routes = new FakeRoutes(this.state);
  readonly rules = new FakeRules(this.state);
  readonly sysctl = new FakeSysctl(this.state);
  readonly neighbours = new FakeNeighbours(this.state);
  readonly nft = new FakeNftTables(this.state);

  get writes(): number {
    return this.state.writes.length;
  }

  failNext(match: RegExp | string, message?: string): void {
    this.state.failNext(match, message);
  }

  /** A route of someone else (default proto 4, "static"). */
  seedRoute(netns: Netns, spec: RouteSpec, proto = 4): Route {
    const r = normalizeRoute(spec, 'seed');
    this.state.ns(netns).routes.push({ route: r, proto });
    return r;
  }

  seedRule(netns: Netns, spec: RuleSpec, proto = 4): Rule {
    const r = normalizeRule(spec, 'seed');
    this.state.ns(netns).rules.push({ rule: r, proto });
    return r;
  }

  /** Every route in the namespace with its proto, Strait's and others'. */
  allRoutes(netns: Netns): { route: Route; proto: number }[] {
    return [...this.state.ns(netns).routes];
  }

  allRules(netns: Netns): { rule: Rule; proto: number }[] {
    return [...this.state.ns(netns).rules];
  }
}
