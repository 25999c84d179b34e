import type { ApplyReport } from './apply-report.ts';
import { report } from './apply-report.ts';
import { defaultCommandRunner, runJson, type CommandRunner } from './exec.ts';
import { OutputReader, checkNetnsName } from './validate.ts';

/**
 * Named network namespaces (`ip netns`). `ensure` creates or adopts (a restart finds the namespace
 * it created before and keeps it with everything inside); `delete` removes one by name and is a
 * no-op when it is already gone. Names carry no ownership marker: callers delete only the names
 * they chose (`strait-netns`, a test's `st-<run>-a`).
 */
export interface NetnsPort {
  list(): Promise<string[]>;
  exists(name: string): Promise<boolean>;
  /** Creates the namespace unless it exists; `added` is 1 when it was created. */
  ensure(name: string): Promise<ApplyReport>;
  delete(name: string): Promise<ApplyReport>;
}

export function parseNetnsList(json: unknown, command: string): string[] {
  const rd: OutputReader = new OutputReader(command, undefined);
  return rd.array(json, '').map((v, i) => rd.string(rd.object(v, `[${i}]`), 'name', `[${i}]`));
}

export class IpNetns implements NetnsPort {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner = defaultCommandRunner()) {
    this.#runner = runner;
  }

  async list(): Promise<string[]> {
    const json = await runJson(this.#runner, 'ip', ['-j', 'netns', 'list']);
    return parseNetnsList(json, 'ip -j netns list');
  }

  async exists(name: string): Promise<boolean> {
    checkNetnsName('netns', name);
    return (await this.list()).includes(name);
  }

  async ensure(name: string): Promise<ApplyReport> {
    checkNetnsName('netns', name);
    if (await this.exists(name)) return report(0, 0, 0, 1, 0);
    await this.#runner.run('ip', ['netns', 'add', name]);
    return report(1, 0, 0, 0, 1);
  }

  async delete(name: string): Promise<ApplyReport> {
    checkNetnsName('netns', name);
    if (!(await this.exists(name))) return report(0, 0, 0, 0, 0);
    await this.#runner.run('ip', ['netns', 'delete', name]);
    return report(0, 1, 0, 0, 1);
  }
}
