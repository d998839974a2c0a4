import type { DropReason, TraceEvent } from '../kernel/trace.ts';
import type { TraceHeader } from '../tracefile.ts';
import { batched } from './chunks.ts';

/**
 * CSV tables derived from the trace (RFC 4180: a header row, CRLF line ends, fields holding a comma, a quote or a line
 * break are quoted, quotes doubled). Three tables, one file each:
 *
 * - `csv-wal`: every WAL announcement — `t_us,node,last,commit,applied` — from `node.state` key `wal` (Raft's append
 *   position, commit index and applied index). Streams row by row.
 * - `csv-ledger`: the delivery ledger per message kind — sent, duplicated, delivered, dropped per reason, in flight at
 *   the end, bytes sent and delivery latency — plus a `*` row over all kinds. It balances by construction:
 *   `sent + duplicated = delivered + dropped_* + in_flight_end` for every row (the tests check it).
 * - `csv-series`: fixed windows (100 ms of virtual time by default) from 0 to the end of the trace with the counts of
 *   sends, deliveries, drops, duplicates, faults, violations and state changes in the window, and messages in flight
 *   and the highest commit index at the window's end.
 */

export const CSV_WINDOW_US = 100_000;
const DROP_REASONS: readonly DropReason[] = ['loss', 'partition', 'node-down', 'paused', 'inbox-full', 'sender-crashed'];

/** One RFC 4180 field. */
export function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(fields: readonly unknown[]): string {
  return fields.map(csvField).join(',') + '\r\n';
}

// ---- WAL positions ---------------------------------------------------------------------------------------------

export function walCsvChunks(_header: TraceHeader, events: readonly TraceEvent[]): Generator<string, void, undefined> {
  return batched(walPieces(events));
}

function* walPieces(events: readonly TraceEvent[]): Generator<string> {
  yield csvRow(['t_us', 'node', 'last', 'commit', 'applied']);
  for (const e of events) {
    if (e.kind !== 'node.state' || e.key !== 'wal' || e.value === null || typeof e.value !== 'object') continue;
    const v = e.value as Record<string, unknown>;
    yield csvRow([e.t, e.node, v.last, v.commit, v.applied]);
  }
}

// ---- message ledger --------------------------------------------------------------------------------------------

export interface LedgerRow {
  msg: string;
  sent: number;
  duplicated: number;
  delivered: number;
  dropped: Record<DropReason, number>;
  inFlightEnd: number;
  bytesSent: number;
  latencyUsSum: number;
  latencyUsMax: number;
}

function ledgerRow(msg: string): LedgerRow {
  return { msg, sent: 0, duplicated: 0, delivered: 0, dropped: { loss: 0, partition: 0, 'node-down': 0, paused: 0, 'inbox-full': 0, 'sender-crashed': 0 }, inFlightEnd: 0, bytesSent: 0, latencyUsSum: 0, latencyUsMax: 0 };
}

/** The ledger per message kind, sorted by kind, then the `*` total row. */
export function ledger(events: readonly TraceEvent[]): LedgerRow[] {
  const rows = new Map<string, LedgerRow>();
  const row = (msg: string) => {
    let r = rows.get(msg);
    if (!r) rows.set(msg, (r = ledgerRow(msg)));
    return r;
  };
  for (const e of events) {
    switch (e.kind) {
      case 'msg.send': {
        const r = row(e.msg);
        r.sent++;
        r.bytesSent += typeof e.size === 'number' ? e.size : 0;
        break;
      }
      case 'msg.dup':
        row(e.msg).duplicated++;
        break;
      case 'msg.deliver': {
        const r = row(e.msg);
        r.delivered++;
        const latency = e.t - e.sentAt;
        r.latencyUsSum += latency;
        r.latencyUsMax = Math.max(r.latencyUsMax, latency);
        break;
      }
      case 'msg.drop': {
        const r = row(e.msg);
        if (Object.hasOwn(r.dropped, e.reason)) r.dropped[e.reason]++;
        break;
      }
    }
  }
  const out = [...rows.values()].sort((a, b) => (a.msg < b.msg ? -1 : a.msg > b.msg ? 1 : 0));
  const total = ledgerRow('*');
  for (const r of out) {
    const dropped = DROP_REASONS.reduce((s, k) => s + r.dropped[k], 0);
    r.inFlightEnd = r.sent + r.duplicated - r.delivered - dropped;
    total.sent += r.sent;
    total.duplicated += r.duplicated;
    total.delivered += r.delivered;
    for (const k of DROP_REASONS) total.dropped[k] += r.dropped[k];
    total.inFlightEnd += r.inFlightEnd;
    total.bytesSent += r.bytesSent;
    total.latencyUsSum += r.latencyUsSum;
    total.latencyUsMax = Math.max(total.latencyUsMax, r.latencyUsMax);
  }
  out.push(total);
  return out;
}

export const LEDGER_COLUMNS = [
  'msg', 'sent', 'duplicated', 'delivered', ...DROP_REASONS.map((r) => `dropped_${r.replace('-', '_')}`), 'in_flight_end', 'bytes_sent', 'latency_us_mean', 'latency_us_max',
] as const;

export function ledgerCsvChunks(_header: TraceHeader, events: readonly TraceEvent[]): Generator<string, void, undefined> {
  return batched(ledgerPieces(events));
}

function* ledgerPieces(events: readonly TraceEvent[]): Generator<string> {
  yield csvRow(LEDGER_COLUMNS);
  for (const r of ledger(events)) {
    const mean = r.delivered ? Math.round((r.latencyUsSum / r.delivered) * 10) / 10 : '';
    yield csvRow([r.msg, r.sent, r.duplicated, r.delivered, ...DROP_REASONS.map((k) => r.dropped[k]), r.inFlightEnd, r.bytesSent, mean, r.delivered ? r.latencyUsMax : '']);
  }
}

// ---- windowed series -------------------------------------------------------------------------------------------

export const SERIES_COLUMNS = ['window_start_us', 'window_end_us', 'sent', 'delivered', 'dropped', 'duplicated', 'in_flight_end', 'faults', 'violations', 'state_changes', 'commit_max'] as const;

export function seriesCsvChunks(header: TraceHeader, events: readonly TraceEvent[], windowUs = CSV_WINDOW_US): Generator<string, void, undefined> {
  return batched(seriesPieces(header, events, windowUs));
}

function* seriesPieces(header: TraceHeader, events: readonly TraceEvent[], windowUs: number): Generator<string> {
  if (!(Number.isInteger(windowUs) && windowUs > 0)) throw new Error(`csv-series: the interval must be a positive whole number of microseconds, got ${windowUs}`);
  yield csvRow(SERIES_COLUMNS);
  const last = events.length ? events[events.length - 1].t : 0;
  const endUs = Math.max(header.virtualUs, last);
  let inFlight = 0;
  let commitMax = 0;
  let i = 0;
  // Windows are [start, end); the last one also holds events at exactly endUs.
  for (let start = 0; start < endUs || start === 0; start += windowUs) {
    const end = start + windowUs;
    const isLast = end >= endUs;
    const w = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, faults: 0, violations: 0, stateChanges: 0 };
    for (; i < events.length && (events[i].t < end || isLast); i++) {
      const e = events[i];
      switch (e.kind) {
        case 'msg.send':
          w.sent++;
          inFlight++;
          break;
        case 'msg.dup':
          w.duplicated++;
          inFlight++;
          break;
        case 'msg.deliver':
          w.delivered++;
          inFlight--;
          break;
        case 'msg.drop':
          w.dropped++;
          inFlight--;
          break;
        case 'fault':
          w.faults++;
          break;
        case 'check.violation':
          w.violations++;
          break;
        case 'node.state': {
          w.stateChanges++;
          const commit = e.key === 'wal' && e.value !== null && typeof e.value === 'object' ? (e.value as { commit?: unknown }).commit : undefined;
          if (typeof commit === 'number' && commit > commitMax) commitMax = commit;
          break;
        }
      }
    }
    yield csvRow([start, Math.min(end, Math.max(endUs, start + 1)), w.sent, w.delivered, w.dropped, w.duplicated, inFlight, w.faults, w.violations, w.stateChanges, commitMax]);
    if (isLast) break;
  }
}
