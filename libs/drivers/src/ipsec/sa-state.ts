import type { ViciSection } from '@strait/net';

/** What Strait reads from a list-sas answer for one connection. */
export interface SaSummary {
  /** Best IKE_SA state among the connection's SAs (ESTABLISHED > CONNECTING > others). */
  readonly ikeState: string | undefined;
  /** Whether any CHILD_SA of the connection is INSTALLED. */
  readonly childInstalled: boolean;
  readonly ikeSas: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Seconds since the most recently established IKE_SA came up. */
  readonly establishedSeconds: number | undefined;
}

const RANK: Record<string, number> = { ESTABLISHED: 3, CONNECTING: 2, REKEYING: 2, REKEYED: 1, PASSIVE: 1, DELETING: 0, DESTROYING: 0, CREATED: 1 };

function num(v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : 0;
}

/** Folds the list-sa events of one connection (`{ <conn>: {...} }` each) into a summary. */
export function summariseSas(events: readonly ViciSection[], conn: string): SaSummary {
  let ikeState: string | undefined;
  let childInstalled = false;
  let ikeSas = 0;
  let bytesIn = 0;
  let bytesOut = 0;
  let establishedSeconds: number | undefined;
  for (const event of events) {
    const sa = event[conn];
    if (!sa || typeof sa !== 'object' || Array.isArray(sa)) continue;
    ikeSas++;
    const state = typeof sa['state'] === 'string' ? sa['state'] : 'UNKNOWN';
    if (ikeState === undefined || (RANK[state] ?? 0) > (RANK[ikeState] ?? 0)) ikeState = state;
    if (state === 'ESTABLISHED' && typeof sa['established'] === 'string') {
      const s = num(sa['established']);
      establishedSeconds = establishedSeconds === undefined ? s : Math.min(establishedSeconds, s);
    }
    const children = sa['child-sas'];
    if (children && typeof children === 'object' && !Array.isArray(children)) {
      for (const child of Object.values(children)) {
        if (!child || typeof child !== 'object' || Array.isArray(child)) continue;
        if (child['name'] !== undefined && child['name'] !== conn) continue;
        if (child['state'] === 'INSTALLED') childInstalled = true;
        bytesIn += num(child['bytes-in']);
        bytesOut += num(child['bytes-out']);
      }
    }
  }
  return { ikeState, childInstalled, ikeSas, bytesIn, bytesOut, establishedSeconds };
}
