/**
 * Errors of the Kubernetes API, wrapped with what was being done (verb, kind, namespace, name) and the HTTP status.
 * Never carries a request body: objects may hold secrets.
 */

/** The `Status` object the API server returns on failures. */
export interface ApiStatus {
  kind?: 'Status';
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: Array<{ reason?: string; message?: string; field?: string }> };
}

export interface KubeApiErrorInit {
  /** HTTP status; 0 when no response was received (connection refused, timeout, abort). */
  status: number;
  verb: string;
  kind: string;
  namespace?: string | undefined;
  name?: string | undefined;
  /** `Status.reason` from the server (NotFound, Conflict, AlreadyExists, Expired, Gone, Invalid, ...). */
  reason?: string | undefined;
  /** `Status.message` from the server, or the transport error's message. */
  serverMessage?: string | undefined;
  details?: ApiStatus['details'];
  cause?: unknown;
}

export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly status: number;
  readonly verb: string;
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly objectName: string | undefined;
  readonly reason: string | undefined;
  readonly serverMessage: string | undefined;
  readonly details: ApiStatus['details'];

  constructor(init: KubeApiErrorInit) {
    const target = init.name
      ? `${init.kind} ${init.namespace ? `${init.namespace}/` : ''}${init.name}`
      : `${init.kind}${init.namespace ? ` in namespace ${init.namespace}` : ''}`;
    const what = init.status === 0 ? 'no response' : `HTTP ${init.status}${init.reason ? ` ${init.reason}` : ''}`;
    super(`${init.verb} ${target}: ${what}${init.serverMessage ? `: ${init.serverMessage}` : ''}`, {
      cause: init.cause,
    });
    this.status = init.status;
    this.verb = init.verb;
    this.kind = init.kind;
    this.namespace = init.namespace;
    this.objectName = init.name;
    this.reason = init.reason;
    this.serverMessage = init.serverMessage;
    this.details = init.details;
  }
}

function statusOf(err: unknown): number | undefined {
  if (err instanceof KubeApiError) return err.status;
  if (typeof err === 'object' && err !== null) {
    const e = err as { status?: unknown; code?: unknown; statusCode?: unknown };
    for (const v of [e.status, e.code, e.statusCode]) if (typeof v === 'number') return v;
  }
  return undefined;
}

/** HTTP status of an API error, undefined for anything else. */
export function httpStatusOf(err: unknown): number | undefined {
  return statusOf(err);
}

export function isNotFound(err: unknown): boolean {
  return statusOf(err) === 404;
}

/** 409: a stale resourceVersion (Conflict) or a create of an existing name (AlreadyExists). */
export function isConflict(err: unknown): boolean {
  return statusOf(err) === 409;
}

export function isAlreadyExists(err: unknown): boolean {
  return statusOf(err) === 409 && err instanceof KubeApiError && err.reason === 'AlreadyExists';
}

/** 410: the requested resourceVersion is too old (watch history compacted, or a fresh API server cache). */
export function isGone(err: unknown): boolean {
  return statusOf(err) === 410;
}

export function isForbidden(err: unknown): boolean {
  return statusOf(err) === 403;
}

export function isInvalid(err: unknown): boolean {
  return statusOf(err) === 422;
}

/** No response at all (connection refused/reset, request timeout): worth retrying. */
export function isTransportError(err: unknown): boolean {
  return statusOf(err) === 0;
}
