import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { BENCHMARKS, benchNames, findBench } from './bench/benchmarks.ts';
import type { BenchDeps } from './bench/run.ts';

/**
 * straitctl's command line: `straitctl <command> [flags]`. Every command parses its own flags strictly
 * (node:util parseArgs); a bad flag or value prints one line `straitctl: <reason>` and exits 2.
 */

export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
  /** What `bench` runs scripts, reads the clock and writes the docs with (default: the real ones; unit tests pass fakes). */
  bench?: BenchDeps;
}

export interface CliInfo {
  version: string;
}

/** A usage error: one line on stderr, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Positional arguments allowed (default none). */
  positionals?: { min: number; max: number; names: string };
  run(ctx: { values: Record<string, string | boolean | undefined>; positionals: string[]; io: CliIO; info: CliInfo }): Promise<number> | number;
}

const OUTPUTS = ['text', 'json'] as const;
const LAB_ACTIONS = ['up', 'status', 'check', 'failover', 'down', 'logs'] as const;
const LAB_DRIVERS = ['wireguard', 'ipsec', 'vxlan', 'mixed'] as const;

const commands: Record<string, Command> = {
  version: {
    summary: 'print the straitctl version',
    usage: 'straitctl version [--output=text|json]',
    options: { output: { type: 'string', short: 'o', default: 'text' } },
    run({ values, io, info }) {
      const output = enumValue('--output', values['output'], OUTPUTS);
      const v = { straitctl: info.version, node: process.version, platform: `${process.platform}/${process.arch}` };
      io.stdout.write(output === 'json' ? `${JSON.stringify(v)}\n` : `straitctl ${v.straitctl} (node ${v.node}, ${v.platform})\n`);
      return 0;
    },
  },
  lab: {
    summary: 'the local multi-cluster lab: up, status, check, failover, logs SERVICE, down',
    usage: [
      'straitctl lab up [--clusters=N] [--driver=wireguard|ipsec|vxlan|mixed] [--overlap] [--gateways=G] [--workers=W]',
      '       straitctl lab status [--json] | check [--json] | failover --cluster=C [--crash] [--json]',
      '       straitctl lab logs SERVICE [--cluster=C] [--lines=N] | down   (state in $STRAIT_LAB_DIR or <repo>/.lab)',
      '       defaults: 2 clusters (3 with --driver=mixed: one driver per pair), wireguard, 2 gateways and 1 worker per cluster',
    ].join('\n'),
    options: {
      // Default 2, or 3 for --driver=mixed (see defaultClusters).
      clusters: { type: 'string' },
      driver: { type: 'string', default: 'wireguard' },
      overlap: { type: 'boolean', default: false },
      gateways: { type: 'string', default: '2' },
      workers: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      cluster: { type: 'string' },
      crash: { type: 'boolean', default: false },
      lines: { type: 'string', default: '100' },
    },
    positionals: { min: 1, max: 2, names: '<up|status|check|failover|logs SERVICE|down>' },
    async run({ values, positionals, io }) {
      const action = enumValue('action', positionals[0], LAB_ACTIONS);
      const lab = await import('@strait/lab');
      const dir = lab.labDir(io.env);
      try {
        switch (action) {
          case 'up': {
            const driver = enumValue('--driver', values['driver'], LAB_DRIVERS);
            return await lab.labUp(
              dir,
              {
                clusters: values['clusters'] === undefined ? lab.defaultClusters(driver) : intValue('--clusters', values['clusters'], 1, 8),
                driver,
                overlap: values['overlap'] === true,
                gateways: intValue('--gateways', values['gateways'], 1, 4),
                workers: intValue('--workers', values['workers'], 0, 8),
              },
              io,
            );
          }
          case 'status':
            return await lab.labStatus(dir, { json: values['json'] === true }, io);
          case 'check':
            return await lab.labCheck(dir, { json: values['json'] === true }, io);
          case 'failover': {
            const cluster = typeof values['cluster'] === 'string' ? values['cluster'] : undefined;
            if (!cluster) throw new UsageError('failover needs --cluster=C (e.g. --cluster=cluster-1)');
            return await lab.labFailover(dir, { cluster, crash: values['crash'] === true, json: values['json'] === true }, io);
          }
          case 'down':
            return await lab.labDown(dir, io);
          case 'logs': {
            const service = positionals[1];
            if (!service) throw new UsageError(`logs needs a SERVICE (one of ${lab.LAB_SERVICES.join(', ')})`);
            const cluster = typeof values['cluster'] === 'string' ? values['cluster'] : undefined;
            return lab.labLogs(dir, service, { ...(cluster ? { cluster } : {}), lines: intValue('--lines', values['lines'], 1, 1_000_000) }, io);
          }
        }
      } catch (err) {
        if (err instanceof lab.LabError) {
          io.stderr.write(`straitctl: lab ${action}: ${err.message}\n`);
          return 1;
        }
        throw err;
      }
    },
  },
  bench: {
    summary: `run a benchmark and record its figures in docs/benchmarks.md (${benchNames().join(', ')})`,
    usage: [
      'straitctl bench NAME [--trials=K] [--json] [--doc=PATH]   (root; minutes; progress on stderr)',
      `       NAME: ${benchNames().join(' | ')}; --trials for ${BENCHMARKS.filter((b) => b.defaultTrials !== undefined).map((b) => b.name).join(', ')}`,
    ].join('\n'),
    options: {
      trials: { type: 'string' },
      json: { type: 'boolean', default: false },
      doc: { type: 'string' },
    },
    positionals: { min: 1, max: 1, names: 'NAME' },
    async run({ values, positionals, io }) {
      const name = positionals[0]!;
      const def = findBench(name);
      if (!def) throw new UsageError(`unknown benchmark "${name}" (benchmarks: ${benchNames().join(', ')})`);
      const trials = values['trials'] === undefined ? undefined : intValue('--trials', values['trials'], 1, 100);
      const { runBench, BenchError, DEFAULT_DOC } = await import('./bench/run.ts');
      const doc = typeof values['doc'] === 'string' ? resolve(values['doc']) : DEFAULT_DOC;
      try {
        return await runBench(def, { trials, json: values['json'] === true, doc }, io, io.bench);
      } catch (err) {
        if (err instanceof BenchError) {
          io.stderr.write(`straitctl: bench ${name}: ${err.message}\n`);
          return 1;
        }
        throw err;
      }
    },
  },
  help: {
    summary: 'show help for straitctl or one command',
    usage: 'straitctl help [command]',
    options: {},
    positionals: { min: 0, max: 1, names: '[command]' },
    run({ positionals, io }) {
      const name = positionals[0];
      if (name === undefined) {
        io.stdout.write(overview());
        return 0;
      }
      const cmd = commands[name];
      if (!cmd) throw new UsageError(`unknown command "${name}" (commands: ${Object.keys(commands).join(', ')})`);
      io.stdout.write(commandHelp(name, cmd));
      return 0;
    },
  },
};

function enumValue<T extends string>(flag: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag}: invalid value ${JSON.stringify(value)}: must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function intValue(flag: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag}: invalid value ${JSON.stringify(value)}: must be a whole number from ${min} to ${max}`);
  }
  return n;
}

function overview(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length)) + 2;
  const lines = [
    'straitctl: Strait multi-cluster networking, on your machine.',
    '',
    'Usage: straitctl <command> [flags]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    '',
    'Global flags: --help (-h), --version',
    'Run "straitctl help <command>" for the flags of a command.',
  ];
  return `${lines.join('\n')}\n`;
}

function commandHelp(name: string, cmd: Command): string {
  const flags = Object.entries(cmd.options).map(([flag, o]) => {
    const short = o.short ? `, -${o.short}` : '';
    const def = o.default !== undefined ? ` (default ${String(o.default)})` : '';
    return `  --${flag}${short}${o.type === 'string' ? '=VALUE' : ''}${def}`;
  });
  return `${[`straitctl ${name}: ${cmd.summary}`, '', `Usage: ${cmd.usage}`, ...(flags.length ? ['', 'Flags:', ...flags] : []), '  --help, -h'].join('\n')}\n`;
}

/** Turns node:util parseArgs errors into one-line reasons naming the flag. */
function parseError(err: unknown, command: string): UsageError {
  const e = err as { code?: string; message?: string };
  const quoted = /'(-[^']*)'/.exec(e.message ?? '')?.[1] ?? '';
  const flag = /--[A-Za-z0-9][A-Za-z0-9-]*/.exec(quoted)?.[0] ?? quoted.split(/[ ,=]/)[0];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`${command}: unknown flag ${flag ?? ''} (see straitctl help ${command})`.replace('  ', ' '));
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return new UsageError(`${command}: ${flag ?? 'a flag'} ${/argument missing/.test(e.message ?? '') ? 'needs a value' : 'does not take a value'}`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`${command}: unexpected argument ${JSON.stringify(/'([^']*)'/.exec(e.message ?? '')?.[1] ?? '')}`);
    default:
      return new UsageError(`${command}: ${(e.message ?? String(err)).split('\n')[0]}`);
  }
}

/** Runs straitctl with `argv` (without node and script); returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIO, info: CliInfo): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === '--help' || first === '-h') {
      io.stdout.write(overview());
      return 0;
    }
    if (first === '--version') return await commands['version']!.run({ values: { output: 'text' }, positionals: [], io, info });
    if (first.startsWith('-')) throw new UsageError(`unknown flag ${first.split('=')[0]} (a command comes first: straitctl <command> [flags])`);
    const cmd = commands[first];
    if (!cmd) throw new UsageError(`unknown command "${first}" (commands: ${Object.keys(commands).join(', ')})`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(commandHelp(first, cmd));
      return 0;
    }
    let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
    try {
      parsed = parseArgs({ args: [...rest], options: cmd.options, strict: true, allowPositionals: cmd.positionals !== undefined }) as typeof parsed;
    } catch (err) {
      throw parseError(err, first);
    }
    const p = cmd.positionals;
    if (p && (parsed.positionals.length < p.min || parsed.positionals.length > p.max)) {
      throw new UsageError(`${first}: expects ${p.names} (got ${parsed.positionals.length} arguments)`);
    }
    try {
      return await cmd.run({ ...parsed, io, info });
    } catch (err) {
      if (err instanceof UsageError && !err.message.startsWith(`${first}:`)) throw new UsageError(`${first}: ${err.message}`);
      throw err;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`straitctl: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`straitctl: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
