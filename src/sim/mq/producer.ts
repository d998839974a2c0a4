import { fail } from '../kernel/assert.ts';
import { ms } from '../kernel/time.ts';
import type { Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { PRODUCER_DEFAULTS, splitId, type MqMessage, type MqRpc, type ProducerConfig } from './types.ts';

/**
 * A producer: creates `ratePerS` messages a second, picks a partition for each (round robin, key hash, region or least
 * loaded), batches them per partition for `lingerMs`, and sends each batch to the partition's leader as its lease from
 * the control plane names it. With acks it waits for a reply and retries with exponential backoff (and jitter) on a
 * timeout or a "not leader"; an idempotent producer keeps the batch id across retries so the broker writes it once.
 */
interface Batch {
  id: string;
  partition: string;
  msgs: readonly MqMessage[];
  attempt: number;
  /** `queued`: waiting for its turn or its backoff (`due`); `sent`: waiting for a reply until `due`. */
  state: 'queued' | 'sent';
  due: number;
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
  batchSeq: Record<string, number>;
  batches: Record<string, Batch>;
  inFlight: Record<string, number>;
  counts: { produced: number; acked: number; retries: number; gaveUp: number; notLeader: number; timeouts: number; offerDropped: number };
}

type Ctx = NodeContext;

export const mqProducer: NodeBehavior<ProducerState, Partial<ProducerConfig>> = {
  kind: 'mq-producer',
  boot(config, _disk, ctx) {
    const cfg = { ...PRODUCER_DEFAULTS, ...config } as ProducerConfig;
    if (!cfg.topic) fail('mq producer: topic is required');
    if (cfg.topics.length === 0) cfg.topics = [cfg.topic];
    if (!cfg.topics.includes(cfg.topic)) fail('mq producer: topics must include topic');
    if (!(cfg.source === 'generate' || cfg.source === 'offer')) fail(`mq producer: unknown source ${String(cfg.source)}`);
    if (!(cfg.batchMax >= 1 && cfg.batchMax <= 1024)) fail('mq producer: batchMax must be 1..1024');
    if (!(cfg.lingerMs > 0)) fail('mq producer: lingerMs must be positive');
    const s: ProducerState = {
      cfg, producerId: null, nonce: ctx.rng('nonce').int(1, 2 ** 30), leaseUntil: 0, asking: false, askedAt: 0, leaders: {}, load: {}, partitions: [],
      topicOf: {}, rrByTopic: {}, waiting: [], seq: 0, rr: 0, owed: 0, open: {}, batchSeq: {}, batches: {}, inFlight: {},
      counts: { produced: 0, acked: 0, retries: 0, gaveUp: 0, notLeader: 0, timeouts: 0, offerDropped: 0 },
    };
    askLease(s, ctx, 'start');
    ctx.setTimer('tick', ms(cfg.lingerMs));
    return s;
  },
  view: (s) => ({
    cfg: s.cfg, producerId: s.producerId, leaseUntil: s.leaseUntil, leaders: s.leaders, load: s.load, seq: s.seq, counts: s.counts,
    batches: Object.values(s.batches).slice(0, 20).map((b) => ({ id: b.id, partition: b.partition, n: b.msgs.length, attempt: b.attempt, state: b.state, due: b.due })),
    batchCount: Object.keys(s.batches).length,
  }),
  headline: (s) => ({ role: 'producer', produced: s.counts.produced, acked: s.counts.acked, outstanding: Object.keys(s.batches).length }),
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
  for (let i = 0; i < n; i++) {
    let key = s.cfg.hotKeyShare > 0 && rng.next() < s.cfg.hotKeyShare ? 'k0' : `k${rng.int(0, s.cfg.keys - 1)}`;
    if (s.cfg.poisonShare > 0 && rng.next() < s.cfg.poisonShare) key = 'poison';
    let lane = 0;
    if (weights.length > 1) {
      let r = rng.next() * wsum;
      while (lane < weights.length - 1 && r >= weights[lane]) r -= weights[lane++];
    }
    const region = s.cfg.regions[rng.int(0, s.cfg.regions.length - 1)];
    const m: MqMessage = Object.freeze({ id: `${s.producerId}-${s.seq++}`, key, lane, bytes: s.cfg.bytes + fieldBytes, region, at: ctx.now, ...(fields ? { fields } : {}) });
    const p = choosePartition(s, m);
    const open = (s.open[p] ??= []);
    open.push(m);
    if (open.length >= s.cfg.batchMax) seal(s, ctx, p);
  }
  s.counts.produced += n;
  ctx.note('produced', { pid: s.producerId, from: first, to: s.seq - 1, acks: s.cfg.acks });
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
        const load = (s.load[p] ?? 0) + (s.open[p]?.length ?? 0) + (s.inFlight[p] ?? 0) * s.cfg.batchMax;
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
  const n = (s.batchSeq[p] = (s.batchSeq[p] ?? 0) + 1);
  const id = `${s.producerId}:${p}:${n}`;
  if (s.cfg.acks === 'none') {
    send(s, ctx, { id, partition: p, msgs: Object.freeze(msgs), attempt: 0, state: 'sent', due: 0 });
    return;
  }
  s.batches[id] = { id, partition: p, msgs: Object.freeze(msgs), attempt: 0, state: 'queued', due: ctx.now };
}

/** Sends queued batches whose backoff is over, as far as each partition's in-flight limit allows; times out the rest. */
function pump(s: ProducerState, ctx: Ctx): void {
  for (const b of Object.values(s.batches)) {
    if (b.state === 'sent' && ctx.now >= b.due) {
      s.counts.timeouts++;
      s.inFlight[b.partition]--;
      retry(s, ctx, b, 'timeout');
    }
  }
  for (const b of Object.values(s.batches)) {
    if (b.state !== 'queued' || ctx.now < b.due) continue;
    if ((s.inFlight[b.partition] ?? 0) >= s.cfg.maxInFlight) continue;
    if (!s.leaders[b.partition]) continue;
    send(s, ctx, b);
  }
}

function send(s: ProducerState, ctx: Ctx, b: Batch): void {
  const leader = s.leaders[b.partition];
  if (!leader) {
    if (s.cfg.acks === 'none') ctx.note('dropped-no-leader', { batch: b.id, n: b.msgs.length });
    return;
  }
  const id = s.cfg.idempotent || b.attempt === 0 ? b.id : `${b.id}#${b.attempt}`;
  let bytes = 48;
  for (const m of b.msgs) bytes += m.bytes;
  ctx.send(leader, 'produce', { kind: 'produce', producer: ctx.id, batch: id, partition: b.partition, acks: s.cfg.acks, msgs: b.msgs } satisfies MqRpc, bytes);
  if (s.cfg.acks === 'none') return;
  b.state = 'sent';
  b.due = ctx.now + ms(s.cfg.requestTimeoutMs);
  s.inFlight[b.partition] = (s.inFlight[b.partition] ?? 0) + 1;
}

/** Exponential backoff: base × 2^attempt, capped, and with jitter drawn from [½, 1½] of it. */
export function backoffUs(cfg: Pick<ProducerConfig, 'backoffBaseMs' | 'backoffMaxMs' | 'jitter'>, attempt: number, draw: () => number): number {
  const nominal = Math.min(cfg.backoffMaxMs, cfg.backoffBaseMs * 2 ** Math.min(attempt - 1, 30));
  return ms(cfg.jitter ? nominal * (0.5 + draw()) : nominal);
}

function retry(s: ProducerState, ctx: Ctx, b: Batch, why: string): void {
  b.attempt++;
  if (b.attempt > s.cfg.retries) {
    delete s.batches[b.id];
    s.counts.gaveUp++;
    ctx.note('gave-up', { batch: b.id, partition: b.partition, n: b.msgs.length, why });
    return;
  }
  s.counts.retries++;
  const rng = ctx.rng('backoff');
  b.state = 'queued';
  b.due = ctx.now + backoffUs(s.cfg, b.attempt, () => rng.next());
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
      const base = body.batch.split('#')[0];
      const b = s.batches[base];
      if (!b || b.state !== 'sent') return; // a late reply to a batch already retried or acknowledged
      s.inFlight[b.partition]--;
      if (body.ok) {
        delete s.batches[base];
        s.counts.acked += b.msgs.length;
        const seqs = b.msgs.map((m) => splitId(m.id)[1]);
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
      retry(s, ctx, b, body.reason);
      return;
    }
    case 'offer':
      return offered(s, ctx, msg.from, body.msgs);
    default:
      fail(`mq producer got ${body.kind} from ${msg.from}`);
  }
}

/** Messages held: offered and not yet placed, in open batches, and in batches awaiting an ack. */
function held(s: ProducerState): number {
  let n = s.waiting.length;
  for (const p in s.open) n += s.open[p].length;
  for (const id in s.batches) n += s.batches[id].msgs.length;
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
