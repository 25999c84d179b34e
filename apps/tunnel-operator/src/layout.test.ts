import { describe, expect, it } from 'vitest';
import { checkVethCidr, gatewayLayout, vethAddresses } from './layout.ts';

describe('gateway layout', () => {
  it('puts the host end first and the gateway end second on a /30 or /31', () => {
    expect(vethAddresses('169.254.189.0/30')).toEqual({ hostIp: '169.254.189.1', gatewayIp: '169.254.189.2', hostCidr: '169.254.189.1/30', gatewayCidr: '169.254.189.2/30' });
    expect(vethAddresses('169.254.189.4/31')).toMatchObject({ hostIp: '169.254.189.4', gatewayIp: '169.254.189.5' });
  });

  it('refuses other link networks with a reason', () => {
    expect(checkVethCidr('169.254.189.0/29')).toMatch(/\/30 or a \/31/);
    expect(checkVethCidr('169.254.189.1/30')).toMatch(/host bits/);
    expect(checkVethCidr('fd00::/126')).toMatch(/IPv4/);
    expect(() => vethAddresses('x')).toThrow(/vethCidr/);
  });

  it('forwards the tunnel ports into the gateway namespace and masquerades what leaves it', () => {
    const l = gatewayLayout({ netnsName: 'gw-ns', vethCidr: '169.254.189.0/30', forwardUdpPorts: [4500, 51820, 500, 500] });
    expect(l.host.links).toEqual([{ name: 'strait.host', kind: 'veth', peer: { name: 'strait.gateway', netns: 'gw-ns' } }]);
    expect(l.host.nft.chains[0]?.rules).toEqual(['fib daddr type local udp dport { 500, 4500, 51820 } dnat ip to 169.254.189.2']);
    expect(l.host.nft.chains[1]?.rules).toEqual(['ip saddr 169.254.189.2 oifname != "strait.host" masquerade']);
    expect(l.gateway.routes).toEqual([{ dst: 'default', via: '169.254.189.1', dev: 'strait.gateway' }]);
    expect(l.gateway.sysctl['net/ipv4/ip_forward']).toBe(1);
  });
});
