import type { AnswerSource, EventMatch, Expectation, NarrationStep } from '../scenarios/schema.ts';
import { assert, assertNever } from './kernel/assert.ts';
import type { MetricValue } from './kernel/metrics.ts';
import type { Micros } from './kernel/time.ts';
import { eventNode, type TraceEvent } from './kernel/trace.ts';

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

/** The Kafka / Raft / stream-processing term a narration step maps to. */
export interface NarrationTerm {
  name: string;
  meaning: string;
}

/** What kind of answer a question takes: a node id, a number, or yes / no. */
export type AnswerKind = 'node' | 'number' | 'yes-no';

/** A step's question as the views show it (how its answer is computed stays in the Lab). */
export interface AskView {
  question: string;
  kind: AnswerKind;
  /** Node ids for `node`, `yes` and `no` for `yes-no`, empty for `number`. */
  choices: string[];
  /** A numeric guess within this much of the value is right (0: exact). */
  tolerance: number;
  unit?: string;
  /** Where Reveal runs the simulation to: a virtual time, the end of the run, or the next matching event. */
  revealAt: Micros | 'end' | 'event';
  /** Shown with the answer: why it came out that way. */
  explain?: string;
}

/**
 * The answer to a step's question, read from the run at its reveal point. `value` is a node id, a number or a
 * boolean (yes / no); null when the run ended with no answer (no matching event, a metric with no value).
 */
export interface Reveal {
  value: string | number | boolean | null;
  /** Virtual time the answer was read at. */
  t: Micros;
  /** The event that shows it — the matching event, the checker's first violation, the metric's evidence — if any. */
  evidenceSeq: number | null;
  detail: string;
}

export interface NarrationState {
  text: string;
  say?: string;
  term?: NarrationTerm;
  ask?: AskView;
  at?: Micros;
  /** When the step was reached: its anchor time or the seq of the event that triggered it. */
  reachedAt: Micros | null;
  reachedSeq: number | null;
  /** With an `ask`: its answer once revealed (`Lab.step({ reveal })`), else null. */
  reveal?: Reveal | null;
}

function askView(ask: NonNullable<NarrationStep['ask']>, nodes: readonly string[]): AskView {
  const a = ask.answer;
  const base = { question: ask.question, ...(ask.explain !== undefined ? { explain: ask.explain } : {}) };
  switch (a.from) {
    case 'next-event':
      return { ...base, kind: 'node', choices: [...(a.choices ?? nodes.slice(0, 20))], tolerance: 0, revealAt: 'event' };
    case 'metric':
      return { ...base, kind: 'number', choices: [], tolerance: a.tolerance ?? 0, ...(a.unit !== undefined ? { unit: a.unit } : {}), revealAt: a.at ?? 'end' };
    case 'metric-above':
    case 'checker':
      return { ...base, kind: 'yes-no', choices: ['yes', 'no'], tolerance: 0, revealAt: a.at ?? 'end' };
    default:
      return assertNever(a, 'answer source');
  }
}

/** Whether a learner's answer (as typed or picked: a node id, a number, `yes` / `no`) matches the revealed value. */
export function judgeAnswer(ask: AskView, given: string, reveal: Reveal): boolean {
  switch (ask.kind) {
    case 'node':
      return reveal.value !== null && given === reveal.value;
    case 'yes-no':
      return typeof reveal.value === 'boolean' && (given === 'yes' || given === 'no') && reveal.value === (given === 'yes');
    case 'number': {
      const guess = given.trim() === '' ? NaN : Number(given);
      return typeof reveal.value === 'number' && Number.isFinite(guess) && Math.abs(guess - reveal.value) <= ask.tolerance;
    }
  }
}

/** The first violation seen of one checker (or of any, under the key ''). */
interface FirstViolation {
  seq: number;
  t: Micros;
  message: string;
}

/**
 * Tracks which narration steps the run has reached, anchored to times or to the first matching event, and keeps the
 * answers revealed so far. A seek back replaces the tracker (re-fed from the restored events); the Lab hands the
 * revealed answers to the new one, since the timeline is the same until a fork (`forgetReveals`).
 */
export class NarrationTracker {
  readonly steps: NarrationState[];
  /** Event-anchored steps reached so far: the Lab's guided run stops when this grows. */
  eventStepsReached = 0;
  /** Steps not reached yet; once none are left, feeding costs only the violation check. */
  private open: number;
  private readonly violations = new Map<string, FirstViolation>();
  private readonly revealed = new Map<number, Reveal>();

  constructor(
    private readonly narration: readonly NarrationStep[],
    nodes: readonly string[] = [],
    reveals: ReadonlyMap<number, Reveal> = new Map(),
  ) {
    this.steps = narration.map((n) => ({
      text: n.text,
      ...(n.say !== undefined ? { say: n.say } : {}),
      ...(n.term !== undefined ? { term: { ...n.term } } : {}),
      ...(n.ask !== undefined ? { ask: askView(n.ask, nodes), reveal: null } : {}),
      at: n.at,
      reachedAt: null,
      reachedSeq: null,
    }));
    this.open = narration.length;
    for (const [i, r] of reveals) this.setReveal(i, r);
  }

  feed(ev: TraceEvent): void {
    if (ev.kind === 'check.violation') {
      const v = { seq: ev.seq, t: ev.t, message: `${ev.checker}: ${ev.message}` };
      if (!this.violations.has(ev.checker)) this.violations.set(ev.checker, v);
      if (!this.violations.has('')) this.violations.set('', v);
    }
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
        if (n.onEvent) this.eventStepsReached++;
      }
    }
  }

  /**
   * The steps as of clock `t`, as fresh objects (a snapshot must not change when the run goes on). Time-anchored steps
   * also count as reached once the clock passes them, even with no event at that time.
   */
  at(t: Micros): NarrationState[] {
    return this.steps.map((s) => (s.reachedAt === null && s.at !== undefined && t >= s.at ? { ...s, reachedAt: s.at } : { ...s }));
  }

  /** Whether step `i` has been reached with the clock at `t`. */
  reached(i: number, t: Micros): boolean {
    const s = this.steps[i];
    assert(s !== undefined, `no narration step ${i}`);
    return s.reachedAt !== null || (s.at !== undefined && t >= s.at);
  }

  /** The earliest time anchor after `t`: the next place a guided run stops by the clock. */
  nextTimeAnchor(t: Micros): Micros | null {
    let best: Micros | null = null;
    for (const n of this.narration) if (n.at !== undefined && n.at > t && (best === null || n.at < best)) best = n.at;
    return best;
  }

  /** Event-anchored steps not reached yet (while there are none, a guided run only needs the clock). */
  eventStepsOpen(): number {
    let open = 0;
    for (let i = 0; i < this.narration.length; i++) if (this.narration[i].onEvent && this.steps[i].reachedAt === null) open++;
    return open;
  }

  firstViolation(checker: string | undefined): FirstViolation | undefined {
    return this.violations.get(checker ?? '');
  }

  setReveal(i: number, r: Reveal): void {
    const s = this.steps[i];
    assert(s?.ask !== undefined, `narration step ${i} asks no question`);
    this.revealed.set(i, r);
    s.reveal = r;
  }

  /** Answers revealed so far, by step index: a replacement tracker starts with them. */
  get reveals(): ReadonlyMap<number, Reveal> {
    return this.revealed;
  }

  /** A fork at `t` changes what happens from `t` on: answers read there or later no longer hold. */
  forgetReveals(t: Micros): void {
    for (const [i, r] of [...this.revealed]) {
      if (r.t < t) continue;
      this.revealed.delete(i);
      this.steps[i].reveal = null;
    }
  }
}

/** Where a step's question counts events from: after its anchoring event, or after its anchor time. */
function posedAfter(state: NarrationState, ev: TraceEvent): boolean {
  return state.at !== undefined ? ev.t > state.at : ev.seq > (state.reachedSeq ?? -1);
}

/** The index of the first event after the step's anchor that matches `m`, scanning `evs` from `from`; -1 when none. */
export function firstMatchAfter(evs: readonly TraceEvent[], from: number, state: NarrationState, m: EventMatch): number {
  for (let i = Math.max(0, from); i < evs.length; i++) if (posedAfter(state, evs[i]) && matchEvent(m, evs[i])) return i;
  return -1;
}

/**
 * Reads the answer of a non-event question from the run standing at its reveal point (the Lab has moved it there):
 * the metric now, or the first violation seen so far. `evs` are the run's events, for the metric's evidence.
 */
export function revealNow(
  a: Exclude<AnswerSource, { from: 'next-event' }>,
  state: NarrationState,
  run: { t: Micros; metrics: Record<string, MetricValue>; events: readonly TraceEvent[]; tracker: NarrationTracker },
): Reveal {
  if (a.from === 'checker') {
    const v = run.tracker.firstViolation(a.checker);
    const name = a.checker ?? 'any checker';
    return v
      ? { value: true, t: run.t, evidenceSeq: v.seq, detail: v.message }
      : { value: false, t: run.t, evidenceSeq: null, detail: `${name} reported no violation` };
  }
  const value = metricValue(run.metrics, a.metric);
  const evidence = a.evidence ? firstMatchAfter(run.events, 0, state, a.evidence as EventMatch) : -1;
  const evidenceSeq = evidence < 0 ? null : run.events[evidence].seq;
  if (value === undefined) return { value: null, t: run.t, evidenceSeq, detail: `metric ${a.metric} has no value` };
  if (a.from === 'metric') return { value, t: run.t, evidenceSeq, detail: `${a.metric} = ${value}` };
  return { value: value > a.above, t: run.t, evidenceSeq, detail: `${a.metric} = ${value} (yes when above ${a.above})` };
}

/** The answer of a `next-event` question: the node of the matching event (or none, when the run ended first). */
export function revealEvent(ev: TraceEvent | null, m: EventMatch, t: Micros): Reveal {
  if (!ev) return { value: null, t, evidenceSeq: null, detail: `no ${describe(m)} happened before the end of the run` };
  const node = eventNode(ev) ?? null;
  return { value: node, t: ev.t, evidenceSeq: ev.seq, detail: `${node ?? 'no node'}: ${describe(m)} (event #${ev.seq})` };
}
