import type { NftChainSpec, NftTableSpec } from './nftables.ts';
import { NetSpecError, checkIfName, checkInt } from './validate.ts';

/**
 * TCP MSS clamping as desired nftables state: SYN and SYN-ACK packets forwarded into or out of the
 * tunnel interfaces get their MSS option lowered, either to the route MTU (`set rt mtu`, follows
 * whatever MTU the route/link has) or to a fixed value (only when larger, so smaller MSS values
 * from the endpoints stay). Both directions are covered because the rules match `iifname` and
 * `oifname`. It lives in its own table (default `inet strait_mss`) so NAT changes never touch it.
 */

export interface MssClampOptions {
  /** Interfaces whose forwarded TCP handshakes are clamped (tunnel links, the veth). */
  readonly interfaces: readonly string[];
  /** `'pmtu'` (route MTU, default) or a fixed MSS in bytes. */
  readonly mss?: 'pmtu' | number;
  /** Table name (default `strait_mss`). */
  readonly table?: string;
  /** Chain name (default `clamp`). */
  readonly chain?: string;
  /** Also clamp locally originated/terminated traffic (output/input), default false. */
  readonly local?: boolean;
}

export function mssClampRules(interfaces: readonly string[], mss: 'pmtu' | number = 'pmtu'): string[] {
  if (interfaces.length === 0) throw new NetSpecError('interfaces', 'at least one interface is needed');
  const names = interfaces.map((n, i) => checkIfName(`interfaces[${i}]`, n));
  const set = names.length === 1 ? `"${names[0]}"` : `{ ${names.map((n) => `"${n}"`).join(', ')} }`;
  const action =
    mss === 'pmtu'
      ? 'tcp option maxseg size set rt mtu'
      : `tcp option maxseg size > ${checkInt('mss', mss, 536, 65495)} tcp option maxseg size set ${mss}`;
  return [
    `oifname ${set} tcp flags syn / syn,rst ${action}`,
    `iifname ${set} tcp flags syn / syn,rst ${action}`,
  ];
}

/** The whole `inet strait_mss` table: a forward chain at mangle priority with both directions. */
export function mssClampTable(opts: MssClampOptions): NftTableSpec {
  const rules = mssClampRules(opts.interfaces, opts.mss ?? 'pmtu');
  const chain = opts.chain ?? 'clamp';
  const chains: NftChainSpec[] = [{ name: chain, type: 'filter', hook: 'forward', priority: 'mangle', policy: 'accept', rules }];
  if (opts.local) {
    chains.push({ name: `${chain}_out`, type: 'filter', hook: 'output', priority: 'mangle', policy: 'accept', rules: [rules[0] as string] });
    chains.push({ name: `${chain}_in`, type: 'filter', hook: 'input', priority: 'mangle', policy: 'accept', rules: [rules[1] as string] });
  }
  return { family: 'inet', name: opts.table ?? 'strait_mss', chains };
}
