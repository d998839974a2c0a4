import { assert, fail } from '../kernel/assert.ts';
import { ms, type Micros } from '../kernel/time.ts';
import type { Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { SUPERVISOR_DEFAULTS, type ApmRpc, type SupervisorConfig } from './types.ts';

/**
 * The supervisor `sup` (the notes: "agent: restart, check with heartbeat — a supervisor service"). Every agent sends
 * `alive` every heartbeat — or, with heartbeats piggybacked on publishes, the load balancer reports every agent it
 * heard from (`alive-from`, one message for the fleet); every `heartbeatMs` the supervisor checks when it last heard
 * from each. An agent silent for
 * `missedMax` heartbeats is reported silent (once per silence) and sent `restart`, again every `missedMax` heartbeats
 * while it stays silent, at most `RESTARTS_MAX` times (a restart that does not help will not help the tenth time).
 *
 * What it can fix and what it cannot: a hung agent process restarts and is heard again ('back'). A crashed server —
 * machine or OS — takes its agent with it; the restarts go unanswered and the server stays silent. The supervisor
 * cannot tell a hung process from a dead machine or a cut network, and it need not: the silence is itself the
 * signal ("missing data is a signal"), shown as the list of silent servers (`state('silent')`) and as the gap the
 * dashboard draws.
 */

interface Silence {
  since: Micros;
  restarts: number;
  lastRestartAt: Micros;
}

export interface SupervisorState {
  cfg: SupervisorConfig;
  /** When each agent was last heard from (boot time until its first heartbeat: a grace period). */
  lastHeard: Record<NodeId, Micros>;
  /** The server each agent runs on, from its heartbeats (until then, its id less `.agent`). */
  server: Record<NodeId, string>;
  /** Agents silent right now. */
  silent: Record<NodeId, Silence>;
  counts: { silences: number; restartsSent: number; backs: number };
}

type Ctx = NodeContext;

/** Restart orders per silence. */
export const RESTARTS_MAX = 5;
export const SUPERVISED_AGENTS_MAX = 100_000;
export const MISSED_MAX_LIMIT = 1_000;

export const apmSupervisor: NodeBehavior<SupervisorState, Partial<SupervisorConfig>> = {
  kind: 'apm-supervisor',
  boot(config, _disk, ctx) {
    const cfg = { ...SUPERVISOR_DEFAULTS, ...config } as SupervisorConfig;
    if (!(cfg.agents && cfg.agents.length <= SUPERVISED_AGENTS_MAX)) fail(`apm supervisor: agents must be a list of at most ${SUPERVISED_AGENTS_MAX}`);
    for (const a of cfg.agents) if (!ctx.knows(a)) fail(`apm supervisor: unknown agent ${a}`);
    if (!(cfg.heartbeatMs > 0)) fail('apm supervisor: heartbeatMs must be positive');
    if (!(Number.isInteger(cfg.missedMax) && cfg.missedMax >= 1 && cfg.missedMax <= MISSED_MAX_LIMIT)) fail(`apm supervisor: missedMax must be 1..${MISSED_MAX_LIMIT}`);
    const s: SupervisorState = { cfg, lastHeard: {}, server: {}, silent: {}, counts: { silences: 0, restartsSent: 0, backs: 0 } };
    for (const a of cfg.agents) {
      s.lastHeard[a] = ctx.now;
      s.server[a] = a.endsWith('.agent') ? a.slice(0, -'.agent'.length) : a;
    }
    ctx.setTimer('check', ms(cfg.heartbeatMs));
    ctx.state('silent', Object.freeze([]));
    return s;
  },
  view: (s) => ({ lastHeard: s.lastHeard, silent: s.silent, counts: s.counts }),
  headline: (s) => ({ role: 'supervisor', silent: Object.keys(s.silent).length }),
  step(s, input, ctx) {
    if (input.type === 'message') return receive(s, input.msg, ctx);
    if (input.name !== 'check') fail(`apm supervisor has no timer ${input.name}`);
    check(s, ctx);
  },
};

function receive(s: SupervisorState, msg: Message, ctx: Ctx): void {
  const body = msg.body as ApmRpc;
  if (body.kind === 'alive-from') {
    // Heartbeats piggybacked on publishes, reported by the load balancer for the agents it heard from.
    let back = false;
    for (const agent of body.agents) back = heard(s, ctx, agent, null) || back;
    if (back) publishSilent(s, ctx);
    return;
  }
  if (body.kind !== 'alive') fail(`apm supervisor got ${body.kind} from ${msg.from}`);
  if (heard(s, ctx, msg.from, body.server)) publishSilent(s, ctx);
}

/** An agent was heard from (its server's name when it said so); true when it had been silent and is back. */
function heard(s: SupervisorState, ctx: Ctx, agent: NodeId, server: string | null): boolean {
  if (s.lastHeard[agent] === undefined) return false; // not one of ours
  s.lastHeard[agent] = ctx.now;
  if (server !== null) s.server[agent] = server;
  const silence = s.silent[agent];
  if (silence === undefined) return false;
  delete s.silent[agent];
  s.counts.backs++;
  ctx.note('back', { agent, server: s.server[agent], silentMs: (ctx.now - silence.since) / 1000, restarts: silence.restarts });
  return true;
}

/** The periodic check: who has been silent too long, and who is due another restart order. */
function check(s: SupervisorState, ctx: Ctx): void {
  const hb = ms(s.cfg.heartbeatMs);
  ctx.setTimer('check', hb);
  const limit = hb * s.cfg.missedMax;
  let changed = false;
  for (const a of s.cfg.agents) {
    const quietUs = ctx.now - s.lastHeard[a];
    assert(quietUs >= 0, 'an agent is never heard from in the future');
    const silence = s.silent[a];
    if (silence === undefined) {
      if (quietUs < limit) continue;
      s.silent[a] = { since: s.lastHeard[a], restarts: 0, lastRestartAt: ctx.now };
      s.counts.silences++;
      changed = true;
      ctx.note('silent', { agent: a, server: s.server[a], forMs: quietUs / 1000 });
      restart(s, ctx, a, quietUs);
    } else if (silence.restarts < RESTARTS_MAX && ctx.now - silence.lastRestartAt >= limit) {
      restart(s, ctx, a, quietUs);
    }
  }
  if (changed) publishSilent(s, ctx);
}

function restart(s: SupervisorState, ctx: Ctx, agent: NodeId, quietUs: Micros): void {
  const silence = s.silent[agent];
  assert(silence !== undefined && silence.restarts < RESTARTS_MAX, 'restart only a silent agent, a bounded number of times');
  silence.restarts++;
  silence.lastRestartAt = ctx.now;
  s.counts.restartsSent++;
  ctx.count('apm.restartsSent');
  ctx.note('restart', { agent, server: s.server[agent], n: silence.restarts, silentMs: quietUs / 1000 });
  const reason = `no heartbeat for ${quietUs / 1000} ms`;
  ctx.send(agent, 'restart', Object.freeze({ kind: 'restart', reason }) satisfies ApmRpc, 16);
}

/** The servers silent now, in the order of the agent list, for views. */
function publishSilent(s: SupervisorState, ctx: Ctx): void {
  ctx.state('silent', Object.freeze(s.cfg.agents.filter((a) => s.silent[a] !== undefined).map((a) => s.server[a])));
}
