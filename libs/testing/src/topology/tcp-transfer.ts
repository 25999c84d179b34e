import { ToolProcess, type ToolMessage } from './tool-process.ts';

/**
 * A TCP transfer both ways between two namespaces (tools/tcp-transfer.ts as server and client):
 * `bytes` from the client to the server, then `bytes` back, in writes of `writeSize`. Both
 * directions are checked byte for byte (SHA-256 of what one side sent against what the other
 * received); any difference, a refused connection or a timeout throws.
 */

export interface TcpTransferOptions {
  /** Whole exchange (default 60 s). */
  readonly timeoutMs?: number;
  /** Server port inside `toNetns` (default: any free one). */
  readonly port?: number;
}

export interface TcpDirection {
  readonly bytes: number;
  /** First to last byte at the receiver. */
  readonly ms: number;
  /** Payload throughput (0 when too fast to measure). */
  readonly mbitPerSec: number;
}

export interface TcpTransferResult {
  readonly fromNetns: string;
  readonly toNetns: string;
  readonly toIp: string;
  readonly writeSize: number;
  /** client → server */
  readonly forward: TcpDirection;
  /** server → client */
  readonly reverse: TcpDirection;
}

interface Side {
  readonly sent: { readonly bytes: number; readonly sha256: string };
  readonly received: { readonly bytes: number; readonly sha256: string; readonly ms: number };
}

function side(m: ToolMessage): Side {
  return m as unknown as Side;
}

function direction(bytes: number, ms: number): TcpDirection {
  return { bytes, ms, mbitPerSec: ms > 0 ? Math.round(((bytes * 8) / (ms / 1000) / 1e6) * 10) / 10 : 0 };
}

export async function tcpTransferBetween(
  fromNetns: string,
  toNetns: string,
  toIp: string,
  bytes: number,
  writeSize: number,
  opts: TcpTransferOptions,
  deps: { readonly nodeBinary?: string; readonly track: (p: ToolProcess) => void },
): Promise<TcpTransferResult> {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error(`tcpTransfer: bytes ${String(bytes)} must be a non-negative integer`);
  if (!Number.isInteger(writeSize) || writeSize < 1) throw new Error(`tcpTransfer: writeSize ${String(writeSize)} must be a positive integer`);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const common = ['--bytes', String(bytes), '--write-size', String(writeSize), '--timeout-ms', String(timeoutMs)];
  const nb = deps.nodeBinary ? { nodeBinary: deps.nodeBinary } : {};
  const server = new ToolProcess({ netns: toNetns, script: 'tcp-transfer.ts', args: ['server', '--port', String(opts.port ?? 0), ...common], ...nb });
  deps.track(server);
  let client: ToolProcess | undefined;
  const what = `tcpTransfer ${fromNetns} → ${toIp} (netns ${toNetns})`;
  try {
    const ready = await server.waitFor('ready', 10_000);
    client = new ToolProcess({ netns: fromNetns, script: 'tcp-transfer.ts', args: ['client', '--host', toIp, '--port', String(ready['port']), ...common], ...nb });
    deps.track(client);
    const c = side(await client.waitFor('result', timeoutMs + 5_000));
    const s = side(await server.waitFor('result', 10_000));
    if (c.sent.bytes !== s.received.bytes || c.sent.sha256 !== s.received.sha256) {
      throw new Error(`${what}: forward data differs (sent ${c.sent.bytes} bytes, server received ${s.received.bytes})`);
    }
    if (s.sent.bytes !== c.received.bytes || s.sent.sha256 !== c.received.sha256) {
      throw new Error(`${what}: reverse data differs (server sent ${s.sent.bytes} bytes, client received ${c.received.bytes})`);
    }
    return { fromNetns, toNetns, toIp, writeSize, forward: direction(bytes, s.received.ms), reverse: direction(bytes, c.received.ms) };
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`, { cause: e });
  } finally {
    await Promise.all([server.kill(), client?.kill()]);
  }
}
