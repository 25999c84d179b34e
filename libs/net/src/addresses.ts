import { report, type ApplyReport, type Netns } from './apply-report.ts';
import { diffByKey, isEmptyDiff, type KeyedDiff } from './diff.ts';
import { defaultCommandRunner, runJson, type CommandRunner } from './exec.ts';
import { runIpTransaction, type IpOp } from './ip-batch.ts';
import { canonicalIfAddress, ipFamily, parseCidr, type Family } from './ip-address.ts';
import { parseLinks, type Link, type LinkScope } from './links.ts';
import { NetSpecError, OutputReader, checkIfName } from './validate.ts';

/**
 * Interface addresses. iproute2 6.1 cannot mark an address, so ownership follows the link: the
 * addresses of a link whose alias is `strait:<owner>` are that owner's, and only on those links
 * does Strait add or delete addresses. Kernel-generated IPv6 link-local addresses (fe80::/10) are
 * left alone unless desired explicitly.
 */

export interface AddressSpec {
  readonly dev: string;
  /** Address with prefix length, `10.9.0.1/24` (host bits kept). */
  readonly address: string;
  /** Do not add the prefix route (Strait adds its own routes). */
  readonly noprefixroute?: boolean;
  /** IPv6: skip duplicate address detection (usable at once). */
  readonly nodad?: boolean;
}

export interface Address {
  readonly dev: string;
  readonly family: Family;
  /** Canonical `10.9.0.1/24`. */
  readonly address: string;
  readonly noprefixroute: boolean;
  readonly nodad: boolean;
}

export interface AddressesPort {
  /** Addresses on this owner's links. */
  list(netns: Netns, scope: LinkScope): Promise<Address[]>;
  apply(netns: Netns, desired: readonly AddressSpec[], scope: LinkScope): Promise<ApplyReport>;
  deleteOwned(netns: Netns, scope: LinkScope): Promise<ApplyReport>;
}

export function addressKey(a: Address): string {
  return `${a.dev}|${a.address}`;
}

export function normalizeAddresses(desired: readonly AddressSpec[], what = 'addresses'): Address[] {
  const seen = new Map<string, number>();
  return desired.map((s, i) => {
    const f = `${what}[${i}]`;
    if (typeof s !== 'object' || s === null) throw new NetSpecError(f, 'must be an object');
    const dev = checkIfName(`${f}.dev`, s.dev);
    const address = typeof s.address === 'string' && s.address.includes('/') ? canonicalIfAddress(s.address) : undefined;
    if (!address) throw new NetSpecError(`${f}.address`, `${JSON.stringify(s.address)} is not an address with a prefix length (10.0.0.1/24)`);
    const a: Address = {
      dev,
      family: ipFamily(address) as Family,
      address,
      noprefixroute: s.noprefixroute ?? false,
      nodad: s.nodad ?? false,
    };
    const k = addressKey(a);
    const prev = seen.get(k);
    if (prev !== undefined) throw new NetSpecError(f, `duplicates ${what}[${prev}] (${address} on ${dev})`);
    seen.set(k, i);
    return a;
  });
}

function isLinkLocal6(address: string): boolean {
  const c = parseCidr(address);
  return c?.family === 6 && c.address >> 118n === 0x3fan; // fe80::/10
}

/** Plans a change of the addresses on `ownedLinks`. Desired addresses on other links are refused. */
export function planAddresses(
  current: readonly Address[],
  desired: readonly Address[],
  ownedLinks: ReadonlySet<string>,
  netns?: Netns,
): KeyedDiff<Address> {
  desired.forEach((a, i) => {
    if (!ownedLinks.has(a.dev)) {
      throw new NetSpecError(
        `addresses[${i}].dev`,
        `${a.dev}${netns ? ` in netns ${netns}` : ''} is not a link of this owner: Strait only changes addresses on its own links`,
      );
    }
  });
  const wanted = new Set(desired.map(addressKey));
  const relevant = current.filter((a) => ownedLinks.has(a.dev) && (!isLinkLocal6(a.address) || wanted.has(addressKey(a))));
  return diffByKey(relevant, desired, addressKey, addressKey, (c, d) => c.noprefixroute === d.noprefixroute);
}

function addrArgs(verb: 'add' | 'del' | 'replace', a: Address): string[] {
  const args = ['address', verb, a.address, 'dev', a.dev];
  if (verb !== 'del') {
    if (a.noprefixroute) args.push('noprefixroute');
    if (a.nodad && a.family === 6) args.push('nodad');
  }
  return args;
}

export function addressOps(plan: KeyedDiff<Address>): IpOp[] {
  return [
    ...plan.add.map((a) => ({ args: addrArgs('add', a), undo: addrArgs('del', a) })),
    ...plan.change.map(({ from, to }) => ({ args: addrArgs('replace', to), undo: addrArgs('replace', from) })),
    ...plan.remove.map((a) => ({ args: addrArgs('del', a), undo: addrArgs('add', a) })),
  ];
}

/** Parses `ip -j address show`. */
export function parseAddresses(json: unknown, command: string, netns: Netns): Address[] {
  const rd: OutputReader = new OutputReader(command, netns);
  const out: Address[] = [];
  rd.array(json, '').forEach((v, i) => {
    const p = `[${i}]`;
    const o = rd.object(v, p);
    const dev = rd.string(o, 'ifname', p);
    const infos = o['addr_info'] === undefined ? [] : rd.array(o['addr_info'], `${p}.addr_info`);
    infos.forEach((ai, j) => {
      const q = `${p}.addr_info[${j}]`;
      const a = rd.object(ai, q);
      const fam = rd.optString(a, 'family', q);
      if (fam !== 'inet' && fam !== 'inet6') return;
      const local = rd.string(a, 'local', q);
      const len = rd.number(a, 'prefixlen', q);
      const address = canonicalIfAddress(`${local}/${len}`);
      if (!address) rd.fail(`${q}.local`, `is ${JSON.stringify(local)}, expected an address`);
      out.push({
        dev,
        family: fam === 'inet' ? 4 : 6,
        address,
        noprefixroute: a['noprefixroute'] === true,
        nodad: a['nodad'] === true,
      });
    });
  });
  return out;
}

export class IpAddresses implements AddressesPort {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner = defaultCommandRunner()) {
    this.#runner = runner;
  }

  async #read(netns: Netns, owner: string): Promise<{ owned: Set<string>; addrs: Address[] }> {
    const opts = netns ? { netns } : {};
    const linkArgs = ['-j', 'link', 'show'];
    const links: Link[] = parseLinks(await runJson(this.#runner, 'ip', linkArgs, opts), `ip ${linkArgs.join(' ')}`, netns);
    const owned = new Set(links.filter((l) => l.owner === owner).map((l) => l.name));
    const addrArgs2 = ['-j', 'address', 'show'];
    const addrs = parseAddresses(await runJson(this.#runner, 'ip', addrArgs2, opts), `ip ${addrArgs2.join(' ')}`, netns);
    return { owned, addrs };
  }

  async list(netns: Netns, scope: LinkScope): Promise<Address[]> {
    const { owned, addrs } = await this.#read(netns, scope.owner);
    return addrs.filter((a) => owned.has(a.dev) && !isLinkLocal6(a.address));
  }

  async apply(netns: Netns, desired: readonly AddressSpec[], scope: LinkScope): Promise<ApplyReport> {
    const want = normalizeAddresses(desired);
    const { owned, addrs } = await this.#read(netns, scope.owner);
    const plan = planAddresses(addrs, want, owned, netns);
    if (isEmptyDiff(plan)) return report(0, 0, 0, plan.unchanged.length, 0);
    await runIpTransaction(this.#runner, netns, addressOps(plan));
    return report(plan.add.length, plan.remove.length, plan.change.length, plan.unchanged.length, 1);
  }

  deleteOwned(netns: Netns, scope: LinkScope): Promise<ApplyReport> {
    return this.apply(netns, [], scope);
  }
}
