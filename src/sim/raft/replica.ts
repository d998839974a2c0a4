import { assert, fail } from '../kernel/assert.ts';
import { ms } from '../kernel/time.ts';
import type { DiskView, Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { firstIndexOfTerm, isUpToDate, lastIndex, lastTerm, SENTINEL, slice, termAt } from './log.ts';
import { RAFT_BUGS, RAFT_DEFAULTS, type Entry, type RaftConfig, type RaftMessage, type Role } from './types.ts';

/**
 * One Raft replica as a pure state machine (etcd-raft's shape): `step` handles one message or timer and only records
 * effects; the world persists, then sends. Section numbers refer to Ongaro & Ousterhout, "In Search of an
 * Understandable Consensus Algorithm" (2014). Persistent state (`currentTerm`, `votedFor`, the log) is written with
 * sync before any reply that depends on it leaves, because effects are applied disk-first.
 *
 * WAL positions, as the lecture names them: append position = last log index; commit = commitIndex; applied =
 * lastApplied (a background applier may lag); replicated position per follower = matchIndex on the leader.
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
}

const MACHINES: Record<string, Machine> = {};

/** Registers a state machine under a name; a node kind built with `raftReplicaOf` uses it. */
export function registerMachine(name: string, machine: Machine): void {
  assert(name !== 'kv' && !MACHINES[name], `machine ${name} is registered twice`);
  MACHINES[name] = machine;
}

const HARD = 'hard';
const LOG = 'log';

/** Log entries a snapshot carries per replica: the tail; `Lab.logEntries` pages through the rest. */
export const LOG_VIEW_MAX = 200;

export const raftReplica: NodeBehavior<RaftMemory, Partial<RaftConfig>> = {
  kind: 'raft',
  bugs: RAFT_BUGS,
  boot,
  group: (m) => m.cfg.name ?? null,
  view(m) {
    const kvKeys = Object.keys(m.kv).length;
    const { machine: _machine, sm: _sm, ...rest } = replicaView(m);
    return { ...rest, kvKeys, kv: kvKeys <= 32 ? { ...m.kv } : null };
  },
  headline: (m) => ({ role: m.role, term: m.term, leader: m.leader, last: lastIndex(m.log), commit: m.commitIndex, applied: m.lastApplied }),
  step(m, input, ctx) {
    if (input.type === 'timer') tick(m, input.name, ctx);
    else receive(m, input.msg, ctx);
    announce(m, ctx);
  },
};

/** The bounded per-frame view of a replica, shared by every replica kind. */
function replicaView(m: RaftMemory): Record<string, unknown> {
  const { ids: _ids, log, kv: _kv, sm: _sm, ...rest } = m;
  const from = Math.max(1, log.length - LOG_VIEW_MAX);
  return { ...rest, logLength: log.length - 1, logFrom: from, log: log.slice(from) };
}

/**
 * A replica kind whose committed `cmd` entries go to the machine registered as `machine`. Its config is the Raft config
 * plus `machine`, the machine's own settings; `view` adds the machine's bounded view to the replica's.
 */
export function raftReplicaOf(
  kind: string,
  machine: string,
  view: (m: RaftMemory) => Record<string, unknown>,
  headline: (m: RaftMemory) => Record<string, string | number | boolean | null>,
): NodeBehavior<RaftMemory, Partial<RaftConfig> & { machine?: unknown }> {
  return {
    kind,
    bugs: RAFT_BUGS,
    boot: (config, disk, ctx) => {
      const { machine: machineConfig, ...raft } = config;
      assert(MACHINES[machine], `no machine registered as ${machine}`);
      return boot(raft, disk, ctx, machine, machineConfig ?? {});
    },
    view: (m) => ({ ...replicaView(m), ...view(m) }),
    group: (m) => m.cfg.name ?? null,
    headline: (m) => ({ role: m.role, term: m.term, leader: m.leader, last: lastIndex(m.log), commit: m.commitIndex, applied: m.lastApplied, ...headline(m) }),
    step(m, input, ctx) {
      if (input.type === 'timer') tick(m, input.name, ctx);
      else receive(m, input.msg, ctx);
      announce(m, ctx);
    },
  };
}

/**
 * Leader only: appends a state machine command in the current term and starts replicating it. `id` makes a retried
 * command idempotent: a command whose id the log already holds is not appended again (its index is returned).
 */
export function leaderAppend(m: RaftMemory, ctx: Ctx, cmd: unknown, id: string | undefined, bytes: number): number {
  if (!(m.role === 'leader')) fail(`${m.id} appended a command as ${m.role}`);
  if (id !== undefined && m.ids[id] !== undefined) return m.ids[id];
  const index = lastIndex(m.log) + 1;
  const e: Entry = id === undefined ? { index, term: m.term, kind: 'cmd', cmd, bytes, at: ctx.now } : { index, term: m.term, kind: 'cmd', id, cmd, bytes, at: ctx.now };
  appendLocal(m, ctx, Object.freeze(e));
  broadcastAppend(m, ctx, false);
  maybeCommit(m, ctx);
  return index;
}

/** Replicas a quorum needs. */
export function quorumOf(m: RaftMemory): number {
  return quorum(m);
}

function boot(config: Partial<RaftConfig>, disk: DiskView, ctx: Ctx, machine = 'kv', machineConfig: unknown = null): RaftMemory {
  const cfg = { ...RAFT_DEFAULTS, ...config };
  assert(cfg.electionMinMs > cfg.heartbeatMs && cfg.electionMaxMs >= cfg.electionMinMs, 'raft: need heartbeat < electionMin <= electionMax');
  const group = cfg.group ?? [ctx.id, ...ctx.peers];
  if (!(group.includes(ctx.id))) fail(`raft: ${ctx.id} is not in its own group`);
  const hard = (disk[HARD] as { term: number; votedFor: NodeId | null } | undefined) ?? { term: 0, votedFor: null };
  const log = [SENTINEL, ...((disk[LOG] as Entry[] | undefined) ?? [])];
  log.forEach((e, i) => assert(e.index === i, `raft: log on disk has entry ${e.index} at position ${i}`));
  const m: RaftMemory = {
    id: ctx.id, cfg, group, others: group.filter((p) => p !== ctx.id), term: hard.term, votedFor: hard.votedFor, log, role: 'follower', leader: null,
    commitIndex: 0, lastApplied: 0, applying: false, kv: {}, machine, sm: null, ids: {}, votes: {}, preCampaign: false,
    nextIndex: {}, matchIndex: {}, lagging: {}, lastAck: {}, lastLeaderContact: -Infinity, waiting: {}, reads: [], readSeq: 0, announced: [-1, -1, -1],
  };
  for (const e of log) if (e.id) m.ids[e.id] = e.index;
  if (machine !== 'kv') m.sm = MACHINES[machine].init(m, machineConfig);
  ctx.state('role', 'follower');
  ctx.state('term', m.term);
  resetElectionTimer(m, ctx);
  announce(m, ctx);
  return m;
}

// ---- timers -------------------------------------------------------------------------------------------------------

function tick(m: RaftMemory, name: string, ctx: Ctx): void {
  switch (name) {
    case 'election':
      if (m.role === 'leader') return checkQuorum(m, ctx);
      return m.cfg.preVote ? campaign(m, ctx, true) : campaign(m, ctx, false);
    case 'heartbeat':
      assert(m.role === 'leader', 'only a leader has a heartbeat timer');
      broadcastAppend(m, ctx, true);
      ctx.setTimer('heartbeat', ms(m.cfg.heartbeatMs));
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
    failWaiting(m, ctx, 'leader stepped down');
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
    becomeFollower(m, ctx, msg.term, msg.kind === 'append' ? from : null);
    return true;
  }
  if (msg.term < m.term) {
    if (msg.kind === 'append') {
      ctx.send(from, 'append-reply', { kind: 'append-reply', term: m.term, success: false, matchIndex: 0, rejectedIndex: msg.prevLogIndex, hintIndex: 0, hintTerm: 0, readSeq: msg.readSeq } satisfies RaftMessage, 48);
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
      m.lastLeaderContact = ctx.now;
      if (m.leader !== from) ctx.state('leader', from);
      m.leader = from;
      resetElectionTimer(m, ctx);
      return handleAppend(m, from, msg, ctx);
    case 'vote-reply':
      if (msg.pre && m.preCampaign) return stepCandidate(m, from, msg, ctx);
      return;
    case 'append-reply':
      return;
  }
}

function stepCandidate(m: RaftMemory, from: NodeId, msg: PeerMessage, ctx: Ctx): void {
  switch (msg.kind) {
    case 'vote':
      return handleVote(m, from, msg, ctx);
    case 'append':
      // §5.2: an AppendEntries from a leader of our term means we lost; follow it.
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
      return;
  }
}

function stepLeader(m: RaftMemory, from: NodeId, msg: PeerMessage, ctx: Ctx): void {
  switch (msg.kind) {
    case 'vote':
      return handleVote(m, from, msg, ctx);
    case 'append':
      // Two leaders in one term would break Election Safety; the checker reports it, the replica refuses it.
      ctx.note('rival-leader', { from, term: msg.term });
      return;
    case 'vote-reply':
      return;
    case 'append-reply':
      return handleAppendReply(m, from, msg, ctx);
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

/** §5.3: the consistency check, conflict truncation, append, and the follower's commit index. */
function handleAppend(m: RaftMemory, from: NodeId, msg: Extract<RaftMessage, { kind: 'append' }>, ctx: Ctx): void {
  const last = lastIndex(m.log);
  if (msg.prevLogIndex > last) return replyAppend(m, ctx, from, msg, false, 0, last, lastTerm(m.log));
  if (termAt(m.log, msg.prevLogIndex) !== msg.prevLogTerm) {
    const first = m.cfg.conflictHint ? firstIndexOfTerm(m.log, msg.prevLogIndex, m.commitIndex) : msg.prevLogIndex;
    return replyAppend(m, ctx, from, msg, false, 0, first - 1, termAt(m.log, first - 1) ?? 0);
  }
  let appendFrom = -1;
  for (let k = 0; k < msg.entries.length; k++) {
    const e = msg.entries[k];
    const mine = termAt(m.log, e.index);
    if (mine === e.term) continue;
    if (mine !== undefined) truncate(m, ctx, e.index);
    appendFrom = k;
    break;
  }
  if (appendFrom >= 0) {
    const fresh = msg.entries.slice(appendFrom);
    for (const e of fresh) m.log.push(e);
    for (const e of fresh) if (e.id) m.ids[e.id] = e.index;
    ctx.persist({ op: 'append', key: LOG, items: fresh }, true);
  }
  const matched = msg.prevLogIndex + msg.entries.length;
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
  if (msg.success) {
    if (msg.matchIndex > m.matchIndex[from]) {
      m.matchIndex[from] = msg.matchIndex;
      if (m.machine !== 'kv') MACHINES[m.machine].replicated?.(m, ctx, from);
    }
    m.nextIndex[from] = Math.max(m.nextIndex[from], m.matchIndex[from] + 1);
    const last = lastIndex(m.log);
    if (m.matchIndex[from] < last - m.cfg.appendEntriesMax) m.lagging[from] = true;
    else if (m.lagging[from] && m.matchIndex[from] === last) {
      m.lagging[from] = false;
      ctx.note('caught-up', { peer: from, index: last });
    }
    maybeCommit(m, ctx);
    if (m.role === 'leader' && m.nextIndex[from] <= lastIndex(m.log)) sendAppend(m, ctx, from, false);
    return;
  }
  // A rejection at or below what the follower already matched is a stale reply (reordered or duplicated).
  if (msg.rejectedIndex <= m.matchIndex[from]) return;
  let next = Math.min(msg.rejectedIndex, msg.hintIndex + 1);
  if (m.cfg.conflictHint && msg.hintTerm > 0 && termAt(m.log, msg.hintIndex) !== msg.hintTerm) next = Math.min(next, msg.hintIndex);
  m.nextIndex[from] = Math.max(m.matchIndex[from] + 1, Math.max(1, next));
  m.lagging[from] = true;
  ctx.note('append-rejected', { from, rejectedIndex: msg.rejectedIndex, nextIndex: m.nextIndex[from] });
  sendAppend(m, ctx, from, false);
}

// ---- replication and commit ---------------------------------------------------------------------------------------

function sendAppend(m: RaftMemory, ctx: Ctx, to: NodeId, heartbeat: boolean): void {
  const next = m.nextIndex[to];
  const prev = next - 1;
  const entries = heartbeat && next > lastIndex(m.log) ? [] : slice(m.log, next, m.cfg.appendEntriesMax);
  const msg: RaftMessage = { kind: 'append', term: m.term, prevLogIndex: prev, prevLogTerm: m.log[prev].term, entries, leaderCommit: m.commitIndex, readSeq: m.readSeq };
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

/** Entries are frozen when created: they are shared by reference between replicas, disks, messages and checkpoints. */
function appendLocal(m: RaftMemory, ctx: Ctx, e: Readonly<Entry>): void {
  assert(Object.isFrozen(e), 'log entries must be frozen');
  if (!(e.index === lastIndex(m.log) + 1)) fail(`append at ${e.index} after ${lastIndex(m.log)}`);
  m.log.push(e);
  if (e.id) m.ids[e.id] = e.index;
  ctx.persist({ op: 'append', key: LOG, items: [e] }, true);
}

function truncate(m: RaftMemory, ctx: Ctx, from: number): void {
  ctx.note('truncate', { from, dropped: lastIndex(m.log) - from + 1, committed: m.commitIndex });
  for (let i = from; i < m.log.length; i++) if (m.log[i].id) delete m.ids[m.log[i].id!];
  m.log.length = from;
  ctx.persist({ op: 'truncate', key: LOG, length: from - 1 }, true);
}

/** §5.3, §5.4.2: commit the highest index a majority holds, counting replicas only for entries of the current term. */
function maybeCommit(m: RaftMemory, ctx: Ctx): void {
  if (m.role !== 'leader') return;
  const oldTermsCount = ctx.bug('commit-old-term');
  for (let n = lastIndex(m.log); n > m.commitIndex; n--) {
    if (m.log[n].term !== m.term && !oldTermsCount) break;
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
      const e = m.log[i];
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
  const e = m.log[++m.lastApplied];
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

// ---- clients ------------------------------------------------------------------------------------------------------

function propose(m: RaftMemory, client: NodeId, p: Extract<RaftMessage, { kind: 'propose' }>, ctx: Ctx): void {
  if (m.role !== 'leader') {
    ctx.send(client, 'propose-reply', { kind: 'propose-reply', id: p.id, ok: false, index: 0, leaderHint: m.leader, reason: 'not leader' } satisfies RaftMessage, 32);
    return;
  }
  const known = m.ids[p.id];
  if (known !== undefined && known <= m.lastApplied) {
    ctx.send(client, 'propose-reply', { kind: 'propose-reply', id: p.id, ok: true, index: known, leaderHint: ctx.id, reason: 'duplicate' } satisfies RaftMessage, 32);
    return;
  }
  let index = known;
  if (index === undefined) {
    index = lastIndex(m.log) + 1;
    appendLocal(m, ctx, Object.freeze({ index, term: m.term, kind: 'put' as const, id: p.id, key: p.key, value: p.value, at: ctx.now }));
    broadcastAppend(m, ctx, false);
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
  if (m.log[m.commitIndex].term !== m.term) return answer(false, 'leader has not committed in its term yet');
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
