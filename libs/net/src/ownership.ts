/**
 * What marks a kernel object as Strait's. Strait lists, changes and deletes ONLY objects that carry
 * one of these markers; everything else in a namespace (the host's routes, another tool's nftables
 * tables, links it did not create) is invisible to the reconcilers.
 *
 * - Routes and policy rules: the routing protocol number {@link STRAIT_PROTO} (201). It is not in
 *   iproute2's `rt_protos` (0–4, 8–16, 18, 42, 99, 186–189, 192 are taken) nor in the kernel's
 *   `RTPROT_*` list. To show it by name, add `201 strait` to `/etc/iproute2/rt_protos.d/strait.conf`.
 *   Strait always reads with `ip -N` (numeric), so the name is cosmetic.
 * - Links: the interface alias `strait:<owner>` (`ip link set X alias strait:tunnel-operator`).
 *   The second end of a veth Strait created carries `strait:<owner>/peer`: it is owned (its
 *   addresses, mtu, up are managed when it is listed) but it lives and dies with the first end,
 *   so an apply that does not list it leaves it alone. The alias survives a move to another
 *   namespace, which is how the peer stays owned there.
 * - Addresses, neighbours and fdb entries: they live on an owned link.
 * - nftables: tables whose name starts with `strait` (`inet strait`, `inet strait_mss`).
 */

/** Routing protocol number Strait puts on every route and rule it creates. */
export const STRAIT_PROTO = 201;

/** Lowest/highest protocol number a caller may choose instead of {@link STRAIT_PROTO}. */
export const OWNED_PROTO_MIN = 200;
export const OWNED_PROTO_MAX = 254;

export const ALIAS_PREFIX = 'strait:';

export const NFT_TABLE_PREFIX = 'strait';

const OWNER_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export class OwnershipError extends Error {
  override readonly name = 'OwnershipError';
}

export function assertOwnerName(owner: string): void {
  if (!OWNER_RE.test(owner)) {
    throw new OwnershipError(
      `owner ${JSON.stringify(owner)} is invalid: use lower-case letters, digits, ".", "_" or "-" (at most 63 characters)`,
    );
  }
}

/** `strait:<owner>` */
export function ownerAlias(owner: string): string {
  assertOwnerName(owner);
  return `${ALIAS_PREFIX}${owner}`;
}

export const PEER_SUFFIX = '/peer';

/** `strait:<owner>/peer`, the alias of the second end of a veth pair. */
export function peerAlias(owner: string): string {
  return `${ownerAlias(owner)}${PEER_SUFFIX}`;
}

/** The owner encoded in a link alias, or undefined when the alias is not Strait's. */
export function ownerOfAlias(alias: string | undefined): string | undefined {
  if (!alias?.startsWith(ALIAS_PREFIX)) return undefined;
  let owner = alias.slice(ALIAS_PREFIX.length);
  if (owner.endsWith(PEER_SUFFIX)) owner = owner.slice(0, -PEER_SUFFIX.length);
  return OWNER_RE.test(owner) ? owner : undefined;
}

/** Whether the alias marks the second end of a Strait veth pair. */
export function isPeerAlias(alias: string | undefined): boolean {
  return ownerOfAlias(alias) !== undefined && (alias as string).endsWith(PEER_SUFFIX);
}

export function assertOwnedProto(proto: number): void {
  if (!Number.isInteger(proto) || proto < OWNED_PROTO_MIN || proto > OWNED_PROTO_MAX) {
    throw new OwnershipError(
      `proto ${String(proto)} is not a Strait protocol number: use ${OWNED_PROTO_MIN}..${OWNED_PROTO_MAX} (default ${STRAIT_PROTO})`,
    );
  }
}

export function isStraitTableName(name: string): boolean {
  return name === NFT_TABLE_PREFIX || name.startsWith(`${NFT_TABLE_PREFIX}_`) || name.startsWith(`${NFT_TABLE_PREFIX}-`);
}

export function assertStraitTableName(name: string): void {
  if (!isStraitTableName(name)) {
    throw new OwnershipError(
      `nftables table ${JSON.stringify(name)} is not Strait's: Strait only manages tables named "strait" or "strait_<purpose>"`,
    );
  }
}
