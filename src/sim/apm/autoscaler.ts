import { fail } from '../kernel/assert.ts';
import { ms } from '../kernel/time.ts';
import type { Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import type { MqRpc } from '../mq/types.ts';
import type { ApmRpc } from './types.ts';

/**
 * The autoscaler of the notes: it watches the queue's lag — messages waiting, and how old the oldest is — and adds an
 * aggregator when lag keeps growing, removes one when consumers idle. It is bounded by the partition count: a
 * partition goes to one consumer of a group, so a consumer beyond the partitions would get nothing to do.
 *
 * It asks the control plane (`lag?`) every `pollMs`; the pool of aggregators is fixed by the topology, the first
 * `initial` of them active and the rest on standby (their consumers start idle).
 */
export interface AutoscalerConfig {
  /** Aggregators in the order they are scaled out (standbys last). */
  pool: readonly NodeId[];
  initial: number;
  min: number;
  /** Topics whose partitions the aggregators read. */
  topics: readonly string[];
  pollMs: number;
  /** Scale out when the oldest waiting message is older than this for `upAfter` polls in a row. */
  upLagMs: number;
  upAfter: number;
  /** Scale in when fewer than `downMessages` wait (and the lag is under `upLagMs / 4`) for `downAfter` polls. */
  downMessages: number;
  downAfter: number;
  /** No second decision within this of the last. */
  cooldownMs: number;
}

export const AUTOSCALER_DEFAULTS: Omit<AutoscalerConfig, 'pool' | 'topics'> = {
  initial: 1,
  min: 1,
  pollMs: 500,
  upLagMs: 2000,
  upAfter: 2,
  downMessages: 50,
  downAfter: 10,
  cooldownMs: 3000,
};

/** Lag samples kept for the trend. */
const HISTORY_MAX = 20;

export interface AutoscalerState {
  cfg: AutoscalerConfig;
  active: number;
  partitions: number;
  high: number;
  low: number;
  /** The cap (one aggregator per partition) was reported for the current run of high lag. */
  capNoted: boolean;
  lastChangeAt: number;
  /** Recent (time µs, messages waiting) pairs, oldest first, for the trend and the time to drain. */
  history: [number, number][];
  decisions: { at: number; from: number; to: number; why: string }[];
}

type Ctx = NodeContext;
const COORDINATOR = 'ctl';

export const apmAutoscaler: NodeBehavior<AutoscalerState, Partial<AutoscalerConfig>> = {
  kind: 'apm-autoscaler',
  boot(config, _disk, ctx) {
    const cfg = { ...AUTOSCALER_DEFAULTS, ...config } as AutoscalerConfig;
    if (!(cfg.pool && cfg.pool.length >= 1)) fail('apm autoscaler: an aggregator pool is required');
    if (!(cfg.min >= 1 && cfg.initial >= cfg.min && cfg.initial <= cfg.pool.length)) fail('apm autoscaler: need 1 <= min <= initial <= pool size');
    if (!(cfg.topics && cfg.topics.length > 0)) fail('apm autoscaler: topics are required');
    ctx.setTimer('poll', ms(cfg.pollMs));
    return { cfg, active: cfg.initial, partitions: 0, high: 0, low: 0, capNoted: false, lastChangeAt: -Infinity, history: [], decisions: [] };
  },
  view: (s) => ({ active: s.active, pool: s.cfg.pool, partitions: s.partitions, history: s.history, decisions: s.decisions.slice(-20), trendPerS: trendPerS(s) }),
  headline: (s) => ({ role: 'autoscaler', active: s.active, waiting: s.history.length ? s.history[s.history.length - 1][1] : 0 }),
  step(s, input, ctx) {
    if (input.type === 'timer') {
      if (input.name !== 'poll') fail(`apm autoscaler has no timer ${input.name}`);
      ctx.setTimer('poll', ms(s.cfg.pollMs));
      ctx.send(COORDINATOR, 'lag?', { kind: 'lag?', topics: s.cfg.topics } satisfies MqRpc, 16);
      return;
    }
    receive(s, input.msg, ctx);
  },
};

function receive(s: AutoscalerState, msg: Message, ctx: Ctx): void {
  const body = msg.body as MqRpc;
  if (body.kind !== 'lag') fail(`apm autoscaler got ${body.kind} from ${msg.from}`);
  const parts = Object.values(body.partitions);
  s.partitions = parts.length;
  let waiting = 0;
  let lagMs = 0;
  for (const p of parts) {
    waiting += p.ready;
    lagMs = Math.max(lagMs, p.lagMs);
  }
  s.history.push([ctx.now, waiting]);
  if (s.history.length > HISTORY_MAX) s.history.shift();
  ctx.observe('apm.lagMessages', waiting);
  ctx.observe('apm.lagSeconds', lagMs / 1000);
  ctx.observe('apm.aggregators', s.active);
  const trend = trendPerS(s);
  const drainS = trend < 0 ? waiting / -trend : null;
  ctx.state('lag', { waiting, lagMs: Math.round(lagMs), trendPerS: Math.round(trend), drainS: drainS === null ? null : Math.round(drainS * 10) / 10 });
  decide(s, ctx, waiting, lagMs);
}

/** Messages per second the backlog grows (positive) or drains (negative), over the kept history. */
function trendPerS(s: AutoscalerState): number {
  const h = s.history;
  if (h.length < 2) return 0;
  const [t0, n0] = h[0];
  const [t1, n1] = h[h.length - 1];
  return t1 > t0 ? ((n1 - n0) * 1_000_000) / (t1 - t0) : 0;
}

function decide(s: AutoscalerState, ctx: Ctx, waiting: number, lagMs: number): void {
  s.high = lagMs > s.cfg.upLagMs ? s.high + 1 : 0;
  if (s.high === 0) s.capNoted = false;
  s.low = waiting < s.cfg.downMessages && lagMs < s.cfg.upLagMs / 4 ? s.low + 1 : 0;
  if (ctx.now - s.lastChangeAt < ms(s.cfg.cooldownMs)) return;
  const ceiling = Math.min(s.cfg.pool.length, Math.max(1, s.partitions));
  if (s.high >= s.cfg.upAfter) {
    if (s.active >= ceiling) {
      if (!s.capNoted) ctx.note('scale-capped', { active: s.active, partitions: s.partitions, why: 'one consumer per partition at most: more partitions are needed to scale further' });
      s.capNoted = true;
      return;
    }
    return scale(s, ctx, s.active + 1, `oldest message waited ${Math.round(lagMs)} ms > ${s.cfg.upLagMs} ms`);
  }
  if (s.low >= s.cfg.downAfter && s.active > s.cfg.min) scale(s, ctx, s.active - 1, `fewer than ${s.cfg.downMessages} messages waiting`);
}

function scale(s: AutoscalerState, ctx: Ctx, to: number, why: string): void {
  const from = s.active;
  const target = to > from ? s.cfg.pool[from] : s.cfg.pool[to];
  ctx.send(target, to > from ? 'activate' : 'deactivate', { kind: to > from ? 'activate' : 'deactivate' } satisfies ApmRpc, 16);
  s.active = to;
  s.lastChangeAt = ctx.now;
  s.high = 0;
  s.low = 0;
  s.decisions.push({ at: ctx.now, from, to, why });
  if (s.decisions.length > 100) s.decisions.shift();
  ctx.note('scale', { from, to, aggregator: target, why });
  ctx.state('aggregators', to);
}
