import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.ts';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const w = (f: (s: string) => void) =>
    new Writable({
      write(c: Buffer | string, _e, cb) {
        f(c.toString());
        cb();
      },
    });
  const code = await runCli(argv, { stdout: w((s) => (out += s)), stderr: w((s) => (err += s)), env: {} }, { version: '9.8.7' });
  return { code, out, err };
}

describe('straitctl', () => {
  it('version prints text and json', async () => {
    expect(await run('version')).toMatchObject({ code: 0, err: '' });
    expect((await run('version')).out).toMatch(/^straitctl 9\.8\.7 \(node v\d+\.\d+\.\d+, \w+\/\w+\)\n$/);
    const json = await run('version', '--output=json');
    expect(JSON.parse(json.out)).toMatchObject({ straitctl: '9.8.7' });
    expect((await run('version', '-o', 'json')).code).toBe(0);
    expect((await run('--version')).out).toMatch(/^straitctl 9\.8\.7/);
  });

  it('help lists the commands; help <command> shows its flags', async () => {
    for (const argv of [[], ['help'], ['--help'], ['-h']]) {
      const r = await run(...argv);
      expect(r.code).toBe(0);
      expect(r.out).toContain('Usage: straitctl <command> [flags]');
      expect(r.out).toMatch(/^ {2}version +print the straitctl version$/m);
    }
    const v = await run('help', 'version');
    expect(v.out).toContain('Usage: straitctl version [--output=text|json]');
    expect(v.out).toContain('--output, -o=VALUE (default text)');
    expect((await run('version', '--help')).out).toContain('Usage: straitctl version');
  });

  it.each<[string[], string]>([
    [['version', '--bad'], 'straitctl: version: unknown flag --bad (see straitctl help version)\n'],
    [['version', '--output=yaml'], 'straitctl: version: --output: invalid value "yaml": must be one of text, json\n'],
    [['version', '--output'], 'straitctl: version: --output needs a value\n'],
    [['version', 'extra'], 'straitctl: version: unexpected argument "extra"\n'],
    [['help', 'a', 'b'], 'straitctl: help: expects [command] (got 2 arguments)\n'],
    [['help', 'nope'], 'straitctl: help: unknown command "nope" (commands: version, lab, bench, help)\n'],
    [['nope'], 'straitctl: unknown command "nope" (commands: version, lab, bench, help)\n'],
    [['--loud'], 'straitctl: unknown flag --loud (a command comes first: straitctl <command> [flags])\n'],
  ])('%j exits 2 with one line', async (argv, line) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toBe(line);
    expect(r.out).toBe('');
  });
});

describe('straitctl lab', () => {
  const run = async (argv: string[]) => {
    let out = '';
    let err = '';
    const io = {
      stdout: { write: (s: string) => ((out += s), true) } as never,
      stderr: { write: (s: string) => ((err += s), true) } as never,
      env: { STRAIT_LAB_DIR: '/nonexistent/strait-lab-test' },
    };
    const code = await runCli(argv, io, { version: '0.0.0' });
    return { code, out, err };
  };

  it.each([
    [['lab'], 'straitctl: lab: expects <up|status|check|failover|logs SERVICE|down> (got 0 arguments)\n'],
    [['lab', 'sideways'], 'straitctl: lab: action: invalid value "sideways": must be one of up, status, check, failover, down, logs\n'],
    [['lab', 'up', '--driver=gre'], 'straitctl: lab: --driver: invalid value "gre": must be one of wireguard, ipsec, vxlan, mixed\n'],
    [['lab', 'up', '--gateways=5'], 'straitctl: lab: --gateways: invalid value "5": must be a whole number from 1 to 4\n'],
    [['lab', 'failover'], 'straitctl: lab: failover needs --cluster=C (e.g. --cluster=cluster-1)\n'],
    [['lab', 'up', '--clusters=0'], 'straitctl: lab: --clusters: invalid value "0": must be a whole number from 1 to 8\n'],
    [['lab', 'logs'], 'straitctl: lab: logs needs a SERVICE (one of tunnel-operator, natmapping-operator, route-agent, labeler-operator, broker-sync)\n'],
  ])('%j exits 2 with one line', async (argv, line) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toBe(line);
  });

  it('check and failover without a lab say how to start one', async () => {
    for (const action of [['check'], ['failover', '--cluster=cluster-1']]) {
      const r = await run(['lab', ...action]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('no lab is running');
      expect(r.err).toContain('npm run lab');
    }
  });

  it('status without a lab says so', async () => {
    const r = await run(['lab', 'status']);
    expect(r.code).toBe(3);
    expect(r.out).toContain('No lab is running');
  });
});

describe('straitctl bench', () => {
  const run = async (argv: string[], root = true) => {
    let out = '';
    let err = '';
    const calls: string[] = [];
    const io = {
      stdout: { write: (s: string) => ((out += s), true) } as never,
      stderr: { write: (s: string) => ((err += s), true) } as never,
      env: {},
      bench: {
        runScript: async (script: string) => {
          calls.push(script);
          return { code: 0, signal: null, stdout: '{}\n' };
        },
        readDoc: () => undefined,
        writeDoc: () => undefined,
        now: () => new Date(0),
        machine: () => ({ cores: 1, cpu: 'x', kernel: 'y', memoryGiB: 1, load1: 0 }),
        isRoot: () => root,
      },
    };
    const code = await runCli(argv, io, { version: '0.0.0' });
    return { code, out, err, calls };
  };

  it.each([
    [['bench'], 'straitctl: bench: expects NAME (got 0 arguments)\n'],
    [['bench', 'fastest'], 'straitctl: bench: unknown benchmark "fastest" (benchmarks: failover, nat-scale, throughput, peers, join)\n'],
    [['bench', 'failover', '--trials=0'], 'straitctl: bench: --trials: invalid value "0": must be a whole number from 1 to 100\n'],
    [['bench', 'failover', '--rounds=3'], 'straitctl: bench: unknown flag --rounds (see straitctl help bench)\n'],
  ])('%j exits 2 with one line', async (argv, line) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toBe(line);
    expect(r.calls).toEqual([]);
  });

  it('without root it says so and runs nothing', async () => {
    const r = await run(['bench', 'peers'], false);
    expect(r.code).toBe(1);
    expect(r.err).toBe('straitctl: bench peers: peers needs root (it builds network namespaces and runs real control planes): run it as root, e.g. sudo npx straitctl bench peers\n');
    expect(r.calls).toEqual([]);
  });

  it('a script result it cannot read exits 1 naming the script', async () => {
    const r = await run(['bench', 'nat-scale', '--json']);
    expect(r.code).toBe(1);
    expect(r.calls).toEqual(['apps/natmapping-operator/bench/nat-scale.bench.ts']);
    expect(r.err.endsWith('straitctl: bench nat-scale: unexpected result: apps/natmapping-operator/bench/nat-scale.bench.ts: result has no number at entries (got nothing)\n')).toBe(true);
  });

  it('help bench lists the benchmarks', async () => {
    const r = await run(['help', 'bench']);
    expect(r.out).toContain('NAME: failover | nat-scale | throughput | peers | join');
    expect(r.out).toContain('--trials=VALUE');
  });
});
