/**
 * The logging surface the bus needs. A pino Logger (see @strait/observability's createLogger) satisfies it;
 * tests pass a recording fake.
 */
export interface BusLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that discards everything. */
export const silentLogger: BusLogger = {
  debug: discard,
  info: discard,
  warn: discard,
  error: discard,
};

function discard(): void {
  // intentionally empty
}
