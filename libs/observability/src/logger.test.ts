import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>>; raw: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const raw = () => chunks.join('');
  return {
    stream,
    raw,
    lines: () =>
      raw()
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const SECRETS = ['S3cr3t-private', 'psk-value-123', 'tok-abc', 'hunter2', 'Bearer zzz', 'shh', 'presh4red', 'nats-pw', 'kube-secret-data'];

describe('createLogger', () => {
  it('writes JSON lines with ISO time, level label and service', () => {
    const out = capture();
    const log = createLogger({ name: 'tunnel-operator', destination: out.stream });
    log.info({ peer: 'cluster-b' }, 'started');
    const [line] = out.lines();
    expect(line).toMatchObject({ level: 'info', service: 'tunnel-operator', msg: 'started', peer: 'cluster-b' });
    expect(String(line?.['time'])).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('honours the level', () => {
    const out = capture();
    const log = createLogger({ name: 's', level: 'warn', destination: out.stream });
    log.info('hidden');
    log.warn('shown');
    expect(out.lines().map((l) => l['msg'])).toEqual(['shown']);
  });

  it('rejects an unknown level', () => {
    expect(() => createLogger({ name: 's', level: 'loud' })).toThrow(/unknown log level "loud"/);
  });

  it('never prints secret-bearing fields, at any depth', () => {
    const out = capture();
    const log = createLogger({ name: 's', destination: out.stream });
    const tunnel = {
      spec: {
        backend: 'wireguard',
        backendConfig: { publicKey: 'PUBLIC-KEY-OK', privateKey: SECRETS[0], presharedKey: SECRETS[6], psk: SECRETS[1], ikeKey: 'ike-key-material', port: 51820 },
      },
    };
    log.info({ tunnel, nats: { url: 'nats://x', password: SECRETS[3], token: SECRETS[2] }, headers: { authorization: SECRETS[4] } }, 'obj');
    log.info({ list: [{ deep: { deeper: { clientSecret: SECRETS[5] } } }], natsPassword: SECRETS[7] }, 'array');
    log.info({ obj: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'wg' }, data: { key: SECRETS[8] } } }, 'kube secret');
    log.child({ token: SECRETS[2] }).info('child');
    const raw = out.raw();
    for (const s of SECRETS) expect(raw).not.toContain(s);
    expect(raw).not.toContain('ike-key-material');
    expect(raw).toContain('PUBLIC-KEY-OK');
    expect(raw).toContain('51820');
    const [first] = out.lines();
    expect(first).toMatchObject({
      tunnel: { spec: { backendConfig: { privateKey: '[redacted]', presharedKey: '[redacted]', psk: '[redacted]', publicKey: 'PUBLIC-KEY-OK' } } },
      nats: { password: '[redacted]', token: '[redacted]', url: 'nats://x' },
      headers: { authorization: '[redacted]' },
    });
    expect(out.lines()[3]).toMatchObject({ token: '[redacted]', msg: 'child' });
  });

  it('does not modify the logged object and survives cycles', () => {
    const out = capture();
    const log = createLogger({ name: 's', destination: out.stream });
    const obj: Record<string, unknown> = { password: SECRETS[3], inner: { token: SECRETS[2] } };
    obj['self'] = obj;
    log.info({ obj }, 'cycle');
    expect(obj['password']).toBe(SECRETS[3]);
    expect((obj['inner'] as Record<string, unknown>)['token']).toBe(SECRETS[2]);
    const raw = out.raw();
    for (const s of SECRETS) expect(raw).not.toContain(s);
    expect(raw).toContain('cycle');
  });

  it('child loggers keep their parents bindings', () => {
    const out = capture();
    const log = createLogger({ name: 's', destination: out.stream });
    log.child({ controller: 'tunnel' }).child({ peer: 'b', psk: SECRETS[1] }).info('grandchild');
    expect(out.lines()[0]).toMatchObject({ service: 's', controller: 'tunnel', peer: 'b', psk: '[redacted]', msg: 'grandchild' });
  });

  it('keeps non-secret names that merely contain a secret word as a prefix', () => {
    const out = capture();
    const log = createLogger({ name: 's', destination: out.stream });
    log.info({ tokenFile: '/var/run/token', passwordFile: '/etc/pw', secretName: 'wg-keys' }, 'paths');
    expect(out.lines()[0]).toMatchObject({ tokenFile: '/var/run/token', passwordFile: '/etc/pw', secretName: 'wg-keys' });
  });
});
