import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPair, keyFingerprint, keyToHex } from './keys.ts';
import { encodeUapiSet, parseUapiGet, UapiClient, validateWgAllowedIp, validateWgEndpoint } from './uapi.ts';

const local = generateKeyPair();
const peerA = generateKeyPair();
const peerB = generateKeyPair();
const psk = generateKeyPair().privateKey;

describe('UAPI encoding', () => {
  it('encodes a full set request with hex keys', () => {
    const body = encodeUapiSet({
      privateKey: local.privateKey,
      listenPort: 51820,
      replacePeers: true,
      peers: [
        { publicKey: peerA.publicKey, presharedKey: psk, endpoint: '192.0.2.2:51820', persistentKeepalive: 25, replaceAllowedIps: true, allowedIps: ['10.2.0.0/16', 'fd00:2::/64'] },
        { publicKey: peerB.publicKey, remove: true },
        { publicKey: peerA.publicKey, presharedKey: null, endpoint: '[2001:db8::1]:4500', updateOnly: true },
      ],
    });
    expect(body.split('\n')).toEqual([
      `private_key=${keyToHex(local.privateKey)}`,
      'listen_port=51820',
      'replace_peers=true',
      `public_key=${keyToHex(peerA.publicKey)}`,
      `preshared_key=${keyToHex(psk)}`,
      'endpoint=192.0.2.2:51820',
      'persistent_keepalive_interval=25',
      'replace_allowed_ips=true',
      'allowed_ip=10.2.0.0/16',
      'allowed_ip=fd00:2::/64',
      `public_key=${keyToHex(peerB.publicKey)}`,
      'remove=true',
      `public_key=${keyToHex(peerA.publicKey)}`,
      'update_only=true',
      `preshared_key=${'0'.repeat(64)}`,
      'endpoint=[2001:db8::1]:4500',
      '',
    ]);
  });

  it.each([
    [{ listenPort: 70000 }, /listenPort: 70000/],
    [{ privateKey: 'nope' }, /^privateKey: /],
    [{ peers: [{ publicKey: 'x' }] }, /^peers\[0\]\.publicKey/],
    [{ peers: [{ publicKey: peerA.publicKey, endpoint: 'host:1' }] }, /peers\[0\]\.endpoint/],
    [{ peers: [{ publicKey: peerA.publicKey, allowedIps: ['10.0.0.0/33'] }] }, /peers\[0\]\.allowedIps: '10.0.0.0\/33'/],
    [{ peers: [{ publicKey: peerA.publicKey, allowedIps: ['10.0.0.0/8\nprivate_key=00'] }] }, /is not an IP prefix/],
    [{ peers: [{ publicKey: peerA.publicKey, persistentKeepalive: -1 }] }, /persistentKeepalive/],
  ])('rejects bad input %#', (config, pattern) => {
    expect(() => encodeUapiSet(config as never)).toThrow(pattern);
  });

  it('validates endpoints and prefixes', () => {
    expect(validateWgEndpoint('10.0.0.1:1')).toBe('10.0.0.1:1');
    expect(() => validateWgEndpoint('10.0.0.1:0')).toThrow();
    expect(() => validateWgEndpoint('2001:db8::1:51820')).toThrow();
    expect(validateWgAllowedIp('10.0.0.1')).toBe('10.0.0.1/32');
    expect(validateWgAllowedIp('::1')).toBe('::1/128');
  });
});

describe('UAPI get parsing', () => {
  it('parses the interface and peers, dropping the private key', () => {
    const text = [
      `private_key=${keyToHex(local.privateKey)}`,
      'listen_port=51820',
      'fwmark=7',
      `public_key=${keyToHex(peerA.publicKey)}`,
      `preshared_key=${keyToHex(psk)}`,
      'protocol_version=1',
      'endpoint=192.0.2.2:51820',
      'last_handshake_time_sec=1700000000',
      'last_handshake_time_nsec=500000000',
      'tx_bytes=1000',
      'rx_bytes=2000',
      'persistent_keepalive_interval=25',
      'allowed_ip=10.2.0.0/16',
      'allowed_ip=fd00:2::/64',
      `public_key=${keyToHex(peerB.publicKey)}`,
      `preshared_key=${'0'.repeat(64)}`,
      'last_handshake_time_sec=0',
      'last_handshake_time_nsec=0',
      'tx_bytes=0',
      'rx_bytes=0',
      'persistent_keepalive_interval=0',
      'errno=0',
      '',
    ].join('\n');
    const state = parseUapiGet(text);
    expect(state).toEqual({
      publicKey: local.publicKey,
      listenPort: 51820,
      fwmark: 7,
      peers: [
        {
          publicKey: peerA.publicKey,
          hasPresharedKey: true,
          presharedKeyFingerprint: keyFingerprint(psk),
          endpoint: '192.0.2.2:51820',
          allowedIps: ['10.2.0.0/16', 'fd00:2::/64'],
          persistentKeepalive: 25,
          lastHandshake: new Date(1_700_000_000_500),
          rxBytes: 2000,
          txBytes: 1000,
        },
        { publicKey: peerB.publicKey, hasPresharedKey: false, presharedKeyFingerprint: undefined, endpoint: undefined, allowedIps: [], persistentKeepalive: 0, lastHandshake: undefined, rxBytes: 0, txBytes: 0 },
      ],
    });
    expect(JSON.stringify(state)).not.toContain(keyToHex(local.privateKey));
    expect(JSON.stringify(state)).not.toContain(psk);
  });

  it('reports errno and malformed answers', () => {
    expect(() => parseUapiGet('errno=1\n', 'wg0')).toThrow('WireGuard wg0: UAPI get failed with errno 1');
    expect(() => parseUapiGet('listen_port=1\n', 'wg0')).toThrow(/without errno/);
    expect(() => parseUapiGet('garbage\nerrno=0\n', 'wg0')).toThrow(/malformed UAPI line/);
    expect(() => parseUapiGet('listen_port=abc\nerrno=0\n', 'wg0')).toThrow(/malformed UAPI value for listen_port/);
  });
});

describe('UapiClient', () => {
  let dir: string;
  let server: Server;
  const requests: string[] = [];
  let answer = (req: string): string => (req.startsWith('get=1') ? 'listen_port=1234\nerrno=0\n\n' : 'errno=0\n\n');

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strait-uapi-'));
    requests.length = 0;
    server = createServer((s) => {
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (c: string) => {
        buf += c;
        if (buf.endsWith('\n\n')) {
          requests.push(buf);
          const out = answer(buf);
          // answer in two pieces to exercise reassembly
          s.write(out.slice(0, 3));
          setTimeout(() => s.end(out.slice(3)), 5);
        }
      });
    });
    await new Promise<void>((r) => server.listen(join(dir, 'wg9.sock'), r));
  });

  afterEach(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('gets and sets over the socket', async () => {
    const client = new UapiClient('wg9', { socketDir: dir });
    expect((await client.get()).listenPort).toBe(1234);
    await client.set({ listenPort: 4321 });
    expect(requests).toEqual(['get=1\n\n', 'set=1\nlisten_port=4321\n\n']);
  });

  it('turns a non-zero errno into an error naming the interface', async () => {
    answer = () => 'errno=22\n\n';
    await expect(new UapiClient('wg9', { socketDir: dir }).set({ listenPort: 1 })).rejects.toThrow('WireGuard wg9: UAPI set failed with errno 22 (EINVAL)');
  });

  it('names the missing socket', async () => {
    await expect(new UapiClient('nope0', { socketDir: dir }).get()).rejects.toThrow(/UAPI socket .*nope0\.sock unreachable \(ENOENT\)/);
  });
});
