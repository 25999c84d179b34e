/**
 * Typed subjects: a subject definition pairs a subject template such as
 * `strait.{cluster}.tunnel.{peer}.status` with a TypeBox schema for its payload.
 *
 * From the template it builds concrete subjects (publish), wildcard patterns (subscribe) and parses a
 * received subject back into its parameters; from the schema it validates payloads with a compiled checker.
 */
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { ANY, assertToken, assertTokenOrWildcard, tokenProblem } from './token.ts';

/** The parameter names of a template: `'a.{x}.b.{y}'` → `'x' | 'y'`. */
export type TemplateParams<T extends string> = T extends `${string}{${infer P}}${infer Rest}` ? P | TemplateParams<Rest> : never;

/** Concrete values for every parameter (publishing). */
export type SubjectParams<P extends string> = { readonly [K in P]: string };

/**
 * Parameters for a subscription: each one a concrete token or `*`; an omitted parameter is a wildcard.
 * The string `*` alone means "every parameter is a wildcard".
 */
export type SubscribeParams<P extends string> = { readonly [K in P]?: string } | typeof ANY;

export type PayloadCheck<T> = { ok: true; value: T } | { ok: false; errors: string[] };

export interface SubjectDefinition<P extends string = string, S extends TSchema = TSchema> {
  /** Short stable name used as the `subject_kind` metric label, e.g. `tunnel_status`. */
  readonly kind: string;
  /** The template, e.g. `strait.{cluster}.tunnel.{peer}.status`. */
  readonly template: string;
  /** Parameter names in template order. */
  readonly params: readonly P[];
  readonly schema: S;
  /** Builds the concrete subject; throws SubjectTokenError on an invalid or wildcard parameter. */
  subject(params: SubjectParams<P>): string;
  /** Builds a subscription pattern (wildcards allowed); throws SubjectTokenError on an invalid parameter. */
  pattern(params?: SubscribeParams<P>): string;
  /** Parses a concrete subject of this kind into its parameters, or undefined when it does not match. */
  match(subject: string): SubjectParams<P> | undefined;
  /** Validates a payload against the schema. */
  check(payload: unknown): PayloadCheck<Static<S>>;
}

/** The payload type of a subject definition. */
export type PayloadOf<D> = D extends SubjectDefinition<string, infer S> ? Static<S> : never;
/** The parameter names of a subject definition. */
export type ParamsOf<D> = D extends SubjectDefinition<infer P, TSchema> ? P : never;

type Segment = { literal: string } | { param: string };

const KIND_RE = /^[a-z][a-z0-9_]{0,62}$/;
const PARAM_RE = /^[a-zA-Z][a-zA-Z0-9]*$/;
const MAX_REPORTED_ERRORS = 5;

function parseTemplate(template: string): Segment[] {
  if (typeof template !== 'string' || template.length === 0) throw new Error('subject template must be a non-empty string');
  const seen = new Set<string>();
  return template.split('.').map((part, i) => {
    const m = /^\{([^{}]*)\}$/.exec(part);
    if (m) {
      const name = m[1] ?? '';
      if (!PARAM_RE.test(name)) throw new Error(`subject template ${JSON.stringify(template)}: invalid parameter name ${JSON.stringify(name)} in segment ${i}`);
      if (seen.has(name)) throw new Error(`subject template ${JSON.stringify(template)}: parameter '${name}' appears twice`);
      seen.add(name);
      return { param: name };
    }
    const problem = tokenProblem(part);
    if (problem !== undefined || part.includes('{') || part.includes('}')) {
      throw new Error(`subject template ${JSON.stringify(template)}: segment ${i} (${JSON.stringify(part)}) is neither a literal token nor a whole '{param}'`);
    }
    return { literal: part };
  });
}

/** Formats TypeBox errors as short `path: message` lines (values are never echoed). */
function formatErrors(errors: ReadonlyArray<{ instancePath: string; message: string }>): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const line = `${e.instancePath === '' ? '/' : e.instancePath}: ${e.message}`;
    if (!out.includes(line)) out.push(line);
    if (out.length >= MAX_REPORTED_ERRORS) break;
  }
  return out.length > 0 ? out : ['/: invalid'];
}

/**
 * Defines a subject kind.
 *
 * ```ts
 * const TunnelStatus = defineSubject({ kind: 'tunnel_status', template: 'strait.{cluster}.tunnel.{peer}.status', schema });
 * TunnelStatus.subject({ cluster: 'a', peer: 'b' });   // 'strait.a.tunnel.b.status'
 * TunnelStatus.pattern({ cluster: 'a' });              // 'strait.a.tunnel.*.status'
 * ```
 */
export function defineSubject<const T extends string, S extends TSchema>(def: {
  kind: string;
  template: T;
  schema: S;
}): SubjectDefinition<TemplateParams<T>, S> {
  type P = TemplateParams<T>;
  if (!KIND_RE.test(def.kind)) throw new Error(`subject kind ${JSON.stringify(def.kind)} must match ${KIND_RE.source}`);
  const segments = parseTemplate(def.template);
  const params = segments.flatMap((s) => ('param' in s ? [s.param as P] : []));
  const validator = Compile(def.schema);

  const build = (values: Record<string, string | undefined>, wildcards: boolean): string =>
    segments
      .map((s) => {
        if ('literal' in s) return s.literal;
        const v = values[s.param];
        if (wildcards) {
          const token = v === undefined ? ANY : v;
          assertTokenOrWildcard(s.param, token);
          return token;
        }
        assertToken(s.param, v);
        return v;
      })
      .join('.');

  const checkParamsObject = (value: unknown, what: string): Record<string, string | undefined> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new TypeError(`${what} for subject '${def.kind}' must be an object with ${params.length > 0 ? params.map((p) => `'${p}'`).join(', ') : 'no keys'}`);
    }
    for (const key of Object.keys(value)) {
      if (!(params as readonly string[]).includes(key)) throw new TypeError(`${what} for subject '${def.kind}' has unknown parameter '${key}'`);
    }
    return value as Record<string, string | undefined>;
  };

  return {
    kind: def.kind,
    template: def.template,
    params,
    schema: def.schema,
    subject(values) {
      return build(checkParamsObject(values, 'subject parameters'), false);
    },
    pattern(values) {
      if (values === undefined || values === ANY) return build({}, true);
      return build(checkParamsObject(values, 'subscription parameters'), true);
    },
    match(subject) {
      if (typeof subject !== 'string') return undefined;
      const parts = subject.split('.');
      if (parts.length !== segments.length) return undefined;
      const out: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i] as Segment;
        const part = parts[i] as string;
        if ('literal' in seg) {
          if (seg.literal !== part) return undefined;
        } else {
          if (tokenProblem(part) !== undefined) return undefined;
          out[seg.param] = part;
        }
      }
      return out as SubjectParams<P>;
    },
    check(payload) {
      if (validator.Check(payload)) return { ok: true, value: payload as Static<S> };
      return { ok: false, errors: formatErrors(validator.Errors(payload)) };
    },
  };
}

/**
 * Parameters that also appear as top-level string fields of the payload must agree with the subject
 * (a status for peer `b` must not be published on peer `c`'s subject). Returns the first disagreement.
 */
export function paramMismatch(params: Readonly<Record<string, string>>, payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  for (const [name, token] of Object.entries(params)) {
    if (!Object.hasOwn(payload, name)) continue;
    const field = (payload as Record<string, unknown>)[name];
    if (field !== token) return `payload field '${name}' (${JSON.stringify(field)}) does not match the subject's '${name}' token (${JSON.stringify(token)})`;
  }
  return undefined;
}
