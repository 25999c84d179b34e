import { report, type ApplyReport, type Netns } from '../apply-report.ts';
import { isEmptyDiff } from '../diff.ts';
import { STRAIT_PROTO, assertOwnedProto } from '../ownership.ts';
import { normalizeRules, planRules, ruleKey, ruleOps, type Rule, type RuleScope, type RuleSpec, type RulesPort } from '../rules.ts';
import type { FakeState } from './state.ts';

export class FakeRules implements RulesPort {
  readonly #s: FakeState;
  constructor(state: FakeState) {
    this.#s = state;
  }
  async list(netns: Netns, scope: RuleScope = {}): Promise<Rule[]> {
    const proto = scope.proto ?? STRAIT_PROTO;
    assertOwnedProto(proto);
    return this.#s
      .ns(netns)
      .rules.filter((r) => r.proto === proto && (!scope.tables || scope.tables.includes(r.rule.table)))
      .map((r) => r.rule);
  }
  async apply(netns: Netns, desired: readonly RuleSpec[], scope: RuleScope = {}): Promise<ApplyReport> {
    const proto = scope.proto ?? STRAIT_PROTO;
    assertOwnedProto(proto);
    const want = normalizeRules(desired, scope);
    const ns = this.#s.ns(netns);
    const plan = planRules(await this.list(netns, scope), want);
    if (isEmptyDiff(plan)) return report(0, 0, 0, plan.unchanged.length, 0);
    this.#s.writeOps(netns, 'ip', ruleOps(plan, proto));
    const gone = new Set(plan.remove.map(ruleKey));
    ns.rules = ns.rules.filter((r) => r.proto !== proto || !gone.has(ruleKey(r.rule)));
    for (const r of plan.add) ns.rules.push({ rule: r, proto });
    return report(plan.add.length, plan.remove.length, 0, plan.unchanged.length, 1);
  }
  deleteOwned(netns: Netns, scope: RuleScope = {}): Promise<ApplyReport> {
    return this.apply(netns, [], scope);
  }
}
