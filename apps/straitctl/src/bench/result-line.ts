/**
 * A benchmark script run with `--json` prints its one result line (a JSON object) as the last line of
 * stdout; everything before it is the script's readable output. This takes that line apart.
 */

export class ResultLineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResultLineError';
  }
}

/** The last non-empty line of `stdout`, parsed as a JSON object. */
export function parseResultLine(stdout: string, script: string): Record<string, unknown> {
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const last = lines.at(-1);
  if (last === undefined) throw new ResultLineError(`${script} printed nothing on stdout (expected its JSON result line last)`);
  let v: unknown;
  try {
    v = JSON.parse(last);
  } catch {
    throw new ResultLineError(`${script}: the last line of stdout is not JSON: ${JSON.stringify(last.slice(0, 200))}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ResultLineError(`${script}: the last line of stdout is not a JSON object: ${JSON.stringify(last.slice(0, 200))}`);
  return v as Record<string, unknown>;
}

/** Reads a number at a dotted path of a result (e.g. `nft.applyAllMs`), with a clear error if it is missing. */
export function numberAt(result: unknown, path: string, script: string): number {
  let v: unknown = result;
  for (const key of path.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ResultLineError(`${script}: result has no number at ${path} (got ${JSON.stringify(v) ?? 'nothing'})`);
  return v;
}

/** An array at a dotted path of a result. */
export function arrayAt(result: unknown, path: string, script: string): unknown[] {
  let v: unknown = result;
  for (const key of path.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  if (!Array.isArray(v)) throw new ResultLineError(`${script}: result has no list at ${path}`);
  return v;
}
