import { assert, fail } from '../kernel/assert.ts';
import { ms, type Micros } from '../kernel/time.ts';
import type { Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { bytesOf, ConfigCheck, RECORDS_PER_MESSAGE_MAX, type LessonMessage, type Rec } from './types.ts';

/**
 * The lessons' workload: a stream of orders arriving as a Poisson process (exponential gaps drawn from the node's
 * own `arrivals` stream, so the same seed gives the same orders whichever system they feed — the three processing
 * lessons compare like with like). Every `tickMs` it sends what arrived since the last tick, as one `events` batch, to
 * its target: a database, a log or a broker.
 *
 * It waits for each batch's answer before sending the next (one batch in flight). A refused part stays at the head of
 * its buffer and is offered again after `retryMs`: that is back-pressure, and while it lasts the source is *blocked*.
 * The buffer is bounded; an order arriving to a full buffer is lost at the edge (`sourceDropped`). A batch not answered
 * within `timeoutMs` is sent again — at-least-once, so a store may hold a record twice; the ledgers count by id.
 *
 * Notes `produced` {from, to} (the ids that arrived in a tick, as the MQ producer notes them) so a ledger can count
 * what was generated, including what the source itself lost.
 */
export interface SourceConfig {
  target: NodeId;
  /** Mean orders per second. */
  ratePerS: number;
  /** Optional burst: a different rate from `fromMs` to `toMs`. */
  spike: { fromMs: number; toMs: number; ratePerS: number } | null;
  tickMs: number;
  /** Customers, drawn uniformly; the log partitions by customer. */
  keys: number;
  /** An order's amount is 1..valueMax. */
  valueMax: number;
  startAtMs: number;
  /** No orders arrive after this time (0: never stop), so a run can end with every queue drained. */
  stopAtMs: number;
  bufferMax: number;
  batchMax: number;
  timeoutMs: number;
  retryMs: number;
}

export const SOURCE_DEFAULTS: SourceConfig = {
  target: '',
  ratePerS: 200,
  spike: null,
  tickMs: 100,
  keys: 16,
  valueMax: 100,
  startAtMs: 0,
  stopAtMs: 0,
  bufferMax: 10_000,
  batchMax: 1_000,
  timeoutMs: 1_000,
  retryMs: 100,
};

export const SOURCE_RATE_PER_S_MAX = 100_000;
export const SOURCE_BUFFER_MAX = 100_000;
/** Orders made in one tick at most (a bound on the loop, asserted against rate × tick at build). */
export const ARRIVALS_PER_TICK_MAX = 20_000;

export interface SourceMemory {
  cfg: SourceConfig;
  nextId: number;
  /** When the next order arrives (event time). */
  nextArrivalUs: Micros;
  /** Orders not yet accepted by the target, oldest first; the in-flight batch is its head. */
  buffer: Rec[];
  /** The batch waiting for its answer: its number, size and when it was sent. */
  inflight: { batch: number; n: number; sentAt: Micros } | null;
  batches: number;
  /** Set while the target refuses orders (back-pressure); cleared by the first answer that accepts a whole batch. */
  blockedSince: Micros | null;
  retryAt: Micros;
  counts: { generated: number; accepted: number; dropped: number; resent: number; refused: number };
}

type Ctx = NodeContext;

export const lessonSource: NodeBehavior<SourceMemory, Partial<SourceConfig>> = {
  kind: 'lesson-source',
  headline: (m) => ({ generated: m.counts.generated, buffered: m.buffer.length, blocked: m.blockedSince !== null }),
  view: (m) => ({ cfg: m.cfg, nextId: m.nextId, buffered: m.buffer.length, inflight: m.inflight, blockedSince: m.blockedSince, counts: m.counts }),
  boot(config, disk, ctx) {
    const cfg = checkConfig(config, ctx);
    const m: SourceMemory = {
      cfg, nextId: (disk.nextId as number | undefined) ?? 1, nextArrivalUs: 0, buffer: [], inflight: null, batches: 0, blockedSince: null, retryAt: 0,
      counts: { generated: 0, accepted: 0, dropped: 0, resent: 0, refused: 0 },
    };
    // A restarted source continues after the last id it synced; what its buffer held is lost with its memory (the
    // ledger counts those orders as generated and never processed).
    assert(Number.isInteger(m.nextId) && m.nextId >= 1, 'lesson-source: ids start at 1');
    const start = Math.max(ms(cfg.startAtMs), ctx.now);
    m.nextArrivalUs = start + gapUs(m, start, ctx);
    ctx.count('sourceDropped', 0);
    ctx.setTimer('tick', start - ctx.now + ms(cfg.tickMs));
    return m;
  },
  step(m, input, ctx) {
    if (input.type === 'timer') {
      if (input.name !== 'tick') fail(`lesson-source has no timer ${input.name}`);
      return tick(m, ctx);
    }
    return receive(m, input.msg, ctx);
  },
};

function checkConfig(config: Partial<SourceConfig>, ctx: Ctx): SourceConfig {
  const c = new ConfigCheck('lesson-source', ctx);
  const cfg = c.merge(SOURCE_DEFAULTS, config);
  c.node('target', cfg.target, ctx);
  c.num('ratePerS', cfg.ratePerS, 0.001, SOURCE_RATE_PER_S_MAX);
  c.num('tickMs', cfg.tickMs, 1, 60_000);
  c.int('keys', cfg.keys, 1, 1_000_000);
  c.int('valueMax', cfg.valueMax, 1, 1_000_000);
  c.num('startAtMs', cfg.startAtMs, 0, 86_400_000);
  c.num('stopAtMs', cfg.stopAtMs, 0, 86_400_000);
  c.int('bufferMax', cfg.bufferMax, 1, SOURCE_BUFFER_MAX);
  c.int('batchMax', cfg.batchMax, 1, RECORDS_PER_MESSAGE_MAX);
  c.num('timeoutMs', cfg.timeoutMs, 1, 600_000);
  c.num('retryMs', cfg.retryMs, 1, 600_000);
  c.holds(cfg.bufferMax >= cfg.batchMax, 'bufferMax must be at least batchMax');
  c.holds(cfg.stopAtMs === 0 || cfg.stopAtMs > cfg.startAtMs, 'stopAtMs must be 0 or after startAtMs');
  if (cfg.spike !== null) {
    if (typeof cfg.spike !== 'object') fail(`lesson-source ${ctx.id}: config.spike must be null or {fromMs, toMs, ratePerS}`);
    c.num('spike.fromMs', cfg.spike.fromMs, 0, 86_400_000);
    c.num('spike.toMs', cfg.spike.toMs, cfg.spike.fromMs, 86_400_000);
    c.num('spike.ratePerS', cfg.spike.ratePerS, 0.001, SOURCE_RATE_PER_S_MAX);
  }
  const peak = Math.max(cfg.ratePerS, cfg.spike?.ratePerS ?? 0);
  // Ten times the mean per tick leaves a Poisson count far from the cap.
  c.holds(peak * (cfg.tickMs / 1000) * 10 <= ARRIVALS_PER_TICK_MAX, `ratePerS × tickMs is too high: at most ${ARRIVALS_PER_TICK_MAX / 10} orders per tick on average`);
  return cfg;
}

function rateAt(cfg: SourceConfig, t: Micros): number {
  const s = cfg.spike;
  return s !== null && t >= ms(s.fromMs) && t < ms(s.toMs) ? s.ratePerS : cfg.ratePerS;
}

/** An exponential gap at the rate in force at `t` (at least 1 µs, so time always moves). */
function gapUs(m: SourceMemory, t: Micros, ctx: Ctx): Micros {
  const u = ctx.rng('arrivals').next();
  return Math.max(1, Math.round((-Math.log(1 - u) / rateAt(m.cfg, t)) * 1_000_000));
}

function tick(m: SourceMemory, ctx: Ctx): void {
  const stopUs = m.cfg.stopAtMs > 0 ? ms(m.cfg.stopAtMs) : Infinity;
  const firstId = m.nextId;
  let n = 0;
  let dropped = 0;
  while (m.nextArrivalUs <= ctx.now && m.nextArrivalUs < stopUs) {
    if (!(n < ARRIVALS_PER_TICK_MAX)) fail(`lesson-source ${ctx.id}: more than ${ARRIVALS_PER_TICK_MAX} orders in one tick`);
    const t = m.nextArrivalUs;
    const arrivals = ctx.rng('arrivals');
    const rec: Rec = Object.freeze({ id: m.nextId++, t, key: arrivals.int(0, m.cfg.keys - 1), value: arrivals.int(1, m.cfg.valueMax) });
    n++;
    if (m.buffer.length < m.cfg.bufferMax) m.buffer.push(rec);
    else dropped++;
    m.nextArrivalUs = t + gapUs(m, t, ctx);
  }
  if (n > 0) {
    ctx.persist({ op: 'put', key: 'nextId', value: m.nextId }, true);
    m.counts.generated += n;
    ctx.count('generated', n);
    ctx.note('produced', { from: firstId, to: m.nextId - 1 });
  }
  if (dropped > 0) {
    m.counts.dropped += dropped;
    ctx.count('sourceDropped', dropped);
    ctx.note('source-dropped', { n: dropped, buffered: m.buffer.length });
  }
  assert(m.buffer.length <= m.cfg.bufferMax, 'lesson-source: buffer within bufferMax');
  if (m.inflight !== null && ctx.now - m.inflight.sentAt >= ms(m.cfg.timeoutMs)) {
    m.inflight = null;
    m.counts.resent++;
    ctx.count('sourceResends');
  }
  send(m, ctx);
  const done = m.nextArrivalUs >= stopUs && m.buffer.length === 0 && m.inflight === null;
  if (!done) ctx.setTimer('tick', ms(m.cfg.tickMs));
}

/** Sends the head of the buffer when nothing is in flight and no refusal is being waited out. */
function send(m: SourceMemory, ctx: Ctx): void {
  if (m.inflight !== null || m.buffer.length === 0 || ctx.now < m.retryAt) return;
  const records = m.buffer.slice(0, m.cfg.batchMax);
  const batch = ++m.batches;
  m.inflight = { batch, n: records.length, sentAt: ctx.now };
  ctx.send(m.cfg.target, 'events', { kind: 'events', batch, records } satisfies LessonMessage, bytesOf(records.length));
}

function receive(m: SourceMemory, msg: Message, ctx: Ctx): void {
  const body = msg.body as LessonMessage;
  if (body.kind !== 'events-reply') fail(`lesson-source got ${body.kind} from ${msg.from}`);
  // An answer to a batch already given up on (timed out and resent) is ignored: the resend will be answered.
  if (m.inflight === null || body.batch !== m.inflight.batch) return;
  assert(body.accepted + body.rejected === m.inflight.n, `lesson-source: answer covers ${body.accepted + body.rejected} of ${m.inflight.n} orders`);
  m.buffer.splice(0, body.accepted);
  m.counts.accepted += body.accepted;
  m.inflight = null;
  if (body.rejected > 0) {
    m.counts.refused += body.rejected;
    ctx.count('sourceRefused', body.rejected);
    m.retryAt = ctx.now + ms(m.cfg.retryMs);
    if (m.blockedSince === null) {
      m.blockedSince = ctx.now;
      ctx.note('blocked', { by: msg.from, buffered: m.buffer.length });
    }
    return;
  }
  if (m.blockedSince !== null) {
    const blockedMs = (ctx.now - m.blockedSince) / 1000;
    ctx.count('sourceBlockedMs', blockedMs);
    ctx.note('unblocked', { blockedMs, buffered: m.buffer.length });
    m.blockedSince = null;
  }
  // Catching up after a block or a slow answer: send the next batch at once rather than wait for the tick.
  send(m, ctx);
}
