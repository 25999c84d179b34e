import { BACKENDS, EXAMPLE_WIREGUARD_PUBLIC_KEY, validateEndpointSpec } from '@strait/api';
import { ConfigError, parseConfig } from '@strait/runtime';
import { describe, expect, it } from 'vitest';
import { VXLAN_PORT, defaultForwardUdpPorts, endpointOffer } from './backends.ts';
import { configSpec } from './config.ts';

const parse = (argv: string[]) => parseConfig(configSpec, ['--cluster-id=cluster-a', '--node-name=gw-1', ...argv], {});

const wireguard = { publicKey: EXAMPLE_WIREGUARD_PUBLIC_KEY, port: 51820 };

describe('--backends', () => {
  it('defaults to WireGuard only (unencrypted VXLAN is offered only when asked for)', () => {
    expect(parse([]).backends).toEqual(['wireguard']);
    expect(parse(['--backends=ipsec,vxlan']).backends).toEqual(['ipsec', 'vxlan']);
    expect(parse(['--backends=vxlan', '--backends=wireguard']).backends).toEqual(['vxlan', 'wireguard']);
  });

  it('refuses unknown names, duplicates and an empty list, naming the flag', () => {
    expect(() => parse(['--backends=wireguard,gre'])).toThrow(
      new ConfigError(`--backends: invalid value "wireguard,gre": item "gre" is not a cable driver (one of ${BACKENDS.join(', ')})`, 'backends'),
    );
    expect(() => parse(['--backends=ipsec,wireguard,ipsec'])).toThrow(new ConfigError('--backends: ipsec is listed twice (each cable driver once, the preferred one first)'));
    expect(() => parse(['--backends=,'])).toThrow(new ConfigError('--backends: needs at least one cable driver'));
  });
});

describe('endpointOffer', () => {
  it('offers every asked-for backend in order, the first as the preferred one, with its settings', () => {
    const offer = endpointOffer({ clusterId: 'cluster-a', backends: ['ipsec', 'wireguard', 'vxlan'], wireguard, ipsecPsk: true });
    expect(offer).toEqual({
      backend: 'ipsec',
      backendConfig: { ipsec: { ikeID: 'cluster-a', port: 500, natTPort: 4500 }, wireguard, vxlan: { port: VXLAN_PORT } },
      leftOut: [],
    });
    const spec = { clusterID: 'cluster-a', hostname: 'gw-1', privateIP: '192.0.2.1', subnets: ['10.1.0.0/16'], backend: offer.backend!, backendConfig: offer.backendConfig };
    expect(validateEndpointSpec(spec)).toMatchObject({ ok: true });
  });

  it('leaves out IPsec without a PSK (and WireGuard without a key), saying why', () => {
    const offer = endpointOffer({ clusterId: 'cluster-a', backends: ['ipsec', 'wireguard'], wireguard, ipsecPsk: false });
    expect(offer.backend).toBe('wireguard');
    expect(offer.backendConfig).toEqual({ wireguard });
    expect(offer.leftOut).toEqual([{ backend: 'ipsec', reason: 'ipsec is not offered: the key Secret has no ipsec-psk' }]);
    const none = endpointOffer({ clusterId: 'cluster-a', backends: ['wireguard'], wireguard: undefined, ipsecPsk: true });
    expect(none.backend).toBeUndefined();
    expect(none.leftOut.map((l) => l.backend)).toEqual(['wireguard']);
  });
});

describe('defaultForwardUdpPorts', () => {
  it('forwards the VXLAN port only when VXLAN is offered', () => {
    expect(defaultForwardUdpPorts(['wireguard'], 51820)).toEqual([51820, 500, 4500]);
    expect(defaultForwardUdpPorts(['wireguard', 'vxlan'], 51821)).toEqual([51821, 500, 4500, 4789]);
  });
});
