import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:net';
import { run } from '@strait/net';
import { ManagedProcess } from '@strait/testing';
import { startRelay } from './relay.ts';

const RELAY_SCRIPT = join(import.meta.dirname, 'relay.ts');

/**
 * A simulated node: a network namespace where node-local services (hostNetwork on a real node) run.
 * The host's loopback servers they need (kube-apiserver, NATS) appear on the SAME loopback ports inside
 * the namespace, and their probe ports appear on the host's loopback, through Unix-socket relays — so
 * kubeconfigs and URLs stay unchanged on both sides.
 */
export class NodeNamespace {
  readonly name: string;
  private readonly relayDir: string;
  private readonly logFile: string;
  private readonly hostServers: Server[] = [];
  private relay: ManagedProcess | undefined;

  constructor(name: string, relayDir: string, logFile: string) {
    this.name = name;
    this.relayDir = relayDir;
    this.logFile = logFile;
  }

  /**
   * Creates the namespace with loopback up (unless `exists`: a node of the lab's topology), and relays:
   * `inward` host ports → namespace, `outward` namespace ports → host.
   */
  async create(opts: { inward: number[]; outward: number[]; exists?: boolean }): Promise<void> {
    mkdirSync(this.relayDir, { recursive: true, mode: 0o700 });
    if (!opts.exists) {
      await run('ip', ['netns', 'add', this.name]);
      await run('ip', ['link', 'set', 'lo', 'up'], { netns: this.name });
    }
    const sock = (dir: 'in' | 'out', port: number) => join(this.relayDir, `${this.name}-${dir}-${port}.sock`);
    const mappings: string[] = [];
    for (const port of opts.inward) {
      this.hostServers.push(await startRelay({ kind: 'unix', path: sock('in', port) }, { kind: 'tcp', host: '127.0.0.1', port }));
      mappings.push(`tcp:127.0.0.1:${port}=unix:${sock('in', port)}`);
    }
    for (const port of opts.outward) mappings.push(`unix:${sock('out', port)}=tcp:127.0.0.1:${port}`);
    this.relay = new ManagedProcess({
      name: `${this.name}/relay`,
      command: 'ip',
      args: ['netns', 'exec', this.name, process.execPath, RELAY_SCRIPT, ...mappings],
      logFile: this.logFile,
    });
    this.relay.start();
    await this.relay.waitReady(async () => this.relay!.logTail(5).includes('ready'), { timeoutMs: 20_000 });
    for (const port of opts.outward) {
      this.hostServers.push(await startRelay({ kind: 'tcp', host: '127.0.0.1', port }, { kind: 'unix', path: sock('out', port) }));
    }
  }

  /** A process inside the namespace. */
  process(spec: { name: string; command: string; args: string[]; logFile: string }): ManagedProcess {
    return new ManagedProcess({ ...spec, command: 'ip', args: ['netns', 'exec', this.name, spec.command, ...spec.args] });
  }

  get relayPid(): number | undefined {
    return this.relay?.pid;
  }

  /** Stops the relays (the namespace itself is removed with every other lab namespace). */
  async stop(): Promise<void> {
    await this.relay?.stop({ timeoutMs: 5_000 });
    await Promise.all(this.hostServers.map((s) => new Promise((r) => s.close(r))));
  }
}
