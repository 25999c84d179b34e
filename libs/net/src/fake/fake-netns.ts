import { report, type ApplyReport } from '../apply-report.ts';
import type { NetnsPort } from '../netns.ts';
import { checkNetnsName } from '../validate.ts';
import { emptyNamespace, type FakeState } from './state.ts';

export class FakeNetns implements NetnsPort {
  readonly #s: FakeState;
  constructor(state: FakeState) {
    this.#s = state;
  }
  async list(): Promise<string[]> {
    return [...this.#s.namespaces.keys()].filter((k) => k !== '');
  }
  async exists(name: string): Promise<boolean> {
    checkNetnsName('netns', name);
    return this.#s.namespaces.has(name);
  }
  async ensure(name: string): Promise<ApplyReport> {
    checkNetnsName('netns', name);
    if (this.#s.namespaces.has(name)) return report(0, 0, 0, 1, 0);
    this.#s.write(undefined, 'ip', [`netns add ${name}`]);
    this.#s.namespaces.set(name, emptyNamespace());
    return report(1, 0, 0, 0, 1);
  }
  async delete(name: string): Promise<ApplyReport> {
    checkNetnsName('netns', name);
    if (!this.#s.namespaces.has(name)) return report(0, 0, 0, 0, 0);
    this.#s.write(undefined, 'ip', [`netns delete ${name}`]);
    this.#s.namespaces.delete(name);
    return report(0, 1, 0, 0, 1);
  }
}
