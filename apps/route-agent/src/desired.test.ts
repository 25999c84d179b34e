import { describe, expect, it } from 'vitest';
import { desiredNode, MSS_TABLE, type OverlaySettings } from './desired.ts';
import { overlayAddress, overlayCidrProblem } from './overlay.ts';

const overlay: OverlaySettings = { vni: 4800, port: 4800, mtu: 1450, overlayCidr: '240.0.0.0/8', mss: 'pmtu' };

describe('overlay addresses', () => {
  it('keep the node IP host bits under the overlay prefix', () => {
    expect(overlayAddress('240.0.0.0/8', '192.168.1.12')).toBe('240.168.1.12');
    expect(overlayAddress('100.64.0.0/16', '192.168.1.12')).toBe('100.64.1.12');
  });
  it('validates the overlay CIDR', () => {
    expect(overlayCidrProblem('240.0.0.0/8')).toBeUndefined();
    expect(overlayCidrProblem('240.0.0.1/8')).toMatch(/host bits/);
    expect(overlayCidrProblem('fd00::/64')).toMatch(/IPv4/);
    expect(overlayCidrProblem('10.0.0.0/28')).toMatch(/\/8 and \/24/);
  });
});

describe('desiredNode', () => {
  const base = { nodeIp: '192.168.1.4', remoteCidrs: ['10.62.0.0/16', '10.2.0.0/16', 'fd00:2::/64'], gatewayIp: '192.168.1.2', overlay };

  it('on a non-gateway node: vx-strait, fdb to the gateway node, routes via its overlay address, MSS clamp', () => {
    const d = desiredNode({ ...base, role: 'non-gateway' });
    expect(d.links).toEqual([{ name: 'vx-strait', kind: 'vxlan', mtu: 1450, vxlan: { vni: 4800, dstport: 4800, local: '192.168.1.4', learning: true } }]);
    expect(d.addresses).toEqual([{ dev: 'vx-strait', address: '240.168.1.4/8' }]);
    expect(d.fdb).toEqual([{ dev: 'vx-strait', mac: '00:00:00:00:00:00', dst: '192.168.1.2' }]);
    expect(d.routes).toEqual([
      { dst: '10.2.0.0/16', via: '240.168.1.2', dev: 'vx-strait', onlink: true, table: 254 },
      { dst: '10.62.0.0/16', via: '240.168.1.2', dev: 'vx-strait', onlink: true, table: 254 },
    ]);
    expect(d.skipped).toEqual(['fd00:2::/64']);
    expect(d.sysctl).toEqual({ 'net/ipv4/conf/vx-strait/rp_filter': 2 });
    expect(d.nft.name).toBe(MSS_TABLE);
    expect(d.nft.chains[0]?.rules.join('\n')).toContain('oifname "vx-strait" tcp flags syn / syn,rst tcp option maxseg size set rt mtu');
  });

  it('on the active gateway node: the same link (never recreated on a role change), no fdb, no routes (tunnel-operator owns them)', () => {
    const g = desiredNode({ ...base, nodeIp: '192.168.1.2', role: 'gateway' });
    const w = desiredNode({ ...base, nodeIp: '192.168.1.2', role: 'non-gateway', gatewayIp: '192.168.1.3' });
    expect(g.links).toEqual(w.links);
    expect(g.fdb).toEqual([]);
    expect(g.routes).toEqual([]);
    expect(JSON.stringify(g)).not.toContain('18952');
  });

  it('without a known gateway: the link only', () => {
    const d = desiredNode({ ...base, role: 'non-gateway', gatewayIp: undefined });
    expect(d.routes).toEqual([]);
    expect(d.fdb).toEqual([]);
    expect(d.links).toHaveLength(1);
  });

  it('a fixed MSS', () => {
    const d = desiredNode({ ...base, role: 'non-gateway', overlay: { ...overlay, mss: 1300 } });
    expect(d.nft.chains[0]?.rules[0]).toContain('tcp option maxseg size > 1300 tcp option maxseg size set 1300');
  });
});
