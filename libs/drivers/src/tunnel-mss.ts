import { mssClampTable, mssForMtu, NftTables, type CommandRunner } from '@strait/net';
import type { Backend } from './types.ts';

/**
 * MSS clamping for a driver's tunnel links, in the driver's own nftables table (`inet strait_mss_<backend>`),
 * built with @strait/net's clamp rules: SYNs into and out of the tunnel (forwarded, and the gateway's own)
 * are clamped to the tunnel MTU − 40, so no TCP segment needs fragmentation (no PMTU black hole).
 * Applying the same interfaces and MTU again writes nothing.
 */
export class TunnelMss {
  private readonly nft: NftTables;
  private readonly netns: string | undefined;
  readonly table: string;

  constructor(runner: CommandRunner, netns: string | undefined, backend: Backend) {
    this.nft = new NftTables(runner);
    this.netns = netns;
    this.table = `strait_mss_${backend}`;
  }

  async apply(interfaces: readonly string[], mtu: number): Promise<boolean> {
    if (interfaces.length === 0) return this.remove();
    const spec = mssClampTable({ interfaces: [...interfaces].sort(), mss: mssForMtu(mtu, 4), table: this.table, local: true });
    return (await this.nft.apply(this.netns, spec)).changed;
  }

  async remove(): Promise<boolean> {
    return (await this.nft.deleteTable(this.netns, 'inet', this.table)).changed;
  }
}
