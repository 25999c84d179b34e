import type { BusLogger } from './logger.ts';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A BusLogger that records entries, for tests (including the check that no secret is ever logged). */
export function recordingLogger(): BusLogger & { entries: LogEntry[]; text(): string } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (obj: object, msg?: string): void => {
      entries.push({ level, obj: { ...(obj as Record<string, unknown>) }, msg });
    };
  return {
    entries,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    text: () =>
      entries
        .map((e) => `${e.level} ${e.msg ?? ''} ${JSON.stringify(e.obj, (_k, v: unknown) => (v instanceof Error ? { message: v.message, stack: v.stack } : v))}`)
        .join('\n'),
  };
}
