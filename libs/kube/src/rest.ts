/**
 * A thin REST transport over @kubernetes/client-node's own request machinery (KubeConfig authentication,
 * its undici dispatcher, `IsomorphicFetchHttpLibrary`). Every Strait client (typed CR client, informer,
 * leader election, events) goes through it, so content types (merge patch, JSON patch, server-side apply),
 * subresources and errors are under our control and identical for core kinds and custom resources.
 */
import { IsomorphicFetchHttpLibrary, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, type ApiStatus } from './errors.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export const ContentType = {
  json: 'application/json',
  mergePatch: 'application/merge-patch+json',
  jsonPatch: 'application/json-patch+json',
  strategicMergePatch: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;
export type ContentType = (typeof ContentType)[keyof typeof ContentType];

export interface RestRequest {
  method: HttpMethod;
  /** Absolute API path, e.g. /api/v1/namespaces/x/configmaps. */
  path: string;
  query?: Record<string, string | number | boolean | undefined> | undefined;
  /** Serialized as JSON (valid YAML too, so it also serves application/apply-patch+yaml). */
  body?: unknown;
  contentType?: ContentType | undefined;
  signal?: AbortSignal | undefined;
  /** Per-request timeout; defaults to the client's. Not applied to streams (watch has its own). */
  timeoutMs?: number | undefined;
}

/** What the request was about, for error messages. */
export interface RequestSubject {
  verb: string;
  kind: string;
  namespace?: string | undefined;
  name?: string | undefined;
}

export interface RestClientOptions {
  /** Default per-request timeout (ms). Default 30 000. */
  timeoutMs?: number;
  /** How long a connection pool (undici dispatcher) is reused before a fresh one is built from the KubeConfig. Default 10 min. */
  dispatcherTtlMs?: number;
}

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

export class RestClient {
  readonly kubeConfig: KubeConfig;
  readonly server: string;
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly timeoutMs: number;
  private readonly dispatcherTtlMs: number;
  private dispatcher: Dispatcher | undefined;
  private dispatcherBorn = 0;

  constructor(kubeConfig: KubeConfig, opts: RestClientOptions = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster (check current-context)');
    this.kubeConfig = kubeConfig;
    this.server = cluster.server.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.dispatcherTtlMs = opts.dispatcherTtlMs ?? 10 * 60_000;
  }

  /** Sends a request and returns the parsed JSON body of a 2xx answer; throws {@link KubeApiError} otherwise. */
  async request<T>(req: RestRequest, subject: RequestSubject): Promise<T> {
    const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(req.timeoutMs ?? this.timeoutMs)));
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const res = await this.send(req, subject, signal);
    let text: string;
    try {
      text = await res.body.text();
    } catch (cause) {
      throw transportError(subject, cause);
    }
    if (res.httpStatusCode < 200 || res.httpStatusCode >= 300) throw apiError(subject, res.httpStatusCode, text);
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new KubeApiError({ ...subject, status: res.httpStatusCode, serverMessage: 'response is not JSON', cause });
    }
  }

  /**
   * Opens a streaming GET (watch) and yields complete lines. The iterator ends when the server closes the
   * stream; it throws {@link KubeApiError} on a non-2xx answer or a broken connection. Aborting `signal` ends it.
   */
  async openStream(req: RestRequest, subject: RequestSubject): Promise<AsyncIterable<string>> {
    const signal = req.signal ?? new AbortController().signal;
    const res = await this.send(req, subject, signal);
    if (res.httpStatusCode < 200 || res.httpStatusCode >= 300) {
      let text = '';
      try {
        text = await res.body.text();
      } catch {
        // status alone is enough
      }
      throw apiError(subject, res.httpStatusCode, text);
    }
    const stream = res.body.stream();
    if (!stream) throw new KubeApiError({ ...subject, status: res.httpStatusCode, serverMessage: 'response has no body' });
    return lines(stream, subject, signal);
  }

  private async send(req: RestRequest, subject: RequestSubject, signal: AbortSignal) {
    const url = new URL(this.server + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), req.method);
    try {
      await this.kubeConfig.applySecurityAuthentication(ctx);
    } catch (cause) {
      throw new KubeApiError({ ...subject, status: 0, serverMessage: 'authentication setup failed', cause });
    }
    ctx.setDispatcher(this.reuseDispatcher(ctx.getDispatcher()) as Dispatcher);
    ctx.setHeaderParam('Accept', 'application/json');
    if (req.body !== undefined) {
      ctx.setHeaderParam('Content-Type', req.contentType ?? ContentType.json);
      ctx.setBody(JSON.stringify(req.body));
    }
    ctx.setSignal(signal);
    try {
      return await this.http.send(ctx).toPromise();
    } catch (cause) {
      throw transportError(subject, cause);
    }
  }

  /**
   * client-node builds a new undici Agent (a new connection pool, so a new TLS handshake) for every request.
   * Keep one per TTL instead; a fresh one is taken periodically so rotated client certificates are picked up.
   */
  private reuseDispatcher(fresh: Dispatcher | undefined): Dispatcher | undefined {
    if (fresh === undefined) return undefined;
    const now = performance.now();
    if (!this.dispatcher || now - this.dispatcherBorn > this.dispatcherTtlMs) {
      this.dispatcher = fresh;
      this.dispatcherBorn = now;
    }
    return this.dispatcher;
  }
}

function transportError(subject: RequestSubject, cause: unknown): KubeApiError {
  const c = cause as { name?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
  let msg = c?.name === 'TimeoutError' ? 'request timed out' : c?.name === 'AbortError' ? 'request aborted' : c?.message;
  if (c?.cause?.code) msg = `${msg ?? 'request failed'} (${c.cause.code})`;
  return new KubeApiError({ ...subject, status: 0, serverMessage: msg, cause });
}

function apiError(subject: RequestSubject, status: number, text: string): KubeApiError {
  let st: ApiStatus | undefined;
  try {
    st = JSON.parse(text) as ApiStatus;
  } catch {
    st = undefined;
  }
  return new KubeApiError({
    ...subject,
    status,
    reason: st?.reason,
    serverMessage: st?.message ?? (text.length > 0 && text.length < 300 ? text.trim() : undefined),
    details: st?.details,
  });
}

async function* lines(stream: ReadableStream<Uint8Array>, subject: RequestSubject, signal: AbortSignal): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = '';
  const reader = stream.getReader();
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (cause) {
        if (signal.aborted) return;
        throw transportError(subject, cause);
      }
      if (chunk.done) break;
      buf += decoder.decode(chunk.value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) yield line;
      }
    }
    const rest = (buf + decoder.decode()).trim();
    if (rest) yield rest;
  } finally {
    reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
