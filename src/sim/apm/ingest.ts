import { assert, fail } from '../kernel/assert.ts';
import type { Micros } from '../kernel/time.ts';
import type { Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { ms } from '../kernel/time.ts';
import { INGEST_DEFAULTS, topicOf, type ApmRpc, type IngestConfig, type SampleBlock, type SamplePayload } from './types.ts';

/**
 * A stateless ingestion server (`ingest-N`): it "sends data between user and MQ" and decouples the agents from the
 * queue. For each publish it unpacks and decompresses the batch — CPU work, the price of the agent's compression on
 * the wire — drops the metrics no stored query reads (the notes' "discard metrics not used in queries": cheaper to
 * drop here than to carry through the queue, the aggregators and the store), hands one MQ message per remaining
 * sample to its local producer, and answers the publish.
 *
 * It has one CPU: publishes wait in a FIFO queue and are worked one at a time, each for
 * (unpackUs + perSampleUs × samples) × slowdown. The queue is bounded (`queueMax`, counting the one on the CPU);
 * beyond it a publish is refused at once with 'queue full' — back-pressure: the agent backs off and retries, rather
 * than the server drowning in work it cannot finish in time. The queue length is what least-busy balancing polls.
 * With one CPU working in order, a publish's finishing time is known when it arrives — when the CPU is free, plus its
 * own work — so the server handles it then and sends its answer (and, unblocked, its samples) after that much work
 * (`send`'s `after`): no timer per publish. With blocks, its samples join them once its work is done.
 *
 * Stateless means a crash loses only the queue: the agents still hold those batches and publish them again (answers
 * still waiting on the CPU go down with the server).
 *
 * The answer goes back the way the publish came — to the load balancer, which relays it — or, with direct server
 * return (`directReturn`, set on the balancer too), straight to the agent.
 */

/** An accepted publish whose samples wait for its work to be done and then for the next flush of the blocks. */
interface Unpacking {
  doneAt: Micros;
  body: Extract<ApmRpc, { kind: 'publish' }>;
}

export interface IngestState {
  cfg: IngestConfig;
  /** When each accepted publish's work is done, in order (the CPU works them one at a time): the queue, from the CPU. */
  queue: Micros[];
  /** When the CPU has done all the work accepted so far. */
  busyUntil: Micros;
  /** With blocks: accepted publishes, in order, whose samples have not joined a block yet. */
  unpacking: Unpacking[];
  /** True while refusing: set by a refusal, cleared by the next accepted publish (for a note per episode, not per request). */
  refusing: boolean;
  /** `blockMs` > 0: samples gathered per topic and server bucket (`topic#bucket`) since the last flush, in columns. */
  blocks: Record<string, { server: string[]; metric: string[]; t: number[]; value: number[] }>;
  /** True while `blocks` holds samples and the `flush` timer is armed. */
  flushArmed: boolean;
  blockSeq: number;
  /**
   * The block keys (`topic#bucket`, one per bucket) of each topic, made once: by metric (per-metric topics), by server
   * (per-server topics) or under '' (one topic).
   */
  blockKeys: Record<string, string[]>;
  /** `keepMetrics` as a lookup (empty: keep all). */
  keep: Record<string, 1>;
  /** Publishes accepted and refused, samples kept and dropped, blocks flushed. How many were worked is derived (`workedBy`). */
  counts: { accepted: number; refused: number; samplesKept: number; samplesDropped: number; blocks: number };
}

type Ctx = NodeContext;

export const INGEST_QUEUE_LIMIT = 100_000;
export const BLOCK_BUCKETS_MAX = 64;
/** Bytes of one sample as an MQ message (metric id, server id, time, value), and of a batch's header. */
export const SAMPLE_MESSAGE_BYTES = 16;
const OFFER_HEADER_BYTES = 24;
const ANSWER_BYTES = 24;

export const apmIngest: NodeBehavior<IngestState, Partial<IngestConfig>> = {
  kind: 'apm-ingest',
  boot(config, _disk, ctx) {
    const cfg = { ...INGEST_DEFAULTS, ...config } as IngestConfig;
    if (!(cfg.producer && ctx.knows(cfg.producer))) fail(`apm ingest ${ctx.id}: unknown producer ${String(cfg.producer)}`);
    if (!(cfg.unpackUs >= 0 && cfg.perSampleUs >= 0 && cfg.slowdown > 0)) fail('apm ingest: CPU costs >= 0 and slowdown > 0');
    if (!(Number.isInteger(cfg.queueMax) && cfg.queueMax >= 1 && cfg.queueMax <= INGEST_QUEUE_LIMIT)) fail(`apm ingest: queueMax must be 1..${INGEST_QUEUE_LIMIT}`);
    if (!['one-topic', 'per-server', 'per-metric'].includes(cfg.topics)) fail(`apm ingest: unknown topic strategy ${cfg.topics}`);
    if (!(cfg.blockMs >= 0)) fail('apm ingest: blockMs must be >= 0');
    if (!(Number.isInteger(cfg.blockBuckets) && cfg.blockBuckets >= 1 && cfg.blockBuckets <= BLOCK_BUCKETS_MAX)) fail(`apm ingest: blockBuckets must be 1..${BLOCK_BUCKETS_MAX}`);
    const keep: Record<string, 1> = {};
    for (const m of cfg.keepMetrics) keep[m] = 1;
    const counts = { accepted: 0, refused: 0, samplesKept: 0, samplesDropped: 0, blocks: 0 };
    return { cfg, queue: [], busyUntil: 0, unpacking: [], refusing: false, blocks: {}, flushArmed: false, blockSeq: 0, blockKeys: {}, keep, counts };
  },
  view: (s, now) => ({ queue: queueAt(s, now), queueMax: s.cfg.queueMax, slowdown: s.cfg.slowdown, refusing: s.refusing, counts: { ...s.counts, done: workedBy(s, now) } }),
  headline: (s, now) => ({ role: 'ingest', queue: queueAt(s, now), done: workedBy(s, now) }),
  step(s, input, ctx) {
    if (input.type === 'message') return receive(s, input.msg, ctx);
    if (input.name !== 'flush') fail(`apm ingest has no timer ${input.name}`);
    flush(s, ctx);
  },
};

/** Publishes accepted and not yet worked at `now` (the one on the CPU included). */
function queueAt(s: IngestState, now: Micros): number {
  let n = 0;
  for (let i = s.queue.length - 1; i >= 0 && s.queue[i] > now; i--) n++;
  return n;
}

/** Publishes worked by `now`: those accepted, less those still queued. */
function workedBy(s: IngestState, now: Micros): number {
  return s.counts.accepted - queueAt(s, now);
}

/** Whether ingestion keeps `metric` (some stored query reads it, or it keeps everything). */
function keeps(s: IngestState, metric: string): boolean {
  return s.cfg.keepMetrics.length === 0 || s.keep[metric] === 1;
}

/** Arms the flush of the blocks `blockMs` after the first sample joins them: when a publish's work is done. */
function armFlush(s: IngestState, ctx: Ctx, doneAt: Micros): void {
  ctx.setTimer('flush', doneAt - ctx.now + ms(s.cfg.blockMs));
  s.flushArmed = true;
}

/** Forgets the finishing times already past: what is left is the queue. */
function prune(s: IngestState, now: Micros): void {
  let k = 0;
  while (k < s.queue.length && s.queue[k] <= now) k++;
  if (k > 0) s.queue.splice(0, k);
}

function receive(s: IngestState, msg: Message, ctx: Ctx): void {
  const body = msg.body as ApmRpc;
  switch (body.kind) {
    case 'publish':
      return accept(s, msg.from, body, ctx);
    case 'load?':
      prune(s, ctx.now);
      return void ctx.send(msg.from, 'load', Object.freeze({ kind: 'load', queue: s.queue.length }) satisfies ApmRpc, 16);
    default:
      fail(`apm ingest got ${body.kind} from ${msg.from}`);
  }
}

function accept(s: IngestState, from: NodeId, p: Extract<ApmRpc, { kind: 'publish' }>, ctx: Ctx): void {
  prune(s, ctx.now);
  if (s.queue.length >= s.cfg.queueMax) {
    s.counts.refused++;
    ctx.count('apm.ingestRefused');
    if (!s.refusing) ctx.note('queue-full', { queue: s.queue.length });
    s.refusing = true;
    return answer(ctx, s.cfg.directReturn ? p.agent : from, p, false, 'queue full', 0);
  }
  s.refusing = false;
  s.counts.accepted++;
  // Its turn on the CPU comes when the work before it is done; how long it waits for it is the queueing delay.
  const start = Math.max(ctx.now, s.busyUntil);
  const doneAt = start + cpuUs(s.cfg, Math.max(p.emitted ?? 0, p.values.length));
  s.busyUntil = doneAt;
  s.queue.push(doneAt);
  ctx.observe('apm.ingestQueueMs', (start - ctx.now) / 1000);
  work(s, ctx, p, doneAt);
  answer(ctx, s.cfg.directReturn ? p.agent : from, p, true, '', doneAt - ctx.now);
}

/** CPU time of one publish: unpack and decompress (fixed) plus per sample, times the server's slowdown; ≥ 1 µs. */
export function cpuUs(cfg: Pick<IngestConfig, 'unpackUs' | 'perSampleUs' | 'slowdown'>, samples: number): Micros {
  assert(samples >= 0 && cfg.slowdown > 0, 'cpuUs: samples >= 0, slowdown > 0');
  return Math.max(1, Math.round((cfg.unpackUs + cfg.perSampleUs * samples) * cfg.slowdown));
}

/**
 * What the work on a publish yields, done at `doneAt`: its kept samples published through the local producer — one MQ
 * message each, offered when the work is done, or (blocks) gathered into the next flush after it — and the metrics
 * no query reads dropped.
 */
function work(s: IngestState, ctx: Ctx, p: Extract<ApmRpc, { kind: 'publish' }>, doneAt: Micros): void {
  assert(p.metrics.length === p.values.length, 'a publish has one value per metric');
  const blocks = s.cfg.blockMs > 0;
  const msgs: { topic: string; key: string; bytes: number; data: SamplePayload }[] | null = blocks ? null : [];
  let kept = 0;
  for (let i = 0; i < p.metrics.length; i++) {
    const metric = p.metrics[i];
    if (!keeps(s, metric)) continue;
    kept++;
    if (msgs === null) continue;
    const { topic, key } = topicOf(s.cfg.topics, p.server, metric);
    msgs.push(Object.freeze({ topic, key, bytes: SAMPLE_MESSAGE_BYTES, data: Object.freeze({ server: p.server, metric, t: p.t, value: p.values[i] }) }));
  }
  // Metrics the agent emitted but the simulation did not sample (see AgentConfig.metricsEmitted) are dropped too.
  const dropped = Math.max(p.emitted ?? 0, p.values.length) - kept;
  assert(dropped >= 0, 'never more kept than emitted');
  if (dropped > 0) ctx.count('apm.droppedUnused', dropped);
  if (msgs !== null && msgs.length > 0) {
    ctx.send(s.cfg.producer, 'offer', Object.freeze({ kind: 'offer', msgs: Object.freeze(msgs) }) satisfies ApmRpc, OFFER_HEADER_BYTES + SAMPLE_MESSAGE_BYTES * msgs.length, doneAt - ctx.now);
  }
  if (msgs === null && kept > 0) {
    s.unpacking.push({ doneAt, body: p });
    if (!s.flushArmed) armFlush(s, ctx, doneAt);
  }
  if (kept > 0) ctx.count('apm.ingestedSamples', kept);
  s.counts.samplesKept += kept;
  s.counts.samplesDropped += dropped;
}

/**
 * Blocks are gathered per topic and per bucket of servers (`blockBuckets` of them), and keyed by the bucket: a server's
 * samples always go to the same partition, so a sample an agent sent twice (a retry) lands where its first copy did
 * and the aggregator that owns that partition counts it once.
 */
function bucketOf(server: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < server.length; i++) h = Math.imul(h ^ server.charCodeAt(i), 0x01000193);
  return (h >>> 0) % buckets;
}

/** The block keys of the topic a sample of (server, metric) goes to, one per bucket, made on first use. */
function blockKeysOf(s: IngestState, server: string, metric: string): string[] {
  const by = s.cfg.topics === 'per-metric' ? metric : s.cfg.topics === 'per-server' ? server : '';
  let keys = s.blockKeys[by];
  if (keys === undefined) {
    const { topic } = topicOf(s.cfg.topics, server, metric);
    keys = s.blockKeys[by] = Array.from({ length: s.cfg.blockBuckets }, (_, b) => `${topic}#${b}`);
  }
  return keys;
}

/** Adds sample `i` of publish `p` (its server, metric, event time and value) to block `key`. */
function addToBlock(s: IngestState, key: string, p: Extract<ApmRpc, { kind: 'publish' }>, i: number): void {
  let b = s.blocks[key];
  if (b === undefined) b = s.blocks[key] = { server: [], metric: [], t: [], value: [] };
  b.server.push(p.server);
  b.metric.push(p.metrics[i]);
  b.t.push(p.t);
  b.value.push(p.values[i]);
}

/** Publishes each topic's gathered samples as one message: a block in columns, keyed to spread over partitions. */
function flush(s: IngestState, ctx: Ctx): void {
  // The publishes whose work is done join the blocks, in order; the rest wait for the next flush.
  let k = 0;
  for (; k < s.unpacking.length && s.unpacking[k].doneAt <= ctx.now; k++) {
    const p = s.unpacking[k].body;
    const bucket = bucketOf(p.server, s.cfg.blockBuckets);
    for (let i = 0; i < p.metrics.length; i++) {
      const metric = p.metrics[i];
      if (keeps(s, metric)) addToBlock(s, blockKeysOf(s, p.server, metric)[bucket], p, i);
    }
  }
  if (k > 0) s.unpacking.splice(0, k);
  const msgs: { topic: string; key: string; bytes: number; data: SampleBlock }[] = [];
  for (const [key, b] of Object.entries(s.blocks)) {
    const data: SampleBlock = Object.freeze({ block: true, server: Object.freeze(b.server), metric: Object.freeze(b.metric), t: Object.freeze(b.t), value: Object.freeze(b.value) });
    const topic = key.slice(0, key.lastIndexOf('#'));
    msgs.push(Object.freeze({ topic, key, bytes: OFFER_HEADER_BYTES + SAMPLE_MESSAGE_BYTES * b.value.length, data }));
    s.blockSeq++;
  }
  s.blocks = {};
  s.flushArmed = false;
  if (s.unpacking.length > 0) armFlush(s, ctx, s.unpacking[0].doneAt);
  if (msgs.length === 0) return;
  s.counts.blocks += msgs.length;
  let bytes = OFFER_HEADER_BYTES;
  for (const m of msgs) bytes += m.bytes;
  ctx.send(s.cfg.producer, 'offer', Object.freeze({ kind: 'offer', msgs: Object.freeze(msgs) }) satisfies ApmRpc, bytes);
}

/**
 * Answers one publish once its work is done (`after` µs from now). Not frozen: ten thousand a second, each sent once,
 * and nobody writes to it.
 */
function answer(ctx: Ctx, to: NodeId, p: Extract<ApmRpc, { kind: 'publish' }>, ok: boolean, reason: string, after: Micros): void {
  const body: ApmRpc = { kind: 'published', agent: p.agent, seq: p.seq, attempt: p.attempt, ok, reason, by: ctx.id };
  ctx.send(to, 'published', body, ANSWER_BYTES, after);
}
