import { describe, expect, it } from 'vitest';
import { offeredBackends } from '../schema/fields.ts';
import { validateEndpoint, validateEndpointSpec, type EndpointSpec } from './endpoint.ts';
import { EXAMPLE_WIREGUARD_PUBLIC_KEY, examples } from './examples.ts';

const spec = (patch: Partial<EndpointSpec> = {}): EndpointSpec => ({ ...examples.endpoint().spec, ...patch });

function errorsOf(result: { ok: boolean; errors?: string[] }): string[] {
  expect(result.ok).toBe(false);
  return result.errors ?? [];
}

describe('validateEndpointSpec', () => {
  it('accepts the example and each backend with its own settings', () => {
    expect(validateEndpointSpec(spec()).ok).toBe(true);
    expect(validateEndpointSpec(spec({ backend: 'ipsec', backendConfig: { ipsec: { ikeID: 'cluster-b', port: 500, natTPort: 4500 } } })).ok).toBe(true);
    expect(validateEndpointSpec(spec({ backend: 'vxlan', backendConfig: { vxlan: { port: 4789 } } })).ok).toBe(true);
    expect(validateEndpointSpec(spec({ backend: 'vxlan', backendConfig: { vxlan: { vni: 100, port: 4789 } } })).ok).toBe(true);
  });

  it('accepts several offered backends besides the preferred one', () => {
    const offer = spec({
      backend: 'ipsec',
      backendConfig: {
        wireguard: { publicKey: EXAMPLE_WIREGUARD_PUBLIC_KEY, port: 51820 },
        ipsec: { ikeID: 'cluster-b', port: 500, natTPort: 4500 },
        vxlan: { port: 4789 },
      },
    });
    expect(validateEndpointSpec(offer).ok).toBe(true);
    expect(offeredBackends(offer)).toEqual(['ipsec', 'wireguard', 'vxlan']);
    expect(offeredBackends(spec())).toEqual(['wireguard']);
  });

  it('rejects an unknown backend', () => {
    expect(errorsOf(validateEndpointSpec({ ...spec(), backend: 'gre' }))).toContain(
      'spec.backend: unsupported value "gre"; supported values: wireguard, ipsec, vxlan',
    );
  });

  it('rejects offers without the settings of the preferred backend', () => {
    expect(errorsOf(validateEndpointSpec(spec({ backend: 'ipsec' })))).toEqual([
      'spec.backendConfig: backendConfig must set ipsec, the preferred backend',
    ]);
    expect(errorsOf(validateEndpointSpec(spec({ backend: 'vxlan', backendConfig: { ipsec: { ikeID: 'cluster-b', port: 500 } } })))).toEqual([
      'spec.backendConfig: backendConfig must set vxlan, the preferred backend',
    ]);
    expect(errorsOf(validateEndpointSpec(spec({ backendConfig: {} })))).toEqual([
      'spec.backendConfig: backendConfig must set wireguard, the preferred backend',
    ]);
  });

  it('validates WireGuard keys (32 bytes of base64) and ports', () => {
    const bad = (publicKey: string, port = 51820) => validateEndpointSpec(spec({ backendConfig: { wireguard: { publicKey, port } } }));
    expect(errorsOf(bad('abc'))).toContain('spec.backendConfig.wireguard.publicKey: must not have fewer than 44 characters');
    // 44 characters but the last data character carries bits beyond 32 bytes.
    expect(errorsOf(bad('xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dh='))[0]).toMatch(
      /^spec\.backendConfig\.wireguard\.publicKey: ".*" must be a WireGuard public key/,
    );
    expect(errorsOf(bad(EXAMPLE_WIREGUARD_PUBLIC_KEY, 0))).toEqual(['spec.backendConfig.wireguard.port: must be >= 1 (got 0)']);
    expect(errorsOf(bad(EXAMPLE_WIREGUARD_PUBLIC_KEY, 70000))).toEqual([
      'spec.backendConfig.wireguard.port: must be <= 65535 (got 70000)',
    ]);
    expect(errorsOf(bad(EXAMPLE_WIREGUARD_PUBLIC_KEY, 1.5))[0]).toMatch(/^spec\.backendConfig\.wireguard\.port: must be integer/);
  });

  it('validates VXLAN VNIs and IPsec IDs', () => {
    expect(errorsOf(validateEndpointSpec(spec({ backend: 'vxlan', backendConfig: { vxlan: { vni: 1 << 24, port: 4789 } } })))).toEqual([
      'spec.backendConfig.vxlan.vni: must be <= 16777215 (got 16777216)',
    ]);
    expect(errorsOf(validateEndpointSpec(spec({ backend: 'ipsec', backendConfig: { ipsec: { ikeID: 'a b', port: 500 } } })))[0]).toMatch(
      /^spec\.backendConfig\.ipsec\.ikeID: "a b" must match the pattern/,
    );
  });

  it('rejects bad and non-canonical IPs naming the field', () => {
    const errors = errorsOf(validateEndpointSpec(spec({ privateIP: '192.168.1.010', publicIP: '2001:DB8::1', healthCheckIP: '::ffff:10.0.0.1' })));
    expect(errors).toEqual([
      'spec.privateIP: "192.168.1.010" is not a valid IP address',
      'spec.publicIP: "2001:DB8::1" is not in canonical form; write it as "2001:db8::1"',
      'spec.healthCheckIP: "::ffff:10.0.0.1" is not a valid IP address',
    ]);
  });

  it('rejects overlapping subnets', () => {
    expect(errorsOf(validateEndpointSpec(spec({ subnets: ['10.20.0.0/16', '10.0.0.0/8'] })))).toEqual([
      'spec.subnets[1]: CIDRs in this list must not overlap each other: "10.20.0.0/16" and "10.0.0.0/8"',
    ]);
  });

  it('rejects a hostname that is not a DNS-1123 subdomain', () => {
    expect(errorsOf(validateEndpointSpec(spec({ hostname: 'GW_1' })))[0]).toMatch(/^spec\.hostname: "GW_1" must be a DNS-1123 subdomain/);
  });
});

describe('validateEndpoint', () => {
  it('accepts the example object and returns a pruned copy', () => {
    const input = { ...examples.endpoint(), extra: 1 };
    const result = validateEndpoint(input);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.value.spec).toEqual(examples.endpoint().spec);
  });
});
