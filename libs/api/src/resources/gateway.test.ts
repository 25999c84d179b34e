import { describe, expect, it } from 'vitest';
import { examples } from './examples.ts';
import { validateGateway, validateGatewaySpec, validateGatewayStatus } from './gateway.ts';

function errorsOf(result: { ok: boolean; errors?: string[] }): string[] {
  expect(result.ok).toBe(false);
  return result.errors ?? [];
}

describe('Gateway validators', () => {
  it('accepts the example, and an object without spec (status only)', () => {
    expect(validateGateway(examples.gateway()).ok).toBe(true);
    const { spec: _spec, ...statusOnly } = examples.gateway();
    expect(validateGateway(statusOnly).ok).toBe(true);
    expect(validateGatewaySpec({}).ok).toBe(true);
  });

  it('rejects an unknown role and connection status', () => {
    const status = examples.gateway().status!;
    expect(errorsOf(validateGatewayStatus({ ...status, role: 'leader' }))).toEqual([
      'status.role: unsupported value "leader"; supported values: active, standby',
    ]);
    const connection = status.connections![0]!;
    expect(errorsOf(validateGatewayStatus({ ...status, connections: [{ ...connection, status: 'Up' }] }))).toEqual([
      'status.connections[0].status: unsupported value "Up"; supported values: Connecting, Connected, Error',
    ]);
  });

  it('rejects negative counters and a connection listed twice', () => {
    const status = examples.gateway().status!;
    const connection = status.connections![0]!;
    expect(errorsOf(validateGatewayStatus({ ...status, connections: [{ ...connection, rxBytes: -1 }] }))).toEqual([
      'status.connections[0].rxBytes: must be >= 0 (got -1)',
    ]);
    expect(errorsOf(validateGatewayStatus({ ...status, connections: [connection, connection] }))).toEqual([
      'status.connections[1]: duplicate entry with cluster="cluster-b"',
    ]);
  });

  it('requires role in status', () => {
    expect(errorsOf(validateGatewayStatus({ node: 'node-1' }))).toEqual(['status.role: required field is missing']);
  });
});
