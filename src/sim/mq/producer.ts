import { fail } from '../kernel/assert.ts';
import { ms } from '../kernel/time.ts';
import type { Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { checkNodeConfig } from './config.ts';
import { idSeq, PRODUCER_DEFAULTS, type MqMessage, type MqRpc, type ProducerConfig } from './types.ts';

/**
 * A producer: creates `ratePerS` messages a second, picks a partition for each (round robin, key hash, region or least
 * loaded), batches them per partition for `lingerMs`, and sends each batch to the partition's leader as its lease from
 * the control plane names it. With acks it waits for a reply and retries with exponential backoff (and jitter) on a
 * timeout or a "not leader"; an idempotent producer keeps the batch id across retries so the broker writes it once.
 */
interface Batch {
  id: string;
  partition: string;
  /** The batch's sequence number within its partition (the id ends with it), from 1. */
  seq: number;
  msgs: readonly MqMessage[];
  attempt: number;
  /** `queued`: waiting for its turn or its backoff (`due`); `sent`: waiting for a reply until `due`. */
  state: 'queued' | 'sent';
  due: number;
}

/**
 * The batches of one partition awaiting an answer, so that sending, timing out and acknowledging each cost O(1) or
 * O(log n) however long the backlog grows: sealed batches in a FIFO, retried ones in a min-heap by backoff deadline,
 * and the few in flight (at most `maxInFlight`) in a short list. They hold batch ids — `ProducerState.batches` owns the
 * batches — so a checkpoint's copy, which copies every object it reaches once per reference, stays consistent.
 */
export interface PartitionQueue {
  /** Ids of sealed batches never sent, in sequence order from `head` (slots before it are consumed). */
  fresh: string[];
  head: number;
  /** Batches waiting out a backoff: a binary min-heap by (due, seq) of their ids and deadlines. */
  backoff: { id: string; due: number; seq: number }[];
  /** Ids of batches sent and waiting for a reply. */
  sent: string[];
  /** The next sealed batch's sequence number. */
  next: number;
  /**
   * The low-water mark sent with every produce: the lowest sequence number not yet answered (acknowledged or given
   * up). `answered` holds the answered ones above it until the mark reaches them.
   */
  low: number;
  answered: Record<number, true>;
}

export interface ProducerState {
  cfg: ProducerConfig;
  producerId: string | null;
  /** Drawn at boot; lease answers must echo it (a restarted producer must not adopt its earlier life's id). */
  nonce: number;
  leaseUntil: number;
  asking: boolean;
  askedAt: number;
  leaders: Record<string, NodeId | null>;
  load: Record<string, number>;
  partitions: string[];
  /** Each partition's topic, from the lease. */
  topicOf: Record<string, string>;
  /** Round-robin position per topic. */
  rrByTopic: Record<string, number>;
  /** Offer mode: messages offered while no lease or leader was known, waiting for one (bounded by `offerMax`). */
  waiting: { topic: string; key: string; bytes: number; data: unknown }[];
  seq: number;
  rr: number;
  /** Fraction of a message owed by the rate since the last tick. */
  owed: number;
  open: Record<string, MqMessage[]>;
  /** Every batch awaiting an answer, by id (replies name it). */
  batches: Record<string, Batch>;
  /** How many batches and messages `batches` holds. */
  batchCount: number;
  batchedMsgs: number;
  queues: Record<string, PartitionQueue>;
  counts: { produced: number; acked: number; retries: number; gaveUp: number; notLeader: number; timeouts: number; offerDropped: number };
}

type Ctx = NodeContext;

export const mqProducer: NodeBehavior<ProducerState, Partial<ProducerConfig>> = {
  kind: 'mq-producer',
  boot(config, _disk, ctx) {
    checkNodeConfig('mq-producer', ctx.id, config);
    const cfg = { ...PRODUCER_DEFAULTS, ...config } as ProducerConfig;
    if (!cfg.topic) fail('mq producer: topic is required');
    if (cfg.topics.length === 0) cfg.topics = [cfg.topic];
    if (!cfg.topics.includes(cfg.topic)) fail('mq producer: topics must include topic');
    if (!(cfg.source === 'generate' || cfg.source === 'offer')) fail(`mq producer: unknown source ${String(cfg.source)}`);
    if (!(cfg.batchMax >= 1 && cfg.batchMax <= 1024)) fail('mq producer: batchMax must be 1..1024');
    if (!(cfg.lingerMs > 0)) fail('mq producer: lingerMs must be positive');
    const s: ProducerState = {
      cfg, producerId: null, nonce: ctx.rng('nonce').int(1, 2 ** 30), leaseUntil: 0, asking: false, askedAt: 0, leaders: {}, load: {}, partitions: [],
      topicOf: {}, rrByTopic: {}, waiting: [], seq: 0, rr: 0, owed: 0, open: {}, batches: {}, batchCount: 0, batchedMsgs: 0, queues: {},
      counts: { produced: 0, acked: 0, retries: 0, gaveUp: 0, notLeader: 0, timeouts: 0, offerDropped: 0 },
    };
    askLease(s, ctx, 'start');
    ctx.setTimer('tick', ms(cfg.lingerMs));
    return s;
  },
  view: (s) => ({
    cfg: s.cfg, producerId: s.producerId, leaseUntil: s.leaseUntil, leaders: s.leaders, load: s.load, seq: s.seq, counts: s.counts,
    batches: firstBatches(s, 20).map((b) => ({ id: b.id, partition: b.partition, n: b.msgs.length, attempt: b.attempt, state: b.state, due: b.due })),
    batchCount: s.batchCount,
    lows: Object.fromEntries(Object.entries(s.queues).map(([p, q]) => [p, q.low])),
  }),
  headline: (s) => ({ role: 'producer', produced: s.counts.produced, acked: s.counts.acked, outstanding: s.batchCount }),
  step(s, input, ctx) {
    if (input.type === 'timer') {
      if (input.name !== 'tick') fail(`mq producer has no timer ${input.name}`);
      return tick(s, ctx);
    }
    receive(s, input.msg, ctx);
  },
};

/** A lease that names no leader for some partition (an election is on) is asked for again this soon. */
const LEADER_UNKNOWN_RETRY_MS = 100;
/** A partition's FIFO of fresh batches is shifted down once this many consumed slots lead it (and half of it is). */
const FRESH_COMPACT_MIN = 256;

function firstBatches(s: ProducerState, limit: number): Batch[] {
  const out: Batch[] = [];
  for (const id in s.batches) {
    if (out.length >= limit) break;
    out.push(s.batches[id]);
  }
  return out;
}

function queueOf(s: ProducerState, p: string): PartitionQueue {
  return (s.queues[p] ??= { fresh: [], head: 0, backoff: [], sent: [], next: 1, low: 1, answered: {} });
}

function askLease(s: ProducerState, ctx: Ctx, reason: string): void {
  if (s.asking && ctx.now - s.askedAt < ms(s.cfg.requestTimeoutMs)) return;
  s.asking = true;
  s.askedAt = ctx.now;
  const coordinator = ctx.knows('ctl') ? 'ctl' : fail('mq producer: no coordinator node "ctl"');
  ctx.send(coordinator, 'lease?', { kind: 'lease?', producer: ctx.id, producerId: s.producerId, nonce: s.nonce, topics: s.cfg.topics, reason } satisfies MqRpc, 24 + 8 * s.cfg.topics.length);
}

function tick(s: ProducerState, ctx: Ctx): void {
  ctx.setTimer('tick', ms(s.cfg.lingerMs));
  if (!s.asking && s.producerId !== null && ctx.now >= s.leaseUntil) {
    ctx.note('lease-expired', { leaders: s.leaders });
    askLease(s, ctx, 'lease expired');
  } else if (s.asking && ctx.now - s.askedAt >= ms(s.cfg.requestTimeoutMs)) askLease(s, ctx, 'lease request unanswered');
  else if (!s.asking && s.partitions.some((p) => !s.leaders[p]) && ctx.now - s.askedAt >= ms(LEADER_UNKNOWN_RETRY_MS)) askLease(s, ctx, 'a partition has no known leader');
  const running = s.producerId !== null && s.partitions.length > 0;
  if (running && s.cfg.source === 'generate' && (s.cfg.stopAtMs === 0 || ctx.now < ms(s.cfg.stopAtMs))) generate(s, ctx);
  if (running && s.waiting.length > 0) placeOffered(s, ctx);
  for (const p of Object.keys(s.open)) if (s.open[p].length > 0) seal(s, ctx, p);
  pump(s, ctx);
}

/** Creates the messages the rate owes since the last tick and puts each in its partition's open batch. */
function generate(s: ProducerState, ctx: Ctx): void {
  const nowMs = ctx.now / 1000;
  const spike = s.cfg.spikes.find((x) => nowMs >= x.fromMs && nowMs < x.toMs);
  s.owed += ((spike ? spike.ratePerS : s.cfg.ratePerS) * s.cfg.lingerMs) / 1000;
  const n = Math.floor(s.owed);
  if (n === 0) return;
  s.owed -= n;
  const rng = ctx.rng('workload');
  const first = s.seq;
  const fieldBytes = Object.entries(s.cfg.fields).reduce((t, [k, v]) => t + k.length + v.length, 0);
  const fields = fieldBytes > 0 ? Object.freeze({ ...s.cfg.fields }) : undefined;
  const weights = s.cfg.laneWeights;
  const wsum = weights.reduce((a, b) => a + b, 0);
  const bytes = s.cfg.bytes + fieldBytes;
  const prefix = `${s.producerId}-`;
  for (let i = 0; i < n; i++) {
    let key = s.cfg.hotKeyShare > 0 && rng.next() < s.cfg.hotKeyShare ? 'k0' : keyName(rng.int(0, s.cfg.keys - 1));
    if (s.cfg.poisonShare > 0 && rng.next() < s.cfg.poisonShare) key = 'poison';
    let lane = 0;
    if (weights.length > 1) {
      let r = rng.next() * wsum;
      while (lane < weights.length - 1 && r >= weights[lane]) r -= weights[lane++];
    }
    const region = s.cfg.regions[rng.int(0, s.cfg.regions.length - 1)];
    const id = prefix + s.seq++;
    // One object shape per case (no spread): messages are made ten thousand times a second.
    const m: MqMessage = Object.freeze(fields ? { id, key, lane, bytes, region, at: ctx.now, fields } : { id, key, lane, bytes, region, at: ctx.now });
    const p = choosePartition(s, m);
    const open = (s.open[p] ??= []);
    open.push(m);
    if (open.length >= s.cfg.batchMax) seal(s, ctx, p);
  }
  s.counts.produced += n;
  ctx.note('produced', { pid: s.producerId, from: first, to: s.seq - 1, acks: s.cfg.acks });
}

/** Key names `k0`, `k1`, … made once and shared (a run draws the same few keys millions of times). */
const KEY_NAMES: string[] = [];
const KEY_NAMES_MAX = 4096;

function keyName(i: number): string {
  if (i >= KEY_NAMES_MAX) return `k${i}`;
  return (KEY_NAMES[i] ??= `k${i}`);
}

function choosePartition(s: ProducerState, m: MqMessage, topic = s.cfg.topic): string {
  const ps = topic === s.cfg.topic && s.cfg.topics.length === 1 ? s.partitions : s.partitions.filter((p) => s.topicOf[p] === topic);
  if (!(ps.length > 0)) fail(`mq producer ${s.producerId}: no partition of topic ${topic} in its lease`);
  switch (s.cfg.partitioner) {
    case 'round-robin': {
      if (s.cfg.topics.length === 1) return ps[s.rr++ % ps.length];
      const i = s.rrByTopic[topic] ?? 0;
      s.rrByTopic[topic] = i + 1;
      return ps[i % ps.length];
    }
    case 'key-hash':
      return ps[fnv(m.key) % ps.length];
    case 'region': {
      const r = s.cfg.regions.indexOf(m.region);
      return ps[(r < 0 ? 0 : r) % ps.length];
    }
    case 'least-loaded': {
      let best = ps[0];
      let bestLoad = Infinity;
      for (const p of ps) {
        const load = (s.load[p] ?? 0) + (s.open[p]?.length ?? 0) + (s.queues[p]?.sent.length ?? 0) * s.cfg.batchMax;
        if (load < bestLoad) [best, bestLoad] = [p, load];
      }
      return best;
    }
    default:
      return fail(`mq producer: unknown partitioner ${s.cfg.partitioner as string}`);
  }
}

function fnv(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function seal(s: ProducerState, ctx: Ctx, p: string): void {
  const msgs = s.open[p];
  s.open[p] = [];
  const q = queueOf(s, p);
  const seq = q.next++;
  const id = `${s.producerId}:${p}:${seq}`;
  const b: Batch = { id, partition: p, seq, msgs: Object.freeze(msgs), attempt: 0, state: 'queued', due: ctx.now };
  if (s.cfg.acks === 'none') {
    // Nothing is retried, so every batch is answered as it leaves: the mark moves with it.
    answer(q, seq);
    return void send(s, ctx, q, b);
  }
  s.batches[id] = b;
  s.batchCount++;
  s.batchedMsgs += msgs.length;
  q.fresh.push(id);
}

/**
 * Sends what each partition may send now — batches whose backoff ran out first (they are the older ones), then fresh
 * ones in order — up to its in-flight limit, after timing out the batches whose reply is overdue. Each batch costs O(1)
 * here (O(log n) through the backoff heap), so a backlog of any length drains in linear time.
 */
function pump(s: ProducerState, ctx: Ctx): void {
  for (const p in s.queues) pumpPartition(s, ctx, p, s.queues[p]);
}

function pumpPartition(s: ProducerState, ctx: Ctx, p: string, q: PartitionQueue): void {
  if (q.sent.length > 0) {
    let kept = 0;
    const overdue: Batch[] = [];
    for (const id of q.sent) {
      const b = s.batches[id];
      if (ctx.now >= b.due) overdue.push(b);
      else q.sent[kept++] = id;
    }
    q.sent.length = kept;
    for (const b of overdue) {
      s.counts.timeouts++;
      retry(s, ctx, q, b, 'timeout');
    }
  }
  if (!s.leaders[p]) return;
  while (q.sent.length < s.cfg.maxInFlight) {
    let id: string;
    if (q.backoff.length > 0 && q.backoff[0].due <= ctx.now) id = heapPop(q.backoff).id;
    else if (q.head < q.fresh.length) id = takeFresh(q);
    else break;
    send(s, ctx, q, s.batches[id]);
  }
}

function takeFresh(q: PartitionQueue): string {
  const b = q.fresh[q.head++];
  if (q.head === q.fresh.length) {
    q.fresh.length = 0;
    q.head = 0;
  } else if (q.head >= FRESH_COMPACT_MIN && q.head * 2 >= q.fresh.length) {
    q.fresh.copyWithin(0, q.head);
    q.fresh.length -= q.head;
    q.head = 0;
  }
  return b;
}

function send(s: ProducerState, ctx: Ctx, q: PartitionQueue, b: Batch): void {
  const leader = s.leaders[b.partition];
  if (!leader) {
    if (s.cfg.acks === 'none') ctx.note('dropped-no-leader', { batch: b.id, n: b.msgs.length });
    return;
  }
  // A non-idempotent retry goes out under an id of its own, which no mark covers (low 0).
  const fresh = s.cfg.idempotent || b.attempt === 0;
  const id = fresh ? b.id : `${b.id}#${b.attempt}`;
  let bytes = 48;
  for (const m of b.msgs) bytes += m.bytes;
  ctx.send(leader, 'produce', { kind: 'produce', producer: ctx.id, batch: id, partition: b.partition, acks: s.cfg.acks, msgs: b.msgs, low: fresh ? q.low : 0 } satisfies MqRpc, bytes);
  if (s.cfg.acks === 'none') return;
  b.state = 'sent';
  b.due = ctx.now + ms(s.cfg.requestTimeoutMs);
  q.sent.push(b.id);
}

/** The batch `seq` has its answer (acknowledged or given up): the low-water mark moves past every answered one. */
function answer(q: PartitionQueue, seq: number): void {
  if (!(seq >= q.low && q.answered[seq] === undefined)) fail(`mq producer: batch ${seq} answered twice (low ${q.low})`);
  q.answered[seq] = true;
  while (q.answered[q.low] === true) delete q.answered[q.low++];
}

/** The batch left `batches` for good: acknowledged or given up. */
function settle(s: ProducerState, q: PartitionQueue, b: Batch): void {
  delete s.batches[b.id];
  s.batchCount--;
  s.batchedMsgs -= b.msgs.length;
  answer(q, b.seq);
}

function unsend(q: PartitionQueue, b: Batch): void {
  const i = q.sent.indexOf(b.id);
  if (i < 0) fail(`mq producer: batch ${b.id} is not in flight`);
  q.sent.splice(i, 1);
}

type Backoff = PartitionQueue['backoff'][number];

function batchBefore(a: Backoff, b: Backoff): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

function heapPush(h: Backoff[], b: Backoff): void {
  let i = h.length;
  h.push(b);
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!batchBefore(b, h[p])) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = b;
}

function heapPop(h: Backoff[]): Backoff {
  const top = h[0];
  const last = h.pop()!;
  if (h.length > 0) {
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= h.length) break;
      if (c + 1 < h.length && batchBefore(h[c + 1], h[c])) c++;
      if (!batchBefore(h[c], last)) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = last;
  }
  return top;
}

/** Exponential backoff: base × 2^attempt, capped, and with jitter drawn from [½, 1½] of it. */
export function backoffUs(cfg: Pick<ProducerConfig, 'backoffBaseMs' | 'backoffMaxMs' | 'jitter'>, attempt: number, draw: () => number): number {
  const nominal = Math.min(cfg.backoffMaxMs, cfg.backoffBaseMs * 2 ** Math.min(attempt - 1, 30));
  return ms(cfg.jitter ? nominal * (0.5 + draw()) : nominal);
}

/** A batch out of flight that failed (timeout, refusal): back off and retry it, or give up after `retries`. */
function retry(s: ProducerState, ctx: Ctx, q: PartitionQueue, b: Batch, why: string): void {
  b.attempt++;
  if (b.attempt > s.cfg.retries) {
    settle(s, q, b);
    s.counts.gaveUp++;
    ctx.note('gave-up', { batch: b.id, partition: b.partition, n: b.msgs.length, why });
    return;
  }
  s.counts.retries++;
  const rng = ctx.rng('backoff');
  b.state = 'queued';
  b.due = ctx.now + backoffUs(s.cfg, b.attempt, () => rng.next());
  heapPush(q.backoff, { id: b.id, due: b.due, seq: b.seq });
  ctx.note('retry', { batch: b.id, attempt: b.attempt, why, backoffMs: (b.due - ctx.now) / 1000 });
}

function receive(s: ProducerState, msg: Message, ctx: Ctx): void {
  const body = msg.body as MqRpc;
  switch (body.kind) {
    case 'lease': {
      if (body.nonce !== s.nonce) return void ctx.note('stale-lease', { producerId: body.producerId });
      s.asking = false;
      if (s.producerId === null) {
        s.producerId = body.producerId;
        ctx.state('producerId', body.producerId);
      }
      s.leaseUntil = body.until;
      s.leaders = { ...body.leaders };
      s.load = { ...body.load };
      s.topicOf = { ...body.topicOf };
      s.partitions = Object.keys(body.leaders).sort();
      if (s.waiting.length > 0) placeOffered(s, ctx);
      pump(s, ctx);
      return;
    }
    case 'produce-reply': {
      const hash = body.batch.indexOf('#');
      const base = hash < 0 ? body.batch : body.batch.slice(0, hash);
      const b = s.batches[base];
      if (!b || b.state !== 'sent') return; // a late reply to a batch already retried or acknowledged
      const q = queueOf(s, b.partition);
      unsend(q, b);
      if (body.ok) {
        settle(s, q, b);
        s.counts.acked += b.msgs.length;
        const seqs = b.msgs.map((m) => idSeq(m.id));
        ctx.note('acked', { pid: s.producerId, partition: b.partition, batch: base, acks: s.cfg.acks, seqs: Object.freeze(seqs) });
        pump(s, ctx);
        return;
      }
      if (body.reason === 'not leader' || body.reason === 'leader stepped down') {
        s.counts.notLeader++;
        ctx.note('not-leader', { partition: b.partition, was: msg.from, hint: body.leaderHint });
        if (body.leaderHint && body.leaderHint !== msg.from) s.leaders[b.partition] = body.leaderHint;
        else {
          s.leaders[b.partition] = null;
          askLease(s, ctx, `${msg.from} is not the leader of ${b.partition}`);
        }
      }
      retry(s, ctx, q, b, body.reason);
      return;
    }
    case 'offer':
      return offered(s, ctx, msg.from, body.msgs);
    default:
      fail(`mq producer got ${body.kind} from ${msg.from}`);
  }
}

/** Messages held: offered and not yet placed, in open batches, and in batches awaiting an ack. O(partitions). */
function held(s: ProducerState): number {
  let n = s.waiting.length + s.batchedMsgs;
  for (const p in s.open) n += s.open[p].length;
  return n;
}

/**
 * Offer mode: a node on this host (an ingestion server) hands over messages to publish. They wait for a lease if
 * none is held yet; beyond `offerMax` held messages the offer is dropped — back-pressure made visible, not hidden.
 */
function offered(s: ProducerState, ctx: Ctx, from: NodeId, msgs: Extract<MqRpc, { kind: 'offer' }>['msgs']): void {
  if (s.cfg.source !== 'offer') fail(`mq producer ${ctx.id} got an offer from ${from} but generates its own messages`);
  const room = Math.max(0, s.cfg.offerMax - held(s));
  const kept = msgs.length <= room ? msgs : msgs.slice(0, room);
  if (kept.length < msgs.length) {
    s.counts.offerDropped += msgs.length - kept.length;
    ctx.count('mq.offerDropped', msgs.length - kept.length);
    ctx.note('offer-dropped', { from, n: msgs.length - kept.length, held: held(s) });
  }
  for (const x of kept) {
    if (!s.cfg.topics.includes(x.topic)) fail(`mq producer ${ctx.id}: offered a message for topic ${x.topic}, not one of its topics`);
    s.waiting.push(x);
  }
  if (s.producerId !== null && s.partitions.length > 0) placeOffered(s, ctx);
}

/** Gives offered messages their ids and partitions, into the open batches; the tick seals and sends them. */
function placeOffered(s: ProducerState, ctx: Ctx): void {
  const first = s.seq;
  for (const x of s.waiting) {
    const m: MqMessage = Object.freeze({ id: `${s.producerId}-${s.seq++}`, key: x.key, lane: 0, bytes: x.bytes, region: '', at: ctx.now, data: x.data });
    const p = choosePartition(s, m, x.topic);
    const open = (s.open[p] ??= []);
    open.push(m);
    if (open.length >= s.cfg.batchMax) seal(s, ctx, p);
  }
  const n = s.waiting.length;
  s.waiting = [];
  s.counts.produced += n;
  ctx.note('produced', { pid: s.producerId, from: first, to: s.seq - 1, acks: s.cfg.acks });
}
