import { assert } from '../kernel/assert.ts';
import { ms } from '../kernel/time.ts';
import type { NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { checkRaftConfig } from './config.ts';
import type { RaftMessage } from './types.ts';

/**
 * A client of a Raft group: writes `key = value` every `writeEveryMs` and reads every `readEveryMs` (strong via the
 * leader's ReadIndex, or eventual from any replica). It remembers its guess of the leader, follows "not leader" hints,
 * and retries a request that got no answer within `timeoutMs` on the next replica, with the same id so the leader can
 * deduplicate it. Every write acknowledged before a strong read was sent must be visible to that read: the client
 * notes what it required (`mustSee`) so a checker can hold the group to it.
 */
export interface RaftClientConfig {
  group: NodeId[];
  writeEveryMs: number;
  readEveryMs: number;
  readMode: 'strong' | 'eventual';
  timeoutMs: number;
  keys: number;
  outstandingMax: number;
  /** Stop issuing new requests after this virtual time (ms); 0 = never. Lets a run end quiet for liveness checks. */
  stopAtMs: number;
}

export const RAFT_CLIENT_DEFAULTS: Omit<RaftClientConfig, 'group'> = {
  writeEveryMs: 10,
  readEveryMs: 0,
  readMode: 'strong',
  timeoutMs: 300,
  keys: 8,
  outstandingMax: 200,
  stopAtMs: 0,
};

interface Outstanding {
  kind: 'put' | 'read';
  key: string;
  value: string;
  firstSentAt: number;
  sentAt: number;
  to: NodeId;
  tries: number;
  /** For reads: the highest index acknowledged to this client when the read was first sent. */
  mustSee: number;
}

export interface RaftClientMemory {
  cfg: RaftClientConfig;
  leader: NodeId;
  /**
   * This life's session number, one more than the last on disk (synced before the first request): request ids are
   * `<node>:<session>-<n>`, so a restarted client, whose numbering starts again at 1, never reuses an id the group
   * remembers — nor sits below the low-water mark of its earlier life's session.
   */
  session: number;
  next: number;
  outstanding: Record<string, Outstanding>;
  /** How many requests are outstanding (the size of `outstanding`, kept so a tick need not count keys). */
  pending: number;
  ackedIndex: number;
}

type Reply = Extract<RaftMessage, { kind: 'propose-reply' | 'read-reply' }>;

/** Immediate redirects per request before it waits for the retry sweep. */
const REDIRECTS_MAX = 3;

export const raftClient: NodeBehavior<RaftClientMemory, Partial<RaftClientConfig>> = {
  kind: 'raft-client',
  headline: (m) => ({ leader: m.leader, outstanding: m.pending, ackedIndex: m.ackedIndex }),
  boot(config, disk, ctx) {
    checkRaftConfig('raft-client', ctx.id, config);
    const cfg = { ...RAFT_CLIENT_DEFAULTS, group: [], ...config } as RaftClientConfig;
    assert(cfg.group.length > 0, 'raft-client: config.group must name the replicas');
    assert(cfg.writeEveryMs >= 0 && cfg.readEveryMs >= 0 && cfg.timeoutMs > 0, 'raft-client: periods must be >= 0, timeout > 0');
    const session = ((disk.session as number | undefined) ?? 0) + 1;
    ctx.persist({ op: 'put', key: 'session', value: session }, true);
    const m: RaftClientMemory = { cfg, leader: ctx.rng('leader').pick(cfg.group), session, next: 1, outstanding: {}, pending: 0, ackedIndex: 0 };
    if (cfg.writeEveryMs > 0) ctx.setTimer('write', ms(cfg.writeEveryMs));
    if (cfg.readEveryMs > 0) ctx.setTimer('read', ms(cfg.readEveryMs));
    ctx.setTimer('retry', ms(cfg.timeoutMs) / 2);
    return m;
  },
  step(m, input, ctx) {
    if (input.type === 'timer') return tick(m, input.name, ctx);
    const r = input.msg.body as Reply;
    const o = m.outstanding[r.id];
    if (!o) return; // an answer to a request already answered (a retry's twin)
    if (r.ok) return done(m, r, o, ctx);
    // Follow a fresh hint at once, a few times; otherwise wait for the retry sweep. Without that pause, replicas with
    // stale hints bounce a backlog of requests back and forth at network speed.
    const hinted = r.leaderHint !== null && r.leaderHint !== o.to;
    m.leader = hinted ? r.leaderHint! : nextReplica(m, o.to);
    if (hinted && o.tries < REDIRECTS_MAX) return resend(m, r.id, o, ctx);
    o.sentAt = ctx.now;
  },
};

function tick(m: RaftClientMemory, name: string, ctx: NodeContext): void {
  const stopped = m.cfg.stopAtMs > 0 && ctx.now >= ms(m.cfg.stopAtMs);
  switch (name) {
    case 'write':
    case 'read': {
      if (stopped) return;
      const every = name === 'write' ? m.cfg.writeEveryMs : m.cfg.readEveryMs;
      ctx.setTimer(name, ms(every));
      if (m.pending >= m.cfg.outstandingMax) return void ctx.count('clientBackpressure');
      const id = `${ctx.id}:${m.session}-${m.next++}`;
      const key = `k${ctx.rng('keys').int(0, m.cfg.keys - 1)}`;
      const o: Outstanding = { kind: name === 'write' ? 'put' : 'read', key, value: id, firstSentAt: ctx.now, sentAt: ctx.now, to: m.leader, tries: 0, mustSee: m.ackedIndex };
      m.outstanding[id] = o;
      m.pending++;
      return send(m, id, o, ctx);
    }
    case 'retry': {
      const deadline = ctx.now - ms(m.cfg.timeoutMs);
      for (const [id, o] of Object.entries(m.outstanding)) {
        if (o.sentAt > deadline) continue;
        m.leader = nextReplica(m, o.to);
        resend(m, id, o, ctx);
      }
      ctx.setTimer('retry', ms(m.cfg.timeoutMs) / 2);
      return;
    }
    default:
      throw new Error(`raft-client has no timer ${name}`);
  }
}

/** Writes and strong reads go to the replica believed to lead; eventual reads to any replica (that is their point). */
function send(m: RaftClientMemory, id: string, o: Outstanding, ctx: NodeContext): void {
  o.to = o.kind === 'read' && m.cfg.readMode === 'eventual' ? ctx.rng('replica').pick(m.cfg.group) : m.leader;
  o.sentAt = ctx.now;
  if (o.kind === 'put') ctx.send(o.to, 'propose', { kind: 'propose', id, key: o.key, value: o.value, low: lowWater(m) } satisfies RaftMessage, 64);
  else ctx.send(o.to, 'read', { kind: 'read', id, key: o.key, mode: m.cfg.readMode } satisfies RaftMessage, 48);
}

function resend(m: RaftClientMemory, id: string, o: Outstanding, ctx: NodeContext): void {
  o.tries++;
  ctx.count('clientRetries');
  send(m, id, o, ctx);
}

function done(m: RaftClientMemory, r: Reply, o: Outstanding, ctx: NodeContext): void {
  delete m.outstanding[r.id];
  m.pending--;
  const latencyMs = (ctx.now - o.firstSentAt) / 1000;
  if (r.kind === 'propose-reply') {
    m.ackedIndex = Math.max(m.ackedIndex, r.index);
    ctx.count('writesAcked');
    ctx.observe('writeLatencyMs', latencyMs);
    ctx.note('write-acked', { id: r.id, index: r.index });
    return;
  }
  ctx.count('readsServed');
  ctx.observe('readLatencyMs', latencyMs);
  const stalenessEntries = Math.max(0, m.ackedIndex - r.appliedIndex);
  ctx.observe(m.cfg.readMode === 'strong' ? 'strongReadStaleness' : 'eventualReadStaleness', stalenessEntries);
  // Staleness: how many entries this client knows were committed (its own acknowledged writes) that the read did not
  // reflect — 0 for a linearizable read; an eventual read from a lagging follower shows how far behind it was.
  ctx.note('read-served', { id: r.id, mode: m.cfg.readMode, from: o.to, appliedIndex: r.appliedIndex, mustSee: o.mustSee, staleEntries: stalenessEntries });
}

/**
 * The low-water mark of this client's session (Raft dissertation §6.3): the lowest request number still waiting for
 * an answer — every lower one has had its answer, so the group may forget those ids. Requests are numbered in order
 * and `outstanding` keeps insertion order (its keys are not integers), so the first key is the lowest.
 */
function lowWater(m: RaftClientMemory): number {
  for (const id in m.outstanding) return Number(id.slice(id.lastIndexOf('-') + 1));
  return m.next;
}

function nextReplica(m: RaftClientMemory, after: NodeId): NodeId {
  const g = m.cfg.group;
  return g[(g.indexOf(after) + 1) % g.length];
}
