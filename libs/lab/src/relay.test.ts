import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAddress, parseMapping, startRelay } from './relay.ts';

describe('relay addresses', () => {
  it('parses tcp and unix addresses and mappings', () => {
    expect(parseAddress('tcp:127.0.0.1:6443')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 6443 });
    expect(parseAddress('unix:/x/y.sock')).toEqual({ kind: 'unix', path: '/x/y.sock' });
    expect(parseMapping('tcp:127.0.0.1:1=unix:/s').target).toEqual({ kind: 'unix', path: '/s' });
  });

  it.each(['tcp:127.0.0.1:0', 'tcp:nohost', 'udp:1.2.3.4:5', 'unix:'])('rejects %s', (a) => {
    expect(() => parseAddress(a)).toThrow(/relay: bad address/);
  });

  it('rejects a mapping without a target', () => {
    expect(() => parseMapping('tcp:127.0.0.1:1')).toThrow(/LISTEN=TARGET/);
  });
});

describe('startRelay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strait-relay-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('carries bytes both ways tcp → unix → tcp', async () => {
    const echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const echoPort = (echo.address() as AddressInfo).port;
    const sock = join(dir, 'echo.sock');
    const inner = await startRelay({ kind: 'unix', path: sock }, { kind: 'tcp', host: '127.0.0.1', port: echoPort });
    const outer = await startRelay({ kind: 'tcp', host: '127.0.0.1', port: 0 }, { kind: 'unix', path: sock });
    const port = (outer.address() as AddressInfo).port;
    const reply = await new Promise<string>((resolve, reject) => {
      const c = connect(port, '127.0.0.1', () => c.end('hello through two relays'));
      let got = '';
      c.on('data', (d) => (got += String(d)));
      c.on('end', () => resolve(got));
      c.on('error', reject);
    });
    expect(reply).toBe('hello through two relays');
    for (const s of [outer, inner, echo]) s.close();
  });
});
