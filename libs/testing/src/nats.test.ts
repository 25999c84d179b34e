import { describe, expect, it } from 'vitest';
import { natsArgs, randomSecret, renderNatsConfig } from './nats.ts';

describe('nats-server configuration', () => {
  it('listens on loopback, monitors over HTTP and requires the user', () => {
    const conf = renderNatsConfig({ port: 4222, monitorPort: 8222, user: 'strait', password: 'pw_1' });
    expect(conf).toContain('listen: "127.0.0.1:4222"');
    expect(conf).toContain('http: "127.0.0.1:8222"');
    expect(conf).toMatch(/authorization \{\n {2}users: \[\n {4}\{ user: "strait", password: "pw_1" \}\n {2}\]\n\}/);
    expect(conf).not.toContain('no_auth_user');
    expect(conf).not.toContain('jetstream');
  });

  it('enables JetStream with a store directory when asked', () => {
    const conf = renderNatsConfig({ port: 1, monitorPort: 2, user: 'u', password: 'p', jetStreamDir: '/d/js' });
    expect(conf).toContain('store_dir: "/d/js"');
  });

  it('rejects credentials that would need quoting', () => {
    expect(() => renderNatsConfig({ port: 1, monitorPort: 2, user: 'u"x', password: 'p' })).toThrow(/NATS user and password/);
    expect(() => natsArgs('/c', 'a b')).toThrow(/NATS token/);
  });

  it('passes the token identity on the command line', () => {
    expect(natsArgs('/d/nats.conf', 'tok')).toEqual(['-c', '/d/nats.conf', '--auth', 'tok']);
  });

  it('makes distinct hex secrets', () => {
    const a = randomSecret();
    expect(a).toMatch(/^[0-9a-f]{48}$/);
    expect(randomSecret()).not.toBe(a);
  });
});
