import { describe, expect, it } from 'vitest';
import { examples } from './examples.ts';
import {
  validateTunnelEndpoint,
  validateTunnelEndpointSpec,
  validateTunnelEndpointStatus,
  type TunnelEndpointSpec,
} from './tunnel-endpoint.ts';

const spec = (patch: Partial<TunnelEndpointSpec> = {}): TunnelEndpointSpec => ({ ...examples.tunnelEndpoint().spec, ...patch });

function errorsOf(result: { ok: boolean; errors?: string[] }): string[] {
  expect(result.ok).toBe(false);
  return result.errors ?? [];
}

describe('validateTunnelEndpointSpec', () => {
  it('accepts the example, and no remap at all', () => {
    expect(validateTunnelEndpointSpec(spec()).ok).toBe(true);
    const { remap: _r, mtu: _m, ...rest } = spec();
    expect(validateTunnelEndpointSpec(rest).ok).toBe(true);
  });

  it('rejects a bad endpoint address and ports 0 and 70000', () => {
    expect(errorsOf(validateTunnelEndpointSpec(spec({ endpoint: { address: 'gw.example', port: 0 } })))).toEqual([
      'spec.endpoint.port: must be >= 1 (got 0)',
      'spec.endpoint.address: "gw.example" is not a valid IP address',
    ]);
    expect(errorsOf(validateTunnelEndpointSpec(spec({ endpoint: { address: '203.0.113.10', port: 70000 } })))).toEqual([
      'spec.endpoint.port: must be <= 65535 (got 70000)',
    ]);
  });

  it('rejects a bad remote pod CIDR naming the field', () => {
    expect(errorsOf(validateTunnelEndpointSpec(spec({ remote: { podCIDRs: ['10.20.0.0/33'] } })))).toEqual([
      'spec.remote.podCIDRs[0]: "10.20.0.0/33" is not a valid CIDR (for example 10.0.0.0/16 or fd00::/64)',
    ]);
  });

  it('rejects a remote external CIDR overlapping the remote pod CIDRs', () => {
    expect(errorsOf(validateTunnelEndpointSpec(spec({ remote: { podCIDRs: ['10.20.0.0/16'], externalCIDR: '10.20.128.0/24' } })))).toEqual([
      'spec.remote.externalCIDR: externalCIDR 10.20.128.0/24 must not overlap podCIDRs (overlaps 10.20.0.0/16)',
    ]);
  });

  it('rejects an unknown backend and mismatched settings', () => {
    expect(errorsOf(validateTunnelEndpointSpec({ ...spec(), backend: 'openvpn' }))[0]).toBe(
      'spec.backend: unsupported value "openvpn"; supported values: wireguard, ipsec, vxlan',
    );
    expect(errorsOf(validateTunnelEndpointSpec(spec({ backend: 'vxlan' })))).toEqual([
      'spec.backendConfig: backendConfig must set vxlan and no other backend',
    ]);
  });

  it('checks the remapped remote pod CIDR against the remote pod CIDR of its family', () => {
    // Different size: a 1:1 remap needs the same prefix length.
    expect(errorsOf(validateTunnelEndpointSpec(spec({ remap: { remotePodCIDR: '10.120.0.0/24' } })))[0]).toMatch(
      /^spec\.remap\.remotePodCIDR: remap\.remotePodCIDR must have the same IP family and prefix length/,
    );
    // No remote pod CIDR of that family.
    expect(errorsOf(validateTunnelEndpointSpec(spec({ remap: { remotePodCIDR: 'fd00:120::/64' } })))[0]).toMatch(
      /^spec\.remap\.remotePodCIDR: /,
    );
    // Dual-stack remote: the IPv6 remap matches the IPv6 pod CIDR.
    expect(
      validateTunnelEndpointSpec(spec({ remote: { podCIDRs: ['10.20.0.0/16', 'fd00:20::/56'] }, remap: { remotePodCIDR: 'fd00:120::/56' } })).ok,
    ).toBe(true);
  });

  it('checks the remapped remote external CIDR against remote.externalCIDR', () => {
    expect(validateTunnelEndpointSpec(spec({ remap: { remoteExternalCIDR: '10.122.0.0/16' } })).ok).toBe(true);
    expect(errorsOf(validateTunnelEndpointSpec(spec({ remap: { remoteExternalCIDR: '10.122.0.0/20' } })))[0]).toMatch(
      /^spec\.remap\.remoteExternalCIDR: remap\.remoteExternalCIDR requires remote\.externalCIDR/,
    );
    expect(
      errorsOf(validateTunnelEndpointSpec(spec({ remote: { podCIDRs: ['10.20.0.0/16'] }, remap: { remoteExternalCIDR: '10.122.0.0/16' } })))[0],
    ).toMatch(/^spec\.remap\.remoteExternalCIDR: /);
  });

  it('rejects remapped CIDRs that overlap each other', () => {
    expect(
      errorsOf(validateTunnelEndpointSpec(spec({ remap: { remotePodCIDR: '10.120.0.0/16', remoteExternalCIDR: '10.120.0.0/16' } }))),
    ).toEqual(['spec.remap.remoteExternalCIDR: remap.remoteExternalCIDR must not overlap remap.remotePodCIDR (10.120.0.0/16 and 10.120.0.0/16)']);
    expect(errorsOf(validateTunnelEndpointSpec(spec({ remap: { localPodCIDR: '10.110.0.0/16', localExternalCIDR: '10.110.64.0/18' } })))).toEqual([
      'spec.remap.localExternalCIDR: remap.localExternalCIDR must not overlap remap.localPodCIDR (10.110.64.0/18 and 10.110.0.0/16)',
    ]);
  });

  it('rejects an invalid remapped CIDR naming the field', () => {
    expect(errorsOf(validateTunnelEndpointSpec(spec({ remap: { localPodCIDR: '10.110.0.1/16' } })))).toEqual([
      'spec.remap.localPodCIDR: "10.110.0.1/16" has host bits set; the network is "10.110.0.0/16"',
    ]);
  });

  it('bounds the MTU', () => {
    expect(errorsOf(validateTunnelEndpointSpec(spec({ mtu: 100 })))).toEqual(['spec.mtu: must be >= 576 (got 100)']);
  });
});

describe('validateTunnelEndpointStatus', () => {
  it('accepts a connected status', () => {
    const status = {
      phase: 'Connected',
      interface: 'wg-cluster-b',
      latency: { lastMs: 1, minMs: 0.5, averageMs: 0.8, maxMs: 3, stdDevMs: 0.3 },
      lastHandshakeTime: '2025-01-01T00:00:00Z',
      observedGeneration: 3,
      conditions: [{ type: 'Ready', status: 'True', reason: 'HandshakeDone', message: 'ok', lastTransitionTime: '2025-01-01T00:00:00Z' }],
    };
    expect(validateTunnelEndpointStatus(status)).toEqual({ ok: true, value: status });
  });

  it('rejects an unknown phase, a long interface name and a bad timestamp', () => {
    const errors = errorsOf(validateTunnelEndpointStatus({ phase: 'Up', interface: 'a-very-long-interface', lastHandshakeTime: 'yesterday' }));
    expect(errors).toContain('status.phase: unsupported value "Up"; supported values: Connecting, Connected, Error');
    expect(errors).toContain('status.interface: must not have more than 15 characters');
    expect(errors).toContain('status.lastHandshakeTime: must match format "date-time" (got "yesterday")');
  });
});

describe('validateTunnelEndpoint', () => {
  it('accepts the example object', () => {
    expect(validateTunnelEndpoint(examples.tunnelEndpoint()).ok).toBe(true);
  });
});
