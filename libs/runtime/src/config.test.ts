import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  ConfigError,
  HelpRequested,
  defineConfig,
  describeConfig,
  dns1123Label,
  formatDuration,
  formatUsage,
  opt,
  parseConfig,
  parseDuration,
  parseHostPort,
  type HostPort,
} from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'strait-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = defineConfig(
  {
    clusterId: opt.string({ description: 'cluster id', required: true, validate: dns1123Label }),
    namespace: opt.string({ description: 'namespace', default: 'strait-system' }),
    workers: opt.int({ description: 'workers', default: 4, min: 1, max: 64 }),
    leaseDuration: opt.duration({ description: 'lease', default: '2s' }),
    renewDeadline: opt.duration({ description: 'renew', default: 1500 }),
    dryRun: opt.bool({ description: 'dry run' }),
    logLevel: opt.enum(['debug', 'info', 'warn'] as const, { description: 'level', default: 'info' }),
    natsUrl: opt.url({ description: 'nats', protocols: ['nats:', 'tls:'] }),
    natsUrls: opt.list(opt.url({ description: 'nats', protocols: ['nats:'] }), { description: 'more nats' }),
    kubeconfig: opt.path({ description: 'kubeconfig', envAliases: ['KUBECONFIG'], defaultText: 'in-cluster or $KUBECONFIG' }),
    probeAddr: opt.hostport({ description: 'probe', default: { host: '0.0.0.0', port: 9101 } }),
    natsPassword: opt.string({ description: 'nats password', secret: true, fromFile: true }),
  },
  {
    checks: [(c) => (c.renewDeadline >= c.leaseDuration ? `--renew-deadline (${formatDuration(c.renewDeadline)}) must be shorter than --lease-duration (${formatDuration(c.leaseDuration)})` : undefined)],
  },
);

const base = ['--cluster-id=alpha'];

function fail(argv: string[], env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig(spec, argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies defaults and types the result', () => {
    const c = parseConfig(spec, base, {});
    expect(c).toEqual({
      clusterId: 'alpha',
      namespace: 'strait-system',
      workers: 4,
      leaseDuration: 2000,
      renewDeadline: 1500,
      dryRun: false,
      logLevel: 'info',
      natsUrl: undefined,
      natsUrls: [],
      kubeconfig: undefined,
      probeAddr: { host: '0.0.0.0', port: 9101 },
      natsPassword: undefined,
    });
    expectTypeOf(c.clusterId).toEqualTypeOf<string>();
    expectTypeOf(c.workers).toEqualTypeOf<number>();
    expectTypeOf(c.logLevel).toEqualTypeOf<'debug' | 'info' | 'warn'>();
    expectTypeOf(c.natsUrl).toEqualTypeOf<string | undefined>();
    expectTypeOf(c.natsUrls).toEqualTypeOf<string[]>();
    expectTypeOf(c.probeAddr).toEqualTypeOf<HostPort>();
    expectTypeOf(c.dryRun).toEqualTypeOf<boolean>();
  });

  it('reads every type from flags, in both --x=v and --x v forms', () => {
    const c = parseConfig(
      spec,
      [
        '--cluster-id', 'beta',
        '--namespace=ns1',
        '--workers', '8',
        '--lease-duration=1m30s',
        '--renew-deadline', '250ms',
        '--dry-run',
        '--log-level=debug',
        '--nats-url', 'tls://nats.example:4222',
        '--nats-urls=nats://a:4222,nats://b:4222', '--nats-urls', 'nats://c:4222',
        '--kubeconfig=rel/kc.yaml',
        '--probe-addr', '[::1]:0',
        '--nats-password=pw',
      ],
      {},
    );
    expect(c).toEqual({
      clusterId: 'beta',
      namespace: 'ns1',
      workers: 8,
      leaseDuration: 90_000,
      renewDeadline: 250,
      dryRun: true,
      logLevel: 'debug',
      natsUrl: 'tls://nats.example:4222',
      natsUrls: ['nats://a:4222', 'nats://b:4222', 'nats://c:4222'],
      kubeconfig: resolve('rel/kc.yaml'),
      probeAddr: { host: '::1', port: 0 },
      natsPassword: 'pw',
    });
  });

  it('reads from STRAIT_ env vars; flags win; empty env counts as unset', () => {
    const env = { STRAIT_CLUSTER_ID: 'from-env', STRAIT_WORKERS: '3', STRAIT_DRY_RUN: 'yes', STRAIT_NAMESPACE: '', STRAIT_PROBE_ADDR: ':9200' };
    const c = parseConfig(spec, [], env);
    expect(c.clusterId).toBe('from-env');
    expect(c.workers).toBe(3);
    expect(c.dryRun).toBe(true);
    expect(c.namespace).toBe('strait-system');
    expect(c.probeAddr).toEqual({ host: '0.0.0.0', port: 9200 });
    const f = parseConfig(spec, ['--cluster-id=from-flag', '--workers=5', '--no-dry-run'], env);
    expect(f.clusterId).toBe('from-flag');
    expect(f.workers).toBe(5);
    expect(f.dryRun).toBe(false);
  });

  it('uses env aliases after the STRAIT_ variable', () => {
    expect(parseConfig(spec, base, { KUBECONFIG: '/a' }).kubeconfig).toBe('/a');
    expect(parseConfig(spec, base, { KUBECONFIG: '/a', STRAIT_KUBECONFIG: '/b' }).kubeconfig).toBe('/b');
    expect(parseConfig(spec, [...base, '--kubeconfig=/c'], { KUBECONFIG: '/a', STRAIT_KUBECONFIG: '/b' }).kubeconfig).toBe('/c');
  });

  it('reads secrets from files (flag and env), flag winning', () => {
    const file = join(dir, 'pw');
    writeFileSync(file, 'from-file\n');
    expect(parseConfig(spec, [...base, `--nats-password-file=${file}`], {}).natsPassword).toBe('from-file');
    expect(parseConfig(spec, [...base, '--nats-password-file', file], {}).natsPassword).toBe('from-file');
    expect(parseConfig(spec, base, { STRAIT_NATS_PASSWORD_FILE: file }).natsPassword).toBe('from-file');
    expect(parseConfig(spec, [...base, '--nats-password=flag'], { STRAIT_NATS_PASSWORD_FILE: file }).natsPassword).toBe('flag');
    expect(fail([...base, `--nats-password-file=${join(dir, 'missing')}`]).message).toBe(`--nats-password-file: cannot read "${join(dir, 'missing')}" (ENOENT)`);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    expect(fail([...base, `--nats-password-file=${empty}`]).message).toMatch(/is empty$/);
    expect(fail(base, { STRAIT_NATS_PASSWORD: 'a', STRAIT_NATS_PASSWORD_FILE: file }).message).toBe(
      'both STRAIT_NATS_PASSWORD and STRAIT_NATS_PASSWORD_FILE are set; use one',
    );
  });

  it.each<[string, string[], Record<string, string>, string]>([
    ['missing required', [], {}, 'missing required flag --cluster-id (or env STRAIT_CLUSTER_ID)'],
    ['bad label', ['--cluster-id=Alpha_1'], {}, '--cluster-id: invalid value "Alpha_1": must be a DNS-1123 label'],
    ['bad label from env', [], { STRAIT_CLUSTER_ID: 'A' }, '--cluster-id (from STRAIT_CLUSTER_ID): invalid value "A": must be a DNS-1123 label'],
    ['empty string', ['--cluster-id='], {}, '--cluster-id: invalid value "": must not be empty'],
    ['int', [...base, '--workers=many'], {}, '--workers: invalid value "many": must be an integer'],
    ['int range', [...base, '--workers=0'], {}, '--workers: invalid value "0": must be at least 1'],
    ['duration', [...base, '--lease-duration=10'], {}, '--lease-duration: invalid value "10": must be a duration such as 500ms, 2s, 1m30s'],
    ['bool', [...base, '--dry-run=maybe'], {}, '--dry-run: invalid value "maybe": must be true or false'],
    ['enum', [...base, '--log-level=loud'], {}, '--log-level: invalid value "loud": must be one of debug, info, warn'],
    ['url', [...base, '--nats-url=nope'], {}, '--nats-url: invalid value "nope": must be a URL (nats://, tls://)'],
    ['url scheme', [...base, '--nats-url=http://x'], {}, '--nats-url: invalid value "http://x": must use nats:// or tls://'],
    ['url creds', [...base, '--nats-url=nats://u:p@x'], {}, 'must not carry credentials'],
    ['list item', [...base, '--nats-urls=nats://a,http://b'], {}, '--nats-urls: invalid value "nats://a,http://b": item "http://b" must use nats://'],
    ['hostport', [...base, '--probe-addr=nope'], {}, '--probe-addr: invalid value "nope": must be host:port (e.g. 0.0.0.0:9101)'],
    ['hostport port', [...base, '--probe-addr=0.0.0.0:70000'], {}, '--probe-addr: invalid value "0.0.0.0:70000": port must be 0..65535'],
    ['unknown flag', [...base, '--loud'], {}, 'unknown flag --loud (see --help)'],
    ['unknown short flag', [...base, '-v'], {}, 'unknown flag -v (see --help)'],
    ['positional', [...base, 'extra'], {}, 'unexpected argument "extra"'],
    ['missing value', [...base, '--namespace'], {}, 'flag --namespace needs a value'],
    ['missing value before flag', [...base, '--namespace', '--workers=1'], {}, 'flag --namespace needs a value'],
    ['cross check', [...base, '--lease-duration=1s', '--renew-deadline=1s'], {}, '--renew-deadline (1s) must be shorter than --lease-duration (1s)'],
  ])('rejects %s with a precise one-line message', (_what, argv, env, message) => {
    const err = fail(argv, env);
    expect(err.message).toContain(message);
    expect(err.message).not.toContain('\n');
  });

  it('names the flag on the error', () => {
    expect(fail([...base, '--probe-addr=nope']).flag).toBe('probe-addr');
    expect(fail([]).flag).toBe('cluster-id');
  });

  it('never echoes a secret value', () => {
    const secretSpec = defineConfig({
      token: opt.string({ description: 't', secret: true, pattern: /^[a-z]+$/, patternHint: 'must be lower-case letters' }),
      port: opt.int({ description: 'p', secret: true }),
    });
    for (const [argv, env] of [
      [['--token=S3CR3T-VALUE'], {}],
      [[], { STRAIT_TOKEN: 'S3CR3T-VALUE' }],
      [['--port=S3CR3T-VALUE'], {}],
    ] as const) {
      let message = '';
      try {
        parseConfig(secretSpec, argv, env);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/invalid value \(value not shown\)/);
      expect(message).not.toContain('S3CR3T');
    }
  });

  it('throws HelpRequested on --help and -h', () => {
    expect(() => parseConfig(spec, ['--help'], {})).toThrow(HelpRequested);
    expect(() => parseConfig(spec, ['--cluster-id=x', '-h'], {})).toThrow(HelpRequested);
  });

  it('rejects duplicate flag or env names at definition time', () => {
    expect(() => defineConfig({ a: opt.string({ description: 'a', flag: 'x' }), b: opt.string({ description: 'b', flag: 'x' }) })).toThrow(/--x defined twice/);
    expect(() => defineConfig({ a: opt.string({ description: 'a', env: 'X' }), b: opt.string({ description: 'b', env: 'X' }) })).toThrow(/env X defined twice/);
  });
});

describe('value parsers', () => {
  it('durations', () => {
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('1h2m3s4ms')).toBe(3_723_004);
    for (const bad of ['', '1', 's', '1 s', '-1s', '1d']) expect(() => parseDuration(bad)).toThrow(/must be a duration/);
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(3_723_004)).toBe('1h2m3.004s');
  });

  it('host:port', () => {
    expect(parseHostPort('127.0.0.1:80')).toEqual({ host: '127.0.0.1', port: 80 });
    expect(parseHostPort('localhost:9101')).toEqual({ host: 'localhost', port: 9101 });
    expect(parseHostPort('[::]:9101')).toEqual({ host: '::', port: 9101 });
    expect(parseHostPort(':9101')).toEqual({ host: '0.0.0.0', port: 9101 });
    for (const bad of ['nope', '1.2.3.4', '::1:80', '[1.2.3.4]:80', 'a b:1', 'host:', 'host:port', '-bad-:1']) expect(() => parseHostPort(bad)).toThrow(/host:port/);
  });

  it('DNS-1123 label', () => {
    expect(dns1123Label('cluster-a1')).toBeUndefined();
    expect(dns1123Label('a'.repeat(64))).toMatch(/63/);
    for (const bad of ['-a', 'a-', 'A', 'a_b', 'a.b', '']) expect(dns1123Label(bad)).toMatch(/DNS-1123/);
  });
});

describe('describeConfig and formatUsage', () => {
  it('describes the config with secrets redacted', () => {
    const c = parseConfig(spec, [...base, '--nats-password=pw', '--nats-urls=nats://a,nats://b'], {});
    const d = describeConfig(spec, c);
    expect(d).toMatchObject({ clusterId: 'alpha', workers: 4, leaseDuration: '2s', dryRun: false, probeAddr: '0.0.0.0:9101', natsPassword: '[redacted]', natsUrl: null, natsUrls: 'nats://a,nats://b' });
    expect(JSON.stringify(d)).not.toContain('"pw"');
  });

  it('prints usage with flags, defaults and env vars', () => {
    const u = formatUsage(spec, { name: 'tunnel-operator', summary: 'Runs tunnels.' });
    expect(u).toContain('Usage: tunnel-operator [flags]');
    expect(u).toMatch(/--cluster-id=STRING\s+cluster id \(required; env STRAIT_CLUSTER_ID\)/);
    expect(u).toMatch(/--log-level=debug\|info\|warn\s+level \(default: info; env STRAIT_LOG_LEVEL\)/);
    expect(u).toMatch(/--lease-duration=DURATION\s+lease \(default: 2s;/);
    expect(u).toMatch(/--kubeconfig=PATH\s+kubeconfig \(default: in-cluster or \$KUBECONFIG; env STRAIT_KUBECONFIG, KUBECONFIG\)/);
    expect(u).toContain('--nats-password-file=PATH');
    expect(u).toMatch(/--dry-run\s+dry run/);
  });
});
