import { assert, fail } from '../kernel/assert.ts';
import { ms } from '../kernel/time.ts';
import type { DiskView, Message, NodeBehavior, NodeContext, NodeId, NodeInput } from '../kernel/types.ts';
import { checkRaftConfig } from './config.ts';
import { baseEntry, entryAt, firstIndex, firstIndexOfTerm, isUpToDate, lastIndex, lastTerm, slice, termAt } from './log.ts';
import { sessionAdd, sessionLearnLow, sessionLookup, sessionsBytes, sessionsCopy, sessionsFrozen, type SessionTable } from './sessions.ts';
import {
  RAFT_BUGS, RAFT_DEFAULTS, SNAPSHOT_CHUNK_BYTES_MAX, SNAPSHOT_CHUNK_BYTES_MIN, SNAPSHOT_ENTRIES_MAX,
  type Entry, type RaftConfig, type RaftMessage, type RaftSnapshot, type Role,
} from './types.ts';

/**
 * One Raft replica as a pure state machine (etcd-raft's shape): `step` handles one message or timer and only records
 * effects; the world persists, then sends. Section numbers refer to Ongaro & Ousterhout, "In Search of an
 * Understandable Consensus Algorithm" (2014). Persistent state (`currentTerm`, `votedFor`, the log) is written with
 * sync before any reply that depends on it leaves, because effects are applied disk-first.
 *
 * WAL positions, as the lecture names them: append position = last log index; commit = commitIndex; applied =
 * lastApplied (a background applier may lag); replicated position per follower = matchIndex on the leader.
 *
 * Log compaction (§7): once `snapshotEntries` applied entries lie beyond the last snapshot, the replica snapshots its
 * state machine at lastApplied — committed entries only — writes the snapshot to its disk and drops the log up to
 * `snapshotKeepEntries` before it. A follower whose next entry the leader no longer holds gets the snapshot instead
 * (InstallSnapshot, in chunks); a restart restores the snapshot and replays the log kept after it. Compaction runs at
 * the start of a step, so every entry was in the log when the trace last announced the replica's positions: checkers
 * that read logs after each event see each committed entry before it goes.
 */
export interface PendingRead {
  id: string;
  client: NodeId;
  key: string;
  readIndex: number;
  seq: number;
  acks: NodeId[];
}

export interface RaftMemory {
  id: NodeId;
  cfg: RaftConfig;
  group: NodeId[];
  /** The group without this replica, in group order. */
  others: NodeId[];
  term: number;
  votedFor: NodeId | null;
  log: Entry[];
  role: Role;
  leader: NodeId | null;
  commitIndex: number;
  lastApplied: number;
  /** The replicated state machine of the plain `raft` kind: a key-value map. */
  kv: Record<string, string>;
  /** Which state machine applies committed entries: `kv`, or a machine registered by another node kind. */
  machine: string;
  /** That machine's own state (null for `kv`); plain data, rebuilt from the log after a restart. */
  sm: unknown;
  /** True while the rate-limited applier has a tick scheduled. */
  applying: boolean;
  /** Client command id → log index, to answer retries without appending twice. */
  ids: Record<string, number>;
  /** Votes received in the current (pre-)campaign. */
  votes: Record<NodeId, boolean>;
  /** True while campaigning in the PreVote phase. */
  preCampaign: boolean;
  nextIndex: Record<NodeId, number>;
  matchIndex: Record<NodeId, number>;
  /** Leader: peers that fell behind (a rejection, or more than one batch behind), to announce when they catch up. */
  lagging: Record<NodeId, boolean>;
  /** Leader: when each peer last answered in the current term (CheckQuorum). */
  lastAck: Record<NodeId, number>;
  /** Follower: when it last heard from a current leader (PreVote refuses to help depose a live leader). */
  lastLeaderContact: number;
  /** Leader: client waiting for each log index to commit. */
  waiting: Record<number, { client: NodeId; id: string }[]>;
  reads: PendingRead[];
  readSeq: number;
  /** Last WAL positions announced in the trace (last, commit, applied), so a step announces only changes. */
  announced: [number, number, number];
  /** The latest snapshot (taken, installed or restored), or null; entries up to `log[0].index` are only in it. */
  snapshot: RaftSnapshot | null;
  /** Dedupe table of the commands compacted out of the log (`ids` covers the log itself); see sessions.ts. */
  sessions: SessionTable;
  /** Follower: the snapshot whose chunks are arriving, and the bytes received so far. */
  receiving: { index: number; term: number; offset: number } | null;
  /** Leader: InstallSnapshot in progress per follower — the snapshot sent, the offset of the chunk out, when sent. */
  sending: Record<NodeId, { snap: RaftSnapshot; offset: number; sentAt: number }>;
  /** Leader: when each follower was last sent an AppendEntries (for `heartbeatWhenIdle`). */
  lastSent: Record<NodeId, number>;
  /** Leader: new entries wait for the `replicate` timer (`replicateLingerMs`). */
  replicating: boolean;
}

type Ctx = NodeContext;

/**
 * A replicated state machine plugged into the replica (the message queue's partition index is one). Its state lives in
 * `m.sm`; the hooks see the whole replica memory so they can tell leader from follower. All hooks are optional but
 * `init` and `apply`.
 */
export interface Machine {
  init(m: RaftMemory, config: unknown): unknown;
  /** Applies one committed `cmd` entry, in index order, on every replica. */
  apply(m: RaftMemory, e: Entry, ctx: Ctx): void;
  /** A message that is not Raft's own (a client's produce, fetch, ack…); returns whether it was handled. */
  receive?(m: RaftMemory, msg: Message, ctx: Ctx): boolean;
  /** A timer that is not Raft's own; returns whether it was handled. */
  tick?(m: RaftMemory, name: string, ctx: Ctx): boolean;
  /** After the role changed (to leader: after the no-op was appended). */
  roleChanged?(m: RaftMemory, ctx: Ctx, from: Role): void;
  /** After the commit index moved forward (before entries are applied), on every replica. */
  committed?(m: RaftMemory, ctx: Ctx, from: number, to: number): void;
  /** Leader: after a follower's replicated position (matchIndex) moved forward. */
  replicated?(m: RaftMemory, ctx: Ctx, peer: NodeId): void;
  /**
   * §7: the state after every applied entry as deeply frozen plain data, and its size in bytes. Required, with
   * `restore`, for compaction.
   */
  snapshot?(m: RaftMemory): { data: unknown; bytes: number };
  /** Replaces the state with a snapshot's (InstallSnapshot, or a restart); the replica is a follower then. */
  restore?(m: RaftMemory, data: unknown, ctx: Ctx): void;
}

const MACHINES: Record<string, Machine> = {};

/** Registers a state machine under a name; a node kind built with `raftReplicaOf` uses it. */
export function registerMachine(name: string, machine: Machine): void {
  assert(name !== 'kv' && !MACHINES[name], `machine ${name} is registered twice`);
  MACHINES[name] = machine;
}

const HARD = 'hard';
const LOG = 'log';
const SNAPSHOT = 'snapshot';
/** The index and term of the last entry compacted away (the log on disk starts after it). */
const LOG_BASE = 'logBase';

/** Log entries a snapshot carries per replica: the tail; `Lab.logEntries` pages through the rest. */
export const LOG_VIEW_MAX = 200;

export const raftReplica: NodeBehavior<RaftMemory, Partial<RaftConfig>> = {
  kind: 'raft',
  bugs: RAFT_BUGS,
  boot(config, disk, ctx) {
    checkRaftConfig('raft', ctx.id, config);
    return boot(config, disk, ctx);
  },
  group: (m) => m.cfg.name ?? null,
  view(m) {
    const kvKeys = Object.keys(m.kv).length;
    const { machine: _machine, sm: _sm, ...rest } = replicaView(m);
    return { ...rest, kvKeys, kv: kvKeys <= 32 ? { ...m.kv } : null };
  },
  headline: (m) => ({ role: m.role, term: m.term, leader: m.leader, last: lastIndex(m.log), commit: m.commitIndex, applied: m.lastApplied }),
  step,
};

function step(m: RaftMemory, input: NodeInput, ctx: Ctx): void {
  maybeSnapshot(m, ctx);
  if (input.type === 'timer') tick(m, input.name, ctx);
  else receive(m, input.msg, ctx);
  announce(m, ctx);
}

/**
 * The bounded per-frame view of a replica, shared by every replica kind: the log's tail (`logFrom..logLength`), where
 * the compacted prefix ends (`logBase`: entries 1..logBase live only in the snapshot) and the snapshot's metadata.
 */
function replicaView(m: RaftMemory): Record<string, unknown> {
  const { ids: _ids, log, kv: _kv, sm: _sm, snapshot, sessions: _sessions, sending, ...rest } = m;
  const base = firstIndex(log);
  const last = lastIndex(log);
  const from = Math.max(base + 1, last - LOG_VIEW_MAX + 1);
  const installs: Record<NodeId, { index: number; offset: number; bytes: number }> = {};
  for (const p in sending) installs[p] = { index: sending[p].snap.index, offset: sending[p].offset, bytes: sending[p].snap.bytes };
  return {
    ...rest, logLength: last, logFrom: from, log: log.slice(from - base), logBase: base, sending: installs,
    snapshot: snapshot === null ? null : { index: snapshot.index, term: snapshot.term, bytes: snapshot.bytes, at: snapshot.at },
  };
}

/**
 * A replica kind whose committed `cmd` entries go to the machine registered as `machine`. Its config is the Raft config
 * plus `machine`, the machine's own settings; `view` adds the machine's bounded view to the replica's. `defaults`
 * overrides RAFT_DEFAULTS for this kind (a message queue compacts its log by default).
 */
export function raftReplicaOf(
  kind: string,
  machine: string,
  view: (m: RaftMemory) => Record<string, unknown>,
  headline: (m: RaftMemory) => Record<string, string | number | boolean | null>,
  defaults: Partial<RaftConfig> = {},
): NodeBehavior<RaftMemory, Partial<RaftConfig> & { machine?: unknown }> {
  return {
    kind,
    bugs: RAFT_BUGS,
    boot: (config, disk, ctx) => {
      const { machine: machineConfig, ...raft } = config;
      assert(MACHINES[machine], `no machine registered as ${machine}`);
      return boot({ ...defaults, ...raft }, disk, ctx, machine, machineConfig ?? {});
    },
    view: (m) => ({ ...replicaView(m), ...view(m) }),
    group: (m) => m.cfg.name ?? null,
    headline: (m) => ({ role: m.role, term: m.term, leader: m.leader, last: lastIndex(m.log), commit: m.commitIndex, applied: m.lastApplied, ...headline(m) }),
    step,
  };
}

/**
 * Leader only: appends a state machine command in the current term and starts replicating it. `id` makes a retried
 * command idempotent: a command whose id the group already knows is not appended again (its index is returned), and
 * one below its session's low-water mark `low` (see `commandIndex`) is not appended at all (0 is returned).
 */
export function leaderAppend(m: RaftMemory, ctx: Ctx, cmd: unknown, id: string | undefined, bytes: number, low?: number): number {
  if (!(m.role === 'leader')) fail(`${m.id} appended a command as ${m.role}`);
  if (id !== undefined) {
    const known = commandIndex(m, id);
    if (known === 'stale') return 0;
    if (known !== undefined) return known;
  }
  const index = lastIndex(m.log) + 1;
  const e: Entry = id === undefined ? { index, term: m.term, kind: 'cmd', cmd, bytes, at: ctx.now } : { index, term: m.term, kind: 'cmd', id, cmd, bytes, at: ctx.now };
  if (id !== undefined && low !== undefined) e.low = low;
  appendLocal(m, ctx, Object.freeze(e));
  replicate(m, ctx);
  maybeCommit(m, ctx);
  return index;
}

/**
 * Where the group put command `id`: its log index (in the log or compacted into the snapshot), `'stale'` when the id
 * is below its session's low-water mark (its client had the answer long ago: a late copy), or undefined if unknown.
 */
export function commandIndex(m: RaftMemory, id: string): number | 'stale' | undefined {
  return m.ids[id] ?? sessionLookup(m.sessions, id);
}

/** Replicas a quorum needs. */
export function quorumOf(m: RaftMemory): number {
  return quorum(m);
}

/**
 * Builds a replica from its disk — the same path for a first start and a recovery: term and vote, the snapshot (its
 * state restored, commit and applied at its index: §7) and the log kept after the compacted prefix.
 */
function boot(config: Partial<RaftConfig>, disk: DiskView, ctx: Ctx, machine = 'kv', machineConfig: unknown = null): RaftMemory {
  const cfg = { ...RAFT_DEFAULTS, ...config };
  checkConfig(cfg, machine);
  const group = cfg.group ?? [ctx.id, ...ctx.peers];
  if (!(group.includes(ctx.id))) fail(`raft: ${ctx.id} is not in its own group`);
  const hard = (disk[HARD] as { term: number; votedFor: NodeId | null } | undefined) ?? { term: 0, votedFor: null };
  const base = (disk[LOG_BASE] as { index: number; term: number } | undefined) ?? { index: 0, term: 0 };
  const stored = (disk[LOG] as Entry[] | undefined) ?? [];
  const log = [baseEntry(base.index, base.term)];
  for (let k = 0; k < stored.length; k++) {
    if (!(stored[k].index === base.index + 1 + k)) fail(`raft: log on disk has entry ${stored[k].index} at position ${base.index + 1 + k}`);
    log.push(stored[k]);
  }
  const m: RaftMemory = {
    id: ctx.id, cfg, group, others: group.filter((p) => p !== ctx.id), term: hard.term, votedFor: hard.votedFor, log, role: 'follower', leader: null,
    commitIndex: 0, lastApplied: 0, applying: false, kv: {}, machine, sm: null, ids: {}, votes: {}, preCampaign: false,
    nextIndex: {}, matchIndex: {}, lagging: {}, lastAck: {}, lastLeaderContact: -Infinity, waiting: {}, reads: [], readSeq: 0, announced: [-1, -1, -1],
    snapshot: null, sessions: {}, receiving: null, sending: {}, lastSent: {}, replicating: false,
  };
  if (machine !== 'kv') m.sm = MACHINES[machine].init(m, machineConfig);
  const snap = (disk[SNAPSHOT] as RaftSnapshot | undefined) ?? null;
  if (snap !== null) {
    if (!(snap.index >= base.index && snap.index <= lastIndex(log) && termAt(log, snap.index) === snap.term)) {
      fail(`raft: snapshot ${snap.term}/${snap.index} on disk does not fit the log ${base.index + 1}..${lastIndex(log)}`);
    }
    restoreSnapshot(m, snap, ctx);
  }
  for (let k = 1; k < log.length; k++) remember(m, log[k]);
  ctx.state('role', 'follower');
  ctx.state('term', m.term);
  if (snap !== null) announceSnapshot(m, ctx);
  resetElectionTimer(m, ctx);
  announce(m, ctx);
  return m;
}

/** The Raft settings' relations, asserted when a replica is built (the scenario schema checks each field's range). */
function checkConfig(cfg: RaftConfig, machine: string): void {
  assert(cfg.electionMinMs > cfg.heartbeatMs && cfg.electionMaxMs >= cfg.electionMinMs, 'raft: need heartbeat < electionMin <= electionMax');
  assert(Number.isInteger(cfg.appendEntriesMax) && cfg.appendEntriesMax >= 1, 'raft: appendEntriesMax must be a positive integer');
  assert(Number.isInteger(cfg.snapshotEntries) && cfg.snapshotEntries >= 0 && cfg.snapshotEntries <= SNAPSHOT_ENTRIES_MAX, `raft: snapshotEntries must be 0..${SNAPSHOT_ENTRIES_MAX}`);
  assert(Number.isInteger(cfg.snapshotKeepEntries) && cfg.snapshotKeepEntries >= 0 && cfg.snapshotKeepEntries <= SNAPSHOT_ENTRIES_MAX, `raft: snapshotKeepEntries must be 0..${SNAPSHOT_ENTRIES_MAX}`);
  assert(
    Number.isInteger(cfg.snapshotChunkBytes) && cfg.snapshotChunkBytes >= SNAPSHOT_CHUNK_BYTES_MIN && cfg.snapshotChunkBytes <= SNAPSHOT_CHUNK_BYTES_MAX,
    `raft: snapshotChunkBytes must be ${SNAPSHOT_CHUNK_BYTES_MIN}..${SNAPSHOT_CHUNK_BYTES_MAX}`,
  );
  assert(cfg.replicateLingerMs >= 0 && cfg.replicateLingerMs < cfg.heartbeatMs, 'raft: replicateLingerMs must be at least 0 and below heartbeatMs');
  assert(!cfg.heartbeatWhenIdle || 2 * cfg.heartbeatMs < cfg.electionMinMs, 'raft: heartbeatWhenIdle needs two heartbeat intervals below electionMinMs');
  const m = MACHINES[machine];
  assert(cfg.snapshotEntries === 0 || machine === 'kv' || (m?.snapshot !== undefined && m.restore !== undefined), `raft: machine ${machine} cannot snapshot, so snapshotEntries must be 0`);
}

// ---- timers -------------------------------------------------------------------------------------------------------

function tick(m: RaftMemory, name: string, ctx: Ctx): void {
  switch (name) {
    case 'election':
      if (m.role === 'leader') return checkQuorum(m, ctx);
      return m.cfg.preVote ? campaign(m, ctx, true) : campaign(m, ctx, false);
    case 'heartbeat':
      assert(m.role === 'leader', 'only a leader has a heartbeat timer');
      heartbeat(m, ctx);
      ctx.setTimer('heartbeat', ms(m.cfg.heartbeatMs));
      return;
    case 'replicate':
      assert(m.role === 'leader' && m.replicating, 'only a leader holding new entries has a replicate timer');
      m.replicating = false;
      for (const p of peers(m)) if (m.nextIndex[p] <= lastIndex(m.log)) sendAppend(m, ctx, p, false);
      return;
    case 'apply':
      applyOne(m, ctx);
      m.applying = m.lastApplied < m.commitIndex;
      if (m.applying) ctx.setTimer('apply', applyPeriodUs(m));
      return;
    default:
      if (m.machine !== 'kv' && MACHINES[m.machine].tick?.(m, name, ctx)) return;
      throw new Error(`raft has no timer ${name}`);
  }
}

function resetElectionTimer(m: RaftMemory, ctx: Ctx): void {
  const lo = ms(m.cfg.electionMinMs);
  const hi = ms(m.cfg.electionMaxMs);
  ctx.setTimer('election', ctx.rng('election').int(lo, hi));
}

/** CheckQuorum: a leader that has not heard from a majority within an election timeout steps down. */
function checkQuorum(m: RaftMemory, ctx: Ctx): void {
  if (m.cfg.checkQuorum) {
    const since = ctx.now - ms(m.cfg.electionMaxMs);
    const live = 1 + peers(m).filter((p) => (m.lastAck[p] ?? -Infinity) >= since).length;
    if (live < quorum(m)) {
      ctx.note('check-quorum-lost', { live, quorum: quorum(m) });
      becomeFollower(m, ctx, m.term, null);
      return;
    }
  }
  ctx.setTimer('election', ms(m.cfg.electionMaxMs));
}

// ---- role changes (every role change goes through one of these) -----------------------------------------------------

function becomeFollower(m: RaftMemory, ctx: Ctx, term: number, leader: NodeId | null): void {
  const wasLeader = m.role === 'leader';
  if (term > m.term) {
    m.term = term;
    m.votedFor = null;
    persistHard(m, ctx);
    ctx.state('term', term);
  }
  const from = m.role;
  if (from !== 'follower') ctx.state('role', 'follower');
  m.role = 'follower';
  m.preCampaign = false;
  if (leader !== m.leader) ctx.state('leader', leader);
  m.leader = leader;
  // Figure 2: a follower's election timer restarts only on AppendEntries from the current leader or on granting a vote,
  // not on merely seeing a higher term — otherwise a stream of doomed candidates keeps every timer in lockstep.
  if (wasLeader) {
    ctx.cancelTimer('heartbeat');
    if (m.replicating) ctx.cancelTimer('replicate');
    m.replicating = false;
    failWaiting(m, ctx, 'leader stepped down');
    m.sending = {};
    resetElectionTimer(m, ctx);
  }
  if (from !== 'follower') roleChanged(m, ctx, from);
}

/** §5.2: a follower whose election timer fires becomes a candidate; with PreVote (§9.6) it first asks without a new term. */
function campaign(m: RaftMemory, ctx: Ctx, pre: boolean): void {
  m.votes = { [ctx.id]: true };
  m.preCampaign = pre;
  if (!pre) {
    m.term++;
    m.votedFor = ctx.id;
    persistHard(m, ctx);
    ctx.state('term', m.term);
    const from = m.role;
    if (from !== 'candidate') ctx.state('role', 'candidate');
    m.role = 'candidate';
    if (m.leader !== null) ctx.state('leader', null);
    m.leader = null;
    if (from !== 'candidate') roleChanged(m, ctx, from);
  } else {
    ctx.note('pre-vote', { term: m.term + 1 });
  }
  ctx.count(pre ? 'preVotes' : 'elections');
  resetElectionTimer(m, ctx);
  if (tally(m) >= quorum(m)) return pre ? campaign(m, ctx, false) : becomeLeader(m, ctx);
  const msg: RaftMessage = { kind: 'vote', term: pre ? m.term + 1 : m.term, lastLogIndex: lastIndex(m.log), lastLogTerm: lastTerm(m.log), pre };
  for (const p of peers(m)) ctx.send(p, 'vote', msg, 40);
}

/** §5.2, §5.4.2, §8: a new leader appends a no-op of its own term; earlier entries commit only when it does. */
function becomeLeader(m: RaftMemory, ctx: Ctx): void {
  if (!(m.role === 'candidate')) fail(`only a candidate becomes leader, ${ctx.id} is ${m.role}`);
  m.role = 'leader';
  m.leader = ctx.id;
  m.preCampaign = false;
  ctx.state('role', 'leader');
  ctx.state('leader', ctx.id);
  const next = lastIndex(m.log) + 1;
  for (const p of peers(m)) {
    m.nextIndex[p] = next;
    m.matchIndex[p] = 0;
    m.lagging[p] = false;
    m.lastAck[p] = ctx.now;
  }
  m.reads = [];
  m.waiting = {};
  m.sending = {};
  m.receiving = null;
  appendLocal(m, ctx, Object.freeze({ index: next, term: m.term, kind: 'noop', at: ctx.now }));
  ctx.cancelTimer('election');
  if (m.cfg.checkQuorum) ctx.setTimer('election', ms(m.cfg.electionMaxMs));
  broadcastAppend(m, ctx, false);
  ctx.setTimer('heartbeat', ms(m.cfg.heartbeatMs));
  roleChanged(m, ctx, 'candidate');
  maybeCommit(m, ctx);
}

function roleChanged(m: RaftMemory, ctx: Ctx, from: Role): void {
  if (m.machine !== 'kv') MACHINES[m.machine].roleChanged?.(m, ctx, from);
}

// ---- messages -----------------------------------------------------------------------------------------------------

function receive(m: RaftMemory, msg: Message, ctx: Ctx): void {
  const body = msg.body as RaftMessage;
  switch (body.kind) {
    case 'propose':
      return propose(m, msg.from, body, ctx);
    case 'read':
      return read(m, msg.from, body, ctx);
    case 'propose-reply':
    case 'read-reply':
      throw new Error(`raft replica got a client reply ${body.kind}`);
    case 'vote':
    case 'vote-reply':
    case 'append':
    case 'append-reply':
    case 'install-snapshot':
    case 'install-snapshot-reply':
      if (!checkTerm(m, msg.from, body, ctx)) return;
      switch (m.role) {
        case 'leader':
          return stepLeader(m, msg.from, body, ctx);
        case 'candidate':
          return stepCandidate(m, msg.from, body, ctx);
        case 'follower':
          return stepFollower(m, msg.from, body, ctx);
      }
      return;
    default:
      if (m.machine !== 'kv' && MACHINES[m.machine].receive?.(m, msg, ctx)) return;
      throw new Error(`raft replica got an unknown message ${(body as { kind: string }).kind} from ${msg.from}`);
  }
}

type PeerMessage = Extract<RaftMessage, { term: number }>;

/**
 * §5.1: any message with a higher term makes us adopt it and follow; a message with a lower term is stale and is
 * refused (so its sender learns the newer term). PreVote requests and grants never change terms. Returns whether the
 * role handler should see the message.
 */
function checkTerm(m: RaftMemory, from: NodeId, msg: PeerMessage, ctx: Ctx): boolean {
  if (msg.term > m.term) {
    if (msg.kind === 'vote' && msg.pre) return true;
    if (msg.kind === 'vote-reply' && msg.pre && msg.granted) return true;
    // With CheckQuorum a follower that hears from a live leader ignores disruptive vote requests (etcd's leader lease).
    if (msg.kind === 'vote' && m.cfg.checkQuorum && inLease(m, ctx)) {
      ctx.note('vote-ignored', { from, reason: 'heard from a leader within the minimum election timeout' });
      return false;
    }
    if (m.role === 'leader' && ctx.bug('no-step-down')) {
      m.term = msg.term;
      m.votedFor = null;
      persistHard(m, ctx);
      ctx.state('term', m.term);
      return msg.kind === 'vote';
    }
    becomeFollower(m, ctx, msg.term, msg.kind === 'append' || msg.kind === 'install-snapshot' ? from : null);
    return true;
  }
  if (msg.term < m.term) {
    if (msg.kind === 'append') {
      ctx.send(from, 'append-reply', { kind: 'append-reply', term: m.term, success: false, matchIndex: 0, rejectedIndex: msg.prevLogIndex, hintIndex: 0, hintTerm: 0, readSeq: msg.readSeq } satisfies RaftMessage, 48);
    } else if (msg.kind === 'install-snapshot') {
      replySnapshot(m, ctx, from, msg, 0, false, 0);
    } else if (msg.kind === 'vote') {
      ctx.send(from, 'vote-reply', { kind: 'vote-reply', term: m.term, granted: false, pre: msg.pre, reason: `stale term ${msg.term} < ${m.term}` } satisfies RaftMessage, 32);
    }
    return false;
  }
  return true;
}

function stepFollower(m: RaftMemory, from: NodeId, msg: PeerMessage, ctx: Ctx): void {
  switch (msg.kind) {
    case 'vote':
      return handleVote(m, from, msg, ctx);
    case 'append':
    case 'install-snapshot':
      m.lastLeaderContact = ctx.now;
      if (m.leader !== from) ctx.state('leader', from);
      m.leader = from;
      resetElectionTimer(m, ctx);
      return msg.kind === 'append' ? handleAppend(m, from, msg, ctx) : handleSnapshot(m, from, msg, ctx);
    case 'vote-reply':
      if (msg.pre && m.preCampaign) return stepCandidate(m, from, msg, ctx);
      return;
    case 'append-reply':
    case 'install-snapshot-reply':
      return;
  }
}

function stepCandidate(m: RaftMemory, from: NodeId, msg: PeerMessage, ctx: Ctx): void {
  switch (msg.kind) {
    case 'vote':
      return handleVote(m, from, msg, ctx);
    case 'append':
    case 'install-snapshot':
      // §5.2: an AppendEntries (or InstallSnapshot) from a leader of our term means we lost; follow it.
      becomeFollower(m, ctx, msg.term, from);
      return stepFollower(m, from, msg, ctx);
    case 'vote-reply': {
      // checkTerm already dropped lower terms and stepped down on higher ones (pre-vote grants carry term + 1).
      if (msg.pre !== m.preCampaign) return;
      ctx.note(msg.granted ? 'vote-granted' : 'vote-refused', { from, pre: msg.pre, reason: msg.reason });
      m.votes[from] = msg.granted;
      if (tally(m) >= quorum(m)) {
        if (m.preCampaign) return campaign(m, ctx, false);
        return becomeLeader(m, ctx);
      }
      const refusals = Object.values(m.votes).filter((v) => !v).length;
      if (refusals >= quorum(m) && m.preCampaign) {
        m.preCampaign = false;
        if (m.role !== 'follower') becomeFollower(m, ctx, m.term, null);
      }
      return;
    }
    case 'append-reply':
    case 'install-snapshot-reply':
      return;
  }
}

function stepLeader(m: RaftMemory, from: NodeId, msg: PeerMessage, ctx: Ctx): void {
  switch (msg.kind) {
    case 'vote':
      return handleVote(m, from, msg, ctx);
    case 'append':
    case 'install-snapshot':
      // Two leaders in one term would break Election Safety; the checker reports it, the replica refuses it.
      ctx.note('rival-leader', { from, term: msg.term });
      return;
    case 'vote-reply':
      return;
    case 'append-reply':
      return handleAppendReply(m, from, msg, ctx);
    case 'install-snapshot-reply':
      return handleSnapshotReply(m, from, msg, ctx);
  }
}

/** §5.2, §5.4.1: one vote per term, only for a candidate whose log is at least as up to date as ours. */
function handleVote(m: RaftMemory, from: NodeId, msg: Extract<RaftMessage, { kind: 'vote' }>, ctx: Ctx): void {
  let reason = '';
  const upToDate = ctx.bug('no-uptodate-check') || isUpToDate(m.log, msg.lastLogIndex, msg.lastLogTerm);
  if (!upToDate) reason = `candidate log (${msg.lastLogTerm}/${msg.lastLogIndex}) is behind ours (${lastTerm(m.log)}/${lastIndex(m.log)})`;
  else if (msg.pre) {
    if (msg.term <= m.term) reason = `pre-vote term ${msg.term} is not above ${m.term}`;
    else if (inLease(m, ctx)) reason = m.role === 'leader' ? 'we are the leader' : 'we still hear from a leader';
  } else if (m.votedFor !== null && m.votedFor !== from) reason = `already voted for ${m.votedFor} in term ${m.term}`;
  else if (m.role === 'leader') reason = `we lead term ${m.term}`;
  const granted = reason === '';
  if (granted && !msg.pre) {
    m.votedFor = from;
    persistHard(m, ctx);
    resetElectionTimer(m, ctx);
  }
  ctx.note(granted ? 'vote-grant' : 'vote-refuse', { to: from, term: msg.term, pre: msg.pre, reason });
  // A granted pre-vote echoes the proposed term; every other reply carries our own term, so a refusal never raises the
  // candidate's term, and a candidate that is behind learns the newer one.
  ctx.send(from, 'vote-reply', { kind: 'vote-reply', term: msg.pre && granted ? msg.term : m.term, granted, pre: msg.pre, reason } satisfies RaftMessage, 32);
}

/**
 * §5.3: the consistency check, conflict truncation, append, and the follower's commit index. Entries at or below our
 * snapshot's index are committed, so they match the leader's (Leader Completeness): they are skipped, not checked —
 * etcd does the same below the commit index — and a message that only repeats them is answered with a match there.
 */
function handleAppend(m: RaftMemory, from: NodeId, msg: Extract<RaftMessage, { kind: 'append' }>, ctx: Ctx): void {
  const last = lastIndex(m.log);
  const floor = Math.max(firstIndex(m.log), m.snapshot?.index ?? 0);
  const skip = Math.max(0, Math.min(msg.entries.length, floor - msg.prevLogIndex));
  if (msg.prevLogIndex >= floor) {
    if (msg.prevLogIndex > last) return replyAppend(m, ctx, from, msg, false, 0, last, lastTerm(m.log));
    if (termAt(m.log, msg.prevLogIndex) !== msg.prevLogTerm) {
      const first = m.cfg.conflictHint ? firstIndexOfTerm(m.log, msg.prevLogIndex, m.commitIndex) : msg.prevLogIndex;
      return replyAppend(m, ctx, from, msg, false, 0, first - 1, termAt(m.log, first - 1) ?? 0);
    }
  }
  let appendFrom = -1;
  for (let k = skip; k < msg.entries.length; k++) {
    const e = msg.entries[k];
    const mine = termAt(m.log, e.index);
    if (mine === e.term) continue;
    if (mine !== undefined) truncate(m, ctx, e.index);
    appendFrom = k;
    break;
  }
  if (appendFrom >= 0) {
    const fresh = msg.entries.slice(appendFrom);
    for (const e of fresh) {
      m.log.push(e);
      remember(m, e);
    }
    ctx.persist({ op: 'append', key: LOG, items: fresh }, true);
  }
  const matched = Math.max(msg.prevLogIndex + msg.entries.length, floor);
  const commit = Math.min(msg.leaderCommit, matched);
  if (commit > m.commitIndex) advanceCommit(m, ctx, commit);
  replyAppend(m, ctx, from, msg, true, matched, 0, 0);
}

function replyAppend(m: RaftMemory, ctx: Ctx, to: NodeId, msg: Extract<RaftMessage, { kind: 'append' }>, success: boolean, matchIndex: number, hintIndex: number, hintTerm: number): void {
  const reply: RaftMessage = { kind: 'append-reply', term: m.term, success, matchIndex, rejectedIndex: msg.prevLogIndex, hintIndex, hintTerm, readSeq: msg.readSeq };
  ctx.send(to, 'append-reply', reply, 48);
}

function handleAppendReply(m: RaftMemory, from: NodeId, msg: Extract<RaftMessage, { kind: 'append-reply' }>, ctx: Ctx): void {
  m.lastAck[from] = ctx.now;
  ackReads(m, from, msg.readSeq, ctx);
  if (msg.success) return matched(m, ctx, from, msg.matchIndex);
  // A rejection at or below what the follower already matched is a stale reply (reordered or duplicated).
  if (msg.rejectedIndex <= m.matchIndex[from]) return;
  let next = Math.min(msg.rejectedIndex, msg.hintIndex + 1);
  if (m.cfg.conflictHint && msg.hintTerm > 0 && termAt(m.log, msg.hintIndex) !== msg.hintTerm) next = Math.min(next, msg.hintIndex);
  m.nextIndex[from] = Math.max(m.matchIndex[from] + 1, Math.max(1, next));
  m.lagging[from] = true;
  ctx.note('append-rejected', { from, rejectedIndex: msg.rejectedIndex, nextIndex: m.nextIndex[from] });
  sendAppend(m, ctx, from, false);
}

/**
 * Leader: a follower holds our log up to `index` (an AppendEntries or InstallSnapshot succeeded): advance its match
 * and next index, commit what a quorum now holds, and send what it still lacks.
 */
function matched(m: RaftMemory, ctx: Ctx, from: NodeId, index: number): void {
  // A follower never matches beyond our log; with a teaching bug that loses committed entries it might claim to.
  const match = Math.min(index, lastIndex(m.log));
  if (match > m.matchIndex[from]) {
    m.matchIndex[from] = match;
    if (m.machine !== 'kv') MACHINES[m.machine].replicated?.(m, ctx, from);
  }
  const installing = m.sending[from];
  if (installing !== undefined && m.matchIndex[from] >= installing.snap.index) delete m.sending[from];
  m.nextIndex[from] = Math.max(m.nextIndex[from], m.matchIndex[from] + 1);
  const last = lastIndex(m.log);
  if (m.matchIndex[from] < last - m.cfg.appendEntriesMax) m.lagging[from] = true;
  else if (m.lagging[from] && m.matchIndex[from] === last) {
    m.lagging[from] = false;
    ctx.note('caught-up', { peer: from, index: last });
  }
  maybeCommit(m, ctx);
  if (m.role === 'leader' && m.nextIndex[from] <= lastIndex(m.log)) sendAppend(m, ctx, from, false);
}

// ---- replication and commit ---------------------------------------------------------------------------------------

/** Sends a follower its next entries — or, when the leader compacted them away, its snapshot (§7). */
function sendAppend(m: RaftMemory, ctx: Ctx, to: NodeId, heartbeat: boolean): void {
  const next = m.nextIndex[to];
  if (next <= firstIndex(m.log)) return sendSnapshot(m, ctx, to, heartbeat);
  const prev = next - 1;
  const entries = heartbeat && next > lastIndex(m.log) ? [] : slice(m.log, next, m.cfg.appendEntriesMax);
  const msg: RaftMessage = { kind: 'append', term: m.term, prevLogIndex: prev, prevLogTerm: termAt(m.log, prev)!, entries, leaderCommit: m.commitIndex, readSeq: m.readSeq };
  m.lastSent[to] = ctx.now;
  ctx.send(to, 'append', msg, 64 + entriesBytes(entries));
  // Pipeline: assume the entries arrive; a rejection moves nextIndex back.
  if (entries.length > 0) m.nextIndex[to] = entries[entries.length - 1].index + 1;
}

function entriesBytes(entries: readonly Entry[]): number {
  let n = 0;
  for (let i = 0; i < entries.length; i++) n += entries[i].bytes ?? 48;
  return n;
}

function broadcastAppend(m: RaftMemory, ctx: Ctx, heartbeat: boolean): void {
  for (const p of peers(m)) sendAppend(m, ctx, p, heartbeat);
}

/** New entries go to the followers at once, or after `replicateLingerMs` together with whatever follows them. */
function replicate(m: RaftMemory, ctx: Ctx): void {
  if (m.cfg.replicateLingerMs === 0) return broadcastAppend(m, ctx, false);
  if (m.replicating) return;
  m.replicating = true;
  ctx.setTimer('replicate', Math.max(1, Math.round(ms(m.cfg.replicateLingerMs))));
}

/** The heartbeat round: to every follower, or (`heartbeatWhenIdle`) to those sent nothing for a heartbeat interval. */
function heartbeat(m: RaftMemory, ctx: Ctx): void {
  if (!m.cfg.heartbeatWhenIdle) return broadcastAppend(m, ctx, true);
  const quiet = ctx.now - ms(m.cfg.heartbeatMs);
  for (const p of peers(m)) if ((m.lastSent[p] ?? -Infinity) <= quiet) sendAppend(m, ctx, p, true);
}

/** Entries are frozen when created: they are shared by reference between replicas, disks, messages and checkpoints. */
function appendLocal(m: RaftMemory, ctx: Ctx, e: Readonly<Entry>): void {
  assert(Object.isFrozen(e), 'log entries must be frozen');
  if (!(e.index === lastIndex(m.log) + 1)) fail(`append at ${e.index} after ${lastIndex(m.log)}`);
  m.log.push(e);
  remember(m, e);
  ctx.persist({ op: 'append', key: LOG, items: [e] }, true);
}

/** Indexes a command's id for dedupe, and learns its session's low-water mark. */
function remember(m: RaftMemory, e: Entry): void {
  if (e.id === undefined) return;
  m.ids[e.id] = e.index;
  if (e.low !== undefined) sessionLearnLow(m.sessions, e.id, e.low);
}

/** Drops the entries from `from` on (a conflicting suffix, §5.3); never the base or anything before it. */
function truncate(m: RaftMemory, ctx: Ctx, from: number): void {
  const base = firstIndex(m.log);
  if (!(from > base)) fail(`truncate from ${from} would cut into the compacted prefix (base ${base})`);
  ctx.note('truncate', { from, dropped: lastIndex(m.log) - from + 1, committed: m.commitIndex });
  for (let k = from - base; k < m.log.length; k++) {
    const id = m.log[k].id;
    if (id !== undefined && m.ids[id] === m.log[k].index) delete m.ids[id];
  }
  m.log.length = from - base;
  ctx.persist({ op: 'truncate', key: LOG, length: from - base - 1 }, true);
}

/** §5.3, §5.4.2: commit the highest index a majority holds, counting replicas only for entries of the current term. */
function maybeCommit(m: RaftMemory, ctx: Ctx): void {
  if (m.role !== 'leader') return;
  const oldTermsCount = ctx.bug('commit-old-term');
  for (let n = lastIndex(m.log); n > m.commitIndex; n--) {
    if (entryAt(m.log, n).term !== m.term && !oldTermsCount) break;
    let holders = 1;
    for (const p of m.others) if (m.matchIndex[p] >= n) holders++;
    if (holders >= quorum(m)) {
      advanceCommit(m, ctx, n);
      return;
    }
  }
}

function advanceCommit(m: RaftMemory, ctx: Ctx, n: number): void {
  if (!(n > m.commitIndex && n <= lastIndex(m.log))) fail(`commit ${n} outside (${m.commitIndex}, ${lastIndex(m.log)}]`);
  const from = m.commitIndex + 1;
  m.commitIndex = n;
  if (m.machine !== 'kv') MACHINES[m.machine].committed?.(m, ctx, from, n);
  if (m.role === 'leader') {
    for (let i = from; i <= n; i++) {
      const e = entryAt(m.log, i);
      if (e.term === m.term) ctx.observe('commitLatencyMs', (ctx.now - e.at) / 1000);
    }
  }
  if (m.cfg.applyRatePerS === 0) {
    while (m.lastApplied < m.commitIndex) applyOne(m, ctx);
  } else if (!m.applying) {
    // Arm the applier once; re-arming on every commit would push its next tick back and cap it at the commit rate.
    m.applying = true;
    ctx.setTimer('apply', applyPeriodUs(m));
  }
}

function applyPeriodUs(m: RaftMemory): number {
  return Math.max(1, Math.round(1_000_000 / m.cfg.applyRatePerS));
}

function applyOne(m: RaftMemory, ctx: Ctx): void {
  if (m.lastApplied >= m.commitIndex) return;
  const e = entryAt(m.log, ++m.lastApplied);
  if (e.kind === 'put') m.kv[e.key!] = e.value!;
  else if (e.kind === 'cmd') MACHINES[m.machine].apply(m, e, ctx);
  ctx.count('applied');
  const waiting = m.waiting[e.index];
  if (waiting) {
    for (const w of waiting) ctx.send(w.client, 'propose-reply', { kind: 'propose-reply', id: w.id, ok: true, index: e.index, leaderHint: ctx.id, reason: '' } satisfies RaftMessage, 32);
    delete m.waiting[e.index];
  }
  serveReads(m, ctx);
}

// ---- log compaction and InstallSnapshot (§7) ----------------------------------------------------------------------

/**
 * Takes a snapshot once `snapshotEntries` applied entries lie beyond the last one. Called at the start of a step:
 * whatever the log holds then, the trace has announced (see the header comment).
 */
function maybeSnapshot(m: RaftMemory, ctx: Ctx): void {
  const every = m.cfg.snapshotEntries;
  if (every === 0 || m.lastApplied - (m.snapshot?.index ?? 0) < every) return;
  takeSnapshot(m, ctx);
}

/**
 * Snapshots the state machine at lastApplied — committed entries only, never one beyond the commit index — and drops
 * the log up to `snapshotKeepEntries` before it. The snapshot, the new log base and the rewritten log go to disk in
 * one step, synced, so a crash finds either the old log or the new one with its snapshot.
 */
export function takeSnapshot(m: RaftMemory, ctx: Ctx): RaftSnapshot {
  const index = m.lastApplied;
  if (!(index <= m.commitIndex && index >= firstIndex(m.log))) fail(`snapshot at ${index} outside [${firstIndex(m.log)}, commit ${m.commitIndex}]`);
  const term = termAt(m.log, index)!;
  const state = machineSnapshot(m);
  const sessions = sessionsAt(m, index);
  const snap: RaftSnapshot = Object.freeze({ index, term, bytes: 64 + state.bytes + sessionsBytes(sessions), at: ctx.now, data: state.data, sessions });
  m.snapshot = snap;
  const keepFrom = Math.max(firstIndex(m.log), index - m.cfg.snapshotKeepEntries);
  compactLog(m, keepFrom);
  ctx.persist({ op: 'put', key: SNAPSHOT, value: snap, bytes: snap.bytes }, false);
  persistLogRewrite(m, ctx);
  ctx.count('snapshots');
  announceSnapshot(m, ctx);
  return snap;
}

/** The state machine's snapshot: the key-value map, or the plugged-in machine's own format. */
function machineSnapshot(m: RaftMemory): { data: unknown; bytes: number } {
  if (m.machine !== 'kv') return MACHINES[m.machine].snapshot!(m);
  let bytes = 16;
  for (const k in m.kv) bytes += k.length + m.kv[k].length + 8;
  return { data: Object.freeze({ kv: Object.freeze({ ...m.kv }) }), bytes };
}

/** The dedupe table as of `index`: the compacted sessions plus the ids of the log's entries up to `index`. */
function sessionsAt(m: RaftMemory, index: number): RaftSnapshot['sessions'] {
  const table = sessionsCopy(m.sessions);
  for (let i = firstIndex(m.log) + 1; i <= index; i++) {
    const e = entryAt(m.log, i);
    if (e.id !== undefined) sessionAdd(table, e.id, e.index);
  }
  return sessionsFrozen(table);
}

/** Drops the entries up to `index` from the log; their ids move to the compacted sessions. */
function compactLog(m: RaftMemory, index: number): void {
  const base = firstIndex(m.log);
  if (index === base) return;
  if (!(index > base && index <= m.lastApplied)) fail(`compact to ${index} outside (${base}, applied ${m.lastApplied}]`);
  for (let k = 1; k <= index - base; k++) {
    const id = m.log[k].id;
    if (id === undefined) continue;
    if (m.ids[id] === m.log[k].index) delete m.ids[id];
    sessionAdd(m.sessions, id, m.log[k].index);
  }
  const term = m.log[index - base].term;
  m.log = [baseEntry(index, term), ...m.log.slice(index - base + 1)];
}

/**
 * Writes the log's new base and its entries after it. A real WAL deletes whole segment files below the base instead
 * of rewriting what stays, so the rewrite is given no bytes: compaction costs the disk only the snapshot it writes.
 */
function persistLogRewrite(m: RaftMemory, ctx: Ctx): void {
  ctx.persist({ op: 'put', key: LOG_BASE, value: Object.freeze({ index: firstIndex(m.log), term: m.log[0].term }), bytes: 16 }, false);
  ctx.persist({ op: 'delete', key: LOG }, m.log.length === 1);
  if (m.log.length > 1) ctx.persist({ op: 'append', key: LOG, items: m.log.slice(1), bytes: 0 }, true);
}

/** Announces the snapshot the replica holds and where its log now starts (`node.state` key `snapshot`). */
function announceSnapshot(m: RaftMemory, ctx: Ctx): void {
  const s = m.snapshot!;
  ctx.state('snapshot', { index: s.index, term: s.term, bytes: s.bytes, logFrom: firstIndex(m.log) + 1 });
}

/** Rebuilds the state machine and the dedupe table from a snapshot; commit and applied move to its index. */
function restoreSnapshot(m: RaftMemory, snap: RaftSnapshot, ctx: Ctx): void {
  if (m.machine === 'kv') m.kv = { ...(snap.data as { kv: Record<string, string> }).kv };
  else MACHINES[m.machine].restore!(m, snap.data, ctx);
  m.sessions = sessionsCopy(snap.sessions);
  m.snapshot = snap;
  m.commitIndex = Math.max(m.commitIndex, snap.index);
  m.lastApplied = snap.index;
}

/**
 * Leader: the follower needs entries we compacted away, so it gets the snapshot, one chunk per round trip (Figure 13).
 * A chunk already out is sent again only when its answer is a heartbeat overdue (lost on the way, or the follower
 * restarted); a follower told to start over gets the snapshot from its first byte.
 */
function sendSnapshot(m: RaftMemory, ctx: Ctx, to: NodeId, heartbeat: boolean): void {
  const cur = m.sending[to];
  if (cur !== undefined) {
    if (heartbeat && ctx.now - cur.sentAt >= ms(m.cfg.heartbeatMs)) sendChunk(m, ctx, to, cur.snap, cur.offset);
    return;
  }
  const snap = m.snapshot;
  if (snap === null) fail(`${m.id} compacted its log to ${firstIndex(m.log)} without a snapshot`);
  ctx.note('install-snapshot', { to, index: snap.index, term: snap.term, bytes: snap.bytes, nextIndex: m.nextIndex[to] });
  m.lagging[to] = true;
  sendChunk(m, ctx, to, snap, 0);
}

function sendChunk(m: RaftMemory, ctx: Ctx, to: NodeId, snap: RaftSnapshot, offset: number): void {
  if (!(offset >= 0 && offset < snap.bytes)) fail(`snapshot chunk at ${offset} of ${snap.bytes} bytes`);
  const size = Math.min(m.cfg.snapshotChunkBytes, snap.bytes - offset);
  const done = offset + size === snap.bytes;
  const msg: RaftMessage = {
    kind: 'install-snapshot', term: m.term, index: snap.index, lastTerm: snap.term, bytes: snap.bytes, offset, size, done, snapshot: done ? snap : null, readSeq: m.readSeq,
  };
  ctx.send(to, 'install-snapshot', msg, 64 + size);
  m.sending[to] = { snap, offset, sentAt: ctx.now };
  m.lastSent[to] = ctx.now;
}

function handleSnapshotReply(m: RaftMemory, from: NodeId, msg: Extract<RaftMessage, { kind: 'install-snapshot-reply' }>, ctx: Ctx): void {
  m.lastAck[from] = ctx.now;
  ackReads(m, from, msg.readSeq, ctx);
  if (msg.done) return matched(m, ctx, from, msg.matchIndex);
  const cur = m.sending[from];
  // A reply about another snapshot than the one we are sending is stale; otherwise send what the follower asks for.
  if (cur === undefined || msg.index !== cur.snap.index || !(msg.offset >= 0 && msg.offset < cur.snap.bytes)) return;
  sendChunk(m, ctx, from, cur.snap, msg.offset);
}

function replySnapshot(m: RaftMemory, ctx: Ctx, to: NodeId, msg: Extract<RaftMessage, { kind: 'install-snapshot' }>, offset: number, done: boolean, matchIndex: number): void {
  const reply: RaftMessage = { kind: 'install-snapshot-reply', term: m.term, index: msg.index, offset, done, matchIndex, readSeq: msg.readSeq };
  ctx.send(to, 'install-snapshot-reply', reply, 48);
}

/**
 * Follower (Figure 13): chunks are taken in order; one at an unexpected offset is answered with the offset we need.
 * A snapshot at or below our commit index brings nothing new; the last chunk installs the snapshot.
 */
function handleSnapshot(m: RaftMemory, from: NodeId, msg: Extract<RaftMessage, { kind: 'install-snapshot' }>, ctx: Ctx): void {
  if (msg.index <= m.commitIndex) {
    m.receiving = null;
    return replySnapshot(m, ctx, from, msg, msg.bytes, true, m.commitIndex);
  }
  if (msg.offset === 0) m.receiving = { index: msg.index, term: msg.lastTerm, offset: 0 };
  const r = m.receiving;
  const same = r !== null && r.index === msg.index && r.term === msg.lastTerm;
  if (!same || msg.offset !== r.offset) return replySnapshot(m, ctx, from, msg, same ? r.offset : 0, false, 0);
  r.offset += msg.size;
  if (!msg.done) return replySnapshot(m, ctx, from, msg, r.offset, false, 0);
  if (!(msg.snapshot !== null && r.offset === msg.bytes && msg.snapshot.index === msg.index)) fail(`snapshot ${msg.index} ended at ${r.offset} of ${msg.bytes} bytes`);
  m.receiving = null;
  installSnapshot(m, ctx, msg.snapshot, from);
  replySnapshot(m, ctx, from, msg, msg.bytes, true, msg.index);
}

/**
 * Figure 13, steps 6–8: if our log holds the snapshot's last entry, keep the entries after it and just commit up to it;
 * otherwise discard the whole log and the state machine's state, and take the snapshot's.
 */
function installSnapshot(m: RaftMemory, ctx: Ctx, snap: RaftSnapshot, from: NodeId): void {
  if (termAt(m.log, snap.index) === snap.term) {
    ctx.note('snapshot-matches-log', { from, index: snap.index, term: snap.term });
    if (snap.index > m.commitIndex) advanceCommit(m, ctx, snap.index);
    return;
  }
  const discarded = lastIndex(m.log) - firstIndex(m.log);
  m.log = [baseEntry(snap.index, snap.term)];
  m.ids = {};
  restoreSnapshot(m, snap, ctx);
  ctx.persist({ op: 'put', key: SNAPSHOT, value: snap, bytes: snap.bytes }, false);
  persistLogRewrite(m, ctx);
  ctx.note('snapshot-installed', { from, index: snap.index, term: snap.term, bytes: snap.bytes, discarded });
  announceSnapshot(m, ctx);
}

// ---- clients ------------------------------------------------------------------------------------------------------

function propose(m: RaftMemory, client: NodeId, p: Extract<RaftMessage, { kind: 'propose' }>, ctx: Ctx): void {
  if (m.role !== 'leader') {
    ctx.send(client, 'propose-reply', { kind: 'propose-reply', id: p.id, ok: false, index: 0, leaderHint: m.leader, reason: 'not leader' } satisfies RaftMessage, 32);
    return;
  }
  const known = commandIndex(m, p.id);
  if (known === 'stale') {
    // The client had the answer long ago (it said so with its low-water mark): a late copy, never applied twice.
    ctx.note('stale-duplicate', { client, id: p.id });
    return;
  }
  if (known !== undefined && known <= m.lastApplied) {
    ctx.send(client, 'propose-reply', { kind: 'propose-reply', id: p.id, ok: true, index: known, leaderHint: ctx.id, reason: 'duplicate' } satisfies RaftMessage, 32);
    return;
  }
  let index = known;
  if (index === undefined) {
    index = lastIndex(m.log) + 1;
    const e: Entry = { index, term: m.term, kind: 'put' as const, id: p.id, key: p.key, value: p.value, at: ctx.now };
    if (p.low !== undefined) e.low = p.low;
    appendLocal(m, ctx, Object.freeze(e));
    replicate(m, ctx);
    maybeCommit(m, ctx);
  }
  if (index > m.lastApplied) (m.waiting[index] ??= []).push({ client, id: p.id });
}

/**
 * Reads. `eventual`: any replica answers from what it has applied (may be stale). `strong`: the leader's ReadIndex
 * (§6.4): note the commit index, confirm leadership with a heartbeat round a majority acknowledges, then answer once
 * applied up to it. A leader that has not yet committed an entry of its term cannot know the commit index, so it asks
 * the client to retry.
 */
function read(m: RaftMemory, client: NodeId, r: Extract<RaftMessage, { kind: 'read' }>, ctx: Ctx): void {
  const answer = (ok: boolean, reason: string) =>
    ctx.send(client, 'read-reply', { kind: 'read-reply', id: r.id, ok, value: ok ? (m.kv[r.key] ?? null) : null, appliedIndex: m.lastApplied, leaderHint: m.leader, reason } satisfies RaftMessage, 48);
  if (r.mode === 'eventual') return answer(true, '');
  if (m.role !== 'leader') return answer(false, 'not leader');
  if (termAt(m.log, m.commitIndex) !== m.term) return answer(false, 'leader has not committed in its term yet');
  m.readSeq++;
  m.reads.push({ id: r.id, client, key: r.key, readIndex: m.commitIndex, seq: m.readSeq, acks: [] });
  if (m.group.length === 1) return serveReads(m, ctx);
  broadcastAppend(m, ctx, true);
}

function ackReads(m: RaftMemory, from: NodeId, seq: number, ctx: Ctx): void {
  for (const r of m.reads) if (seq >= r.seq && !r.acks.includes(from)) r.acks.push(from);
  serveReads(m, ctx);
}

function serveReads(m: RaftMemory, ctx: Ctx): void {
  if (m.role !== 'leader' || m.reads.length === 0) return;
  const keep: PendingRead[] = [];
  for (const r of m.reads) {
    if (1 + r.acks.length >= quorum(m) && m.lastApplied >= r.readIndex) {
      ctx.send(r.client, 'read-reply', { kind: 'read-reply', id: r.id, ok: true, value: m.kv[r.key] ?? null, appliedIndex: m.lastApplied, leaderHint: ctx.id, reason: '' } satisfies RaftMessage, 48);
    } else keep.push(r);
  }
  m.reads = keep;
}

function failWaiting(m: RaftMemory, ctx: Ctx, reason: string): void {
  for (const list of Object.values(m.waiting)) {
    for (const w of list) ctx.send(w.client, 'propose-reply', { kind: 'propose-reply', id: w.id, ok: false, index: 0, leaderHint: null, reason } satisfies RaftMessage, 32);
  }
  for (const r of m.reads) ctx.send(r.client, 'read-reply', { kind: 'read-reply', id: r.id, ok: false, value: null, appliedIndex: m.lastApplied, leaderHint: null, reason } satisfies RaftMessage, 32);
  m.waiting = {};
  m.reads = [];
}

// ---- helpers ------------------------------------------------------------------------------------------------------

function persistHard(m: RaftMemory, ctx: Ctx): void {
  const votedFor = ctx.bug('no-persist-vote') ? null : m.votedFor;
  ctx.persist({ op: 'put', key: HARD, value: { term: m.term, votedFor } }, true);
}

/**
 * Whether this replica knows of a live leader: it is the leader, or it heard from one within the minimum election
 * timeout. Such a replica neither grants a pre-vote nor (with CheckQuorum) lets a vote request raise its term
 * (thesis §4.2.3, §9.6; etcd's leader lease) — the leader included, or it would depose itself.
 */
function inLease(m: RaftMemory, ctx: Ctx): boolean {
  return m.role === 'leader' || (m.leader !== null && ctx.now - m.lastLeaderContact < ms(m.cfg.electionMinMs));
}

function peers(m: RaftMemory): NodeId[] {
  return m.others;
}

function quorum(m: RaftMemory): number {
  return Math.floor(m.group.length / 2) + 1;
}

function tally(m: RaftMemory): number {
  return Object.values(m.votes).filter(Boolean).length;
}

/** Announces WAL positions (append / commit / applied) when they changed during this step. */
function announce(m: RaftMemory, ctx: Ctx): void {
  const last = lastIndex(m.log);
  const a = m.announced;
  if (a[0] === last && a[1] === m.commitIndex && a[2] === m.lastApplied) return;
  m.announced = [last, m.commitIndex, m.lastApplied];
  ctx.state('wal', { last, commit: m.commitIndex, applied: m.lastApplied });
}
