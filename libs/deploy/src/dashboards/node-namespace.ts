import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

/**
 * A scratch "node" for services that program the kernel (tunnel-operator, natmapping-operator,
 * route-agent): a network namespace joined to the host by a veth pair, where loopback ports of the host
 * (API server, NATS) are relayed in, and whose services the host reaches on the veth address.
 * Everything it makes is removed by close(), even after a failure.
 */

const RELAY_SCRIPT = `import net from 'node:net';
const [lh, lp, th, tp] = process.argv.slice(2);
net.createServer((c) => {
  const u = net.connect(Number(tp), th);
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
}).listen(Number(lp), lh, () => console.log('relay listening'));
`;

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface NodeProcess {
  readonly name: string;
  readonly child: ChildProcess;
  output(): string;
}

export class ScratchNode {
  readonly netns: string;
  /** The host's and the node's veth addresses. */
  readonly hostIp: string;
  readonly nodeIp: string;
  readonly #hostVeth: string;
  readonly #dir: string;
  readonly #servers: Server[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #children: NodeProcess[] = [];
  readonly #extraNetns: string[] = [];

  constructor(name: string, octet: number, dir: string) {
    this.netns = name;
    this.hostIp = `169.254.${octet}.1`;
    this.nodeIp = `169.254.${octet}.2`;
    this.#hostVeth = `${name.slice(0, 11)}-h`;
    this.#dir = dir;
  }

  /** Creates the namespace and the veth pair. */
  create(): void {
    ip(['netns', 'add', this.netns]);
    ip(['-n', this.netns, 'link', 'set', 'lo', 'up']);
    ip(['link', 'add', this.#hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.netns]);
    ip(['addr', 'add', `${this.hostIp}/30`, 'dev', this.#hostVeth]);
    ip(['link', 'set', this.#hostVeth, 'up']);
    ip(['-n', this.netns, 'addr', 'add', `${this.nodeIp}/30`, 'dev', 'eth0']);
    ip(['-n', this.netns, 'link', 'set', 'eth0', 'up']);
  }

  /** Another namespace to be removed with this node (e.g. the gateway namespace made beforehand). */
  adoptNetns(name: string): void {
    ip(['netns', 'add', name]);
    this.#extraNetns.push(name);
  }

  /** Makes host 127.0.0.1:port reachable as 127.0.0.1:port inside the node. */
  async relayIn(port: number): Promise<void> {
    const server = createServer((c) => {
      const u = createConnection(port, '127.0.0.1');
      for (const s of [c, u]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
      }
      c.pipe(u);
      u.pipe(c);
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, this.hostIp, resolve));
    this.#servers.push(server);
    const script = join(this.#dir, 'relay.mjs');
    writeFileSync(script, RELAY_SCRIPT);
    const p = this.run(`relay-${port}`, process.execPath, [script, '127.0.0.1', String(port), this.hostIp, String(port)]);
    const deadline = Date.now() + 20_000;
    while (!p.output().includes('relay listening')) {
      if (p.child.exitCode !== null || Date.now() > deadline) throw new Error(`relay of port ${port} into ${this.netns} did not start: ${p.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Runs a process inside the node's namespace (ip netns exec). */
  run(name: string, command: string, args: readonly string[], env: Record<string, string> = {}): NodeProcess {
    const child = spawn('ip', ['netns', 'exec', this.netns, command, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: process.env['HOME'] ?? '/tmp', ...env },
    });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (out = (out + c).slice(-400_000)));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (out = (out + c).slice(-400_000)));
    const p = { name, child, output: () => out };
    this.#children.push(p);
    return p;
  }

  /** The last lines of every process's output (for failure messages). */
  output(): string {
    return this.#children.map((p) => `--- ${p.name} (exit ${p.child.exitCode ?? p.child.signalCode ?? 'running'}):\n${p.output().split('\n').slice(-15).join('\n')}`).join('\n');
  }

  /** SIGTERM (then SIGKILL) every process, close the relays, delete the namespaces. */
  async close(): Promise<void> {
    await Promise.all(
      this.#children.map(async (p) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return;
        const exited = new Promise((r) => p.child.once('exit', r));
        p.child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      }),
    );
    for (const s of this.#sockets) s.destroy();
    for (const server of this.#servers) server.close();
    for (const ns of [...this.#extraNetns, this.netns]) {
      try {
        ip(['netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
    try {
      ip(['link', 'del', this.#hostVeth]);
    } catch {
      // went with the namespace
    }
  }
}
