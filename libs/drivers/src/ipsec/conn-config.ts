import type { ViciInput } from '@strait/net';
import type { NormalizedPeer } from '../validate.ts';

/** strongSwan connection and secret names for a peer (one IKE_SA config and one CHILD_SA config each). */
export function connName(clusterId: string): string {
  return `strait-${clusterId}`;
}

export function secretId(clusterId: string): string {
  return `strait-psk-${clusterId}`;
}

export const CONN_PREFIX = 'strait-';
export const SECRET_PREFIX = 'strait-psk-';

export const DEFAULT_IKE_PROPOSALS = ['aes256gcm16-prfsha256-x25519'];
export const DEFAULT_ESP_PROPOSALS = ['aes256gcm16'];

export interface ConnOptions {
  readonly localId: string;
  readonly remoteId: string;
  readonly localIp: string;
  readonly ikePort: number;
  /** kernel-libipsec only does ESP in UDP: force encapsulation. */
  readonly forceEncap: boolean;
  readonly ikeProposals?: readonly string[];
  readonly espProposals?: readonly string[];
}

/**
 * Any remote address, as responder only: the first entry of `remote_addrs` is the one charon initiates to
 * (a single address); a subnet is never initiated to, only matched.
 */
export const ANY_REMOTE_ADDRS = ['0.0.0.0/0', '::/0'] as const;

/**
 * The load-conn message for a peer: IKEv2, PSK authentication with the cluster ids as identities, one
 * tunnel-mode CHILD_SA whose traffic selectors are the local and remote subnets.
 *
 * Active/standby gateways (docs/adr/0004): the peer cluster's active gateway may change, and with it the
 * address its IKE_SA comes from, before this side learns the new endpoint. So:
 *  - `remote_addrs` = the known endpoint (what this side initiates to) followed by any address: as
 *    responder charon accepts the peer's identity from whichever gateway holds its role (authentication is
 *    the PSK and the identities, never the address — as WireGuard's roaming);
 *  - `unique = no`: the new gateway has no IKE_SA with us and sends INITIAL_CONTACT, which makes charon
 *    delete the old gateway's IKE_SA (and its CHILD_SA) for the same identity at once, without waiting for
 *    DPD; two SAs initiated at the same moment without INITIAL_CONTACT do not delete each other;
 *  - `close_action = none`: when the peer closes the CHILD_SA (its gateway released its role), the active
 *    gateway of that cluster initiates; re-creating it towards the old address would only reach a standby;
 *  - `dpd_action = clear`: charon replaces the old gateway's IKE_SA silently (no DELETE reaches the old
 *    gateway), so the old gateway's DPD is what ends its stale SA; restarting it there would come with
 *    INITIAL_CONTACT and take the peer back from the active gateway. Only the active gateway's operator
 *    (re-)initiates: every status tick connects each peer, initiating when it has no SA.
 * keyingtries 0 keeps an initiation retrying until the peer answers.
 */
export function connConfig(peer: NormalizedPeer, opts: ConnOptions): ViciInput {
  const name = connName(peer.clusterId);
  return {
    version: 2,
    local_addrs: [opts.localIp],
    remote_addrs: [peer.endpointIp, ...ANY_REMOTE_ADDRS],
    local_port: opts.ikePort,
    remote_port: peer.endpointPort,
    encap: opts.forceEncap,
    mobike: false,
    unique: 'no',
    proposals: [...(opts.ikeProposals ?? DEFAULT_IKE_PROPOSALS)],
    keyingtries: 0,
    dpd_delay: '10s',
    rekey_time: '4h',
    local: { auth: 'psk', id: opts.localId },
    remote: { auth: 'psk', id: opts.remoteId },
    children: {
      [name]: {
        mode: 'tunnel',
        local_ts: peer.localSubnets.map((p) => p.text),
        remote_ts: peer.remoteSubnets.map((p) => p.text),
        esp_proposals: [...(opts.espProposals ?? DEFAULT_ESP_PROPOSALS)],
        start_action: 'none',
        dpd_action: 'clear',
        close_action: 'none',
        rekey_time: '1h',
      },
    },
  };
}
