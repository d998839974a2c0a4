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
 *
 * Stateless means a crash loses only the queue: the agents still hold those batches and publish them again.
 *
 * The answer goes back the way the publish came — to the load balancer, which relays it — or, with direct server
 * return (`directReturn`, set on the balancer too), straight to the agent.
 */

interface Request {
  /** Who forwarded it (the load balancer): the answer goes back there. */
  from: NodeId;
  body: Extract<ApmRpc, { kind: 'publish' }>;
  arrivedAt: Micros;
}

export interface IngestState {
  cfg: IngestConfig;
  /** FIFO; `queue[0]` is on the CPU (its `cpu` timer armed) whenever the queue is not empty. */
  queue: Request[];
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
  counts: { accepted: number; refused: number; done: number; samplesKept: number; samplesDropped: number; blocks: number };
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
    const counts = { accepted: 0, refused: 0, done: 0, samplesKept: 0, samplesDropped: 0, blocks: 0 };
    return { cfg, queue: [], refusing: false, blocks: {}, flushArmed: false, blockSeq: 0, blockKeys: {}, keep, counts };
  },
  view: (s) => ({ queue: s.queue.length, queueMax: s.cfg.queueMax, slowdown: s.cfg.slowdown, refusing: s.refusing, counts: s.counts }),
  headline: (s) => ({ role: 'ingest', queue: s.queue.length, done: s.counts.done }),
  step(s, input, ctx) {
    if (input.type === 'message') return receive(s, input.msg, ctx);
    if (input.name === 'flush') return flush(s, ctx);
    if (input.name !== 'cpu') fail(`apm ingest has no timer ${input.name}`);
    finish(s, ctx);
  },
};

function receive(s: IngestState, msg: Message, ctx: Ctx): void {
  const body = msg.body as ApmRpc;
  switch (body.kind) {
    case 'publish':
      return accept(s, msg.from, body, ctx);
    case 'load?':
      return void ctx.send(msg.from, 'load', Object.freeze({ kind: 'load', queue: s.queue.length }) satisfies ApmRpc, 16);
    default:
      fail(`apm ingest got ${body.kind} from ${msg.from}`);
  }
}

function accept(s: IngestState, from: NodeId, p: Extract<ApmRpc, { kind: 'publish' }>, ctx: Ctx): void {
  if (s.queue.length >= s.cfg.queueMax) {
    s.counts.refused++;
    ctx.count('apm.ingestRefused');
    if (!s.refusing) ctx.note('queue-full', { queue: s.queue.length });
    s.refusing = true;
    return answer(ctx, s.cfg.directReturn ? p.agent : from, p, false, 'queue full');
  }
  s.refusing = false;
  s.counts.accepted++;
  s.queue.push({ from, body: p, arrivedAt: ctx.now });
  if (s.queue.length === 1) startCpu(s, ctx);
}

/** CPU time of one publish: unpack and decompress (fixed) plus per sample, times the server's slowdown; ≥ 1 µs. */
export function cpuUs(cfg: Pick<IngestConfig, 'unpackUs' | 'perSampleUs' | 'slowdown'>, samples: number): Micros {
  assert(samples >= 0 && cfg.slowdown > 0, 'cpuUs: samples >= 0, slowdown > 0');
  return Math.max(1, Math.round((cfg.unpackUs + cfg.perSampleUs * samples) * cfg.slowdown));
}

/** The head of the queue goes on the CPU; how long it waited for it is the queueing delay. */
function startCpu(s: IngestState, ctx: Ctx): void {
  const head = s.queue[0];
  assert(head !== undefined && head.arrivedAt <= ctx.now, 'a request on the CPU arrived before now');
  ctx.observe('apm.ingestQueueMs', (ctx.now - head.arrivedAt) / 1000);
  ctx.setTimer('cpu', cpuUs(s.cfg, Math.max(head.body.emitted ?? 0, head.body.values.length)));
}

/** The head is unpacked: publish its kept samples through the local producer, answer, and start the next. */
function finish(s: IngestState, ctx: Ctx): void {
  const r = s.queue.shift() ?? fail('apm ingest: the CPU finished with an empty queue');
  const p = r.body;
  assert(p.metrics.length === p.values.length, 'a publish has one value per metric');
  const keepAll = s.cfg.keepMetrics.length === 0;
  const blocks = s.cfg.blockMs > 0;
  const bucket = blocks ? bucketOf(p.server, s.cfg.blockBuckets) : 0;
  const msgs: { topic: string; key: string; bytes: number; data: SamplePayload }[] | null = blocks ? null : [];
  let kept = 0;
  for (let i = 0; i < p.metrics.length; i++) {
    const metric = p.metrics[i];
    if (!keepAll && s.keep[metric] !== 1) continue;
    kept++;
    if (msgs === null) {
      addToBlock(s, ctx, blockKeysOf(s, p.server, metric)[bucket], p, i);
      continue;
    }
    const { topic, key } = topicOf(s.cfg.topics, p.server, metric);
    msgs.push(Object.freeze({ topic, key, bytes: SAMPLE_MESSAGE_BYTES, data: Object.freeze({ server: p.server, metric, t: p.t, value: p.values[i] }) }));
  }
  // Metrics the agent emitted but the simulation did not sample (see AgentConfig.metricsEmitted) are dropped too.
  const dropped = Math.max(p.emitted ?? 0, p.values.length) - kept;
  assert(dropped >= 0, 'never more kept than emitted');
  if (dropped > 0) ctx.count('apm.droppedUnused', dropped);
  if (msgs !== null && msgs.length > 0) {
    ctx.send(s.cfg.producer, 'offer', Object.freeze({ kind: 'offer', msgs: Object.freeze(msgs) }) satisfies ApmRpc, OFFER_HEADER_BYTES + SAMPLE_MESSAGE_BYTES * msgs.length);
  }
  if (kept > 0) ctx.count('apm.ingestedSamples', kept);
  s.counts.done++;
  s.counts.samplesKept += kept;
  s.counts.samplesDropped += dropped;
  answer(ctx, s.cfg.directReturn ? p.agent : r.from, p, true, '');
  if (s.queue.length > 0) startCpu(s, ctx);
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
function addToBlock(s: IngestState, ctx: Ctx, key: string, p: Extract<ApmRpc, { kind: 'publish' }>, i: number): void {
  let b = s.blocks[key];
  if (b === undefined) {
    if (!s.flushArmed) {
      ctx.setTimer('flush', ms(s.cfg.blockMs));
      s.flushArmed = true;
    }
    b = s.blocks[key] = { server: [], metric: [], t: [], value: [] };
  }
  b.server.push(p.server);
  b.metric.push(p.metrics[i]);
  b.t.push(p.t);
  b.value.push(p.values[i]);
}

/** Publishes each topic's gathered samples as one message: a block in columns, keyed to spread over partitions. */
function flush(s: IngestState, ctx: Ctx): void {
  const msgs: { topic: string; key: string; bytes: number; data: SampleBlock }[] = [];
  for (const [key, b] of Object.entries(s.blocks)) {
    const data: SampleBlock = Object.freeze({ block: true, server: Object.freeze(b.server), metric: Object.freeze(b.metric), t: Object.freeze(b.t), value: Object.freeze(b.value) });
    const topic = key.slice(0, key.lastIndexOf('#'));
    msgs.push(Object.freeze({ topic, key, bytes: OFFER_HEADER_BYTES + SAMPLE_MESSAGE_BYTES * b.value.length, data }));
    s.blockSeq++;
  }
  s.blocks = {};
  s.flushArmed = false;
  if (msgs.length === 0) return;
  s.counts.blocks += msgs.length;
  let bytes = OFFER_HEADER_BYTES;
  for (const m of msgs) bytes += m.bytes;
  ctx.send(s.cfg.producer, 'offer', Object.freeze({ kind: 'offer', msgs: Object.freeze(msgs) }) satisfies ApmRpc, bytes);
}

/** Answers one publish. Not frozen: ten thousand a second, each sent once, and nobody writes to it. */
function answer(ctx: Ctx, to: NodeId, p: Extract<ApmRpc, { kind: 'publish' }>, ok: boolean, reason: string): void {
  const body: ApmRpc = { kind: 'published', agent: p.agent, seq: p.seq, attempt: p.attempt, ok, reason, by: ctx.id };
  ctx.send(to, 'published', body, ANSWER_BYTES);
}
