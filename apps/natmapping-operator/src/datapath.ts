import {
  diffNatState,
  isEmptyNatDiff,
  natElementScript,
  natTableSpec,
  type CommandRunner,
  type NatDesiredState,
  type NetnsPort,
  type NftApplyReport,
  type NftPort,
  type SysctlPort,
} from '@strait/net';
import type { Logger } from 'pino';
import type { ApplyKind } from './metrics.ts';

/**
 * The one place that writes the NAT table: `inet strait_natmap` inside this node's gateway
 * namespace. Desired state in (computed from every NatMapping), the smallest kernel change out:
 *
 *  - nothing known about the kernel yet (start, after an error, a re-created namespace, the periodic
 *    verification): the table is read back and diffed (`nft -j list table`), and only the
 *    difference is written — so a restart over an unchanged table writes nothing and every handle
 *    stays as it was;
 *  - otherwise the new state is diffed against the last committed one in memory and only the
 *    elements that changed are written, map and source sets together, as ONE nft transaction
 *    (`natElementScript`): one changed entry = one delete + one add, whatever the map's size. The
 *    table's structure (chain, rules, sets) never changes, so nothing else is ever needed. With the
 *    `nft -i` session runner this transaction costs well under a millisecond.
 *
 * Namespace: created unless it exists (tunnel-operator creates or adopts the same one), with IPv4
 * (and, when the kernel has it, IPv6) forwarding on. Stopping the process changes nothing here.
 */

export interface NatDatapathOptions {
  readonly netnsName: string;
  readonly netns: NetnsPort;
  readonly sysctl: SysctlPort;
  /** Full applies and read-backs of the table. */
  readonly nft: NftPort;
  /** Runs the element transactions (`nft -f -`): the real runner, or `sessionRunner` over `nft -i`. */
  readonly runner: CommandRunner;
  /** Identity of the gateway namespace (device:inode); a change means it was re-created. */
  readonly namespaceId?: (() => string | undefined) | undefined;
  readonly logger?: Logger | undefined;
}

export interface SyncOutcome {
  readonly kind: ApplyKind;
  /** Kernel transactions written. */
  readonly transactions: number;
  readonly elementsAdded: number;
  readonly elementsRemoved: number;
  /** The table was read back from the kernel (not diffed against memory). */
  readonly readBack: boolean;
}

const FORWARDING_V4 = { 'net/ipv4/ip_forward': 1 } as const;
const FORWARDING_V6 = { 'net/ipv6/conf/all/forwarding': 1 } as const;

export class NatDatapath {
  readonly netnsName: string;
  readonly #o: NatDatapathOptions;
  /** What the kernel holds as far as this process knows; undefined = unknown (read back next time). */
  #committed: NatDesiredState | undefined;
  /** Best knowledge of what is programmed, kept across a failed apply (for status and metrics). */
  #programmed: NatDesiredState | undefined;
  #prepared = false;
  #namespaceId: string | undefined;

  constructor(o: NatDatapathOptions) {
    this.#o = o;
    this.netnsName = o.netnsName;
  }

  /** The NAT maps as last committed (or, after a failure, as last known); undefined before any apply. */
  get programmed(): NatDesiredState | undefined {
    return this.#programmed;
  }

  /** Creates or adopts the gateway namespace and turns forwarding on inside it (no write when already so). */
  async prepare(): Promise<void> {
    const { netns, sysctl, netnsName, logger } = this.#o;
    const created = await netns.ensure(netnsName);
    if (created.added > 0) logger?.info({ netns: netnsName }, 'created the gateway network namespace');
    const v4 = await sysctl.apply(netnsName, FORWARDING_V4);
    let v6Writes = 0;
    try {
      v6Writes = (await sysctl.apply(netnsName, FORWARDING_V6)).writes;
    } catch (e) {
      // A kernel without IPv6 has no such key: IPv4 mappings still work.
      logger?.warn({ netns: netnsName, err: e instanceof Error ? e.message : String(e) }, 'IPv6 forwarding not enabled in the gateway namespace');
    }
    if (v4.writes + v6Writes > 0) logger?.info({ netns: netnsName }, 'enabled forwarding in the gateway namespace');
    this.#prepared = true;
    this.#namespaceId = this.#o.namespaceId?.();
  }

  /** Brings the table to `next`. Throws the kernel's error (the table is then as before). */
  async sync(next: NatDesiredState, opts: { verify?: boolean } = {}): Promise<SyncOutcome> {
    const { nft, netnsName, logger } = this.#o;
    const id = this.#o.namespaceId?.();
    if (!this.#prepared || (this.#o.namespaceId && id !== this.#namespaceId)) {
      if (this.#prepared) {
        logger?.warn({ netns: netnsName }, 'the gateway namespace was re-created: programming it again');
        this.#programmed = undefined;
      }
      this.#committed = undefined;
      await this.prepare();
    }
    try {
      const committed = this.#committed;
      if (!committed || opts.verify) {
        const r = await nft.apply(netnsName, natTableSpec(next));
        return this.#done(next, 'table', [r], true);
      }
      const diff = diffNatState(committed, next);
      if (isEmptyNatDiff(diff)) return this.#done(next, 'none', [], false);
      const script = natElementScript(diff);
      await this.#o.runner.run('nft', ['-f', '-'], { netns: netnsName, input: script });
      let added = 0;
      let removed = 0;
      for (const f of [4, 6] as const) {
        added += diff.elements[f].add.length + diff.sources[f].add.length;
        removed += diff.elements[f].delete.length + diff.elements[f].replaced.length + diff.sources[f].delete.length;
      }
      return this.#done(next, 'elements', [{ changed: true, writes: 1, script, chainsRewritten: 0, elementsAdded: added, elementsRemoved: removed }], false);
    } catch (e) {
      this.#committed = undefined; // unknown now: read the table back next time
      throw e;
    }
  }

  #done(next: NatDesiredState, kind: ApplyKind, reports: readonly NftApplyReport[], readBack: boolean): SyncOutcome {
    this.#committed = next;
    this.#programmed = next;
    const transactions = reports.reduce((n, r) => n + r.writes, 0);
    return {
      kind: transactions === 0 ? 'none' : kind,
      transactions,
      elementsAdded: reports.reduce((n, r) => n + r.elementsAdded, 0),
      elementsRemoved: reports.reduce((n, r) => n + r.elementsRemoved, 0),
      readBack,
    };
  }
}
