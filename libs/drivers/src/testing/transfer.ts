import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const SCRIPT = join(import.meta.dirname, 'tcp-transfer.ts');

/** The Node 24 binary running this process (the workspace's `node` devDependency). */
function nodeBinary(): string {
  return process.execPath;
}

/**
 * Sends `bytes` of random data from `clientNs` to `serverIp` in `serverNs` over TCP, `writeSize` bytes per
 * write, and resolves when the server confirmed length and SHA-256 of what it received.
 */
export async function tcpTransfer(opts: { serverNs: string; serverIp: string; clientNs: string; bytes: number; writeSize?: number; port?: number }): Promise<{ bytes: number; seconds: number }> {
  const port = opts.port ?? 5201 + Math.floor(Math.random() * 1000);
  const server = spawn('ip', ['netns', 'exec', opts.serverNs, nodeBinary(), SCRIPT, 'server', opts.serverIp, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let serverErr = '';
  server.stderr.on('data', (c: Buffer) => (serverErr += c.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const rl = createInterface({ input: server.stdout });
      rl.on('line', (l) => l === 'listening' && resolve());
      server.once('exit', (code) => reject(new Error(`transfer server exited (${code}): ${serverErr}`)));
    });
    const started = Date.now();
    const client = spawn('ip', ['netns', 'exec', opts.clientNs, nodeBinary(), SCRIPT, 'client', opts.serverIp, String(port), String(opts.bytes), String(opts.writeSize ?? 1400)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    client.stdout.on('data', (c: Buffer) => (out += c.toString()));
    client.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => client.once('exit', resolve));
    if (code !== 0) throw new Error(`TCP transfer ${opts.clientNs} → ${opts.serverIp} failed (exit ${code}): ${err.trim() || out.trim()}`);
    return { bytes: opts.bytes, seconds: (Date.now() - started) / 1000 };
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
}
