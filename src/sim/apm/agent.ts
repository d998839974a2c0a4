import { assert, fail } from '../kernel/assert.ts';
import { ms, type Micros } from '../kernel/time.ts';
import type { Message, NodeBehavior, NodeContext } from '../kernel/types.ts';
import { AGENT_DEFAULTS, type AgentConfig, type ApmRpc, type MetricSpec } from './types.ts';

/**
 * The APM agent: the process on every server that turns what the machine, the OS and the application do into
 * metrics ("servers don't emit metrics — go deep: an agent collects and emits them"). Once a period (the notes: every
 * second) it samples each metric of its catalogue and publishes the batch, stamped with the event time `t` (the start
 * of the period it describes), to the load balancer `lb`.
 *
 * How a value is made depends on the metric's kind, the notes' "how often do you publish?":
 * - `snapshot`: a reading at the second (CPU %) — a random walk pulled back towards `base`;
 * - `max-of-second`: an aggregate of the second's events (the highest RPC latency) — the max of `eventsPerS`
 *   log-normal draws, so one slow RPC in a thousand shows;
 * - `count`: events counted in the second (incoming RPCs) — Poisson-like around `base`.
 *
 * Failures are expected, and each layer has its answer:
 * - the network: try again. One request is on the wire at a time (oldest batch first); a batch not answered within
 *   `requestTimeoutMs`, or refused, is sent again after a wait. Exponential backoff — 10, 20, 40, 80, 80 ms — is "a
 *   binary search of what went wrong": a switch flap heals in a millisecond, a rebooting server in seconds, and
 *   doubling the wait probes each scale with few attempts while easing the load on a clogged network. Fixed intervals
 *   keep hammering at one scale. Jitter draws each wait from [½, 1½] × nominal: without it, agents that failed
 *   together retry together (the herd) and knock the recovering service over again;
 * - the agent itself: it heartbeats `alive` to the supervisor `sup` (or lets the load balancer report its publishes,
 *   `piggybackHeartbeat`: one message per period for the whole fleet), which restarts it when it hangs. A restarted
 *   process has lost its memory, so batches it buffered are gone (counted) — and the gap they leave on the dashboard
 *   is itself the signal: missing data means something failed;
 * - while the network is down batches wait in a bounded buffer; beyond `bufferMax` the oldest batch not on the wire is
 *   dropped (counted and noted), because an agent must never eat the memory of the server it watches.
 */

/** One period's batch, waiting to be sent, on the wire, or waiting out a backoff. */
interface Batch {
  seq: number;
  /** Event time (µs): the start of the period the samples describe. Retries keep it. */
  t: Micros;
  /** One value per metric of the catalogue, in its order (`AgentState.names`). Never written once made: it is sent. */
  values: readonly number[];
  /** Sends so far (the publish message's `attempt` is this count once sent). */
  attempt: number;
}

/**
 * Where the head of the buffer stands: `idle` — nothing on the wire, the head (if any) may go now; `sent` — `buffer[0]`
 * is on the wire until its `timeout` timer; `backoff` — `buffer[0]` failed and waits for the `backoff` timer.
 */
type Wire = 'idle' | 'sent' | 'backoff';

export interface AgentState {
  cfg: AgentConfig;
  status: 'running' | 'hung';
  /** When the process hung (µs), or -1. */
  hungAt: Micros;
  /** The catalogue's metric names, in order: one frozen array shared by every agent with the same catalogue. */
  names: readonly string[];
  /**
   * Current level of every `snapshot` metric's random walk, unskewed, by the metric's place in the catalogue (0 for
   * other kinds): one array of numbers, where an object keyed by name would keep each level in a box of its own.
   */
  walk: number[];
  /**
   * The agent's own 32-bit seed, drawn once at boot from its `sample` stream: each period's draws derive from it and
   * the period's time (see `sample`), so sampling never touches the stream's state again.
   */
  seed: number;
  nextSeq: number;
  heartbeatSeq: number;
  /** Unacknowledged batches, oldest first; `buffer[0]` is the only one ever on the wire. */
  buffer: Batch[];
  wire: Wire;
  /** Consecutive failed attempts since the last success: the exponent of the backoff. */
  failures: number;
  counts: { sampled: number; published: number; retries: number; dropped: number; restarts: number };
}

type Ctx = NodeContext;

/** Limits on what one agent may be configured to do (config errors are caught at boot). */
export const AGENT_METRICS_MAX = 10_000;
export const EVENTS_PER_S_MAX = 10_000;
export const BUFFER_MAX_LIMIT = 100_000;
/** The share of the distance back to `base` a snapshot walk closes each period: keeps the walk bounded. */
export const SNAPSHOT_PULL = 0.1;
/** A CPU reading is a percentage. */
export const CPU_PERCENT_MAX = 100;
/** Header bytes of one publish on the wire (server, seq, event time). */
export const PUBLISH_HEADER_BYTES = 24;
const LB = 'lb';
const SUPERVISOR = 'sup';

export const apmAgent: NodeBehavior<AgentState, Partial<AgentConfig>> = {
  kind: 'apm-agent',
  boot(config, _disk, ctx) {
    const cfg = { ...AGENT_DEFAULTS, ...config } as AgentConfig;
    validate(cfg);
    if (!ctx.knows(LB)) fail(`apm agent ${ctx.id}: no load balancer node "${LB}"`);
    const s: AgentState = {
      cfg, status: 'running', hungAt: -1, names: catalogueNames(cfg.metrics), walk: freshWalk(cfg.metrics), seed: ctx.rng('sample').int(0, 0xffffffff), nextSeq: 1, heartbeatSeq: 0,
      buffer: [], wire: 'idle', failures: 0, counts: { sampled: 0, published: 0, retries: 0, dropped: 0, restarts: 0 },
    };
    start(s, ctx);
    const hangAt = ms(cfg.hangAtMs);
    if (cfg.hangAtMs > 0 && hangAt > ctx.now) ctx.setTimer('hang', hangAt - ctx.now);
    return s;
  },
  view: (s) => ({
    server: s.cfg.server, status: s.status, hungAt: s.hungAt, nextSeq: s.nextSeq, wire: s.wire, failures: s.failures, counts: s.counts,
    buffered: s.buffer.length, buffer: s.buffer.slice(0, 10).map((b) => ({ seq: b.seq, t: b.t, attempt: b.attempt })),
  }),
  headline: (s) => ({ role: 'agent', status: s.status, buffered: s.buffer.length, published: s.counts.published }),
  step(s, input, ctx) {
    if (s.status === 'hung') return stepHung(s, input.type === 'message' ? input.msg : null, ctx);
    if (input.type === 'message') return receive(s, input.msg, ctx);
    switch (input.name) {
      case 'sample':
        return samplePeriod(s, ctx);
      case 'heartbeat':
        return heartbeat(s, ctx);
      case 'timeout':
        if (s.wire !== 'sent') fail(`apm agent ${ctx.id}: a timeout with nothing on the wire`);
        return retry(s, ctx, 'timeout');
      case 'backoff':
        if (s.wire !== 'backoff') fail(`apm agent ${ctx.id}: a backoff timer while ${s.wire}`);
        s.wire = 'idle';
        return pump(s, ctx);
      case 'hang':
        return hang(s, ctx);
      default:
        fail(`apm agent has no timer ${input.name}`);
    }
  },
};

function validate(cfg: AgentConfig): void {
  if (!(typeof cfg.server === 'string' && cfg.server.length > 0)) fail('apm agent: server is required');
  if (!(cfg.metrics.length >= 1 && cfg.metrics.length <= AGENT_METRICS_MAX)) fail(`apm agent: 1..${AGENT_METRICS_MAX} metrics`);
  if (new Set(cfg.metrics.map((m) => m.name)).size !== cfg.metrics.length) fail('apm agent: metric names must be unique');
  for (const m of cfg.metrics) {
    if (!(Number.isFinite(m.base) && m.base >= 0 && Number.isFinite(m.spread) && m.spread >= 0)) fail(`apm agent: metric ${m.name} needs base, spread >= 0`);
    const events = m.eventsPerS ?? 1;
    if (m.kind === 'max-of-second' && !(Number.isInteger(events) && events >= 1 && events <= EVENTS_PER_S_MAX)) fail(`apm agent: ${m.name}.eventsPerS must be 1..${EVENTS_PER_S_MAX}`);
  }
  if (!(cfg.publishEveryMs > 0 && cfg.heartbeatMs > 0 && cfg.requestTimeoutMs > 0)) fail('apm agent: periods and timeouts must be positive');
  if (!(cfg.phaseMs >= 0 && cfg.phaseMs < cfg.publishEveryMs)) fail('apm agent: phaseMs must be within [0, publishEveryMs)');
  if (!(cfg.backoffBaseMs > 0 && cfg.backoffMaxMs >= cfg.backoffBaseMs)) fail('apm agent: need 0 < backoffBaseMs <= backoffMaxMs');
  if (!(Number.isInteger(cfg.bufferMax) && cfg.bufferMax >= 1 && cfg.bufferMax <= BUFFER_MAX_LIMIT)) fail(`apm agent: bufferMax must be 1..${BUFFER_MAX_LIMIT}`);
  if (!(cfg.hangAtMs >= 0 && cfg.bytesPerSample > 0 && cfg.compression >= 1)) fail('apm agent: hangAtMs >= 0, bytesPerSample > 0, compression >= 1');
  for (const [name, k] of Object.entries(cfg.skew)) if (!(Number.isFinite(k) && k >= 0)) fail(`apm agent: skew of ${name} must be >= 0`);
}

/**
 * The catalogue's names as one frozen array, the same array for every agent with the same catalogue: publishes carry
 * it by reference, so the trace hash memoises it once instead of hashing every name of every publish, and ten thousand
 * agents hold one copy. Interned by content (a pure function of the names, so sharing it between runs changes no
 * result), at most CATALOGUES_MAX of them.
 */
const CATALOGUES: Record<string, readonly string[]> = {};
let catalogues = 0;
const CATALOGUES_MAX = 1_000;

function catalogueNames(metrics: readonly MetricSpec[]): readonly string[] {
  const names = metrics.map((m) => m.name);
  const key = names.join('\n');
  const known = CATALOGUES[key];
  if (known !== undefined) return known;
  const frozen = Object.freeze(names);
  if (catalogues < CATALOGUES_MAX) {
    CATALOGUES[key] = frozen;
    catalogues++;
  }
  assert(frozen.length === metrics.length, 'one name per metric');
  return frozen;
}

function freshWalk(metrics: readonly MetricSpec[]): number[] {
  return metrics.map((m) => (m.kind === 'snapshot' ? m.base : 0));
}

/** (Re)starts the process's loops: sampling aligned to whole periods of virtual time, and heartbeats from now. */
function start(s: AgentState, ctx: Ctx): void {
  const period = ms(s.cfg.publishEveryMs);
  const phase = ms(s.cfg.phaseMs);
  const next = (Math.max(0, Math.floor((ctx.now - phase) / period)) + 1) * period + phase;
  assert(next > ctx.now, 'the next period boundary is in the future');
  ctx.setTimer('sample', next - ctx.now);
  ctx.state('status', 'running');
  heartbeat(s, ctx);
}

function heartbeat(s: AgentState, ctx: Ctx): void {
  if (s.cfg.piggybackHeartbeat) return; // the balancer reports our publishes to the supervisor instead
  ctx.setTimer('heartbeat', ms(s.cfg.heartbeatMs));
  if (!ctx.knows(SUPERVISOR)) return; // a topology without a supervisor: nobody listens
  s.heartbeatSeq++;
  ctx.send(SUPERVISOR, 'alive', Object.freeze({ kind: 'alive', server: s.cfg.server, seq: s.heartbeatSeq }) satisfies ApmRpc, 16);
}

/** End of a period: sample it, buffer the batch, and send if the wire is free. */
function samplePeriod(s: AgentState, ctx: Ctx): void {
  const period = ms(s.cfg.publishEveryMs);
  const phase = ms(s.cfg.phaseMs);
  const boundary = Math.floor((ctx.now - phase) / period) * period;
  ctx.setTimer('sample', boundary + period + phase - ctx.now);
  const t = boundary - period;
  assert(t >= 0 && t + period <= ctx.now, 'a batch describes a period that has ended');
  const values = sample(s, t);
  s.counts.sampled++;
  if (s.cfg.noteSampled) ctx.note('sampled', { server: s.cfg.server, t, metrics: s.names, values });
  s.buffer.push({ seq: s.nextSeq++, t, values, attempt: 0 });
  if (s.buffer.length > s.cfg.bufferMax) dropOldest(s, ctx);
  assert(s.buffer.length <= s.cfg.bufferMax, 'the buffer stays within bufferMax');
  pump(s, ctx);
}

/**
 * One period's values, in catalogue order, skewed, rounded to 3 decimals to keep traces compact. Not frozen: freezing
 * an array of numbers boxes every one of them, which at ten thousand agents costs more than drawing them; the array is
 * never written after this (the batch and every publish of it share it).
 *
 * The period's uniform draws come from a small generator (mulberry32) seeded from the agent's seed and the period's
 * event time: ten thousand agents draw tens of values a second, and drawing from each agent's own ARC4 stream — a
 * 256-entry table per agent, cold in the cache by the time its next second comes — cost more than the rest of a sample.
 * The values stay a pure function of the root seed, the agent and the period.
 */
function sample(s: AgentState, t: Micros): number[] {
  const metrics = s.cfg.metrics;
  const out = new Array<number>(metrics.length);
  seedPeriod(s.seed, t);
  for (let i = 0; i < metrics.length; i++) {
    const m = metrics[i];
    let v: number;
    switch (m.kind) {
      case 'snapshot': {
        const level = s.walk[i];
        const next = Math.max(0, level + m.spread * normal() + SNAPSHOT_PULL * (m.base - level));
        v = m.name === 'cpu' ? Math.min(CPU_PERCENT_MAX, next) : next;
        s.walk[i] = v;
        break;
      }
      case 'max-of-second': {
        // The max of n log-normal draws is base × exp(spread × the max of n standard normals), and the max of n
        // standard normals is drawn in one go: P(max ≤ z) = Φ(z)ⁿ, so z = Φ⁻¹(U^(1/n)) for a uniform U. One draw
        // instead of n: at the notes' scale the agents' sampling would otherwise be most of the simulation.
        const n = m.eventsPerS ?? 1;
        const u = Math.min(1 - 1e-16, Math.max(1e-16, uniform()));
        v = m.base * Math.exp(m.spread * inverseNormal(n === 1 ? u : Math.pow(u, 1 / n)));
        break;
      }
      case 'count':
        // Poisson(base) by its normal approximation (mean and variance both base), fine for the counts here (≥ 20).
        v = Math.max(0, Math.round(m.base + Math.sqrt(m.base) * normal()));
        break;
      default:
        fail(`apm agent: unknown metric kind ${(m as MetricSpec).kind as string}`);
    }
    const skew = s.cfg.skew[m.name];
    if (skew !== undefined) v *= skew;
    if (m.name === 'cpu') v = Math.min(CPU_PERCENT_MAX, v);
    if (!(Number.isFinite(v) && v >= 0)) fail(`apm agent: metric ${m.name} sampled ${v}`);
    out[i] = Math.round(v * 1000) / 1000;
  }
  return out;
}

// The period generator's state (mulberry32) and Box–Muller's spare normal. Module-level scratch, set by `seedPeriod`
// at the start of every `sample` and used only inside it: no simulation state lives here between steps. Typed arrays,
// because a module-level `let` holding a double (or an int32 beyond 2^30) would allocate a heap number per write.
const PERIOD_STATE = new Int32Array(1);
/** [the spare normal, 1 when it is there] */
const SPARE = new Float64Array(2);

/** Seeds the period generator from the agent's seed and the period's event time (µs), mixed (murmur3's finaliser). */
function seedPeriod(seed: number, t: Micros): void {
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff && Number.isSafeInteger(t) && t >= 0)) fail(`apm agent: bad period seed ${seed} / ${t}`);
  let h = seed ^ Math.imul(t % 0x100000000, 0x9e3779b1) ^ Math.imul(Math.floor(t / 0x100000000) + 1, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  PERIOD_STATE[0] = h ^ (h >>> 16);
  SPARE[1] = 0;
}

/** A uniform draw in [0, 1) from the period generator (mulberry32). */
function uniform(): number {
  const state = (PERIOD_STATE[0] + 0x6d2b79f5) | 0;
  PERIOD_STATE[0] = state;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
}

const INV_A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const INV_B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const INV_C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const INV_D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/**
 * Φ⁻¹(p), the standard normal quantile, by Acklam's rational approximation (relative error < 1.2e-9) for p in (0, 1).
 */
export function inverseNormal(p: number): number {
  if (!(p > 0 && p < 1)) fail(`inverseNormal needs p in (0, 1), got ${p}`);
  const low = 0.02425;
  if (p < low || p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(p < low ? p : 1 - p));
    const x = (((((INV_C[0] * q + INV_C[1]) * q + INV_C[2]) * q + INV_C[3]) * q + INV_C[4]) * q + INV_C[5]) / ((((INV_D[0] * q + INV_D[1]) * q + INV_D[2]) * q + INV_D[3]) * q + 1);
    return p < low ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((INV_A[0] * r + INV_A[1]) * r + INV_A[2]) * r + INV_A[3]) * r + INV_A[4]) * r + INV_A[5]) * q) / (((((INV_B[0] * r + INV_B[1]) * r + INV_B[2]) * r + INV_B[3]) * r + INV_B[4]) * r + 1);
}

/**
 * A standard normal draw. Box–Muller turns two uniforms into two independent normals; the second is kept for the next
 * call of the same period, so a draw costs one uniform on average. `1 - uniform()` lies in (0, 1]: the logarithm is
 * finite.
 */
function normal(): number {
  if (SPARE[1] === 1) {
    SPARE[1] = 0;
    return SPARE[0];
  }
  const r = Math.sqrt(-2 * Math.log(1 - uniform()));
  const angle = 2 * Math.PI * uniform();
  SPARE[0] = r * Math.sin(angle);
  SPARE[1] = 1;
  return r * Math.cos(angle);
}

/** The buffer is full: drop the oldest batch that is not on the wire (an answer may still come for that one). */
function dropOldest(s: AgentState, ctx: Ctx): void {
  const i = s.wire === 'sent' ? 1 : 0;
  assert(i < s.buffer.length, 'a full buffer holds a batch off the wire');
  const [b] = s.buffer.splice(i, 1);
  s.counts.dropped++;
  ctx.count('apm.dropped');
  ctx.note('buffer-drop', { seq: b.seq, t: b.t, buffered: s.buffer.length });
}

/** Sends the oldest batch when nothing is on the wire and no backoff is running. */
function pump(s: AgentState, ctx: Ctx): void {
  if (s.wire !== 'idle' || s.buffer.length === 0) return;
  const b = s.buffer[0];
  b.attempt++;
  const emitted = Math.max(s.cfg.metricsEmitted, b.values.length);
  // Not frozen (see `sample`): nothing writes to a publish once it is made.
  const body: ApmRpc = { kind: 'publish', agent: ctx.id, server: s.cfg.server, seq: b.seq, t: b.t, metrics: s.names, values: b.values, emitted, attempt: b.attempt };
  ctx.send(LB, 'publish', body, publishBytes(s.cfg, emitted));
  ctx.setTimer('timeout', ms(s.cfg.requestTimeoutMs));
  s.wire = 'sent';
}

/** Bytes of a publish on the wire: a header plus the compressed samples (ingestion pays CPU to undo the compression). */
export function publishBytes(cfg: Pick<AgentConfig, 'bytesPerSample' | 'compression'>, samples: number): number {
  assert(samples >= 0 && cfg.compression >= 1, 'publishBytes: samples >= 0, compression >= 1');
  return Math.max(1, Math.ceil(PUBLISH_HEADER_BYTES + (samples * cfg.bytesPerSample) / cfg.compression));
}

/**
 * The wait before retry number `retry` (1 for the first): exponential doubles from the base up to the cap (10, 20, 40,
 * 80, 80 ms), fixed repeats the base; jitter draws the wait from [½, 1½] × nominal. In microseconds.
 */
export function retryWaitUs(cfg: Pick<AgentConfig, 'retry' | 'backoffBaseMs' | 'backoffMaxMs' | 'jitter'>, retry: number, draw: () => number): Micros {
  assert(Number.isInteger(retry) && retry >= 1, 'retries count from 1');
  const nominal = cfg.retry === 'fixed' ? cfg.backoffBaseMs : Math.min(cfg.backoffMaxMs, cfg.backoffBaseMs * 2 ** Math.min(retry - 1, 30));
  const wait = ms(cfg.jitter ? nominal * (0.5 + draw()) : nominal);
  assert(wait >= 0, 'a wait is never negative');
  return wait;
}

function retry(s: AgentState, ctx: Ctx, why: string): void {
  assert(s.wire === 'sent' && s.buffer.length > 0, 'only a batch on the wire fails');
  const b = s.buffer[0];
  s.failures++;
  const rng = ctx.rng('backoff');
  const wait = retryWaitUs(s.cfg, s.failures, () => rng.next());
  s.wire = 'backoff';
  ctx.setTimer('backoff', wait);
  s.counts.retries++;
  ctx.count('apm.retries');
  ctx.note('retry', { seq: b.seq, t: b.t, attempt: b.attempt + 1, retry: s.failures, waitMs: wait / 1000, why });
}

function receive(s: AgentState, msg: Message, ctx: Ctx): void {
  const body = msg.body as ApmRpc;
  switch (body.kind) {
    case 'published':
      return answered(s, body, ctx);
    case 'restart':
      // Not hung: the supervisor lost our heartbeats to the network, not to a hang. It cannot tell the two apart.
      return void ctx.note('restart-ignored', { reason: body.reason });
    default:
      fail(`apm agent got ${body.kind} from ${msg.from}`);
  }
}

/**
 * An answer for the head batch. Any `ok` for its seq settles it — even a late one for an attempt already given up on
 * (the data did get through; sending it again would only duplicate it). A refusal counts only when it answers the
 * attempt now on the wire; refusals of older attempts are stale.
 */
function answered(s: AgentState, a: Extract<ApmRpc, { kind: 'published' }>, ctx: Ctx): void {
  const b = s.buffer[0];
  if (b === undefined || a.seq !== b.seq) return; // settled or dropped already
  if (!a.ok) {
    if (s.wire === 'sent' && a.attempt === b.attempt) {
      ctx.cancelTimer('timeout');
      retry(s, ctx, a.reason);
    }
    return;
  }
  ctx.cancelTimer(s.wire === 'sent' ? 'timeout' : 'backoff');
  s.buffer.shift();
  s.wire = 'idle';
  s.failures = 0;
  s.counts.published++;
  ctx.count('apm.published');
  // From when the batch was ready (its period over, at this agent's phase) to its acceptance: network, balancer and
  // ingestion queue, plus every retry's wait.
  const readyAt = b.t + ms(s.cfg.publishEveryMs) + ms(s.cfg.phaseMs);
  ctx.observe('apm.publishDelayMs', Math.max(0, ctx.now - readyAt) / 1000);
  // A batch that went through at the first attempt needs no note: its `published` answer is in the trace. One that
  // needed retries is worth one (how a fault ended for this server).
  if (a.attempt > 1) ctx.note('published', { seq: b.seq, t: b.t, attempt: a.attempt });
  pump(s, ctx);
}

/** The process hangs: from now on it ignores every timer and message but the supervisor's `restart`. */
function hang(s: AgentState, ctx: Ctx): void {
  s.status = 'hung';
  s.hungAt = ctx.now;
  ctx.state('status', 'hung');
  ctx.note('hung', { server: s.cfg.server, buffered: s.buffer.length });
}

/**
 * A hung process: timers still fire and messages still arrive, and nothing answers. Only the supervisor's `restart`
 * gets through — it kills the process and starts a new one, which has lost what the old one held in memory: its
 * buffered batches (counted as dropped) and its sampling state. Sequence numbers go on (a real agent would keep them
 * on disk or mark its incarnation) so the trace never shows one seq for two batches.
 */
function stepHung(s: AgentState, msg: Message | null, ctx: Ctx): void {
  if (msg === null || (msg.body as ApmRpc).kind !== 'restart') return;
  const lost = s.buffer.map((b) => b.t);
  s.counts.dropped += lost.length;
  if (lost.length > 0) ctx.count('apm.dropped', lost.length);
  s.counts.restarts++;
  ctx.note('restarted', { server: s.cfg.server, hungForMs: (ctx.now - s.hungAt) / 1000, lost: lost.length, lostTs: Object.freeze(lost) });
  ctx.cancelTimer('timeout');
  ctx.cancelTimer('backoff');
  s.status = 'running';
  s.hungAt = -1;
  s.walk = freshWalk(s.cfg.metrics);
  s.buffer = [];
  s.wire = 'idle';
  s.failures = 0;
  start(s, ctx);
}
