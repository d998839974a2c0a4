import { fail } from '../kernel/assert.ts';
import type { Micros } from '../kernel/time.ts';
import type { NodeContext, NodeId } from '../kernel/types.ts';

/**
 * Shared data of the lessons' node kinds (src/sim/lessons): the framing lessons of the lecture notes — online vs batch
 * vs stream processing, a smart broker vs a partitioned log, AP vs CP reads — each built from a few small kinds that
 * exchange the messages below. They are teaching models, kept small: one workload generator, one database, one log,
 * one broker, one consumer, one dashboard, and a Raft writer and reader.
 */

/**
 * One event of the workload: an order (or page view) with its event time `t`, a key (the customer; the log partitions
 * by it) and an amount. Frozen when the source makes it, then shared by reference by every message, store and
 * checkpoint that holds it. Ids are 1, 2, 3… per source, in event-time order: the ledgers rely on that order.
 */
export interface Rec {
  readonly id: number;
  readonly t: Micros;
  readonly key: number;
  readonly value: number;
}

/** One window of the dashboard's query (`count` and `sum` of the events whose time falls in [startUs, startUs + window)). */
export interface WindowTotal {
  startUs: Micros;
  count: number;
  sum: number;
  /** True once the producer of the result counts the window complete: its end is at least `graceMs` before `asOfUs`. */
  final: boolean;
}

/**
 * A result the dashboard shows. `asOfUs` is its horizon: every event that reached storage (the database or the log)
 * before that virtual time is counted in it. Staleness is the age of that horizon when the dashboard shows it; null
 * means nothing has been computed yet.
 */
export interface ResultBody {
  kind: 'results';
  asOfUs: Micros | null;
  windowUs: Micros;
  windows: WindowTotal[];
  /** `on-read`: the database scanned the events for this request (online); `precomputed`: a job or stream wrote it. */
  computed: 'on-read' | 'precomputed';
}

/** The closed union of messages between the lessons' kinds. Each kind switches over the ones it understands. */
export type LessonMessage =
  /** Source → database, log or broker: a batch of events, `batch` numbering the source's sends. */
  | { kind: 'events'; batch: number; records: readonly Rec[] }
  /** The answer: the first `accepted` records of the batch were stored, the remaining `rejected` were refused. */
  | { kind: 'events-reply'; batch: number; accepted: number; rejected: number }
  /** Dashboard → database (online): compute the last `windows` windows from the stored events, now. */
  | { kind: 'query'; seq: number; windowUs: Micros; windows: number }
  /** Dashboard → database: the results a job or stream wrote. */
  | { kind: 'get-results'; seq: number }
  | (ResultBody & { seq: number })
  /** Consumer → database: windowed totals computed from everything read up to `asOfUs`. */
  | { kind: 'put-results'; asOfUs: Micros; windowUs: Micros; windows: WindowTotal[] }
  /** Consumer → log: records of one partition from `offset`, at most `max`; `commit` is the group's processed offset (−1: none). */
  | { kind: 'fetch'; seq: number; group: string; partition: number; offset: number; max: number; commit: number }
  /**
   * Log → consumer. `records` start at `from` (which is above the asked offset when retention deleted what was asked);
   * `end` is the partition's next offset, `start` its oldest kept one. `asOfUs`: when the log answered if the reply
   * reaches the end, else when the first record not returned was appended.
   */
  | { kind: 'fetch-reply'; seq: number; partition: number; records: readonly Rec[]; from: number; end: number; start: number; asOfUs: Micros }
  /** Consumer → log at start: where the group left off. */
  | { kind: 'offsets'; group: string }
  | { kind: 'offsets-reply'; committed: number[]; start: number[]; end: number[] }
  /** Consumer → broker: declare my queue and push me at most `prefetch` unacknowledged messages. */
  | { kind: 'subscribe'; prefetch: number }
  /** Broker → consumer: pushed messages, each to be acknowledged by id. */
  | { kind: 'deliver'; records: readonly Rec[] }
  /** Consumer → broker: these are done; the broker deletes them. */
  | { kind: 'ack'; ids: number[] };

/** Most records in one message (a source batch, a fetch, a push). */
export const RECORDS_PER_MESSAGE_MAX = 5_000;
/** Most windows a result carries, and most a consumer or database keeps. */
export const WINDOWS_SHOWN_MAX = 120;
export const WINDOWS_KEPT_MAX = 1_000;
/** Bytes on the wire per record and per message header (for the NIC model and the space-time diagram). */
export const RECORD_BYTES = 32;
export const HEADER_BYTES = 48;

export function bytesOf(records: number): number {
  return HEADER_BYTES + RECORD_BYTES * records;
}

/**
 * Checks one node's config when the node is built and names what is wrong and where: `lesson-log log: config.partitions
 * must be an integer in 1..64, got 0`. Unknown fields are refused too, so a typo in a scenario or a setting is caught.
 */
export class ConfigCheck {
  private readonly where: string;

  constructor(kind: string, ctx: Pick<NodeContext, 'id'>) {
    this.where = `${kind} ${ctx.id}: config`;
  }

  /** Defaults merged under the given config, after refusing fields the kind does not have. */
  merge<C extends object>(defaults: C, given: Partial<C> | null | undefined): C {
    const g = (given ?? {}) as Record<string, unknown>;
    if (typeof g !== 'object' || Array.isArray(g)) fail(`${this.where} must be an object`);
    for (const k of Object.keys(g)) if (!(k in defaults)) fail(`${this.where}.${k} is not a setting (known: ${Object.keys(defaults).join(', ')})`);
    return { ...defaults, ...g } as C;
  }

  int(name: string, v: unknown, lo: number, hi: number): number {
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi)) fail(`${this.where}.${name} must be an integer in ${lo}..${hi}, got ${JSON.stringify(v)}`);
    return v;
  }

  num(name: string, v: unknown, lo: number, hi: number): number {
    if (!(typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi)) fail(`${this.where}.${name} must be a number in ${lo}..${hi}, got ${JSON.stringify(v)}`);
    return v;
  }

  oneOf<T extends string>(name: string, v: unknown, options: readonly T[]): T {
    if (!(typeof v === 'string' && (options as readonly string[]).includes(v))) fail(`${this.where}.${name} must be one of ${options.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  }

  bool(name: string, v: unknown): boolean {
    if (typeof v !== 'boolean') fail(`${this.where}.${name} must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  /** Another node of the topology. */
  node(name: string, v: unknown, ctx: Pick<NodeContext, 'knows'>): NodeId {
    if (!(typeof v === 'string' && v.length > 0)) fail(`${this.where}.${name} must name a node, got ${JSON.stringify(v)}`);
    if (!ctx.knows(v)) fail(`${this.where}.${name}: unknown node ${JSON.stringify(v)}`);
    return v;
  }

  text(name: string, v: unknown, lengthMax: number): string {
    if (!(typeof v === 'string' && v.length >= 1 && v.length <= lengthMax)) fail(`${this.where}.${name} must be 1..${lengthMax} characters, got ${JSON.stringify(v)}`);
    return v;
  }

  /** A relation between fields (`bufferMax >= batchMax`). */
  holds(cond: boolean, what: string): void {
    if (!cond) fail(`${this.where}: ${what}`);
  }
}

/** The start of the window holding `t` (windows are aligned at time 0). */
export function windowStart(t: Micros, windowUs: Micros): Micros {
  return t - (t % windowUs);
}

/**
 * Adds records to per-window totals keyed by window start. Keeps at most `keptMax` windows: when more would be kept,
 * the oldest go (a dashboard shows the recent ones).
 */
export function addToWindows(windows: Record<string, { count: number; sum: number }>, records: readonly Rec[], windowUs: Micros, keptMax: number): void {
  for (const r of records) {
    const k = String(windowStart(r.t, windowUs));
    const w = (windows[k] ??= { count: 0, sum: 0 });
    w.count++;
    w.sum += r.value;
  }
  const keys = Object.keys(windows);
  if (keys.length > keptMax) {
    keys.sort((a, b) => Number(a) - Number(b));
    for (const k of keys.slice(0, keys.length - keptMax)) delete windows[k];
  }
}

/**
 * The last `shown` windows ending at or before the window holding `asOfUs` (empty windows included, as zeros), each
 * final once its end is `graceUs` or more before `asOfUs`.
 */
export function recentWindows(windows: Readonly<Record<string, { count: number; sum: number }>>, asOfUs: Micros, windowUs: Micros, shown: number, graceUs: Micros): WindowTotal[] {
  const out: WindowTotal[] = [];
  const last = windowStart(asOfUs, windowUs);
  for (let start = Math.max(0, last - (shown - 1) * windowUs); start <= last; start += windowUs) {
    const w = windows[String(start)];
    out.push({ startUs: start, count: w?.count ?? 0, sum: w?.sum ?? 0, final: start + windowUs + graceUs <= asOfUs });
  }
  return out;
}
