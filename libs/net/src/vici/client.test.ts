import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ViciClient } from './client.ts';
import { ViciCommandError, ViciConnectionError, ViciProtocolError, ViciTimeoutError } from './errors.ts';
import type { ViciSection } from './message.ts';
import { decodePacket, encodePacket, SegmentReader, type ViciOutgoingPacket, type ViciPacket } from './packet.ts';

/** A scripted VICI server on a unix socket: records every packet, answers from handlers. */
class ScriptedServer {
  readonly received: ViciPacket[] = [];
  readonly sockets = new Set<Socket>();
  handlers = new Map<string, (msg: ViciSection, send: (p: ViciOutgoingPacket) => void, registered: Set<string>) => void>();
  /** Splits every write into tiny chunks to exercise reassembly. */
  chunkSize = 0;
  private server: Server;
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.server = createServer((socket) => this.serve(socket));
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.path, resolve));
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const reader = new SegmentReader();
    const registered = new Set<string>();
    const send = (p: ViciOutgoingPacket): void => this.write(socket, encodePacket(p));
    socket.on('data', (chunk) => {
      for (const seg of reader.push(chunk)) {
        const packet = decodePacket(seg);
        this.received.push(packet);
        if (packet.type === 'EVENT_REGISTER') {
          registered.add(packet.name);
          send({ type: packet.name === 'no-such-event' ? 'EVENT_UNKNOWN' : 'EVENT_CONFIRM' });
        } else if (packet.type === 'EVENT_UNREGISTER') {
          registered.delete(packet.name);
          send({ type: 'EVENT_CONFIRM' });
        } else if (packet.type === 'CMD_REQUEST') {
          const handler = this.handlers.get(packet.name);
          if (handler) handler(packet.message, send, registered);
          else send({ type: 'CMD_UNKNOWN' });
        }
      }
    });
  }

  write(socket: Socket, bytes: Buffer): void {
    if (!this.chunkSize) {
      socket.write(bytes);
      return;
    }
    for (let i = 0; i < bytes.length; i += this.chunkSize) socket.write(bytes.subarray(i, i + this.chunkSize));
  }

  /** Raises an event to every connection registered for it. */
  raise(name: string, message: ViciSection): void {
    for (const s of this.sockets) this.write(s, encodePacket({ type: 'EVENT', name, message }));
  }
}

let dir: string;
let server: ScriptedServer;
let client: ViciClient;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'strait-vici-'));
  server = new ScriptedServer(join(dir, 'charon.vici'));
  await server.listen();
  client = new ViciClient({ socketPath: server.path, commandTimeoutMs: 2_000 });
});

afterEach(async () => {
  client.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ViciClient', () => {
  it('sends version and parses the answer, also from tiny chunks', async () => {
    server.chunkSize = 3;
    server.handlers.set('version', (_m, send) => send({ type: 'CMD_RESPONSE', message: { daemon: 'charon', version: '5.9.8', sysname: 'Linux', release: '6', machine: 'x86_64' } }));
    expect(await client.version()).toEqual({ daemon: 'charon', version: '5.9.8', sysname: 'Linux', release: '6', machine: 'x86_64' });
  });

  it('serialises concurrent commands: one outstanding at a time, answers in order', async () => {
    let outstanding = 0;
    let maxOutstanding = 0;
    server.handlers.set('echo', (m, send) => {
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      setTimeout(() => {
        outstanding--;
        send({ type: 'CMD_RESPONSE', message: { n: m['n'] as string } });
      }, 5);
    });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => client.request('echo', { n: i })));
    expect(results.map((r) => r['n'])).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    expect(maxOutstanding).toBe(1);
  });

  it('streams list-sas: registers list-sa, collects events raised during the command, unregisters', async () => {
    server.handlers.set('list-sas', (_m, send, registered) => {
      expect(registered.has('list-sa')).toBe(true);
      send({ type: 'EVENT', name: 'list-sa', message: { 'gw-b': { state: 'ESTABLISHED' } } });
      send({ type: 'EVENT', name: 'list-sa', message: { 'gw-c': { state: 'CONNECTING' } } });
      send({ type: 'CMD_RESPONSE', message: {} });
    });
    const sas = await client.listSas({ noblock: true });
    expect(sas).toEqual([{ 'gw-b': { state: 'ESTABLISHED' } }, { 'gw-c': { state: 'CONNECTING' } }]);
    expect(server.received.map((p) => `${p.type}${'name' in p ? ':' + p.name : ''}`)).toEqual(['EVENT_REGISTER:list-sa', 'CMD_REQUEST:list-sas', 'EVENT_UNREGISTER:list-sa']);
    expect(server.received[1]).toMatchObject({ message: { noblock: 'yes' } });
  });

  it('turns success=no into a ViciCommandError with charon\'s errmsg', async () => {
    server.handlers.set('load-conn', (_m, send) => send({ type: 'CMD_RESPONSE', message: { success: 'no', errmsg: 'invalid value for: remote_addrs' } }));
    const err = await client.loadConn('gw-b', { remote_addrs: ['nope'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ViciCommandError);
    expect((err as Error).message).toBe("VICI command 'load-conn' failed: invalid value for: remote_addrs");
  });

  it('reports an unknown command and an unknown event', async () => {
    await expect(client.request('no-such-command')).rejects.toThrow("VICI command 'no-such-command' failed: the daemon does not know this command");
    await expect(client.subscribe(['no-such-event'])).rejects.toThrow(/no such event/);
  });

  it('never puts the PSK into the request error', async () => {
    server.handlers.set('load-shared', (_m, send) => send({ type: 'CMD_RESPONSE', message: { success: 'no', errmsg: 'loading shared key failed' } }));
    const psk = 'correct-horse-battery-staple';
    const err = (await client.loadShared({ id: 'strait-psk-b', type: 'IKE', data: psk, owners: ['a', 'b'] }).catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain(psk);
    expect(JSON.stringify(err)).not.toContain(psk);
    expect(server.received.at(-1)).toMatchObject({ name: 'load-shared', message: { id: 'strait-psk-b', type: 'IKE', data: psk, owners: ['a', 'b'] } });
  });

  it('passes initiate and terminate parameters', async () => {
    server.handlers.set('initiate', (_m, send) => send({ type: 'CMD_RESPONSE', message: { success: 'yes' } }));
    server.handlers.set('terminate', (_m, send) => send({ type: 'CMD_RESPONSE', message: { success: 'yes' } }));
    await client.initiate({ child: 'gw-b', ike: 'gw-b', timeoutMs: 1500 });
    await client.terminate({ ike: 'gw-b', force: true, timeoutMs: 100 });
    expect(server.received[0]).toMatchObject({ message: { child: 'gw-b', ike: 'gw-b', timeout: '1500' } });
    expect(server.received[1]).toMatchObject({ message: { ike: 'gw-b', force: 'yes', timeout: '100' } });
  });

  it('gives a clear error for an unreachable socket and recovers once the socket is back', async () => {
    const missing = new ViciClient({ socketPath: join(dir, 'missing.vici') });
    const err = (await missing.version().catch((e: unknown) => e)) as ViciConnectionError;
    expect(err).toBeInstanceOf(ViciConnectionError);
    expect(err.message).toMatch(/VICI socket .*missing\.vici unreachable \(ENOENT\): no such socket/);
    missing.close();
  });

  it('times out, closes the out-of-step connection, and reconnects for the next command', async () => {
    server.handlers.set('slow', () => undefined);
    server.handlers.set('version', (_m, send) => send({ type: 'CMD_RESPONSE', message: { daemon: 'charon' } }));
    await expect(client.request('slow', {}, 50)).rejects.toBeInstanceOf(ViciTimeoutError);
    expect((await client.version()).daemon).toBe('charon');
  });

  it('fails the outstanding command when the daemon sends garbage', async () => {
    server.handlers.set('bad', (_m, _send) => {
      for (const s of server.sockets) s.write(Buffer.of(0, 0, 0, 2, 1, 9));
    });
    await expect(client.request('bad')).rejects.toThrow(ViciProtocolError);
    await expect(client.request('bad')).rejects.toThrow(/unknown element type 9/);
  });

  it('fails the outstanding command when the daemon goes away', async () => {
    server.handlers.set('die', () => {
      for (const s of server.sockets) s.destroy();
    });
    await expect(client.request('die')).rejects.toBeInstanceOf(ViciConnectionError);
  });

  it('delivers ike-updown/child-updown events through an async iterator until closed', async () => {
    const sub = await client.subscribe(['ike-updown', 'child-updown']);
    const got: string[] = [];
    const done = (async () => {
      for await (const ev of sub) {
        got.push(`${ev.name}:${ev.message['up'] as string}`);
        if (got.length === 3) sub.close();
      }
    })();
    server.raise('ike-updown', { up: 'yes', 'gw-b': { state: 'ESTABLISHED' } });
    server.raise('child-updown', { up: 'yes', 'gw-b': { 'child-sas': {} } });
    server.raise('ike-updown', { up: 'no', 'gw-b': { state: 'DELETING' } });
    await done;
    expect(got).toEqual(['ike-updown:yes', 'child-updown:yes', 'ike-updown:no']);
  });

  it('ends a subscription with an error when the daemon disconnects, and on abort without one', async () => {
    const sub = await client.subscribe(['ike-updown']);
    const it1 = sub[Symbol.asyncIterator]();
    const next = it1.next();
    for (const s of server.sockets) s.destroy();
    await expect(next).rejects.toBeInstanceOf(ViciConnectionError);

    const ac = new AbortController();
    const sub2 = await client.subscribe(['ike-updown'], ac.signal);
    const it2 = sub2[Symbol.asyncIterator]();
    const pending = it2.next();
    ac.abort();
    expect(await pending).toEqual({ value: undefined, done: true });
  });
});
