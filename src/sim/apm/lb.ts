import { assert, fail } from '../kernel/assert.ts';
import { ms, type Micros } from '../kernel/time.ts';
import type { Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { LB_DEFAULTS, type ApmRpc, type LbConfig } from './types.ts';

/**
 * The load balancer `lb` in front of the stateless ingestion servers. Agents publish to it; it forwards each publish —
 * the same body, by reference — to one backend, and relays the backend's `published` answer back. A forwarded request
 * not answered within `requestTimeoutMs` is failed back to the agent ('backend timeout'), which retries.
 *
 * Which backend?
 * - round robin: each in turn. Free — it needs no knowledge — and fair when the backends are alike; a slow one gets
 *   its full share anyway, and the requests queued on it wait;
 * - least busy: the backend with the least work, estimated as its queue at the last poll, plus what was forwarded to it
 *   since that poll went out, plus the requests still outstanding on it (a conservative score: it leans on what this
 *   balancer saw itself). Knowing costs: every `loadPollMs` it asks each backend `load?` and gets `load` back, two
 *   messages per backend per poll (counted as `apm.lbPolls`), and the answer is already old when it arrives. With
 *   `loadPollMs` 0 it uses only its own count of outstanding requests — free, but blind to load from anyone else.
 *
 * With direct server return (`directReturn`) the backend answers the agent itself: the balancer forwards and forgets.
 * That halves its messages — at the notes' scale, ten thousand answers a second it need not relay — and blinds it:
 * it no longer knows what is outstanding, so least-busy leans on its polls alone (and must poll), and a backend that
 * swallows requests is noticed only by the agents' own timeouts.
 *
 * Piggybacked heartbeats (`reportAliveMs`): the balancer sees every agent's publishes, so it can tell the supervisor
 * who is alive — one `alive-from` message per period listing the agents heard since the last, instead of a heartbeat
 * message from each of ten thousand agents.
 *
 * It notes nothing per request (far too chatty at thousands of requests a second); per-backend counters sit in memory
 * and show in `view`, and `apm.lbForwarded.<backend>` counts requests per backend.
 */

/** One forwarded request waiting for its backend's answer. */
interface Forward {
  agent: NodeId;
  seq: number;
  attempt: number;
  backend: NodeId;
  deadline: Micros;
}

/** What the balancer knows and has done per backend. */
interface BackendStats {
  forwarded: number;
  answered: number;
  refused: number;
  timeouts: number;
  /** Forwarded and neither answered nor timed out. */
  outstanding: number;
  /** Queue length the last `load` answer reported (0 until one arrives). */
  polled: number;
  /** Forwarded since the last poll went out. */
  sincePoll: number;
}

export interface LbState {
  cfg: LbConfig;
  /** Round robin's next index (modulo the backends). */
  rr: number;
  /**
   * Outstanding requests by `agent|seq|attempt`. The timeout is one constant, so insertion order is deadline order;
   * JavaScript keeps string keys that are not integers in insertion order (and checkpoints copy them in order), so the
   * expiry walk stops at the first entry not yet due.
   */
  pending: Record<string, Forward>;
  pendingCount: number;
  backends: Record<NodeId, BackendStats>;
  /** `apm.lbForwarded.<backend>` per backend, made once: the name of the per-backend request counter. */
  metricOf: Record<NodeId, string>;
  /** Agents heard from since the last `alive-from` report (`reportAliveMs` > 0), in the order first heard. */
  heard: Record<NodeId, 1>;
  heardCount: number;
  counts: { received: number; forwarded: number; timeouts: number; overloaded: number; late: number; duplicates: number; polls: number };
}

type Ctx = NodeContext;

/** Requests the balancer tracks at once; beyond it a publish is refused at once ('lb overloaded'). */
export const LB_PENDING_MAX = 10_000;
export const LB_BACKENDS_MAX = 1_000;
/** Bytes of a `load?` / `load` message and of an answer relayed to an agent. */
const POLL_BYTES = 16;
const SUPERVISOR = 'sup';
const ANSWER_BYTES = 24;

export const apmLb: NodeBehavior<LbState, Partial<LbConfig>> = {
  kind: 'apm-lb',
  boot(config, _disk, ctx) {
    const cfg = { ...LB_DEFAULTS, ...config } as LbConfig;
    if (!(cfg.backends && cfg.backends.length >= 1 && cfg.backends.length <= LB_BACKENDS_MAX)) fail(`apm lb: 1..${LB_BACKENDS_MAX} backends`);
    if (new Set(cfg.backends).size !== cfg.backends.length) fail('apm lb: backends must be unique');
    for (const b of cfg.backends) if (!ctx.knows(b)) fail(`apm lb: unknown backend ${b}`);
    if (!(cfg.policy === 'round-robin' || cfg.policy === 'least-busy')) fail(`apm lb: unknown policy ${cfg.policy as string}`);
    if (!(cfg.loadPollMs >= 0 && cfg.requestTimeoutMs > 0)) fail('apm lb: loadPollMs >= 0 and requestTimeoutMs > 0');
    if (cfg.directReturn && cfg.policy === 'least-busy' && !(cfg.loadPollMs > 0)) fail('apm lb: least-busy with direct return sees no answers, so it needs loadPollMs > 0');
    if (!(cfg.reportAliveMs >= 0)) fail('apm lb: reportAliveMs must be >= 0');
    if (cfg.reportAliveMs > 0 && !ctx.knows(SUPERVISOR)) fail(`apm lb: reportAliveMs needs a supervisor node "${SUPERVISOR}"`);
    const backends: Record<NodeId, BackendStats> = {};
    const metricOf: Record<NodeId, string> = {};
    for (const b of cfg.backends) {
      backends[b] = { forwarded: 0, answered: 0, refused: 0, timeouts: 0, outstanding: 0, polled: 0, sincePoll: 0 };
      metricOf[b] = `apm.lbForwarded.${b}`;
    }
    const counts = { received: 0, forwarded: 0, timeouts: 0, overloaded: 0, late: 0, duplicates: 0, polls: 0 };
    const s: LbState = { cfg, rr: 0, pending: {}, pendingCount: 0, backends, metricOf, heard: {}, heardCount: 0, counts };
    if (polls(cfg)) ctx.setTimer('poll', ms(cfg.loadPollMs));
    if (cfg.reportAliveMs > 0) ctx.setTimer('report', ms(cfg.reportAliveMs));
    ctx.state('policy', cfg.policy);
    return s;
  },
  view: (s) => ({ policy: s.cfg.policy, loadPollMs: s.cfg.loadPollMs, directReturn: s.cfg.directReturn, pending: s.pendingCount, backends: s.backends, counts: s.counts }),
  headline: (s) => ({ role: 'lb', policy: s.cfg.policy, pending: s.pendingCount, forwarded: s.counts.forwarded }),
  step(s, input, ctx) {
    if (input.type === 'message') return receive(s, input.msg, ctx);
    if (input.name === 'expire') return expire(s, ctx);
    if (input.name === 'poll') return poll(s, ctx);
    if (input.name === 'report') return reportAlive(s, ctx);
    fail(`apm lb has no timer ${input.name}`);
  },
};

function polls(cfg: LbConfig): boolean {
  return cfg.policy === 'least-busy' && cfg.loadPollMs > 0;
}

function receive(s: LbState, msg: Message, ctx: Ctx): void {
  const body = msg.body as ApmRpc;
  switch (body.kind) {
    case 'publish':
      return forward(s, msg, body, ctx);
    case 'published':
      if (s.cfg.directReturn) fail(`apm lb: ${msg.from} answered the balancer, but direct return is on (set directReturn on the backends too)`);
      return relay(s, msg.from, body, ctx);
    case 'load': {
      const b = s.backends[msg.from] ?? fail(`apm lb: load from unknown backend ${msg.from}`);
      b.polled = body.queue;
      return;
    }
    default:
      fail(`apm lb got ${body.kind} from ${msg.from}`);
  }
}

function keyOf(agent: NodeId, seq: number, attempt: number): string {
  return `${agent}|${seq}|${attempt}`;
}

function forward(s: LbState, msg: Message, p: Extract<ApmRpc, { kind: 'publish' }>, ctx: Ctx): void {
  s.counts.received++;
  if (s.cfg.reportAliveMs > 0 && s.heard[p.agent] === undefined) {
    s.heard[p.agent] = 1;
    s.heardCount++;
  }
  if (s.cfg.directReturn) return forwardDirect(s, msg, p, ctx);
  const key = keyOf(p.agent, p.seq, p.attempt);
  if (s.pending[key] !== undefined) return void s.counts.duplicates++; // a network duplicate: the original's answer will do
  if (s.pendingCount >= LB_PENDING_MAX) {
    s.counts.overloaded++;
    return answer(ctx, p, false, 'lb overloaded');
  }
  const backend = pick(s);
  const stats = s.backends[backend];
  stats.forwarded++;
  stats.outstanding++;
  stats.sincePoll++;
  s.counts.forwarded++;
  const deadline = ctx.now + ms(s.cfg.requestTimeoutMs);
  s.pending[key] = { agent: p.agent, seq: p.seq, attempt: p.attempt, backend, deadline };
  if (++s.pendingCount === 1) ctx.setTimer('expire', deadline - ctx.now);
  ctx.count(s.metricOf[backend]);
  ctx.send(backend, 'publish', p, msg.size);
}

/** Direct server return: pick a backend and forward; the backend answers the agent, so nothing is tracked here. */
function forwardDirect(s: LbState, msg: Message, p: Extract<ApmRpc, { kind: 'publish' }>, ctx: Ctx): void {
  assert(s.pendingCount === 0, 'direct return tracks no request');
  const backend = pick(s);
  const stats = s.backends[backend];
  stats.forwarded++;
  stats.sincePoll++;
  s.counts.forwarded++;
  ctx.count(s.metricOf[backend]);
  ctx.send(backend, 'publish', p, msg.size);
}

/** The backend for the next request, by the configured policy; ties go to the earlier backend in the list. */
function pick(s: LbState): NodeId {
  const list = s.cfg.backends;
  if (s.cfg.policy === 'round-robin') return list[s.rr++ % list.length];
  const withPoll = polls(s.cfg);
  let best = list[0];
  let bestScore = Infinity;
  for (const b of list) {
    const st = s.backends[b];
    const score = st.outstanding + (withPoll ? st.polled + st.sincePoll : 0);
    if (score < bestScore) {
      best = b;
      bestScore = score;
    }
  }
  assert(bestScore >= 0, 'a load score is never negative');
  return best;
}

function relay(s: LbState, from: NodeId, a: Extract<ApmRpc, { kind: 'published' }>, ctx: Ctx): void {
  const key = keyOf(a.agent, a.seq, a.attempt);
  const f = s.pending[key];
  if (f === undefined || f.backend !== from) return void s.counts.late++; // answered after its timeout: already failed back
  delete s.pending[key];
  s.pendingCount--;
  const stats = s.backends[from];
  stats.outstanding--;
  stats.answered++;
  if (!a.ok) stats.refused++;
  assert(stats.outstanding >= 0 && s.pendingCount >= 0, 'outstanding counts never go negative');
  ctx.send(f.agent, 'published', a, ANSWER_BYTES);
}

function answer(ctx: Ctx, p: Extract<ApmRpc, { kind: 'publish' }>, ok: boolean, reason: string): void {
  const body = Object.freeze({ kind: 'published', agent: p.agent, seq: p.seq, attempt: p.attempt, ok, reason, by: ctx.id }) satisfies ApmRpc;
  ctx.send(p.agent, 'published', body, ANSWER_BYTES);
}

/** Fails back every request past its deadline (oldest first), then waits for the next deadline. */
function expire(s: LbState, ctx: Ctx): void {
  for (const [key, f] of Object.entries(s.pending)) {
    if (f.deadline > ctx.now) {
      ctx.setTimer('expire', f.deadline - ctx.now);
      return;
    }
    delete s.pending[key];
    s.pendingCount--;
    const stats = s.backends[f.backend];
    stats.outstanding--;
    stats.timeouts++;
    s.counts.timeouts++;
    ctx.count('apm.lbTimeouts');
    const body = Object.freeze({ kind: 'published', agent: f.agent, seq: f.seq, attempt: f.attempt, ok: false, reason: 'backend timeout', by: ctx.id }) satisfies ApmRpc;
    ctx.send(f.agent, 'published', body, ANSWER_BYTES);
  }
  assert(s.pendingCount === 0, 'every pending request was walked');
}

/** Tells the supervisor which agents published since the last report: their heartbeats, piggybacked. */
function reportAlive(s: LbState, ctx: Ctx): void {
  ctx.setTimer('report', ms(s.cfg.reportAliveMs));
  if (s.heardCount === 0) return;
  const agents = Object.keys(s.heard);
  assert(agents.length === s.heardCount, 'every agent heard is listed once');
  s.heard = {};
  s.heardCount = 0;
  ctx.send(SUPERVISOR, 'alive-from', Object.freeze({ kind: 'alive-from', agents: Object.freeze(agents) }) satisfies ApmRpc, 16 + 8 * agents.length);
}

/** Asks every backend for its queue length: the price of least-busy's knowledge, paid whether or not traffic flows. */
function poll(s: LbState, ctx: Ctx): void {
  ctx.setTimer('poll', ms(s.cfg.loadPollMs));
  for (const b of s.cfg.backends) {
    s.backends[b].sincePoll = 0;
    ctx.send(b, 'load?', Object.freeze({ kind: 'load?' }) satisfies ApmRpc, POLL_BYTES);
  }
  s.counts.polls += s.cfg.backends.length;
  ctx.count('apm.lbPolls', s.cfg.backends.length);
}
