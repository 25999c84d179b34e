import { describe, expect, it } from 'vitest';
import { RecordingRunner } from '../recording-runner.ts';
import { generateKeyPair, keyFingerprint } from './keys.ts';
import { parseWgDump, WgCli } from './wg-cli.ts';

const local = generateKeyPair();
const peerA = generateKeyPair();
const peerB = generateKeyPair();
const psk = generateKeyPair().privateKey;

function dump(peers: string[] = []): string {
  return [[local.privateKey, local.publicKey, '51820', 'off'].join('\t'), ...peers].join('\n') + '\n';
}

describe('wg show dump parsing', () => {
  it('parses interface and peers and drops the private key', () => {
    const text = dump([
      [peerA.publicKey, psk, '192.0.2.2:51820', '10.2.0.0/16,fd00::/64', '1700000000', '2000', '1000', '25'].join('\t'),
      [peerB.publicKey, '(none)', '(none)', '(none)', '0', '0', '0', 'off'].join('\t'),
    ]);
    const state = parseWgDump(text);
    expect(state.publicKey).toBe(local.publicKey);
    expect(state.listenPort).toBe(51820);
    expect(state.peers).toEqual([
      { publicKey: peerA.publicKey, hasPresharedKey: true, presharedKeyFingerprint: keyFingerprint(psk), endpoint: '192.0.2.2:51820', allowedIps: ['10.2.0.0/16', 'fd00::/64'], persistentKeepalive: 25, lastHandshake: new Date(1_700_000_000_000), rxBytes: 2000, txBytes: 1000 },
      { publicKey: peerB.publicKey, hasPresharedKey: false, presharedKeyFingerprint: undefined, endpoint: undefined, allowedIps: [], persistentKeepalive: 0, lastHandshake: undefined, rxBytes: 0, txBytes: 0 },
    ]);
    expect(JSON.stringify(state)).not.toContain(local.privateKey);
    expect(JSON.stringify(state)).not.toContain(psk);
  });

  it('rejects short peer lines', () => {
    expect(() => parseWgDump(dump(['a\tb']), 'wg0')).toThrow(/peer line 1 has 2 fields/);
  });
});

describe('WgCli', () => {
  it('passes the private key and PSKs in private files, never as arguments', async () => {
    const runner = new RecordingRunner(() => dump());
    const wg = new WgCli('strait-wg0', runner, 'gw-a');
    await wg.set({
      privateKey: local.privateKey,
      listenPort: 51820,
      peers: [
        { publicKey: peerA.publicKey, presharedKey: psk, endpoint: '192.0.2.2:51820', persistentKeepalive: 25, replaceAllowedIps: true, allowedIps: ['10.2.0.0/16'] },
        { publicKey: peerB.publicKey, endpoint: '192.0.2.3:51820', replaceAllowedIps: true, allowedIps: ['10.3.0.0/16'] },
      ],
    });
    const lines = runner.commands.map((c) => c.line);
    expect(lines).toEqual([
      expect.stringMatching(/^wg set strait-wg0 listen-port 51820 private-key \/tmp\/strait-wg-\w+\/key \(netns gw-a\)$/),
      expect.stringMatching(new RegExp(`^wg set strait-wg0 peer ${peerA.publicKey.replace(/[+/]/g, '\\$&')} endpoint 192\\.0\\.2\\.2:51820 persistent-keepalive 25 allowed-ips 10\\.2\\.0\\.0/16 preshared-key /tmp/strait-wg-\\w+/key \\(netns gw-a\\)$`)),
      `wg set strait-wg0 peer ${peerB.publicKey} endpoint 192.0.2.3:51820 allowed-ips 10.3.0.0/16 (netns gw-a)`,
    ]);
    expect(runner.commands.map((c) => c.input)).toEqual([undefined, undefined, undefined]);
    expect(JSON.stringify(runner.commands)).not.toContain(local.privateKey);
    expect(JSON.stringify(runner.commands)).not.toContain(psk);
  });

  it('emulates replace_peers and additive allowed IPs by reading first', async () => {
    const runner = new RecordingRunner((_c, args) =>
      args[0] === 'show' ? dump([[peerB.publicKey, '(none)', '(none)', '10.9.0.0/16', '0', '0', '0', 'off'].join('\t'), [peerA.publicKey, '(none)', '(none)', '10.2.0.0/16', '0', '0', '0', 'off'].join('\t')]) : '',
    );
    await new WgCli('wg0', runner).set({ replacePeers: true, peers: [{ publicKey: peerA.publicKey, allowedIps: ['10.4.0.0/16'] }] });
    expect(runner.commands.map((c) => c.line)).toEqual([
      'wg show wg0 dump',
      `wg set wg0 peer ${peerB.publicKey} remove peer ${peerA.publicKey} allowed-ips 10.2.0.0/16,10.4.0.0/16`,
    ]);
  });

  it('validates everything before running anything', async () => {
    const runner = new RecordingRunner(() => '');
    await expect(new WgCli('wg0', runner).set({ privateKey: local.privateKey, peers: [{ publicKey: 'bad' }] })).rejects.toThrow(/peers\[0\]\.publicKey/);
    expect(runner.commands).toEqual([]);
  });
});
