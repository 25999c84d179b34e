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
 * The load-conn message for a peer: IKEv2, PSK authentication with the cluster ids as identities, one
 * tunnel-mode CHILD_SA whose traffic selectors are the local and remote subnets.
 *
 * Both gateways may initiate (the newly active one after a failover always does); `unique = no` lets an
 * INITIAL_CONTACT from a restarted peer replace its stale SAs. Dead peers are detected by DPD and the
 * CHILD_SA restarted; keyingtries 0 keeps retrying until the peer answers.
 */
export function connConfig(peer: NormalizedPeer, opts: ConnOptions): ViciInput {
  const name = connName(peer.clusterId);
  return {
    version: 2,
    local_addrs: [opts.localIp],
    remote_addrs: [peer.endpointIp],
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
        dpd_action: 'restart',
        close_action: 'start',
        rekey_time: '1h',
      },
    },
  };
}
