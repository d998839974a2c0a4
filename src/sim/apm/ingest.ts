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
  blockSeq: number;
  /** `keepMetrics` as a lookup (empty: keep all). */
  keep: Record<string, 1>;
  counts: { accepted: number; refused: number; done: number; samplesKept: number; samplesDropped: number; blocks: number };
}

type Ctx = NodeContext;

export const INGEST_QUEUE_LIMIT = 100_000;
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
    const keep: Record<string, 1> = {};
    for (const m of cfg.keepMetrics) keep[m] = 1;
    const counts = { accepted: 0, refused: 0, done: 0, samplesKept: 0, samplesDropped: 0, blocks: 0 };
    return { cfg, queue: [], refusing: false, blocks: {}, blockSeq: 0, keep, counts };
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
    return answer(ctx, from, p, false, 'queue full');
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
  ctx.setTimer('cpu', cpuUs(s.cfg, Math.max(head.body.emitted ?? 0, head.body.samples.length)));
}

/** The head is unpacked: publish its kept samples through the local producer, answer, and start the next. */
function finish(s: IngestState, ctx: Ctx): void {
  const r = s.queue.shift() ?? fail('apm ingest: the CPU finished with an empty queue');
  const p = r.body;
  const keepAll = s.cfg.keepMetrics.length === 0;
  const msgs: { topic: string; key: string; bytes: number; data: SamplePayload }[] = [];
  let kept = 0;
  for (const x of p.samples) {
    if (!keepAll && s.keep[x.metric] !== 1) continue;
    kept++;
    const { topic, key } = topicOf(s.cfg.topics, p.server, x.metric);
    if (s.cfg.blockMs > 0) addToBlock(s, ctx, topic, p.server, x.metric, p.t, x.value);
    else msgs.push(Object.freeze({ topic, key, bytes: SAMPLE_MESSAGE_BYTES, data: Object.freeze({ server: p.server, metric: x.metric, t: p.t, value: x.value }) }));
  }
  // Metrics the agent emitted but the simulation did not sample (see AgentConfig.metricsEmitted) are dropped too.
  const dropped = Math.max(p.emitted ?? 0, p.samples.length) - kept;
  assert(dropped >= 0, 'never more kept than emitted');
  if (dropped > 0) ctx.count('apm.droppedUnused', dropped);
  if (msgs.length > 0) {
    ctx.send(s.cfg.producer, 'offer', Object.freeze({ kind: 'offer', msgs: Object.freeze(msgs) }) satisfies ApmRpc, OFFER_HEADER_BYTES + SAMPLE_MESSAGE_BYTES * msgs.length);
  }
  if (kept > 0) ctx.count('apm.ingestedSamples', kept);
  s.counts.done++;
  s.counts.samplesKept += kept;
  s.counts.samplesDropped += dropped;
  answer(ctx, r.from, p, true, '');
  if (s.queue.length > 0) startCpu(s, ctx);
}

/**
 * Blocks are gathered per topic and per bucket of servers, and keyed by the bucket: a server's samples always go to
 * the same partition, so a sample an agent sent twice (a retry) lands where its first copy did and the aggregator
 * that owns that partition counts it once.
 */
const BLOCK_BUCKETS = 4;

function bucketOf(server: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < server.length; i++) h = Math.imul(h ^ server.charCodeAt(i), 0x01000193);
  return (h >>> 0) % BLOCK_BUCKETS;
}

function addToBlock(s: IngestState, ctx: Ctx, topic: string, server: string, metric: string, t: Micros, value: number): void {
  const key = `${topic}#${bucketOf(server)}`;
  let b = s.blocks[key];
  if (b === undefined) {
    if (Object.keys(s.blocks).length === 0) ctx.setTimer('flush', ms(s.cfg.blockMs));
    b = s.blocks[key] = { server: [], metric: [], t: [], value: [] };
  }
  b.server.push(server);
  b.metric.push(metric);
  b.t.push(t);
  b.value.push(value);
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
  if (msgs.length === 0) return;
  s.counts.blocks += msgs.length;
  let bytes = OFFER_HEADER_BYTES;
  for (const m of msgs) bytes += m.bytes;
  ctx.send(s.cfg.producer, 'offer', Object.freeze({ kind: 'offer', msgs: Object.freeze(msgs) }) satisfies ApmRpc, bytes);
}

function answer(ctx: Ctx, to: NodeId, p: Extract<ApmRpc, { kind: 'publish' }>, ok: boolean, reason: string): void {
  const body = Object.freeze({ kind: 'published', agent: p.agent, seq: p.seq, attempt: p.attempt, ok, reason, by: ctx.id }) satisfies ApmRpc;
  ctx.send(to, 'published', body, ANSWER_BYTES);
}
