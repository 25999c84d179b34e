/**
 * The receive path of one subscription: count, decode, validate, hand to the handler.
 *
 * A malformed message (bad JSON, schema or subject mismatch, too large) is counted in
 * `strait_bus_messages_dropped_total{subject_kind,reason}` and dropped; a handler that throws or rejects
 * is logged and counted with reason `handler_error`. Nothing here ever throws, so one bad message cannot
 * stop the subscription's loop.
 */
import type { Static, TSchema } from 'typebox';
import { decodeMessage, DEFAULT_MAX_PAYLOAD_BYTES } from './codec.ts';
import type { BusLogger } from './logger.ts';
import type { BusMetrics, DropReason } from './metrics.ts';
import type { SubjectDefinition, SubjectParams } from './subject.ts';

export interface MessageMeta<P extends string> {
  /** The concrete subject the message arrived on. */
  subject: string;
  /** Its parameters, parsed from the subject. */
  params: SubjectParams<P>;
  receivedAt: Date;
}

/** A subscription handler. Messages are hints: re-read Kubernetes before acting on one. */
export type MessageHandler<P extends string, T> = (payload: T, meta: MessageMeta<P>) => void | Promise<void>;

export type DispatchOutcome = { delivered: true } | { delivered: false; reason: DropReason };

export interface DispatcherOptions<P extends string, S extends TSchema> {
  def: SubjectDefinition<P, S>;
  handler: MessageHandler<P, Static<S>>;
  metrics: BusMetrics;
  logger: BusLogger;
  maxPayloadBytes?: number;
  /** Minimum interval between two warnings for the same kind of drop (the counter counts every one). */
  warnIntervalMs?: number;
  now?: () => number;
}

export type Dispatcher = (subject: string, data: Uint8Array) => Promise<DispatchOutcome>;

export function createDispatcher<P extends string, S extends TSchema>(opts: DispatcherOptions<P, S>): Dispatcher {
  const { def, handler, metrics, logger } = opts;
  const maxBytes = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const warnIntervalMs = opts.warnIntervalMs ?? 10_000;
  const now = opts.now ?? Date.now;
  // Per reason: when it was last logged and how many were not logged since.
  const lastWarn = new Map<DropReason, { at: number; suppressed: number }>();

  const drop = (reason: DropReason, subject: string, fields: Record<string, unknown>): DispatchOutcome => {
    metrics.dropped.inc({ subject_kind: def.kind, reason });
    const t = now();
    const last = lastWarn.get(reason);
    if (last !== undefined && t - last.at < warnIntervalMs) {
      last.suppressed++;
    } else {
      const log = reason === 'handler_error' ? logger.error.bind(logger) : logger.warn.bind(logger);
      log({ subjectKind: def.kind, subject, reason, suppressedSinceLastLog: last?.suppressed ?? 0, ...fields }, `bus message dropped: ${reason}`);
      lastWarn.set(reason, { at: t, suppressed: 0 });
    }
    return { delivered: false, reason };
  };

  return async (subject, data) => {
    try {
      metrics.received.inc({ subject_kind: def.kind });
      const decoded = decodeMessage(def, subject, data, maxBytes);
      if (!decoded.ok) return drop(decoded.reason, subject, { detail: decoded.detail, bytes: data.byteLength });
      try {
        await handler(decoded.payload, { subject, params: decoded.params, receivedAt: new Date() });
        return { delivered: true };
      } catch (err) {
        return drop('handler_error', subject, { err });
      }
    } catch (err) {
      // Only a failing metric or logger can land here; never let it escape the subscription loop.
      try {
        logger.error({ subjectKind: def.kind, subject, err }, 'bus dispatch failed');
      } catch {
        /* nothing left to report to */
      }
      return { delivered: false, reason: 'handler_error' };
    }
  };
}
