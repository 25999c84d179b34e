import { FakeVici, RecordingRunner, type RunOptions } from '@strait/net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PeerSpec } from '../types.ts';
import { IpsecDriver, type CharonHandle } from './driver.ts';

// The driver creates its state directory: give it a private one and remove it afterwards.
const stateRoot = mkdtempSync(join(tmpdir(), 'strait-unit-ipsec-'));
afterAll(() => rmSync(stateRoot, { recursive: true, force: true }));

/** The IPsec driver against an in-memory charon and a scripted kernel. */
function setup() {
  const vici = new FakeVici();
  const charon: CharonHandle & { starts: number; stops: number; pid: number | undefined } = {
    starts: 0,
    stops: 0,
    pid: undefined,
    async start() {
      this.starts++;
      this.pid = 4242;
      return { adopted: false, pid: 4242 };
    },
    async stop() {
      this.stops++;
      this.pid = undefined;
    },
    vici: () => vici,
  };
  const routes = new Map<string, string | undefined>();
  let nftExists = false;
  const runner = new RecordingRunner((cmd: string, args: readonly string[], _opts: RunOptions) => {
    const line = args.join(' ');
    if (cmd === 'ip' && line === '-j addr show') {
      return JSON.stringify([
        { ifname: 'wan0', mtu: 1500, addr_info: [{ local: '192.0.2.1' }] },
        { ifname: 'pods0', mtu: 1500, addr_info: [{ local: '10.1.0.1' }] },
      ]);
    }
    if (cmd === 'ip' && line.startsWith('-j link show dev ipsec0')) return JSON.stringify([{ ifname: 'ipsec0', mtu: 1400 }]);
    if (cmd === 'ip' && line === 'link show dev ipsec0') return '';
    if (cmd === 'ip' && /route show table main proto 211$/.test(line)) {
      const fam = args[0] === '-6' ? ':' : '.';
      return JSON.stringify([...routes].filter(([r]) => r.includes(fam)).map(([dst, prefsrc]) => ({ dst, dev: 'ipsec0', protocol: '211', ...(prefsrc ? { prefsrc } : {}) })));
    }
    if (cmd === 'ip' && line.includes('route show table main exact')) return '[]';
    if (cmd === 'ip' && args[0] === 'route' && args[1] === 'replace') {
      const src = args.indexOf('src');
      routes.set(args[2]!, src > 0 ? args[src + 1] : undefined);
      return '';
    }
    if (cmd === 'ip' && args[0] === 'route' && args[1] === 'del') {
      routes.delete(args[2]!);
      return '';
    }
    if (cmd === 'nft' && args.includes('tables')) return JSON.stringify({ nftables: nftExists ? [{ table: { family: 'inet', name: 'strait_mss_ipsec' } }] : [] });
    if (cmd === 'nft' && args[0] === '-j') return nftExists ? JSON.stringify({ nftables: [{ table: { family: 'inet', name: 'strait_mss_ipsec', handle: 1 } }] }) : { fail: 'Error: No such file or directory', exitCode: 1 };
    if (cmd === 'nft' && args[0] === '-f') {
      nftExists = !String(_opts.input).startsWith('delete table');
      return '';
    }
    return '';
  });
  const driver = new IpsecDriver({ clusterId: 'cluster-a', netns: 'gw', localIp: '192.0.2.1', stateDir: join(stateRoot, 'state'), runner }, { charon });
  return { vici, charon, runner, routes, driver };
}

const PSK = 'unit-test-psk-0123456789abcdef';
const spec: PeerSpec = {
  clusterId: 'cluster-b',
  backend: 'ipsec',
  endpoint: { ip: '192.0.2.2' },
  remoteSubnets: ['10.2.0.0/16'],
  localSubnets: ['10.1.0.0/16'],
  backendConfig: { psk: PSK },
};

describe('IpsecDriver (fake charon)', () => {
  it('loads the PSK and the connection, initiates, routes the remote subnet into ipsec0 and reports Connected', async () => {
    const { vici, routes, driver } = setup();
    const st = await driver.connect(spec);
    expect(vici.calls.filter((c) => !c.startsWith('subscribe'))).toEqual(['version', 'load-shared strait-psk-cluster-b', 'load-conn strait-cluster-b', 'list-sas', 'initiate strait-cluster-b', 'list-sas']);
    expect(vici.shared.get('strait-psk-cluster-b')).toEqual(['cluster-a', 'cluster-b']);
    expect(vici.conns.get('strait-cluster-b')).toMatchObject({ remote_addrs: ['192.0.2.2', '0.0.0.0/0', '::/0'], encap: true, children: { 'strait-cluster-b': { local_ts: ['10.1.0.0/16'], remote_ts: ['10.2.0.0/16'] } } });
    expect([...routes.keys()]).toEqual(['10.2.0.0/16']);
    expect(st).toMatchObject({ state: 'Connected', backend: 'ipsec', interface: 'ipsec0', rxBytes: 100, txBytes: 200 });
    expect(JSON.stringify(st)).not.toContain(PSK);
    await driver.close();
  });

  it('re-applying the same peer touches neither charon nor the kernel', async () => {
    const { vici, runner, driver } = setup();
    await driver.connect(spec);
    vici.calls.length = 0;
    runner.clear();
    await driver.connect(spec);
    expect(vici.calls).toEqual(['list-sas', 'list-sas']);
    expect(runner.writes).toEqual([]);
    await driver.close();
  });

  it('stays Connecting while charon keeps trying, and never leaks the PSK', async () => {
    const { vici, driver } = setup();
    vici.initiateError = 'establishing CHILD_SA failed';
    const st = await driver.connect(spec);
    expect(st.state).toBe('Connecting');
    expect(st.message).toBe('no IKE_SA with 192.0.2.2:500');
    await driver.close();
  });

  it('disconnect terminates the SA before unloading; cleanup stops charon and removes routes and the table', async () => {
    const { vici, charon, routes, driver } = setup();
    await driver.connect(spec);
    await driver.disconnect('cluster-b');
    expect(vici.calls.slice(-4)).toEqual(['list-sas', 'terminate strait-cluster-b', 'unload-conn strait-cluster-b', 'unload-shared strait-psk-cluster-b']);
    expect(routes.size).toBe(0);
    await driver.cleanup();
    expect(charon.stops).toBe(1);
  });

  it('a standby releases what an earlier process left in charon (connections, SAs, PSKs, routes) and keeps what it holds', async () => {
    const { vici, charon, routes, driver } = setup();
    // Nothing runs: nothing to release, and no charon is started for it.
    expect(await driver.releaseUnheld()).toBe(0);
    expect(charon.starts).toBe(0);
    expect(vici.calls).toEqual([]);
    // An earlier process (crashed while active) left cluster-c's connection, SA, PSK and route behind.
    charon.pid = 4242;
    await vici.loadShared({ id: 'strait-psk-cluster-c', type: 'IKE', data: PSK, owners: ['cluster-a', 'cluster-c'] });
    await vici.loadConn('strait-cluster-c', {});
    await vici.initiate({ child: 'strait-cluster-c', ike: 'strait-cluster-c' });
    await vici.loadConn('other-conn', {});
    routes.set('10.3.0.0/16', undefined);
    await driver.connect(spec);
    vici.calls.length = 0;
    expect(await driver.releaseUnheld()).toBe(1);
    expect(vici.calls.filter((c) => !c.startsWith('subscribe') && c !== 'version')).toEqual([
      'get-conns',
      'list-sas',
      'terminate strait-cluster-c',
      'unload-conn strait-cluster-c',
      'get-shared',
      'unload-shared strait-psk-cluster-c',
    ]);
    expect([...vici.conns.keys()].sort()).toEqual(['other-conn', 'strait-cluster-b']);
    expect([...vici.shared.keys()]).toEqual(['strait-psk-cluster-b']);
    expect([...vici.sas.keys()]).toEqual(['strait-cluster-b']);
    expect([...routes.keys()]).toEqual(['10.2.0.0/16']);
    // Released already: a second call changes nothing.
    expect(await driver.releaseUnheld()).toBe(0);
    await driver.close();
  });

  it('fails clearly and changes nothing when the VICI socket is unreachable', async () => {
    const { vici, runner, routes, driver } = setup();
    vici.unreachable = true;
    await expect(driver.connect(spec)).rejects.toThrow('ipsec driver: VICI socket /fake/charon.vici unreachable (ENOENT): no such socket');
    expect(runner.writes).toEqual([]);
    expect(routes.size).toBe(0);
  });

  it('rejects a short PSK and overlapping peers before any call', async () => {
    const { vici, driver } = setup();
    await expect(driver.connect({ ...spec, backendConfig: { psk: 'short' } })).rejects.toThrow('ipsec driver: backendConfig.psk: missing or shorter than 16 characters');
    expect(vici.calls).toEqual([]);
    await driver.connect(spec);
    await expect(driver.connect({ ...spec, clusterId: 'cluster-c', remoteSubnets: ['10.2.5.0/24'] })).rejects.toThrow('10.2.5.0/24 of peer cluster-c overlaps 10.2.0.0/16 of peer cluster-b');
    await driver.close();
  });
});
