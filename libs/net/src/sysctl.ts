import { report, type ApplyReport, type Netns } from './apply-report.ts';
import { defaultCommandRunner, type CommandRunner } from './exec.ts';
import { NetSpecError, checkIfName } from './validate.ts';

/**
 * Kernel parameters under /proc/sys/net, per namespace, via `sysctl` run inside the namespace
 * (`ip netns exec <ns> sysctl ...`). Keys are written with "/" separators
 * (`net/ipv4/conf/strait.host/rp_filter`) because interface names may contain dots; dotted keys
 * without interface names (`net.ipv4.ip_forward`) are accepted and converted.
 *
 * There is no ownership marker for a value: Strait sets the keys it is given and nothing else.
 * `apply` reads all keys in one command and writes only those that differ, in one command
 * (zero writes when everything already has its value). If the write fails part-way, the keys
 * already written are set back to the values read before.
 */

export type SysctlValue = string | number;

export interface SysctlPort {
  get(netns: Netns, keys: readonly string[]): Promise<Map<string, string>>;
  /** Sets each key to its value, writing only those that differ. */
  apply(netns: Netns, desired: Readonly<Record<string, SysctlValue>>): Promise<ApplyReport>;
}

const SEGMENT_RE = /^[A-Za-z0-9_-]+$/;

/** `net.ipv4.ip_forward` or `net/ipv4/ip_forward` → `net/ipv4/ip_forward`; validated. */
export function sysctlKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new NetSpecError('sysctl key', 'must be a non-empty string');
  const parts = key.includes('/') ? key.split('/') : key.split('.');
  if (parts[0] !== 'net') throw new NetSpecError(`sysctl ${key}`, 'Strait only sets net.* keys');
  parts.forEach((p) => {
    if (p === '.' || p === '..' || (!SEGMENT_RE.test(p) && !/^[A-Za-z0-9_.:+-]{1,15}$/.test(p))) {
      throw new NetSpecError(`sysctl ${key}`, `segment ${JSON.stringify(p)} is invalid`);
    }
  });
  return parts.join('/');
}

/** `net/ipv4/conf/<ifname>/<name>` (or ipv6), for interface names with dots. */
export function confKey(family: 4 | 6, ifname: string, name: string): string {
  const dev = ifname === 'all' || ifname === 'default' ? ifname : checkIfName('ifname', ifname);
  if (!SEGMENT_RE.test(name)) throw new NetSpecError('sysctl name', `${JSON.stringify(name)} is invalid`);
  return `net/ipv${family}/conf/${dev}/${name}`;
}

function valueText(key: string, v: SysctlValue): string {
  const t = typeof v === 'number' ? String(v) : v;
  if (typeof t !== 'string' || /[\n=]/.test(t) || t.trim() !== t || t === '') {
    throw new NetSpecError(`sysctl ${key}`, `value ${JSON.stringify(v)} is invalid`);
  }
  return t;
}

/** Compares the way the kernel prints (multi-value keys are tab-separated). */
function sameValue(current: string | undefined, want: string): boolean {
  return current !== undefined && current.split(/\s+/).join(' ') === want.split(/\s+/).join(' ');
}

export class ProcSysctl implements SysctlPort {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner = defaultCommandRunner()) {
    this.#runner = runner;
  }

  async get(netns: Netns, keys: readonly string[]): Promise<Map<string, string>> {
    const norm = keys.map(sysctlKey);
    const out = new Map<string, string>();
    if (norm.length === 0) return out;
    const { stdout } = await this.#runner.run('sysctl', ['-n', ...norm], netns ? { netns } : {});
    const lines = stdout.replace(/\n$/, '').split('\n');
    norm.forEach((k, i) => out.set(k, (lines[i] ?? '').trim()));
    return out;
  }

  async apply(netns: Netns, desired: Readonly<Record<string, SysctlValue>>): Promise<ApplyReport> {
    const want = new Map<string, string>();
    for (const [k, v] of Object.entries(desired)) {
      const key = sysctlKey(k);
      if (want.has(key)) throw new NetSpecError(`sysctl ${k}`, 'given twice');
      want.set(key, valueText(k, v));
    }
    if (want.size === 0) return report(0, 0, 0, 0, 0);
    const current = await this.get(netns, [...want.keys()]);
    const changes = [...want].filter(([k, v]) => !sameValue(current.get(k), v));
    if (changes.length === 0) return report(0, 0, 0, want.size, 0);
    const opts = netns ? { netns } : {};
    try {
      await this.#runner.run('sysctl', ['-w', ...changes.map(([k, v]) => `${k}=${v}`)], opts);
    } catch (e) {
      // sysctl -w continues past a failing key: restore the ones that differ from before.
      const after = await this.get(netns, changes.map(([k]) => k)).catch(() => undefined);
      const restore = after ? changes.filter(([k]) => after.get(k) !== current.get(k)) : [];
      if (restore.length > 0) {
        await this.#runner
          .run('sysctl', ['-w', ...restore.map(([k]) => `${k}=${current.get(k) ?? ''}`)], opts)
          .catch(() => undefined);
      }
      throw e;
    }
    return report(0, 0, changes.length, want.size - changes.length, 1);
  }
}
