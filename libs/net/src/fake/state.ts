import type { Netns } from '../apply-report.ts';
import { NetCommandError } from '../exec.ts';
import { batchLine, type IpOp } from '../ip-batch.ts';
import type { Address } from '../addresses.ts';
import type { Link } from '../links.ts';
import type { FdbEntry, Neighbour } from '../neighbours.ts';
import type { NftTable } from '../nftables.ts';
import type { Route } from '../routes.ts';
import type { Rule } from '../rules.ts';

/**
 * Shared in-memory "kernel" behind the fake ports. One {@link FakeNamespace} per namespace name;
 * the caller's own namespace is the key `''`. Fakes apply the same plans as the real ports (the
 * planning functions are shared), count every write, and can be told to fail a write the way the
 * kernel would (the whole apply then changes nothing, as the real ports roll back).
 */

export interface FakeNamespace {
  readonly links: Map<string, Link>;
  addresses: Address[];
  routes: { readonly route: Route; readonly proto: number }[];
  rules: { readonly rule: Rule; readonly proto: number }[];
  neighbours: Neighbour[];
  fdb: FdbEntry[];
  readonly sysctl: Map<string, string>;
  /** key `${family} ${name}`; may hold foreign tables (seeded) */
  readonly nft: Map<string, NftTable>;
}

export interface FakeWrite {
  readonly netns: Netns;
  /** `ip -batch` lines, `nft -f` script lines, `sysctl -w` args */
  readonly lines: readonly string[];
}

interface PendingFailure {
  readonly match: RegExp;
  readonly message: string;
}

export class FakeState {
  readonly namespaces = new Map<string, FakeNamespace>([['', emptyNamespace()]]);
  /** Every write transaction, in order. */
  readonly writes: FakeWrite[] = [];
  #nextIfindex = 100;
  #nextHandle = 1;
  #failures: PendingFailure[] = [];

  ifindex(): number {
    return this.#nextIfindex++;
  }

  handle(): number {
    return this.#nextHandle++;
  }

  /** The next write whose lines match `match` fails with `message` (stderr) and changes nothing. */
  failNext(match: RegExp | string, message = 'RTNETLINK answers: Operation not permitted'): void {
    this.#failures.push({ match: typeof match === 'string' ? new RegExp(escapeRe(match)) : match, message });
  }

  ns(netns: Netns): FakeNamespace {
    const n = this.namespaces.get(netns ?? '');
    if (!n) {
      throw new NetCommandError({
        command: 'ip',
        args: ['netns', 'exec', netns ?? ''],
        ...(netns ? { netns } : {}),
        exitCode: 1,
        stderr: `Cannot open network namespace "${netns ?? ''}": No such file or directory`,
      });
    }
    return n;
  }

  /** Records a write, or throws when a pending failure matches one of its lines. */
  write(netns: Netns, tool: string, lines: readonly string[]): void {
    for (const [i, f] of this.#failures.entries()) {
      const hit = lines.findIndex((l) => f.match.test(l));
      if (hit < 0) continue;
      this.#failures.splice(i, 1);
      throw new NetCommandError({
        command: tool,
        args: (lines[hit] as string).split(' '),
        ...(netns ? { netns } : {}),
        exitCode: 2,
        stderr: f.message,
      });
    }
    this.writes.push({ netns, lines: [...lines] });
  }

  writeOps(netns: Netns, tool: string, ops: readonly IpOp[]): void {
    this.write(netns, tool, ops.map((o) => batchLine(o.args)));
  }
}

export function emptyNamespace(): FakeNamespace {
  return {
    links: new Map([
      ['lo', { ifindex: 1, name: 'lo', kind: undefined, mtu: 65536, up: true, operstate: 'UNKNOWN', master: undefined, alias: undefined, owner: undefined, mac: '00:00:00:00:00:00', peer: undefined, vxlan: undefined }],
    ]),
    addresses: [],
    routes: [],
    rules: [],
    neighbours: [],
    fdb: [],
    sysctl: new Map(),
    nft: new Map(),
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
