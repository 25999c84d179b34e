import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

export interface TlsClientOptions {
  /** PEM CA bundle to verify the server; omit with `insecure` for self-signed servers. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Skip server verification (kube-controller-manager's self-signed serving cert). */
  insecure?: boolean;
}

export interface HttpResult {
  status: number;
  body: string;
}

/** One GET with a short timeout; rejects on connection errors. */
export function httpGet(url: string, tls: TlsClientOptions = {}, timeoutMs = 2_000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const opts: RequestOptions = { method: 'GET', timeout: timeoutMs, agent: false };
    if (u.protocol === 'https:') {
      opts.ca = tls.ca;
      opts.cert = tls.cert;
      opts.key = tls.key;
      opts.rejectUnauthorized = !tls.insecure;
    }
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** A readiness probe: true when GET `url` answers 200 and `accept(body)` holds. */
export function httpProbe(
  url: string,
  tls: TlsClientOptions = {},
  accept: (body: string) => boolean = () => true,
): () => Promise<boolean> {
  return async () => {
    const r = await httpGet(url, tls);
    if (r.status !== 200) throw new Error(`GET ${url}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    return accept(r.body);
  };
}
