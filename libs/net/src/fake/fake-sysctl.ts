import { report, type ApplyReport, type Netns } from '../apply-report.ts';
import { NetCommandError } from '../exec.ts';
import { sysctlKey, type SysctlPort, type SysctlValue } from '../sysctl.ts';
import { NetSpecError } from '../validate.ts';
import type { FakeState } from './state.ts';

/** Keys not seeded read as "0" — except those seeded as missing with {@link FakeSysctl.remove}. */
export class FakeSysctl implements SysctlPort {
  readonly #s: FakeState;
  readonly #missing = new Set<string>();
  constructor(state: FakeState) {
    this.#s = state;
  }
  remove(key: string): void {
    this.#missing.add(sysctlKey(key));
  }
  async get(netns: Netns, keys: readonly string[]): Promise<Map<string, string>> {
    const ns = this.#s.ns(netns);
    const out = new Map<string, string>();
    for (const k of keys.map(sysctlKey)) {
      if (this.#missing.has(k)) {
        throw new NetCommandError({
          command: 'sysctl',
          args: ['-n', ...keys],
          ...(netns ? { netns } : {}),
          exitCode: 255,
          stderr: `sysctl: cannot stat /proc/sys/${k}: No such file or directory`,
        });
      }
      out.set(k, ns.sysctl.get(k) ?? '0');
    }
    return out;
  }
  async apply(netns: Netns, desired: Readonly<Record<string, SysctlValue>>): Promise<ApplyReport> {
    const want = new Map<string, string>();
    for (const [k, v] of Object.entries(desired)) {
      const key = sysctlKey(k);
      if (want.has(key)) throw new NetSpecError(`sysctl ${k}`, 'given twice');
      want.set(key, String(v));
    }
    const cur = await this.get(netns, [...want.keys()]);
    const changes = [...want].filter(([k, v]) => cur.get(k) !== v);
    if (changes.length === 0) return report(0, 0, 0, want.size, 0);
    this.#s.write(netns, 'sysctl', changes.map(([k, v]) => `-w ${k}=${v}`));
    const ns = this.#s.ns(netns);
    for (const [k, v] of changes) ns.sysctl.set(k, v);
    return report(0, 0, changes.length, want.size - changes.length, 1);
  }
}
