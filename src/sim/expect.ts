import type { EventMatch, Expectation, NarrationStep } from '../scenarios/schema.ts';
import { assertNever } from './kernel/assert.ts';
import type { MetricValue } from './kernel/metrics.ts';
import type { Micros } from './kernel/time.ts';
import type { TraceEvent } from './kernel/trace.ts';

/**
 * Checked outcomes of a scenario ("suspicion clears within 300 ms of the heal"), evaluated over the event stream as
 * it grows. A result is `pending` until the run has seen enough to decide; at the end of the run nothing stays pending.
 */
export type ExpectStatus = 'pass' | 'fail' | 'pending';

export interface ExpectResult {
  text: string;
  check: Expectation['check'];
  status: ExpectStatus;
  detail: string;
  /** Trace seq of the event that decided it, when one did. */
  evidenceSeq?: number;
}

export function matchEvent(m: EventMatch, e: TraceEvent): boolean {
  const rec = e as unknown as Record<string, unknown>;
  for (const k in m) if (rec[k] !== m[k]) return false;
  return true;
}

function describe(m: EventMatch): string {
  return Object.entries(m).map(([k, v]) => (k === 'kind' ? String(v) : `${k}=${JSON.stringify(v)}`)).join(' ');
}

type Tracker =
  | { e: Extract<Expectation, { check: 'no-violations' }>; firstSeq: number | null; first: string }
  | { e: Extract<Expectation, { check: 'violation' }>; firstSeq: number | null }
  | { e: Extract<Expectation, { check: 'count' }>; n: number; lastSeq: number | null }
  | { e: Extract<Expectation, { check: 'metric' }> }
  | { e: Extract<Expectation, { check: 'within' }>; seen: number; open: { t: Micros; seq: number }[]; failedSeq: number | null; failure: string };

export class ExpectationTracker {
  private readonly trackers: Tracker[];
  /** Events fed so far. */
  fed = 0;

  constructor(readonly expectations: readonly Expectation[]) {
    this.trackers = expectations.map((e): Tracker => {
      switch (e.check) {
        case 'no-violations':
          return { e, firstSeq: null, first: '' };
        case 'violation':
          return { e, firstSeq: null };
        case 'count':
          return { e, n: 0, lastSeq: null };
        case 'metric':
          return { e };
        case 'within':
          return { e, seen: 0, open: [], failedSeq: null, failure: '' };
        default:
          return assertNever(e, 'expectation');
      }
    });
  }

  feed(ev: TraceEvent): void {
    this.fed++;
    for (const tr of this.trackers) {
      switch (tr.e.check) {
        case 'no-violations': {
          const t = tr as Extract<Tracker, { first: string }>;
          if (ev.kind === 'check.violation' && t.firstSeq === null) {
            t.firstSeq = ev.seq;
            t.first = `${ev.checker}: ${ev.message}`;
          }
          break;
        }
        case 'violation': {
          const t = tr as Extract<Tracker, { e: { check: 'violation' } }>;
          if (ev.kind === 'check.violation' && ev.checker === t.e.checker && t.firstSeq === null) t.firstSeq = ev.seq;
          break;
        }
        case 'count': {
          const t = tr as Extract<Tracker, { n: number }>;
          const { from, to } = t.e;
          if ((from === undefined || ev.t >= from) && (to === undefined || ev.t <= to) && matchEvent(t.e.match as EventMatch, ev)) {
            t.n++;
            t.lastSeq = ev.seq;
          }
          break;
        }
        case 'metric':
          break;
        case 'within': {
          const t = tr as Extract<Tracker, { open: unknown[] }>;
          if (t.failedSeq !== null) break;
          const expired = t.open.find((o) => ev.t > o.t + t.e.within);
          if (expired) {
            t.failedSeq = expired.seq;
            t.failure = `no ${describe(t.e.then as EventMatch)} within ${t.e.within / 1000} ms of event #${expired.seq}`;
            break;
          }
          if (matchEvent(t.e.then as EventMatch, ev)) t.open = [];
          if (matchEvent(t.e.after as EventMatch, ev)) {
            t.seen++;
            t.open.push({ t: ev.t, seq: ev.seq });
          }
          break;
        }
      }
    }
  }

  /** Results so far; with `done`, pending outcomes are decided against the end of the run. */
  results(done: boolean, metrics: Record<string, MetricValue>): ExpectResult[] {
    return this.trackers.map((tr) => this.result(tr, done, metrics));
  }

  private result(tr: Tracker, done: boolean, metrics: Record<string, MetricValue>): ExpectResult {
    const base = { text: tr.e.text, check: tr.e.check };
    switch (tr.e.check) {
      case 'no-violations': {
        const t = tr as Extract<Tracker, { first: string }>;
        if (t.firstSeq !== null) return { ...base, status: 'fail', detail: t.first, evidenceSeq: t.firstSeq };
        return { ...base, status: done ? 'pass' : 'pending', detail: 'no violation so far' };
      }
      case 'violation': {
        const t = tr as Extract<Tracker, { e: { check: 'violation' } }>;
        if (t.firstSeq !== null) return { ...base, status: 'pass', detail: `${t.e.checker} fired`, evidenceSeq: t.firstSeq };
        return { ...base, status: done ? 'fail' : 'pending', detail: `${t.e.checker} has not fired` };
      }
      case 'count': {
        const t = tr as Extract<Tracker, { n: number }>;
        const { min, max } = t.e;
        const detail = `${t.n} × ${describe(t.e.match as EventMatch)}${bounds(min, max)}`;
        const seq = t.lastSeq ?? undefined;
        if (max !== undefined && t.n > max) return { ...base, status: 'fail', detail, evidenceSeq: seq };
        const minOk = min === undefined || t.n >= min;
        if (done) return { ...base, status: minOk ? 'pass' : 'fail', detail, evidenceSeq: seq };
        return { ...base, status: minOk && max === undefined ? 'pass' : 'pending', detail, evidenceSeq: seq };
      }
      case 'metric': {
        const e = tr.e;
        const value = metricValue(metrics, e.metric);
        if (value === undefined) return { ...base, status: done ? 'fail' : 'pending', detail: `metric ${e.metric} has no value` };
        const ok = (e.min === undefined || value >= e.min) && (e.max === undefined || value <= e.max);
        const detail = `${e.metric} = ${value}${bounds(e.min, e.max)}`;
        return { ...base, status: done ? (ok ? 'pass' : 'fail') : 'pending', detail };
      }
      case 'within': {
        const t = tr as Extract<Tracker, { open: unknown[] }>;
        if (t.failedSeq !== null) return { ...base, status: 'fail', detail: t.failure, evidenceSeq: t.failedSeq };
        if (!done) return { ...base, status: 'pending', detail: `${t.seen} × ${describe(t.e.after as EventMatch)} so far` };
        if (t.seen === 0) return { ...base, status: 'fail', detail: `no ${describe(t.e.after as EventMatch)} happened` };
        if (t.open.length > 0) return { ...base, status: 'fail', detail: `run ended before ${describe(t.e.then as EventMatch)} followed event #${t.open[0].seq}`, evidenceSeq: t.open[0].seq };
        return { ...base, status: 'pass', detail: `${t.seen} × ${describe(t.e.after as EventMatch)}, each followed in time` };
      }
    }
  }
}

function bounds(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` (want ${min}..${max})`;
  if (min !== undefined) return ` (want ≥ ${min})`;
  if (max !== undefined) return ` (want ≤ ${max})`;
  return '';
}

/** `pingsSent` (a counter) or `rttMs.p99` (a field of a sample summary). */
export function metricValue(metrics: Record<string, MetricValue>, path: string): number | undefined {
  const dot = path.lastIndexOf('.');
  const direct = metrics[path];
  if (typeof direct === 'number') return direct;
  if (dot < 0) return undefined;
  const summary = metrics[path.slice(0, dot)];
  if (summary === undefined || typeof summary === 'number') return undefined;
  const v = (summary as unknown as Record<string, number>)[path.slice(dot + 1)];
  return typeof v === 'number' ? v : undefined;
}

export interface NarrationState {
  text: string;
  at?: Micros;
  /** When the step was reached: its anchor time or the seq of the event that triggered it. */
  reachedAt: Micros | null;
  reachedSeq: number | null;
}

/** Tracks which narration steps the run has reached, anchored to times or to the first matching event. */
export class NarrationTracker {
  readonly steps: NarrationState[];

  constructor(private readonly narration: readonly NarrationStep[]) {
    this.steps = narration.map((n) => ({ text: n.text, at: n.at, reachedAt: null, reachedSeq: null }));
    this.open = narration.length;
  }

  /** Steps not reached yet; once none are left, feeding costs nothing. */
  private open: number;

  feed(ev: TraceEvent): void {
    if (this.open === 0) return;
    for (let i = 0; i < this.narration.length; i++) {
      const s = this.steps[i];
      if (s.reachedAt !== null) continue;
      const n = this.narration[i];
      const reached = n.onEvent ? (n.after === undefined || ev.t >= n.after) && matchEvent(n.onEvent as EventMatch, ev) : n.at !== undefined && ev.t >= n.at;
      if (reached) {
        s.reachedAt = n.onEvent ? ev.t : n.at!;
        s.reachedSeq = ev.seq;
        this.open--;
      }
    }
  }

  /** Time-anchored steps also count as reached once the clock passes them, even with no event at that time. */
  at(t: Micros): NarrationState[] {
    return this.steps.map((s) => (s.reachedAt === null && s.at !== undefined && t >= s.at ? { ...s, reachedAt: s.at } : s));
  }
}
