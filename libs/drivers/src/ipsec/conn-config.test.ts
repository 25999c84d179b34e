import type { ViciSection } from '@strait/net';
import { describe, expect, it } from 'vitest';
import { normalizePeer } from '../validate.ts';
import { connConfig, connName, secretId } from './conn-config.ts';
import { summariseSas } from './sa-state.ts';

const peer = normalizePeer(
  'ipsec',
  {
    clusterId: 'cluster-b',
    backend: 'ipsec',
    endpoint: { ip: '192.0.2.2' },
    remoteSubnets: ['10.2.0.0/16', '10.96.0.0/12'],
    localSubnets: ['10.1.0.0/16'],
    backendConfig: { psk: 'not-used-by-conn-config' },
  },
  500,
);

describe('IPsec connection config', () => {
  it('builds an IKEv2 PSK tunnel with the subnets as traffic selectors and cluster ids as identities', () => {
    const cfg = connConfig(peer, { localId: 'cluster-a', remoteId: 'cluster-b', localIp: '192.0.2.1', ikePort: 500, forceEncap: true });
    expect(connName('cluster-b')).toBe('strait-cluster-b');
    expect(secretId('cluster-b')).toBe('strait-psk-cluster-b');
    expect(cfg).toMatchObject({
      version: 2,
      local_addrs: ['192.0.2.1'],
      // Initiates to the known endpoint; as responder accepts the peer's identity from any address (a
      // failover of the peer cluster's gateway), and replaces its old IKE_SA on INITIAL_CONTACT.
      remote_addrs: ['192.0.2.2', '0.0.0.0/0', '::/0'],
      unique: 'no',
      remote_port: 500,
      encap: true,
      local: { auth: 'psk', id: 'cluster-a' },
      remote: { auth: 'psk', id: 'cluster-b' },
      children: { 'strait-cluster-b': { mode: 'tunnel', local_ts: ['10.1.0.0/16'], remote_ts: ['10.2.0.0/16', '10.96.0.0/12'], start_action: 'none', dpd_action: 'clear', close_action: 'none' } },
    });
    expect(JSON.stringify(cfg)).not.toContain('not-used-by-conn-config');
  });
});

describe('list-sas summary', () => {
  const sa = (state: string, child: string | undefined, bytes: [string, string], established?: string): ViciSection => {
    const children: ViciSection = {};
    if (child) children['strait-cluster-b-1'] = { name: 'strait-cluster-b', state: child, 'bytes-in': bytes[0], 'bytes-out': bytes[1] };
    const ike: ViciSection = { state, 'child-sas': children };
    if (established) ike['established'] = established;
    return { 'strait-cluster-b': ike };
  };

  it('prefers an established SA with an installed child and sums bytes over SAs', () => {
    const s = summariseSas([sa('CONNECTING', undefined, ['0', '0']), sa('ESTABLISHED', 'INSTALLED', ['100', '200'], '12'), sa('ESTABLISHED', 'INSTALLED', ['1', '2'], '3')], 'strait-cluster-b');
    expect(s).toEqual({ ikeState: 'ESTABLISHED', childInstalled: true, ikeSas: 3, bytesIn: 101, bytesOut: 202, establishedSeconds: 3 });
  });

  it('ignores other connections and handles no SA', () => {
    expect(summariseSas([{ other: { state: 'ESTABLISHED' } }], 'strait-cluster-b')).toEqual({ ikeState: undefined, childInstalled: false, ikeSas: 0, bytesIn: 0, bytesOut: 0, establishedSeconds: undefined });
  });
});
