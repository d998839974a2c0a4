import type { Checker, CheckView } from '../kernel/checker.ts';
import type { NodeId } from '../kernel/types.ts';
import { entryAt, firstIndex } from '../raft/log.ts';
import type { RaftMemory } from '../raft/replica.ts';
import { idForEach } from './idtable.ts';
import { inflightPeek } from './index.ts';
import type { PartitionState } from './partition.ts';
import { idSeq, type AckMode, type MqCommand, type Semantics } from './types.ts';

/**
 * The run's delivery ledger and the queue's end-to-end checks, in Jepsen's words where they fit. Messages are tracked
 * by producer id and sequence number (one flag word each), from the producers' `produced` and `acked` notes, the
 * sink's `processed` notes and the partitions' `dead-lettered` / `expired` notes. Committed messages are read from the
 * partitions' logs as their replicas announce commits (before compaction can drop the entries: replicas compact only
 * what the trace has announced). At `run.end` the checker reads each partition's most advanced live replica — the
 * messages still queued — and settles the rest:
 * - lost write: a message acknowledged to its producer that was never delivered, is not queued, and did not expire;
 *   a violation when the producer asked for acks=quorum (a quorum promised it) and consumers are not at-most-once;
 * - poll skip: a committed message never delivered and not queued (a violation unless consumers are at-most-once);
 * - duplicate delivery: processed more than once (a violation when a consumer group asked for exactly-once);
 * - in-flight leak: a message whose visibility deadline passed long ago and that was never redelivered;
 * - reordering within a key and acks of dead-lettered messages are counted.
 */
const PRODUCED = 1;
const ACKED = 2;
const DELIVERED = 4;
const GONE = 8;
const QUORUM = 16;
const COMMITTED = 32;

/**
 * Flags per message, packed five to a number (six bits each: the run's ledger holds every message it ever saw, so it
 * takes 1.6 bytes per message instead of 8): message `q` of a producer has bits `6·(q mod 5)` up in word `⌊q/5⌋`.
 */
const PER_WORD = 5;
const BITS = 6;
const MASK = (1 << BITS) - 1;

function flagAt(f: readonly number[], q: number): number {
  const w = f[(q / PER_WORD) | 0];
  return w === undefined ? 0 : (w >>> (BITS * (q % PER_WORD))) & MASK;
}

function flagOr(f: number[], q: number, x: number): void {
  const i = (q / PER_WORD) | 0;
  f[i] = (f[i] ?? 0) | (x << (BITS * (q % PER_WORD)));
}

interface LedgerState {
  /** Flag words per producer id (see `flagAt`). */
  flags: Record<string, number[]>;
  acks: Record<string, AckMode>;
  semantics: Record<NodeId, Semantics>;
  produced: number;
  acked: number;
  delivered: number;
  duplicated: number;
  expired: number;
  deadLettered: number;
  reordered: number;
  ackedAfterDead: number;
  overrun: number;
  redelivered: number;
  /** Per partition, the highest log index whose committed produce entries are flagged COMMITTED. */
  committedTo: Record<string, number>;
  /** The producer id of the last message looked up (see `idFlags`). */
  lastPid: string;
  /** Settled at run end. */
  lost: number;
  pollSkip: number;
  pending: number;
  unknown: number;
  ended: boolean;
}

function flagsOf(s: LedgerState, pid: string): number[] {
  return (s.flags[pid] ??= []);
}

/**
 * The flag word list of the message's producer and the message's sequence number. Messages come in runs from one
 * producer, so the last producer id seen is checked first, which spares slicing a new string per message.
 */
function idFlags(s: LedgerState, id: string): [number[], number] {
  const dash = id.lastIndexOf('-');
  const last = s.lastPid;
  const pid = dash === last.length && id.startsWith(last) ? last : (s.lastPid = id.slice(0, dash));
  return [flagsOf(s, pid), idSeq(id, dash)];
}

export const mqLedger: Checker<LedgerState> = {
  name: 'mq.ledger',
  description: 'No quorum-acknowledged write is lost, no committed message is skipped, exactly-once means once; the delivery ledger.',
  kinds: ['node.note', 'node.state', 'run.end'],
  init: () => ({
    flags: {}, acks: {}, semantics: {}, produced: 0, acked: 0, delivered: 0, duplicated: 0, expired: 0, deadLettered: 0, reordered: 0,
    ackedAfterDead: 0, overrun: 0, redelivered: 0, committedTo: {}, lastPid: '', lost: 0, pollSkip: 0, pending: 0, unknown: 0, ended: false,
  }),
  onEvent(s, e, view) {
    if (e.kind === 'run.end') return settle(s, view, e.seq);
    if (e.kind === 'node.state') {
      if (e.key === 'wal') flagCommitted(s, view.memory(e.node) as RaftMemory | null);
      return null;
    }
    if (e.kind !== 'node.note') return null;
    const d = e.data as Record<string, unknown>;
    switch (e.name) {
      case 'joining':
        s.semantics[e.node] = d.semantics as Semantics;
        return null;
      case 'produced': {
        const f = flagsOf(s, d.pid as string);
        const quorum = d.acks === 'quorum' ? QUORUM : 0;
        s.acks[d.pid as string] = d.acks as AckMode;
        for (let q = d.from as number; q <= (d.to as number); q++) flagOr(f, q, PRODUCED | quorum);
        s.produced += (d.to as number) - (d.from as number) + 1;
        return null;
      }
      case 'acked': {
        const f = flagsOf(s, d.pid as string);
        for (const q of d.seqs as number[]) {
          if (!(flagAt(f, q) & ACKED)) s.acked++;
          flagOr(f, q, ACKED);
        }
        return null;
      }
      case 'processed': {
        let dupes = 0;
        for (const id of d.ids as string[]) {
          const [f, q] = idFlags(s, id);
          if (flagAt(f, q) & DELIVERED) {
            s.duplicated++;
            dupes++;
          } else {
            flagOr(f, q, DELIVERED);
            s.delivered++;
          }
        }
        s.reordered += (d.reordered as number | undefined) ?? 0;
        if (dupes > 0 && Object.values(s.semantics).includes('exactly-once')) {
          return { message: `${dupes} message${dupes === 1 ? ' was' : 's were'} processed twice under exactly-once (duplicate delivery)`, evidence: { consumer: d.consumer, ids: d.ids, seq: e.seq } };
        }
        return null;
      }
      case 'dead-lettered':
      case 'expired':
        for (const id of d.ids as string[]) {
          const [f, q] = idFlags(s, id);
          flagOr(f, q, GONE);
        }
        if (e.name === 'expired' || d.reason === 'ttl') s.expired += (d.ids as string[]).length;
        if (e.name === 'dead-lettered') s.deadLettered += (d.ids as string[]).length;
        return null;
      case 'acked-after-dead':
        s.ackedAfterDead++;
        return null;
      case 'overrun':
        s.overrun += d.dropped as number;
        return null;
      case 'redeliver':
        s.redelivered += (d.ids as string[]).length;
        return null;
      default:
        return null;
    }
  },
  metrics: (s) => ({
    produced: s.produced, acked: s.acked, delivered: s.delivered, duplicated: s.duplicated, lost: s.lost, pollSkip: s.pollSkip,
    expired: s.expired, deadLettered: s.deadLettered, pending: s.pending, reordered: s.reordered, ackedAfterDead: s.ackedAfterDead,
    overrun: s.overrun, redelivered: s.redelivered,
  }),
};

/**
 * Flags the messages of produce entries a replica has newly committed. Each index is read once per partition, from
 * whichever replica first announces a commit covering it; everything at or below a replica's log base was announced
 * before it was compacted (or came in a snapshot of entries the leader announced), so nothing is skipped.
 */
function flagCommitted(s: LedgerState, m: RaftMemory | null): void {
  if (!m || m.machine !== 'mq') return;
  const name = (m.sm as PartitionState).cfg.partition;
  const done = s.committedTo[name] ?? 0;
  if (m.commitIndex <= done) return;
  for (let i = Math.max(done, firstIndex(m.log)) + 1; i <= m.commitIndex; i++) {
    const c = entryAt(m.log, i).cmd as MqCommand | undefined;
    if (c?.op !== 'produce') continue;
    for (const x of c.msgs) {
      const [f, q] = idFlags(s, x.id);
      flagOr(f, q, COMMITTED);
    }
  }
  s.committedTo[name] = m.commitIndex;
}

/** The live replica of each partition that has committed the most: the best account of what the queue holds. */
function bestReplicas(view: CheckView): Map<string, RaftMemory> {
  const best = new Map<string, RaftMemory>();
  for (const id of view.nodeIds()) {
    const m = view.memory(id) as RaftMemory | null;
    if (!m || m.machine !== 'mq') continue;
    const name = (m.sm as PartitionState).cfg.partition;
    const cur = best.get(name);
    if (!cur || m.commitIndex > cur.commitIndex || (m.commitIndex === cur.commitIndex && m.role === 'leader')) best.set(name, m);
  }
  return best;
}

function settle(s: LedgerState, view: CheckView, seq: number) {
  if (s.ended) return null;
  s.ended = true;
  const queued = new Set<string>();
  const best = bestReplicas(view);
  for (const m of best.values()) {
    const st = m.sm as PartitionState;
    idForEach(st.msgs, (id) => void queued.add(id));
  }
  const atMostOnce = Object.values(s.semantics).some((x) => x === 'at-most-once');
  const lostQuorum: string[] = [];
  let lostQuorumCount = 0;
  const skipped: string[] = [];
  for (const [pid, f] of Object.entries(s.flags)) {
    for (let q = 0; q < f.length * PER_WORD; q++) {
      const x = flagAt(f, q);
      if (!(x & PRODUCED) || x & (DELIVERED | GONE)) continue;
      const id = `${pid}-${q}`;
      if (queued.has(id)) {
        s.pending++;
        continue;
      }
      if (x & ACKED) {
        s.lost++;
        if (x & QUORUM) {
          lostQuorumCount++;
          if (lostQuorum.length < 20) lostQuorum.push(id);
        }
      }
      if (x & COMMITTED) {
        s.pollSkip++;
        if (skipped.length < 20) skipped.push(id);
      }
    }
  }
  if (atMostOnce) return null;
  if (lostQuorumCount > 0) {
    return { message: `${lostQuorumCount} quorum-acknowledged write${lostQuorumCount === 1 ? ' was' : 's were'} never delivered (lost write)`, evidence: { ids: lostQuorum, seq } };
  }
  if (skipped.length > 0) {
    return { message: `${s.pollSkip} committed message${s.pollSkip === 1 ? ' was' : 's were'} never delivered and are no longer queued (poll skip)`, evidence: { ids: skipped, seq } };
  }
  return inflightLeak(best, view, seq);
}

/** A message in a leader's in-flight heap whose deadline passed more than a second ago was never redelivered. */
function inflightLeak(best: Map<string, RaftMemory>, view: CheckView, seq: number) {
  for (const m of best.values()) {
    if (m.role !== 'leader') continue;
    const r = inflightPeek((m.sm as PartitionState).inflight);
    if (r !== null && r.deadline < view.t - 1_000_000) {
      return { message: `${r.id} stayed in flight on ${m.id} long past its deadline (in-flight leak)`, evidence: { node: m.id, id: r.id, deadline: r.deadline, seq } };
    }
  }
  return null;
}

export const MQ_CHECKERS: readonly Checker[] = [mqLedger as Checker];
