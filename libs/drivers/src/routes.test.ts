import { RecordingRunner } from '@strait/net';
import { describe, expect, it } from 'vitest';
import { OwnedRoutes } from './routes.ts';

/** `ip -4 -N -j route show table main` as the kernel would answer it: one foreign route and one of ours. */
function kernel(routes: object[]): RecordingRunner {
  return new RecordingRunner((cmd, args) => {
    if (cmd === 'ip' && args.includes('show')) return args.includes('-4') ? JSON.stringify(routes) : '[]';
    return '';
  });
}

describe('OwnedRoutes.apply: many peers in one go', () => {
  it('100 peers: one listing and one ip -batch, whatever the number of peers', async () => {
    const runner = kernel([{ dst: '10.64.0.0/24', dev: 'strait-wg0', protocol: 210 }, { dst: '192.168.1.0/24', dev: 'eth0', protocol: 'kernel' }]);
    const routes = new OwnedRoutes(runner, 'gw', 'wireguard');
    const want = Array.from({ length: 100 }, (_, i) => ({ dst: `10.64.${i}.0/24`, dev: 'strait-wg0' }));
    const writes = await routes.apply(['10.99.0.0/24'], want);
    expect(writes).toBe(99); // 10.64.0.0/24 is there already
    expect(runner.reads).toHaveLength(1);
    expect(runner.writes).toHaveLength(1);
    expect(runner.writes[0]!.args).toEqual(['-batch', '-']);
    expect(runner.writes[0]!.input?.split('\n').filter(Boolean)).toHaveLength(99);
  });

  it('removes stale routes of ours and keeps the wanted ones', async () => {
    const runner = kernel([{ dst: '10.64.0.0/24', dev: 'strait-wg0', protocol: 210 }, { dst: '10.65.0.0/24', dev: 'strait-wg0', protocol: 210 }]);
    const writes = await new OwnedRoutes(runner, 'gw', 'wireguard').apply(['10.64.0.0/24', '10.65.0.0/24'], [{ dst: '10.64.0.0/24', dev: 'strait-wg0' }]);
    expect(writes).toBe(1);
    expect(runner.writes.map((w) => w.line)).toEqual(['ip route del 10.65.0.0/24 proto 210 table main (netns gw)']);
  });

  it('refuses to replace a route Strait did not create, before any change', async () => {
    const runner = kernel([{ dst: '192.168.1.0/24', dev: 'eth0', protocol: 'kernel' }]);
    await expect(
      new OwnedRoutes(runner, 'gw', 'wireguard').apply([], [
        { dst: '10.64.1.0/24', dev: 'strait-wg0' },
        { dst: '192.168.1.0/24', dev: 'strait-wg0' },
      ]),
    ).rejects.toThrow(/route to 192.168.1.0\/24 that Strait did not create/);
    expect(runner.writes).toHaveLength(0);
  });

  it('an unchanged set writes nothing', async () => {
    const runner = kernel([{ dst: '10.64.0.0/24', dev: 'strait-wg0', protocol: 210 }]);
    expect(await new OwnedRoutes(runner, 'gw', 'wireguard').apply([], [{ dst: '10.64.0.0/24', dev: 'strait-wg0' }])).toBe(0);
    expect(runner.writes).toHaveLength(0);
  });
});
