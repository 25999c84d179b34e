import { HOST } from './apply-report.ts';
import { describe, expect, it } from 'vitest';
import { FakeNetwork } from './fake/fake-network.ts';
import { NetOutputError } from './exec.ts';
import { RecordingRunner } from './recording-runner.ts';
import { IpRoutes, normalizeRoutes, type RouteSpec } from './routes.ts';

const V4 = JSON.stringify([
  { dst: '10.1.0.0/16', gateway: '10.9.0.2', dev: 'v0', table: '100', flags: [] },
  { dst: '10.2.0.0/16', gateway: '10.9.0.2', dev: 'v0', table: '100', flags: [] },
  { type: '6', dst: '10.3.0.0/16', table: '100', flags: [] },
  { dst: 'default', gateway: '10.9.0.1', dev: 'v0', table: '200', flags: ['onlink'], metrics: [{ mtu: 1380 }] },
  { type: '2', dst: '10.9.0.1', dev: 'v0', table: '255', flags: [] },
]);
const V6 = JSON.stringify([{ type: '6', dst: 'fd10::/64', dev: 'lo', table: '100', metric: 1024, flags: [], pref: 'medium' }]);

function kernel(v4 = V4, v6 = V6): RecordingRunner {
  return new RecordingRunner((_c, args) => (args.includes('show') ? (args[0] === '-4' ? v4 : v6) : ''));
}

describe('routes', () => {
  it('lists only Strait routes (proto 201) and parses types, tables, metrics, onlink, mtu', async () => {
    const rec = kernel();
    const routes = await new IpRoutes(rec).list('gw');
    expect(rec.commands.map((c) => c.line)).toEqual([
      'ip -4 -N -j route show table all proto 201 (netns gw)',
      'ip -6 -N -j route show table all proto 201 (netns gw)',
    ]);
    expect(routes.map((r) => `${r.type} ${r.dst} t${r.table} m${r.metric} ${r.via ?? '-'} ${r.dev ?? '-'} ${r.onlink} ${r.mtu ?? '-'}`)).toEqual([
      'unicast 10.1.0.0/16 t100 m0 10.9.0.2 v0 false -',
      'unicast 10.2.0.0/16 t100 m0 10.9.0.2 v0 false -',
      'blackhole 10.3.0.0/16 t100 m0 - - false -',
      'unicast 0.0.0.0/0 t200 m0 10.9.0.1 v0 true 1380',
      'blackhole fd10::/64 t100 m1024 - - false -',
    ]);
    expect(await new IpRoutes(kernel()).list('gw', { tables: [200] })).toHaveLength(1);
  });

  it('applies only the difference in one batch: add, replace, delete', async () => {
    const rec = kernel();
    const desired: RouteSpec[] = [
      { dst: '10.1.0.0/16', via: '10.9.0.2', table: 100 }, // unchanged (dev left open)
      { dst: '10.2.0.0/16', via: '10.9.0.3', table: 100 }, // changed gateway → replace
      { dst: '10.4.0.0/16', dev: 'v0', src: '10.9.0.1', table: 100, metric: 5 }, // new
      { dst: 'default', via: '10.9.0.1', dev: 'v0', onlink: true, mtu: 1380, table: 200 },
      { dst: 'fd10::/64', type: 'blackhole', table: 100 },
    ];
    const r = await new IpRoutes(rec).apply('gw', desired);
    expect(r).toEqual({ added: 1, removed: 1, changed: 1, unchanged: 3, writes: 1 });
    const writes = rec.writes;
    expect(writes).toHaveLength(1);
    expect(writes[0]?.line).toBe('ip -batch - (netns gw)');
    expect(writes[0]?.input).toBe(
      [
        'route add 10.4.0.0/16 dev v0 src 10.9.0.1 table 100 proto 201 metric 5',
        'route replace 10.2.0.0/16 via 10.9.0.3 table 100 proto 201 metric 0',
        'route del blackhole 10.3.0.0/16 table 100 proto 201 metric 0',
        '',
      ].join('\n'),
    );
  });

  it('re-applying what the kernel has issues zero writes', async () => {
    const rec = kernel();
    const r = await new IpRoutes(rec).apply('gw', [
      { dst: '10.1.0.0/16', via: '10.9.0.2', dev: 'v0', table: 100 },
      { dst: '10.2.0.0/16', via: '10.9.0.2', table: 100 },
      { dst: '10.3.0.0/16', type: 'blackhole', table: 100 },
      { dst: '0.0.0.0/0', via: '10.9.0.1', dev: 'v0', onlink: true, mtu: 1380, table: 200 },
      { dst: 'fd10::/64', type: 'blackhole', table: 100 },
    ]);
    expect(r.writes).toBe(0);
    expect(rec.writes).toHaveLength(0);
  });

  it('rejects bad desired state naming the field, before any command', async () => {
    const rec = kernel();
    const bad = (s: RouteSpec[]): Promise<unknown> => new IpRoutes(rec).apply('gw', s);
    await expect(bad([{ dst: '10.0.0.0/33', dev: 'a' }])).rejects.toThrow('routes[0].dst: "10.0.0.0/33" is not a prefix');
    await expect(bad([{ dst: '10.0.0.0/8' }])).rejects.toThrow('routes[0]: a unicast route needs "via" or "dev"');
    await expect(bad([{ dst: '10.0.0.0/8', via: 'fd00::1' }])).rejects.toThrow('routes[0].via: fd00::1 is not an IPv4 address');
    await expect(bad([{ dst: '10.0.0.0/8', type: 'blackhole', dev: 'a' }])).rejects.toThrow('takes no "via", "dev"');
    await expect(bad([{ dst: '10.0.0.0/8', dev: 'a' }, { dst: '10.0.0.1/8', dev: 'b' }])).rejects.toThrow('routes[1]: duplicates routes[0]');
    await expect(new IpRoutes(rec).apply('gw', [{ dst: '10.0.0.0/8', dev: 'a', table: 5 }], { tables: [100] })).rejects.toThrow(
      "routes[0].table: 5 is outside this owner's tables (100)",
    );
    await expect(new IpRoutes(rec).apply('gw', [], { proto: 4 })).rejects.toThrow('proto 4 is not a Strait protocol number');
    expect(rec.commands).toHaveLength(0);
    expect(normalizeRoutes([{ dst: 'default', family: 6, via: 'fd00::1' }])[0]?.metric).toBe(1024);
  });

  it('rejects malformed kernel output clearly', async () => {
    await expect(new IpRoutes(kernel('[{"dst": 5}]')).list('gw')).rejects.toThrow(
      'ip -4 -N -j route show table all proto 201 (netns gw): unexpected output: [0].dst is number 5, expected a string',
    );
    await expect(new IpRoutes(kernel('[{"dst": ')).list('gw')).rejects.toThrow(NetOutputError);
  });

  it('fake: owned-only, idempotent, foreign routes untouched, a failed add changes nothing', async () => {
    const net = new FakeNetwork();
    net.seedRoute(HOST, { dst: '10.50.0.0/16', dev: 'eth0', table: 100 }); // foreign, proto 4
    net.seedRoute(HOST, { dst: '10.51.0.0/16', dev: 'eth0', table: 100 }); // foreign
    const desired: RouteSpec[] = [
      { dst: '10.1.0.0/16', dev: 'v0', table: 100 },
      { dst: '10.2.0.0/16', dev: 'v0', table: 100 },
    ];
    expect((await net.routes.apply(HOST, desired)).added).toBe(2);
    expect(net.writes).toBe(1);
    expect((await net.routes.apply(HOST, desired)).writes).toBe(0);
    expect(net.writes).toBe(1);
    expect(await net.routes.list(HOST)).toHaveLength(2);
    // the kernel refuses a route with a foreign route's key: nothing of the batch stays
    await expect(net.routes.apply(HOST, [...desired, { dst: '10.3.0.0/16', dev: 'v0', table: 100 }, { dst: '10.50.0.0/16', dev: 'v0', table: 100 }])).rejects.toThrow(
      /route add 10.50.0.0\/16 .*File exists/,
    );
    expect((await net.routes.list(HOST)).map((r) => r.dst)).toEqual(['10.1.0.0/16', '10.2.0.0/16']);
    await net.routes.deleteOwned(HOST);
    expect(net.allRoutes(HOST).map((r) => `${r.route.dst} ${r.proto}`)).toEqual(['10.50.0.0/16 4', '10.51.0.0/16 4']);
  });
});
