/** Jittered exponential backoff and abortable sleeps. */

export interface BackoffOptions {
  /** First delay (ms). Default 200. */
  initialMs?: number;
  /** Cap (ms). Default 30 000. */
  maxMs?: number;
  /** Growth per failure. Default 2. */
  factor?: number;
  /** Each delay is drawn uniformly from [d*(1-jitter), d]. 0..1, default 0.5. */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 200;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0.5;
    this.random = opts.random ?? Math.random;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs)) throw new RangeError('backoff: need 0 < initialMs <= maxMs');
    if (!(this.factor >= 1)) throw new RangeError('backoff: factor must be >= 1');
    if (!(this.jitter >= 0 && this.jitter <= 1)) throw new RangeError('backoff: jitter must be within [0, 1]');
  }

  /** The next delay; grows until reset(). */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt++;
    return base * (1 - this.jitter * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A promise that some other party can resolve early: `wait(ms)` returns on timeout or on `wake()`. */
export class Waker {
  private wakeFn: (() => void) | undefined;
  private pending = false;

  wake(): void {
    if (this.wakeFn) this.wakeFn();
    else this.pending = true;
  }

  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pending || signal?.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        this.wakeFn = undefined;
        resolve();
      };
      const t = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
      this.wakeFn = done;
    });
  }
}
