/**
 * Subject tokens: the variable parts of a NATS subject (a cluster id, a peer id).
 *
 * A token is one subject segment, so it must never contain the separator `.`, the wildcards `*` / `>`,
 * whitespace or control characters (NATS would split or misroute the subject). Strait is stricter still:
 * cluster ids are DNS-label-like, so a token is 1–63 characters of `[A-Za-z0-9_-]`.
 */

export const SUBJECT_TOKEN_MAX_LENGTH = 63;

/** Regular expression source for a valid token, shared with the payload schemas. */
export const SUBJECT_TOKEN_PATTERN = '^[A-Za-z0-9_-]{1,63}$';

const TOKEN_RE = new RegExp(SUBJECT_TOKEN_PATTERN);

/** The single-token wildcard, allowed only when subscribing. */
export const ANY = '*';

/** Thrown for a subject token that cannot be used; names the parameter and the problem. */
export class SubjectTokenError extends Error {
  readonly param: string;
  constructor(param: string, message: string) {
    super(`subject parameter '${param}' ${message}`);
    this.name = 'SubjectTokenError';
    this.param = param;
  }
}

/** Why `value` is not a valid token, or undefined when it is valid. */
export function tokenProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `must be a string (got ${value === null ? 'null' : typeof value})`;
  if (value.length === 0) return 'must not be empty';
  if (value.length > SUBJECT_TOKEN_MAX_LENGTH) return `must be at most ${SUBJECT_TOKEN_MAX_LENGTH} characters (got ${value.length})`;
  if (value.includes('.')) return `must not contain '.' (got ${JSON.stringify(value)})`;
  if (value.includes('*') || value.includes('>')) return `must not contain the wildcards '*' or '>' (got ${JSON.stringify(value)})`;
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return `must not contain whitespace or control characters (got ${JSON.stringify(value)})`;
  if (!TOKEN_RE.test(value)) return `may contain only letters, digits, '_' and '-' (got ${JSON.stringify(value)})`;
  return undefined;
}

/** Throws a SubjectTokenError unless `value` is a valid concrete token. */
export function assertToken(param: string, value: unknown): asserts value is string {
  const problem = tokenProblem(value);
  if (problem !== undefined) throw new SubjectTokenError(param, problem);
}

/** Like assertToken, but also accepts the single-token wildcard `*` (subscriptions). */
export function assertTokenOrWildcard(param: string, value: unknown): asserts value is string {
  if (value === ANY) return;
  assertToken(param, value);
}
