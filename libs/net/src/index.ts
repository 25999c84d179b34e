/**
 * @strait/net — the typed, idempotent, owned-only kernel layer.
 *
 * Every port (NetnsPort, LinksPort, AddressesPort, RoutesPort, RulesPort, SysctlPort,
 * NeighboursPort, NftPort) has a real implementation over `ip -j` / `ip -batch` / `bridge` /
 * `sysctl` / `nft -j` / `nft -f` run through a CommandRunner (exec.ts: no shell, per-namespace,
 * secrets redacted) and an in-memory fake (fake/, `new FakeNetwork()`), both applying the same
 * pure plans. Conventions:
 *  - desired state in, `apply` diffs against what Strait owns and writes only the difference;
 *    the same desired state twice → zero writes (ApplyReport.writes === 0);
 *  - ownership (ownership.ts): routes/rules by proto 201, links by alias `strait:<owner>`,
 *    addresses/neighbours/fdb by their owned link, nftables by table name `strait*`;
 *  - all-or-nothing (ip-batch.ts): one `ip -batch` per apply, stopped at the first failure,
 *    applied prefix undone; nftables: one `nft -f` transaction;
 *  - errors name the command, the namespace and the kernel's message (NetCommandError,
 *    NetBatchError); bad desired state names the field and changes nothing (NetSpecError).
 */
export * from './exec.ts';
export * from './recording-runner.ts';
export * from './apply-report.ts';
export * from './validate.ts';
export * from './ownership.ts';
export * from './ip-address.ts';
export * from './diff.ts';
export * from './ip-batch.ts';
export * from './netns.ts';
export * from './links.ts';
export * from './addresses.ts';
export * from './routes.ts';
export * from './rules.ts';
export * from './sysctl.ts';
export * from './neighbours.ts';
export * from './nft-elements.ts';
export * from './nftables.ts';
export * from './mss.ts';
export * from './mtu.ts';
export * from './vici/index.ts';
export * from './wireguard/index.ts';
export * from './ipsec/index.ts';
export * from './fake/index.ts';
export * from './natmap/index.ts';
