import { pino } from 'pino';
import { redactSecrets } from './redact.ts';

export type Logger = import('pino').Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** Service name; printed as the `service` field of every line. */
  name: string;
  /** Minimum level (default `info`). */
  level?: string;
  /** Where JSON lines go (default: stdout, written synchronously so nothing is lost on exit). */
  destination?: NodeJS.WritableStream;
}

/**
 * A pino logger writing one JSON object per line: `level` as a label, `time` in ISO 8601,
 * `service`, `msg` and the bound/logged fields. Secret-bearing fields are replaced by
 * `[redacted]` at any depth (see redact.ts), in logged objects and in child bindings alike.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const level = opts.level ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`unknown log level "${level}": must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const destination = opts.destination ?? pino.destination({ dest: 1, sync: true });
  const logger = pino(
    {
      level,
      base: { service: opts.name, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => redactSecrets(bindings),
        log: (object) => redactSecrets(object),
      },
    },
    destination,
  );
  return guardChildBindings(logger);
}

/** pino serialises child bindings once, outside `formatters.log`: redact them on the way in. */
function guardChildBindings(logger: Logger): Logger {
  type ChildFn = (this: Logger, bindings: Record<string, unknown>, options?: Parameters<Logger['child']>[1]) => Logger;
  const pinoChild = logger.child as unknown as ChildFn;
  const patch = (target: Logger): Logger => {
    const guarded = (bindings: Record<string, unknown>, options?: Parameters<Logger['child']>[1]): Logger =>
      patch(pinoChild.call(target, redactSecrets(bindings), options));
    Object.defineProperty(target, 'child', { value: guarded, writable: true, configurable: true, enumerable: false });
    return target;
  };
  return patch(logger);
}
