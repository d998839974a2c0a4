import { fail } from '../kernel/assert.ts';
import { ms } from '../kernel/time.ts';
import type { Message, NodeContext, NodeId } from '../kernel/types.ts';
import { commandIndex, leaderAppend, quorumOf, raftReplicaOf, registerMachine, type RaftMemory } from '../raft/replica.ts';
import type { Entry, Role } from '../raft/types.ts';
import {
  inflightAdd, inflightAll, inflightClear, inflightCreate, inflightDrop, inflightIds, inflightNextDeadline, inflightPopDue, inflightRemove, inflightSize, inflightTrack,
  readyCreate, readyHas, readyIds, readyLaneSizes, readyPeekOldest, readyPop, readyPush, readyRemove, readySize,
  type InflightHeap, type InflightRecord, type ReadyIndex,
} from './index.ts';
import { checkNodeConfig } from './config.ts';
import { idDelete, idForEach, idGet, idSet, idSize, idTableCreate, type IdTable } from './idtable.ts';
import { PARTITION_DEFAULTS, type Delivered, type MqCommand, type MqMessage, type MqRpc, type PartitionConfig } from './types.ts';

/**
 * A partition replica: a Raft replica whose state machine is the broker's index of the lecture. Every replica applies
 * the same committed commands (produce, ack, requeue, dead, expire), so each holds the messages not yet acknowledged,
 * with their log offsets, and the dead-letter store. The leader alone delivers: it keeps them in priority lanes by
 * offset (built from the unacknowledged messages when it takes over), moves them from the lanes into its in-flight
 * index ordered by redelivery deadline, and puts them back when a deadline passes. Consumers only ever see committed
 * messages (Kafka's high watermark), because the lanes fill on apply. The replicated state is snapshotted with the
 * log (§7), so the log is compacted as a broker's must be (`PARTITION_RAFT_DEFAULTS`).
 */
export interface Stored {
  m: MqMessage;
  offset: number;
  deliveries: number;
}

interface Waiter {
  index: number;
  producer: NodeId;
  batch: string;
}

interface PendingFetch {
  consumer: NodeId;
  max: number;
  laneFilter: number;
  keyPrefix: string;
  until: number;
}

interface Subscriber {
  consumer: NodeId;
  window: number;
  laneFilter: number;
  keyPrefix: string;
  /** Messages out to it and not yet acknowledged. */
  out: number;
  until: number;
}

export interface PartitionState {
  cfg: PartitionConfig;
  /** Every message not acknowledged, dead-lettered or expired, by id. */
  msgs: IdTable<Stored>;
  /**
   * Leader only: the delivery index, messages waiting in their lanes. Followers keep just `msgs` — only the leader
   * delivers — and a new leader builds its lanes from them (everything unacknowledged is ready: nothing is in flight).
   */
  ready: ReadyIndex;
  /** Leader only: delivered, waiting for an ack. */
  inflight: InflightHeap;
  dead: { count: number; recent: string[] };
  counts: { produced: number; acked: number; dead: number; expired: number; requeued: number; delivered: number; dupAcks: number };
  /** Ids dead-lettered or expired (not acked), so a late ack can be reported. Bounded to the recent ones. */
  gone: IdTable<'dead' | 'expired'>;
  goneOrder: string[];
  /** Leader only: producers waiting for acks=quorum. */
  waiters: Waiter[];
  fetches: PendingFetch[];
  subscribers: Subscriber[];
  /** Leader only, `replicatedAcks` off: acks the leader knows and its followers never learn. */
  localAcks: IdTable<true>;
  /** Leader only: the consumers owning this partition, as the control plane last said (null: never told). */
  owners: { list: readonly NodeId[]; epoch: number; seq: number } | null;
}

/**
 * The partition's replicated state in a snapshot (§7 log compaction): the messages not yet acknowledged, with their
 * offsets and delivery counts, the dead-letter store's summary, the counters and the recently dead or expired ids.
 * Lanes are rebuilt from the messages; what only the leader keeps (in-flight heap, waiting producers, pulls, push
 * subscriptions) is not replicated, so a replica restored from a snapshot starts it empty, as a follower does.
 */
export interface PartitionSnapshot {
  msgs: readonly Readonly<Stored>[];
  dead: { readonly count: number; readonly recent: readonly string[] };
  counts: Readonly<PartitionState['counts']>;
  gone: readonly (readonly [string, 'dead' | 'expired'])[];
}

const GONE_MAX = 10_000;

/**
 * A partition's Raft settings by default. Its log is compacted, as a broker's must be: every 512 applied entries
 * (batches of messages, acks) it snapshots its index and keeps 128 entries before the snapshot for followers a little
 * behind. Its leader replicates what arrives within 1 ms in one AppendEntries (the producers' batches of one linger
 * period arrive together), and sends heartbeats only to followers that got nothing else for a heartbeat interval.
 */
export const PARTITION_RAFT_DEFAULTS = { snapshotEntries: 512, snapshotKeepEntries: 128, replicateLingerMs: 4, heartbeatWhenIdle: true } as const;
const DEAD_RECENT_MAX = 50;
const TICK_MS = 50;

type Ctx = NodeContext;
const sm = (m: RaftMemory) => m.sm as PartitionState;

registerMachine('mq', {
  init(_m, config) {
    const cfg = { ...PARTITION_DEFAULTS, ...(config as Partial<PartitionConfig>) } as PartitionConfig;
    if (!(cfg.topic && cfg.partition)) fail('mq partition: topic and partition are required');
    return {
      cfg, msgs: idTableCreate<Stored>(), ready: readyCreate(cfg.lanes), inflight: inflightCreate(), dead: { count: 0, recent: [] },
      counts: { produced: 0, acked: 0, dead: 0, expired: 0, requeued: 0, delivered: 0, dupAcks: 0 },
      gone: idTableCreate<'dead' | 'expired'>(), goneOrder: [], waiters: [], fetches: [], subscribers: [], localAcks: idTableCreate<true>(), owners: null,
    } satisfies PartitionState;
  },
  apply,
  receive,
  tick,
  roleChanged,
  committed: (m, ctx) => answerWaiters(m, ctx),
  replicated: (m, ctx) => answerWaiters(m, ctx),
  snapshot,
  restore,
});

/** §7: the replicated state as deeply frozen plain data, and its size (messages' bytes plus a little per record). */
function snapshot(m: RaftMemory): { data: PartitionSnapshot; bytes: number } {
  const s = sm(m);
  const msgs: Readonly<Stored>[] = [];
  let bytes = 64;
  idForEach(s.msgs, (_id, st) => {
    msgs.push(Object.freeze({ m: st.m, offset: st.offset, deliveries: st.deliveries }));
    bytes += st.m.bytes + 24;
  });
  const gone: (readonly [string, 'dead' | 'expired'])[] = [];
  for (const id of s.goneOrder) {
    gone.push(Object.freeze([id, idGet(s.gone, id)!] as const));
    bytes += id.length + 4;
  }
  bytes += 16 * s.dead.recent.length;
  const data: PartitionSnapshot = {
    msgs: Object.freeze(msgs),
    dead: Object.freeze({ count: s.dead.count, recent: Object.freeze([...s.dead.recent]) }),
    counts: Object.freeze({ ...s.counts }),
    gone: Object.freeze(gone),
  };
  return { data: Object.freeze(data), bytes };
}

/** Replaces the replica's state with a snapshot's: every message back in its lane, nothing in flight. */
function restore(m: RaftMemory, data: unknown): void {
  const s = sm(m);
  const d = data as PartitionSnapshot;
  s.msgs = idTableCreate<Stored>();
  s.ready = readyCreate(s.cfg.lanes);
  s.inflight = inflightCreate();
  for (const st of d.msgs) idSet(s.msgs, st.m.id, { m: st.m, offset: st.offset, deliveries: st.deliveries });
  s.dead = { count: d.dead.count, recent: [...d.dead.recent] };
  s.counts = { ...d.counts };
  s.gone = idTableCreate<'dead' | 'expired'>();
  s.goneOrder = [];
  for (const [id, why] of d.gone) {
    idSet(s.gone, id, why);
    s.goneOrder.push(id);
  }
  s.waiters = [];
  s.fetches = [];
  s.subscribers = [];
  s.localAcks = idTableCreate<true>();
  s.owners = null;
}

const replicaKind = raftReplicaOf(
  'mq-partition',
  'mq',
  (m) => {
    const s = sm(m);
    const leads = m.role === 'leader';
    return {
      partition: s.cfg.partition,
      topic: s.cfg.topic,
      ready: waiting(m),
      lanes: leads ? readyLaneSizes(s.ready) : null,
      readyIds: leads ? readyIds(s.ready, 20) : [],
      inflight: inflightSize(s.inflight),
      inflightIds: inflightIds(s.inflight, 20),
      dead: { count: s.dead.count, recent: [...s.dead.recent] },
      counts: { ...s.counts },
      waiters: s.waiters.length,
      fetches: s.fetches.length,
      subscribers: s.subscribers.map((x) => ({ consumer: x.consumer, out: x.out, window: x.window })),
    };
  },
  (m) => ({ partition: sm(m).cfg.partition, ready: waiting(m), inflight: inflightSize(sm(m).inflight), dead: sm(m).dead.count }),
  PARTITION_RAFT_DEFAULTS,
);

/** The partition replica kind: its config (Raft settings plus `machine`, the partition's) is checked when it boots. */
export const mqPartition: typeof replicaKind = {
  ...replicaKind,
  boot(config, disk, ctx) {
    checkNodeConfig('mq-partition', ctx.id, config);
    return replicaKind.boot(config, disk, ctx);
  },
};

/** Messages waiting for delivery: the leader's lanes; on a follower, every unacknowledged message. */
function waiting(m: RaftMemory): number {
  const s = sm(m);
  return m.role === 'leader' ? readySize(s.ready) : idSize(s.msgs);
}

// ---- the replicated state machine ---------------------------------------------------------------------------------

function apply(m: RaftMemory, e: Entry, ctx: Ctx): void {
  const s = sm(m);
  const c = e.cmd as MqCommand;
  const leads = m.role === 'leader';
  switch (c.op) {
    case 'produce': {
      // Only a non-idempotent producer's retry (its batch id carries `#attempt`) can repeat messages already here: an
      // idempotent retry keeps its batch id and is never appended twice (see `commandIndex`).
      const retried = c.batch.includes('#');
      for (let i = 0; i < c.msgs.length; i++) {
        const msg = c.msgs[i];
        if (retried && (idGet(s.msgs, msg.id) !== undefined || (s.goneOrder.length > 0 && idGet(s.gone, msg.id) !== undefined))) continue; // a duplicate batch
        idSet(s.msgs, msg.id, { m: msg, offset: e.index * 1024 + i, deliveries: 0 });
        if (leads) readyPush(s.ready, { id: msg.id, offset: e.index * 1024 + i, lane: Math.min(msg.lane, s.cfg.lanes - 1) });
        s.counts.produced++;
      }
      if (m.role === 'leader') {
        ctx.note('enqueued', { partition: s.cfg.partition, batch: c.batch, n: c.msgs.length, index: e.index });
        serve(m, ctx);
      }
      return;
    }
    case 'ack':
      for (const id of c.ids) {
        const st = idDelete(s.msgs, id);
        if (st === undefined) {
          if (s.goneOrder.length > 0 && idGet(s.gone, id) === 'dead' && leads) ctx.note('acked-after-dead', { partition: s.cfg.partition, id });
          continue;
        }
        if (leads && !readyRemove(s.ready, id)) inflightDrop(s.inflight, id);
        s.counts.acked++;
      }
      return;
    case 'requeue':
      for (let i = 0; i < c.ids.length; i++) {
        const st = idGet(s.msgs, c.ids[i]);
        if (st !== undefined) st.deliveries = Math.max(st.deliveries, c.deliveries[i]);
      }
      s.counts.requeued += c.ids.length;
      return;
    case 'dead':
    case 'expire':
      for (const id of c.ids) {
        const st = idDelete(s.msgs, id);
        if (st === undefined) continue;
        if (leads && !readyRemove(s.ready, id)) inflightDrop(s.inflight, id);
        forget(s, id, c.op === 'dead' ? 'dead' : 'expired');
        if (c.op === 'dead') {
          s.dead.count++;
          s.dead.recent.push(id);
          if (s.dead.recent.length > DEAD_RECENT_MAX) s.dead.recent.shift();
          s.counts.dead++;
        } else s.counts.expired++;
      }
      if (m.role === 'leader') ctx.note(c.op === 'dead' ? 'dead-lettered' : 'expired', { partition: s.cfg.partition, ids: c.ids, ...(c.op === 'dead' ? { reason: c.reason } : {}) });
      return;
    default:
      fail(`mq: unknown command ${(c as { op: string }).op}`);
  }
}

function forget(s: PartitionState, id: string, why: 'dead' | 'expired'): void {
  idSet(s.gone, id, why);
  s.goneOrder.push(id);
  if (s.goneOrder.length > GONE_MAX) idDelete(s.gone, s.goneOrder.shift()!);
}

// ---- requests -----------------------------------------------------------------------------------------------------

function receive(m: RaftMemory, msg: Message, ctx: Ctx): boolean {
  const body = msg.body as MqRpc;
  const s = sm(m);
  switch (body.kind) {
    case 'status?': {
      // The control plane reads depth and lag from the leader (a follower delivers nothing: it reports its backlog).
      const oldest = m.role === 'leader' ? readyPeekOldest(s.ready) : null;
      const lagMs = oldest === null ? 0 : (ctx.now - idGet(s.msgs, oldest.id)!.m.at) / 1000;
      const reply: MqRpc = { kind: 'status', partition: s.cfg.partition, role: m.role, term: m.term, leader: m.leader, ready: waiting(m), inflight: inflightSize(s.inflight), lagMs };
      if (m.role === 'leader') {
        // Sampled at the control plane's poll (every 100 ms): the queue's depth and age per partition, for the charts.
        ctx.observe(`depth.${s.cfg.partition}`, readySize(s.ready) + inflightSize(s.inflight));
        ctx.observe('lagMs', lagMs);
      }
      ctx.send(msg.from, 'status', reply, 48);
      return true;
    }
    case 'produce':
      produce(m, msg.from, body, ctx);
      return true;
    case 'fetch':
      if (m.role !== 'leader') return notLeader(m, msg.from, ctx), true;
      s.fetches = s.fetches.filter((f) => f.consumer !== body.consumer);
      s.fetches.push({ consumer: body.consumer, max: body.max, laneFilter: body.laneFilter, keyPrefix: body.keyPrefix, until: ctx.now + ms(s.cfg.fetchWaitMs) });
      serve(m, ctx);
      ticking(m, ctx);
      return true;
    case 'subscribe': {
      if (m.role !== 'leader') return notLeader(m, msg.from, ctx), true;
      const until = ctx.now + 3 * ms(Math.max(s.cfg.fetchWaitMs, 1000));
      const cur = s.subscribers.find((x) => x.consumer === body.consumer);
      if (cur) Object.assign(cur, { window: body.window, laneFilter: body.laneFilter, keyPrefix: body.keyPrefix, until });
      else {
        s.subscribers.push({ consumer: body.consumer, window: body.window, laneFilter: body.laneFilter, keyPrefix: body.keyPrefix, out: 0, until });
        ctx.note('subscribed', { partition: s.cfg.partition, consumer: body.consumer, window: body.window });
      }
      serve(m, ctx);
      ticking(m, ctx);
      return true;
    }
    case 'ack':
      ack(m, body.consumer, body.ids, ctx);
      return true;
    case 'owners':
      if (m.role === 'leader') ownersChanged(m, ctx, body);
      return true;
    default:
      return false;
  }
}

function notLeader(m: RaftMemory, to: NodeId, ctx: Ctx): void {
  const reply: MqRpc = { kind: 'deliver', partition: sm(m).cfg.partition, msgs: [], ok: false, reason: 'not leader', leaderHint: m.leader };
  ctx.send(to, 'deliver', reply, 32);
}

/**
 * A producer's batch: the leader drops configured fields (the lecture's transformation), appends the batch to its WAL
 * and replicates it. acks=leader is answered at once — the reply leaves after the synced append, and is lost with
 * the leader if it fails before a quorum holds the entry; acks=quorum waits for commit and `minInsync` replicas.
 */
function produce(m: RaftMemory, producer: NodeId, p: Extract<MqRpc, { kind: 'produce' }>, ctx: Ctx): void {
  const s = sm(m);
  const reply = (ok: boolean, reason: string, index: number) => {
    if (p.acks === 'none') return;
    const r: MqRpc = { kind: 'produce-reply', batch: p.batch, partition: s.cfg.partition, ok, reason, leaderHint: m.leader, index };
    ctx.send(producer, 'produce-reply', r, 40);
  };
  if (m.role !== 'leader') {
    ctx.note('produce-refused', { partition: s.cfg.partition, batch: p.batch, reason: 'not leader', leaderHint: m.leader });
    return reply(false, 'not leader', 0);
  }
  const known = commandIndex(m, p.batch);
  if (known === 'stale') {
    // Below the producer's low-water mark: it had its answer long ago, and this is a late copy (a duplicated packet).
    return void ctx.note('stale-batch', { partition: s.cfg.partition, batch: p.batch });
  }
  let msgs = p.msgs;
  let bytes = 0;
  if (s.cfg.dropFields.length > 0) msgs = msgs.map((x) => transform(x, s.cfg.dropFields));
  for (let i = 0; i < msgs.length; i++) bytes += msgs[i].bytes;
  const cmd: MqCommand = { op: 'produce', producer, batch: p.batch, msgs: Object.freeze(msgs) };
  const index = leaderAppend(m, ctx, Object.freeze(cmd), p.batch, 32 + bytes, p.low);
  if (known !== undefined) ctx.note('duplicate-batch', { partition: s.cfg.partition, batch: p.batch, index });
  if (p.acks === 'leader') return reply(true, '', index);
  if (p.acks === 'quorum') {
    s.waiters.push({ index, producer, batch: p.batch });
    answerWaiters(m, ctx);
  }
}

function transform(x: MqMessage, drop: readonly string[]): MqMessage {
  if (!x.fields) return x;
  const fields: Record<string, string> = {};
  let bytes = x.bytes;
  for (const [k, v] of Object.entries(x.fields)) {
    if (drop.includes(k)) bytes -= k.length + v.length;
    else fields[k] = v;
  }
  return Object.freeze({ ...x, bytes: Math.max(1, bytes), fields: Object.freeze(fields) });
}

/** acks=quorum: a write is acknowledged once committed and held by `minInsync` replicas (a Raft quorum by default). */
function answerWaiters(m: RaftMemory, ctx: Ctx): void {
  const s = sm(m);
  if (m.role !== 'leader' || s.waiters.length === 0) return;
  const need = Math.max(s.cfg.minInsync, quorumOf(m));
  const keep: Waiter[] = [];
  for (const w of s.waiters) {
    let holders = 1;
    for (const p of m.others) if (m.matchIndex[p] >= w.index) holders++;
    if (w.index <= m.commitIndex && holders >= need) {
      const r: MqRpc = { kind: 'produce-reply', batch: w.batch, partition: s.cfg.partition, ok: true, reason: '', leaderHint: m.id, index: w.index };
      ctx.send(w.producer, 'produce-reply', r, 40);
    } else keep.push(w);
  }
  s.waiters = keep;
}

/** A consumer's ack by id: replicated through the log, or (the teaching toggle) kept in the leader's memory only. */
function ack(m: RaftMemory, consumer: NodeId, ids: readonly string[], ctx: Ctx): void {
  const s = sm(m);
  if (m.role !== 'leader') return void ctx.note('ack-refused', { partition: s.cfg.partition, consumer, n: ids.length, reason: 'not leader' });
  // Fenced: a consumer a rebalance took this partition from (a zombie: paused, cut off) may not ack; what it had is
  // the new owner's now (Kafka: a commit after a rebalance fails).
  if (!owns(s, consumer)) return void ctx.note('ack-refused', { partition: s.cfg.partition, consumer, n: ids.length, reason: 'not the owner' });
  const fresh: string[] = [];
  for (const id of ids) {
    const to = inflightDrop(s.inflight, id);
    if (to !== null && s.subscribers.length > 0) {
      const sub = s.subscribers.find((x) => x.consumer === to);
      if (sub && sub.out > 0) sub.out--;
    }
    const local = idSize(s.localAcks) > 0 && idGet(s.localAcks, id) === true;
    if (local || (idGet(s.msgs, id) === undefined && !(s.goneOrder.length > 0 && idGet(s.gone, id) === 'dead'))) {
      s.counts.dupAcks++;
      continue;
    }
    fresh.push(id);
  }
  if (fresh.length === 0) return serve(m, ctx);
  if (s.cfg.replicatedAcks) {
    leaderAppend(m, ctx, Object.freeze({ op: 'ack', ids: Object.freeze(fresh) } satisfies MqCommand), undefined, 16 + 12 * fresh.length);
  } else {
    for (const id of fresh) {
      if (idDelete(s.msgs, id) === undefined) continue;
      idSet(s.localAcks, id, true);
      if (readyHas(s.ready, id)) readyRemove(s.ready, id);
      s.counts.acked++;
    }
    ctx.note('acked-locally', { partition: s.cfg.partition, n: fresh.length });
  }
  serve(m, ctx);
}

// ---- delivery (leader only) ---------------------------------------------------------------------------------------

/** Answers waiting pulls and fills push windows from the lanes, highest priority first, oldest offset first. */
function serve(m: RaftMemory, ctx: Ctx): void {
  const s = sm(m);
  if (m.role !== 'leader') return;
  if (s.fetches.length > 0 && readySize(s.ready) > 0) {
    const still: PendingFetch[] = [];
    for (const f of s.fetches) {
      // Fenced: a consumer a rebalance took this partition from gets nothing; its long poll runs out empty.
      const got = owns(s, f.consumer) ? take(m, ctx, f.consumer, f.max, f.laneFilter, f.keyPrefix) : [];
      if (got.length > 0) deliver(m, ctx, f.consumer, got);
      else still.push(f);
    }
    s.fetches = still;
  }
  for (const sub of s.subscribers) {
    if (readySize(s.ready) === 0) break;
    const room = sub.window === 0 ? 256 : sub.window - sub.out;
    if (room <= 0 || !owns(s, sub.consumer)) continue;
    const got = take(m, ctx, sub.consumer, room, sub.laneFilter, sub.keyPrefix);
    if (got.length === 0) continue;
    sub.out += got.length;
    deliver(m, ctx, sub.consumer, got);
    if (sub.window === 0 && readySize(s.ready) > 0) ticking(m, ctx); // unbounded push keeps pushing next tick
  }
}

/** True unless the control plane said this partition belongs to other consumers. */
function owns(s: PartitionState, consumer: NodeId): boolean {
  return s.owners === null || s.owners.list.includes(consumer);
}

function take(m: RaftMemory, ctx: Ctx, consumer: NodeId, max: number, laneFilter: number, keyPrefix: string): Delivered[] {
  const s = sm(m);
  const out: Delivered[] = [];
  const expired: string[] = [];
  const ttlUs = ms(s.cfg.ttlMs);
  const accept = laneFilter < 0 && keyPrefix === '' ? undefined : (id: string) => {
    const x = idGet(s.msgs, id)!.m;
    return (laneFilter < 0 || x.lane <= laneFilter) && x.key.startsWith(keyPrefix);
  };
  const deadline = ctx.now + ms(s.cfg.visibilityMs);
  while (out.length < max) {
    const item = readyPop(s.ready, accept);
    if (item === null) break;
    const st = idGet(s.msgs, item.id)!;
    if (ttlUs > 0 && ctx.now - st.m.at >= ttlUs) {
      expired.push(item.id);
      continue;
    }
    st.deliveries++;
    // Frozen: the same object travels on to the consumer and the sink.
    out.push(Object.freeze({ m: st.m, partition: s.cfg.partition, offset: st.offset, deliveries: st.deliveries }));
  }
  // In flight in id order: one delivery's records share their deadline, so they extend the in-flight FIFO in order.
  const byId = out.length > 1 ? [...out].sort((a, b) => (a.m.id < b.m.id ? -1 : a.m.id > b.m.id ? 1 : 0)) : out;
  for (const d of byId) inflightTrack(s.inflight, d.m.id, deadline, consumer, d.deliveries);
  if (expired.length > 0) expire(m, ctx, expired);
  if (out.length > 0) ticking(m, ctx);
  return out;
}

function deliver(m: RaftMemory, ctx: Ctx, consumer: NodeId, msgs: Delivered[]): void {
  const s = sm(m);
  s.counts.delivered += msgs.length;
  let bytes = 32;
  for (const d of msgs) bytes += d.m.bytes;
  // Frozen: a consumer that processes the delivery as one chunk hands this same array on to its sink.
  const r: MqRpc = { kind: 'deliver', partition: s.cfg.partition, msgs: Object.freeze(msgs), ok: true, reason: '', leaderHint: m.id };
  ctx.send(consumer, 'deliver', r, bytes);
}

function expire(m: RaftMemory, ctx: Ctx, ids: string[]): void {
  const s = sm(m);
  const cmd: MqCommand = s.cfg.ttlAction === 'dead-letter' ? { op: 'dead', ids: Object.freeze(ids), reason: 'ttl' } : { op: 'expire', ids: Object.freeze(ids) };
  leaderAppend(m, ctx, Object.freeze(cmd), undefined, 16 + 12 * ids.length);
}

/**
 * A rebalance moved this partition: what is in flight to a consumer that no longer owns it goes back to its lane now,
 * at its offset, so the new owner receives it first (its delivery count stays; its deadline is dropped).
 */
function ownersChanged(m: RaftMemory, ctx: Ctx, o: Extract<MqRpc, { kind: 'owners' }>): void {
  const s = sm(m);
  const cur = s.owners;
  if (cur !== null && (o.epoch < cur.epoch || (o.epoch === cur.epoch && o.seq <= cur.seq))) return; // an older notice
  s.owners = { list: o.owners, epoch: o.epoch, seq: o.seq };
  const released: InflightRecord[] = [];
  for (const rec of inflightAll(s.inflight)) {
    if (o.owners.includes(rec.consumer)) continue;
    released.push(inflightRemove(s.inflight, rec.id)!);
  }
  // Released in deadline order, as the heap would have handed them back.
  released.sort((a, b) => a.deadline - b.deadline || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (released.length === 0) return;
  requeue(m, ctx, released);
  ctx.note('released', { partition: s.cfg.partition, owners: o.owners, n: released.length });
  serve(m, ctx);
}

/** Puts in-flight records back in their lanes (or in the dead-letter store past `maxDeliveries`), through the log. */
function requeue(m: RaftMemory, ctx: Ctx, records: readonly InflightRecord[]): void {
  const s = sm(m);
  const ids: string[] = [];
  const counts: number[] = [];
  const dead: string[] = [];
  for (const r of records) {
    const st = idGet(s.msgs, r.id);
    const sub = s.subscribers.find((x) => x.consumer === r.consumer);
    if (sub && sub.out > 0) sub.out--;
    if (st === undefined) continue;
    if (s.cfg.maxDeliveries > 0 && st.deliveries >= s.cfg.maxDeliveries) dead.push(r.id);
    else {
      ids.push(r.id);
      counts.push(st.deliveries);
      readyPush(s.ready, { id: r.id, offset: st.offset, lane: Math.min(st.m.lane, s.cfg.lanes - 1) });
    }
  }
  if (ids.length > 0) {
    ctx.note('redeliver', { partition: s.cfg.partition, ids });
    leaderAppend(m, ctx, Object.freeze({ op: 'requeue', ids: Object.freeze(ids), deliveries: Object.freeze(counts) } satisfies MqCommand), undefined, 16 + 16 * ids.length);
  }
  if (dead.length > 0) leaderAppend(m, ctx, Object.freeze({ op: 'dead', ids: Object.freeze(dead), reason: 'max-deliveries' } satisfies MqCommand), undefined, 16 + 12 * dead.length);
}

/**
 * The leader's housekeeping tick: visibility timeouts (requeue, or dead-letter after `maxDeliveries`), TTL expiry at
 * the head of the lanes, pulls whose wait ran out (answered empty), push subscriptions not renewed.
 */
function tick(m: RaftMemory, name: string, ctx: Ctx): boolean {
  if (name !== 'mq') return false;
  const s = sm(m);
  if (m.role !== 'leader') return true;
  const due: InflightRecord[] = [];
  for (let r = inflightPopDue(s.inflight, ctx.now); r !== null; r = inflightPopDue(s.inflight, ctx.now)) due.push(r);
  requeue(m, ctx, due);
  if (s.cfg.ttlMs > 0) {
    const expired: string[] = [];
    const ttlUs = ms(s.cfg.ttlMs);
    for (let o = readyPeekOldest(s.ready); o !== null && ctx.now - idGet(s.msgs, o.id)!.m.at >= ttlUs && expired.length < 10_000; o = readyPeekOldest(s.ready)) {
      readyRemove(s.ready, o.id);
      expired.push(o.id);
    }
    if (expired.length > 0) expire(m, ctx, expired);
  }
  const empty = s.fetches.filter((f) => f.until <= ctx.now);
  if (empty.length > 0) {
    s.fetches = s.fetches.filter((f) => f.until > ctx.now);
    for (const f of empty) ctx.send(f.consumer, 'deliver', { kind: 'deliver', partition: s.cfg.partition, msgs: [], ok: true, reason: 'empty', leaderHint: m.id } satisfies MqRpc, 32);
  }
  s.subscribers = s.subscribers.filter((x) => x.until > ctx.now);
  serve(m, ctx);
  ticking(m, ctx);
  return true;
}

/** Keeps the housekeeping tick armed while the leader has anything to watch. */
function ticking(m: RaftMemory, ctx: Ctx): void {
  const s = sm(m);
  const busy = inflightSize(s.inflight) > 0 || s.fetches.length > 0 || s.subscribers.length > 0 || (s.cfg.ttlMs > 0 && readySize(s.ready) > 0);
  if (!busy) return;
  let next = ms(TICK_MS);
  const head = inflightNextDeadline(s.inflight);
  if (head !== null) next = Math.min(next, Math.max(1, head - ctx.now));
  for (const f of s.fetches) next = Math.min(next, Math.max(1, f.until - ctx.now));
  ctx.setTimer('mq', next);
}

/**
 * Leadership is where delivery lives. A new leader starts with no messages in flight: what the old leader had out is
 * delivered again when asked (at-least-once). It builds its lanes from every message not yet acknowledged in the log,
 * in offset order. A leader that steps down drops its lanes and in-flight heap — everything in them is still in
 * `msgs`, as is what waited for an ack, a requeue or an expiry to commit (those commands may never commit; if they do,
 * applying them removes it) — fails its waiting producers and drops pulls and push subscriptions; clients find the
 * new leader.
 */
function roleChanged(m: RaftMemory, ctx: Ctx, from: Role): void {
  const s = sm(m);
  if (m.role === 'leader') return buildLanes(s);
  if (from !== 'leader') return;
  inflightClear(s.inflight);
  s.ready = readyCreate(s.cfg.lanes);
  for (const w of s.waiters) {
    ctx.send(w.producer, 'produce-reply', { kind: 'produce-reply', batch: w.batch, partition: s.cfg.partition, ok: false, reason: 'leader stepped down', leaderHint: null, index: 0 } satisfies MqRpc, 40);
  }
  for (const f of s.fetches) notLeader(m, f.consumer, ctx);
  s.waiters = [];
  s.fetches = [];
  s.subscribers = [];
  s.localAcks = idTableCreate<true>();
  s.owners = null;
  ctx.cancelTimer('mq');
}

/** The new leader's lanes: every unacknowledged message, pushed in offset order (each lane's FIFO stays sorted). */
function buildLanes(s: PartitionState): void {
  if (!(readySize(s.ready) === 0 && inflightSize(s.inflight) === 0)) fail('mq: a new leader already has lanes or messages in flight');
  const all: Stored[] = [];
  idForEach(s.msgs, (_id, st) => void all.push(st));
  all.sort((a, b) => a.offset - b.offset);
  for (const st of all) readyPush(s.ready, { id: st.m.id, offset: st.offset, lane: Math.min(st.m.lane, s.cfg.lanes - 1) });
}
