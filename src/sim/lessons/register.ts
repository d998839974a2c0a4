import { fail } from '../kernel/assert.ts';
import { ms, type Micros } from '../kernel/time.ts';
import type { Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import type { RaftMessage } from '../raft/types.ts';
import { ConfigCheck } from './types.ts';

/**
 * The AP vs CP lesson's clients of a Raft group (src/sim/raft) that replicates one register, a counter.
 *
 * `lesson-writer` increments the counter: it writes `key = n+1` once `n` was acknowledged, one write at a time, to
 * the replica it believes leads; it follows "not leader" hints and tries the next replica when an attempt goes
 * unanswered, with the same command id so the leader appends it once. The last value it issued is synced to disk
 * before the write leaves, so a restarted writer never reuses an id.
 *
 * `lesson-reader` reads the counter every `readEveryMs`, in one of two ways:
 * - `readFrom: follower` — from its `local` replica (the one on its own host), an eventual read answered at once from
 *   whatever that replica has applied; when it does not answer, from any other replica that does. Always available
 *   while any replica is reachable; possibly stale. (AP.)
 * - `readFrom: leader` — a strong read through the leader's ReadIndex (Raft thesis §6.4): the leader confirms with a
 *   majority that it still leads before answering, so the answer reflects every committed write. A reader cut off
 *   from a majority gets no answer. (CP.)
 * A read not answered within `timeoutMs` is given up: unavailable. `linearizable` says what the application requires
 * of reads; the linearizable-reads checker holds reads of readers that require it to it.
 *
 * The reader notes its history the way Jepsen records one: `read-invoke` when a read first leaves, `read-ok` with
 * the value and the serving replica's applied index, or `read-unavailable`. A checker outside judges it.
 */
export interface WriterConfig {
  group: NodeId[];
  key: string;
  writeEveryMs: number;
  attemptMs: number;
  stopAtMs: number;
}

export interface ReaderConfig {
  group: NodeId[];
  readFrom: 'leader' | 'follower';
  /** The replica a follower read asks first (its own host's); default: the first of the group. */
  local: NodeId;
  linearizable: boolean;
  key: string;
  readEveryMs: number;
  attemptMs: number;
  timeoutMs: number;
  outstandingMax: number;
  stopAtMs: number;
}

export const WRITER_DEFAULTS: WriterConfig = { group: [], key: 'counter', writeEveryMs: 20, attemptMs: 300, stopAtMs: 0 };
export const READER_DEFAULTS: ReaderConfig = {
  group: [], readFrom: 'leader', local: '', linearizable: false, key: 'counter', readEveryMs: 50, attemptMs: 200, timeoutMs: 1_000, outstandingMax: 100, stopAtMs: 0,
};

export const GROUP_MAX = 15;
export const READS_OUTSTANDING_MAX = 10_000;
/** Immediate redirects per attempt before a request waits for its attempt timeout. */
const REDIRECTS_MAX = 3;

interface Attempt {
  to: NodeId;
  sentAt: Micros;
  startedAt: Micros;
  redirects: number;
  tries: number;
}

export interface WriterMemory {
  cfg: WriterConfig;
  leader: NodeId;
  /** The last value issued (synced) and the last acknowledged. */
  issued: number;
  acked: number;
  pending: (Attempt & { id: string; value: number }) | null;
}

export interface ReaderMemory {
  /** Marks a reader's memory for the checker, which reads its group. */
  kind: 'lesson-reader';
  cfg: ReaderConfig;
  /** Bumped and synced at every boot, so read ids stay unique across restarts. */
  epoch: number;
  next: number;
  leader: NodeId;
  reads: Record<string, Attempt>;
  outstanding: number;
}

type Ctx = NodeContext;

function checkGroup(c: ConfigCheck, group: unknown, ctx: Ctx): NodeId[] {
  c.holds(Array.isArray(group) && group.length >= 1 && group.length <= GROUP_MAX, `group must list 1..${GROUP_MAX} replicas, got ${JSON.stringify(group)}`);
  const list = group as NodeId[];
  list.forEach((g, i) => c.node(`group[${i}]`, g, ctx));
  c.holds(new Set(list).size === list.length, 'group must not repeat a replica');
  return list;
}

function nextReplica(group: readonly NodeId[], after: NodeId): NodeId {
  return group[(group.indexOf(after) + 1) % group.length];
}

// ---- writer ----------------------------------------------------------------------------------------------------------

export const lessonWriter: NodeBehavior<WriterMemory, Partial<WriterConfig>> = {
  kind: 'lesson-writer',
  headline: (m) => ({ counter: m.acked, pending: m.pending !== null, leader: m.leader }),
  boot(config, disk, ctx) {
    const c = new ConfigCheck('lesson-writer', ctx);
    const cfg = c.merge(WRITER_DEFAULTS, config);
    checkGroup(c, cfg.group, ctx);
    c.text('key', cfg.key, 64);
    c.num('writeEveryMs', cfg.writeEveryMs, 1, 3_600_000);
    c.num('attemptMs', cfg.attemptMs, 1, 3_600_000);
    c.num('stopAtMs', cfg.stopAtMs, 0, 86_400_000);
    const issued = (disk.issued as number | undefined) ?? 0;
    ctx.setTimer('write', ms(cfg.writeEveryMs));
    return { cfg, leader: ctx.rng('leader').pick(cfg.group), issued, acked: 0, pending: null };
  },
  step(m, input, ctx) {
    if (input.type === 'timer') {
      if (input.name !== 'write') fail(`lesson-writer has no timer ${input.name}`);
      return writeTick(m, ctx);
    }
    const r = input.msg.body as RaftMessage;
    if (r.kind !== 'propose-reply') fail(`lesson-writer got ${r.kind} from ${input.msg.from}`);
    const p = m.pending;
    if (p === null || r.id !== p.id) return; // a retry's twin, answered already
    if (r.ok) {
      m.acked = p.value;
      m.pending = null;
      ctx.count('writesAcked');
      ctx.observe('writeLatencyMs', (ctx.now - p.startedAt) / 1000);
      ctx.note('write-acked', { value: p.value, index: r.index });
      return;
    }
    m.leader = r.leaderHint !== null && r.leaderHint !== p.to ? r.leaderHint : nextReplica(m.cfg.group, p.to);
    if (r.leaderHint === m.leader && p.redirects < REDIRECTS_MAX) {
      p.redirects++;
      sendWrite(m, ctx);
    }
  },
};

function writeTick(m: WriterMemory, ctx: Ctx): void {
  const stopped = m.cfg.stopAtMs > 0 && ctx.now >= ms(m.cfg.stopAtMs);
  if (!stopped || m.pending !== null) ctx.setTimer('write', ms(m.cfg.writeEveryMs));
  const p = m.pending;
  if (p !== null) {
    if (ctx.now - p.sentAt < ms(m.cfg.attemptMs)) return;
    m.leader = nextReplica(m.cfg.group, p.to);
    p.redirects = 0;
    ctx.count('writeRetries');
    return sendWrite(m, ctx);
  }
  if (stopped) return;
  const value = ++m.issued;
  ctx.persist({ op: 'put', key: 'issued', value }, true);
  m.pending = { id: `${ctx.id}-${value}`, value, to: m.leader, sentAt: ctx.now, startedAt: ctx.now, redirects: 0, tries: 0 };
  sendWrite(m, ctx);
}

function sendWrite(m: WriterMemory, ctx: Ctx): void {
  const p = m.pending!;
  p.to = m.leader;
  p.sentAt = ctx.now;
  p.tries++;
  ctx.send(p.to, 'propose', { kind: 'propose', id: p.id, key: m.cfg.key, value: String(p.value) } satisfies RaftMessage, 64);
}

// ---- reader ----------------------------------------------------------------------------------------------------------

export const lessonReader: NodeBehavior<ReaderMemory, Partial<ReaderConfig>> = {
  kind: 'lesson-reader',
  headline: (m) => ({ readFrom: m.cfg.readFrom, outstanding: m.outstanding, leader: m.leader }),
  boot(config, disk, ctx) {
    const cfg = checkReader(config, ctx);
    const epoch = ((disk.epoch as number | undefined) ?? 0) + 1;
    ctx.persist({ op: 'put', key: 'epoch', value: epoch }, true);
    ctx.count('readsServed', 0);
    ctx.count('readsUnavailable', 0);
    ctx.setTimer('read', ms(cfg.readEveryMs));
    ctx.setTimer('sweep', Math.max(1, ms(cfg.attemptMs) / 4));
    return { kind: 'lesson-reader', cfg, epoch, next: 1, leader: ctx.rng('leader').pick(cfg.group), reads: {}, outstanding: 0 };
  },
  step(m, input, ctx) {
    if (input.type === 'timer') {
      if (input.name === 'read') return issueRead(m, ctx);
      if (input.name === 'sweep') return sweep(m, ctx);
      fail(`lesson-reader has no timer ${input.name}`);
    }
    return readReply(m, input.msg, ctx);
  },
};

function checkReader(config: Partial<ReaderConfig>, ctx: Ctx): ReaderConfig {
  const c = new ConfigCheck('lesson-reader', ctx);
  const cfg = c.merge(READER_DEFAULTS, config);
  const group = checkGroup(c, cfg.group, ctx);
  c.oneOf('readFrom', cfg.readFrom, ['leader', 'follower'] as const);
  if (cfg.local === '') cfg.local = group[0];
  c.holds(group.includes(cfg.local), `local ${JSON.stringify(cfg.local)} must be one of the group`);
  c.bool('linearizable', cfg.linearizable);
  c.text('key', cfg.key, 64);
  c.num('readEveryMs', cfg.readEveryMs, 1, 3_600_000);
  c.num('attemptMs', cfg.attemptMs, 1, 3_600_000);
  c.num('timeoutMs', cfg.timeoutMs, cfg.attemptMs, 3_600_000);
  c.int('outstandingMax', cfg.outstandingMax, 1, READS_OUTSTANDING_MAX);
  c.num('stopAtMs', cfg.stopAtMs, 0, 86_400_000);
  // Every read ends (served, or given up by a sweep at most a quarter attempt past its deadline) within timeoutMs +
  // attemptMs, so this many can be out at once; a smaller bound would be exceeded (issueRead asserts it is not).
  const inFlightMax = Math.ceil((cfg.timeoutMs + cfg.attemptMs) / cfg.readEveryMs) + 1;
  c.holds(cfg.outstandingMax >= inFlightMax, `outstandingMax must cover the reads in flight within timeoutMs + attemptMs (${inFlightMax})`);
  return cfg;
}

function issueRead(m: ReaderMemory, ctx: Ctx): void {
  if (m.cfg.stopAtMs > 0 && ctx.now >= ms(m.cfg.stopAtMs)) return;
  ctx.setTimer('read', ms(m.cfg.readEveryMs));
  if (!(m.outstanding < m.cfg.outstandingMax)) fail(`lesson-reader ${ctx.id}: ${m.outstanding} reads outstanding, more than the bound`);
  const id = `${ctx.id}-${m.epoch}.${m.next++}`;
  const to = m.cfg.readFrom === 'follower' ? m.cfg.local : m.leader;
  m.reads[id] = { to, sentAt: ctx.now, startedAt: ctx.now, redirects: 0, tries: 0 };
  m.outstanding++;
  ctx.note('read-invoke', { id, readFrom: m.cfg.readFrom, linearizable: m.cfg.linearizable });
  sendRead(m, id, ctx);
}

function sendRead(m: ReaderMemory, id: string, ctx: Ctx): void {
  const a = m.reads[id];
  a.sentAt = ctx.now;
  a.tries++;
  const mode = m.cfg.readFrom === 'leader' ? 'strong' : 'eventual';
  ctx.send(a.to, 'read', { kind: 'read', id, key: m.cfg.key, mode } satisfies RaftMessage, 48);
}

/** Gives up reads past their deadline; sends again, to the next replica, those whose attempt went unanswered. */
function sweep(m: ReaderMemory, ctx: Ctx): void {
  ctx.setTimer('sweep', Math.max(1, ms(m.cfg.attemptMs) / 4));
  for (const [id, a] of Object.entries(m.reads)) {
    if (ctx.now - a.startedAt >= ms(m.cfg.timeoutMs)) {
      delete m.reads[id];
      m.outstanding--;
      ctx.count('readsUnavailable');
      ctx.note('read-unavailable', { id, tries: a.tries, lastTo: a.to });
      continue;
    }
    if (ctx.now - a.sentAt < ms(m.cfg.attemptMs)) continue;
    a.to = nextReplica(m.cfg.group, a.to);
    if (m.cfg.readFrom === 'leader') m.leader = a.to;
    a.redirects = 0;
    ctx.count('readRetries');
    sendRead(m, id, ctx);
  }
}

function readReply(m: ReaderMemory, msg: Message, ctx: Ctx): void {
  const r = msg.body as RaftMessage;
  if (r.kind !== 'read-reply') fail(`lesson-reader got ${r.kind} from ${msg.from}`);
  const a = m.reads[r.id];
  if (a === undefined) return; // answered already, or given up on
  if (r.ok) {
    delete m.reads[r.id];
    m.outstanding--;
    const latencyMs = (ctx.now - a.startedAt) / 1000;
    ctx.count('readsServed');
    ctx.observe('readLatencyMs', latencyMs);
    ctx.note('read-ok', { id: r.id, value: r.value === null ? 0 : Number(r.value), appliedIndex: r.appliedIndex, from: msg.from, latencyMs });
    return;
  }
  // Refused: a follower asked for a strong read names the leader it knows; follow that at once, a few times.
  if (r.leaderHint !== null && r.leaderHint !== a.to && a.redirects < REDIRECTS_MAX) {
    m.leader = r.leaderHint;
    a.to = r.leaderHint;
    a.redirects++;
    return sendRead(m, r.id, ctx);
  }
  // Otherwise the sweep tries the next replica once the attempt times out.
}
