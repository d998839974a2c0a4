import type { Micros } from '../kernel/time.ts';
import type { NodeId } from '../kernel/types.ts';
import type { AggregateValue } from './window.ts';
import type { Sketch } from './sketch.ts';

/**
 * The APM pipeline of the lecture's case study ("Case Study: APM"): agents on servers → load balancer → stateless
 * ingestion servers → the message queue (one topic per metric by default) → aggregation servers → time-series store
 * → dashboard query service. This file holds the contracts between those parts: node configs and the messages they
 * exchange. Node ids the parts assume (a scenario builder lays them out, see src/scenarios/apm-common.ts):
 *
 * - agent `<server>.agent` on host `<server>` (server names like `web-1`), supervisor `sup`, load balancer `lb`;
 * - ingestion servers `ingest-1…`, each with its MQ producer `ingest-1.producer` on the same host;
 * - aggregators `agg-1…`, each with its MQ consumer `agg-1.consumer` on the same host (the consumer's sink is the
 *   aggregator: it answers a `write` with `written` once every window holding those samples is stored, so the
 *   consumer acks a sample only after its windows are durable — the notes' "write data point, then ack");
 * - the time-series store `tsdb`, the dashboard query service `dash`, the autoscaler `scaler`, and the MQ's
 *   coordinator `ctl` and partitions as in the message-queue scenarios.
 */

/** How a metric's per-second value is made on the agent (the notes: snapshot vs per-second aggregate). */
export type MetricKind =
  /** A reading at the second (CPU %): a bounded random walk around `base`. */
  | 'snapshot'
  /** The highest of the second's events (max RPC latency): the max of `eventsPerS` log-normal draws around `base`. */
  | 'max-of-second'
  /** Events counted in the second (incoming RPCs): Poisson-like around `base`. */
  | 'count';

export interface MetricSpec {
  name: string;
  kind: MetricKind;
  /** Typical value (percent, ms, count). */
  base: number;
  /** Spread: the walk's step for `snapshot`, the log-normal sigma for `max-of-second`, unused for `count`. */
  spread: number;
  /** `max-of-second`: events per second whose maximum is reported. */
  eventsPerS?: number;
}

/** The lecture's example metrics (M_cpu, M_latency, M_rpcs, M_carts, M_ack): the default catalogue. */
export const DEFAULT_METRICS: readonly MetricSpec[] = [
  { name: 'cpu', kind: 'snapshot', base: 40, spread: 4 },
  { name: 'rpc.latency', kind: 'max-of-second', base: 20, spread: 0.5, eventsPerS: 50 },
  { name: 'rpc.count', kind: 'count', base: 200, spread: 0 },
  { name: 'carts', kind: 'snapshot', base: 120, spread: 6 },
  { name: 'mq.unacked', kind: 'snapshot', base: 10, spread: 2 },
];

/** Network retry policy of an agent: the notes' exponential backoff 10/20/40/80 ms, or fixed intervals. */
export type RetryPolicy = 'exponential' | 'fixed';

export interface AgentConfig {
  /** The server this agent runs on (its host id), e.g. `web-1`. */
  server: string;
  metrics: readonly MetricSpec[];
  /**
   * Metrics the server emits in all (the notes: 2,000); 0 = just `metrics`. Only `metrics` are sampled in the
   * simulation — at 10,000 × 2,000 drawing values no query reads would be most of the work — while the rest count in
   * the bytes on the wire, in ingestion's CPU and in what it drops.
   */
  metricsEmitted: number;
  /** Publish period (the notes: every second). */
  publishEveryMs: number;
  /**
   * Where in each period this agent publishes (ms after the boundary): real agents are not synchronised, and a load
   * balancer sees their requests spread out. 0 = exactly on the boundary, as every agent of a fresh fleet would.
   */
  phaseMs: number;
  retry: RetryPolicy;
  /** Exponential: first wait, doubling per attempt up to `backoffMaxMs` (10, 20, 40, 80…). Fixed: the wait. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Jitter: each wait drawn uniformly from [½, 1½] of its nominal value (breaks up a herd of synchronized retries). */
  jitter: boolean;
  /** A publish with no answer within this is retried. */
  requestTimeoutMs: number;
  /** Batches kept while the network is down; beyond it the oldest is dropped (and counted). */
  bufferMax: number;
  /** Heartbeat to the supervisor. */
  heartbeatMs: number;
  /**
   * Send no heartbeats of its own: the load balancer tells the supervisor which agents it heard a publish from, once
   * per heartbeat period (LbConfig.reportAliveMs) — the heartbeat rides on the publish. An agent that stops publishing
   * (hung, or cut off from the balancer) goes silent either way.
   */
  piggybackHeartbeat: boolean;
  /** The agent process hangs at this time (ms; 0 = never): it stops sampling until the supervisor restarts it. */
  hangAtMs: number;
  /** Multiplies every value this server reports for the named metrics (a hot or slow server), e.g. {"rpc.latency": 8}. */
  skew: Readonly<Record<string, number>>;
  /** Bytes per sample on the wire before compression, and the compression ratio ingestion must undo (CPU). */
  bytesPerSample: number;
  compression: number;
  /**
   * Note every period's batch (`sampled`, with its values) in the trace: the ground truth tests and narration read.
   * Off at the notes' scale, where ten thousand such notes a second would be most of the trace — the publish carries
   * the same values anyway.
   */
  noteSampled: boolean;
}

export const AGENT_DEFAULTS: Omit<AgentConfig, 'server'> = {
  metrics: DEFAULT_METRICS,
  metricsEmitted: 0,
  publishEveryMs: 1000,
  phaseMs: 0,
  retry: 'exponential',
  backoffBaseMs: 10,
  backoffMaxMs: 80,
  jitter: true,
  requestTimeoutMs: 100,
  bufferMax: 60,
  heartbeatMs: 500,
  piggybackHeartbeat: false,
  hangAtMs: 0,
  skew: {},
  bytesPerSample: 16,
  compression: 4,
  noteSampled: true,
};

/**
 * The supervisor (`sup`): watches the agents' heartbeats and restarts a hung agent. An agent silent for
 * `missedMax` × `heartbeatMs` is reported silent and sent `restart`.
 */
export interface SupervisorConfig {
  /** The agents it watches, by node id (`<server>.agent`). */
  agents: readonly NodeId[];
  /** How often it checks; agents heartbeat at (about) the same period. */
  heartbeatMs: number;
  /** Heartbeats an agent may miss before it counts as silent. */
  missedMax: number;
}

export const SUPERVISOR_DEFAULTS: Omit<SupervisorConfig, 'agents'> = { heartbeatMs: 500, missedMax: 3 };

export type LbPolicy = 'round-robin' | 'least-busy';

export interface LbConfig {
  policy: LbPolicy;
  /** Ingestion servers behind it, in order. */
  backends: readonly NodeId[];
  /**
   * Least-busy asks every backend for its queue length this often (the cost of knowing: 2 × backends messages per
   * poll) and adds the requests it forwarded since; 0 = use only its own count of outstanding requests.
   */
  loadPollMs: number;
  /** A forwarded request with no answer within this is failed back to the agent. */
  requestTimeoutMs: number;
  /**
   * Every this often, tell the supervisor (`sup`) which agents published since the last report (`alive-from`): their
   * heartbeats, piggybacked on the publishes (AgentConfig.piggybackHeartbeat). 0 = no reports.
   */
  reportAliveMs: number;
  /**
   * Direct server return: the backend answers the agent itself and the balancer sees only requests (an L4 balancer's
   * DSR). Half the balancer's messages, but it no longer knows what is outstanding: least-busy must poll, and a
   * backend that never answers is noticed by the agent's own timeout. The backends must be set the same way.
   */
  directReturn: boolean;
}

export const LB_DEFAULTS: Omit<LbConfig, 'backends'> = { policy: 'round-robin', loadPollMs: 100, requestTimeoutMs: 500, directReturn: false, reportAliveMs: 0 };

/** How ingestion names topics (the notes' "how many topics?"). */
export type TopicStrategy = 'one-topic' | 'per-server' | 'per-metric';

export interface IngestConfig {
  /** CPU time to unpack and decompress one request (fixed part) and per sample. */
  unpackUs: Micros;
  perSampleUs: Micros;
  /** A slow server: multiplies its CPU times (the least-busy scenario's straggler). */
  slowdown: number;
  /** Requests waiting for the CPU; beyond it a request is refused (back-pressure to the agent, which retries). */
  queueMax: number;
  topics: TopicStrategy;
  /** Metrics some stored query reads; the rest are dropped here (the notes' idea). Empty = keep all. */
  keepMetrics: readonly string[];
  /**
   * 0: one MQ message per sample. Otherwise samples are gathered per topic for this long and published as one
   * message holding a block of them in columns (Kafka's record batches): at the notes' scale, 200,000 samples a
   * second cannot each be a message.
   */
  blockMs: number;
  /**
   * Blocks per topic per flush: servers are split into this many buckets (by a hash of their name), each its own
   * block with its own partition key, so a topic's blocks spread over its partitions while a server's samples always
   * take the same one. More buckets than partitions only make smaller blocks; with one partition per topic, 1.
   */
  blockBuckets: number;
  /** The local MQ producer this server publishes through. */
  producer: NodeId;
  /** Answer the agent directly rather than the balancer that forwarded the publish (see LbConfig.directReturn). */
  directReturn: boolean;
}

export const INGEST_DEFAULTS: Omit<IngestConfig, 'producer'> = {
  unpackUs: 200,
  perSampleUs: 5,
  slowdown: 1,
  queueMax: 200,
  topics: 'per-metric',
  keepMetrics: [],
  blockMs: 0,
  blockBuckets: 4,
  directReturn: false,
};

/** The topic a sample goes to under each strategy, and its partition key. */
export function topicOf(strategy: TopicStrategy, server: string, metric: string): { topic: string; key: string } {
  switch (strategy) {
    case 'one-topic':
      return { topic: 'metrics', key: metric };
    case 'per-server':
      return { topic: `server.${server}`, key: metric };
    case 'per-metric':
      return { topic: `metric.${metric}`, key: server };
  }
}

/** The payload of one MQ message of the pipeline: one sample, with its server and event time. */
export interface SamplePayload {
  server: string;
  metric: string;
  /** Event time (µs): the start of the second the agent sampled. */
  t: Micros;
  value: number;
}

/** Many samples in one MQ message, in columns (what ingestion publishes with `blockMs` > 0). */
export interface SampleBlock {
  block: true;
  server: readonly string[];
  metric: readonly string[];
  t: readonly Micros[];
  value: readonly number[];
}

/**
 * The samples an MQ message of the pipeline carries, as columns: a block as it is, one sample as a block of one; null
 * when it carries none. The hot paths (aggregators, checkers) walk the columns without a callback per sample.
 */
export function sampleColumns(data: unknown): SampleBlock | null {
  const b = data as SampleBlock | SamplePayload | null | undefined;
  if (b && (b as SampleBlock).block === true) return b as SampleBlock;
  const one = b as SamplePayload | null | undefined;
  if (!one || typeof one.metric !== 'string') return null;
  return { block: true, server: [one.server], metric: [one.metric], t: [one.t], value: [one.value] };
}

/** Calls `f` for every sample an MQ message of the pipeline carries: one, or a block of them. */
export function forEachSample(data: unknown, f: (server: string, metric: string, t: Micros, value: number) => void): number {
  const b = data as SampleBlock | SamplePayload | null | undefined;
  if (b && (b as SampleBlock).block === true) {
    const x = b as SampleBlock;
    for (let i = 0; i < x.value.length; i++) f(x.server[i], x.metric[i], x.t[i], x.value[i]);
    return x.value.length;
  }
  const one = b as SamplePayload | null | undefined;
  if (!one || typeof one.metric !== 'string') return 0;
  f(one.server, one.metric, one.t, one.value);
  return 1;
}

/** A stored point's key: one query, one window, one source partition (a metric's partitions are merged on read). */
export interface PointKey {
  query: string;
  /** Window start (µs). */
  start: Micros;
  /** The MQ partition the samples came through; the dashboard merges a window's partials across partitions. */
  partition: string;
}

/** One window's result for one partition, as an aggregator writes it. */
export interface PointWrite extends PointKey {
  end: Micros;
  count: number;
  /** Samples that arrived after this window closed (counted, not aggregated). */
  late: number;
  /** In the query's COMPUTE order. Percentiles here are the sketch's (exact ones need every raw value). */
  values: readonly AggregateValue[];
  /** Mergeable summary, so partials of one window combine into true min / max / avg / percentiles. */
  sum: number;
  min: number | null;
  max: number | null;
  sketch: Sketch;
  /** The aggregator that computed it. */
  by: NodeId;
  /**
   * The consumer-group generation in which that aggregator owned the partition. The store fences writers of an older
   * generation (a zombie: paused or cut off while its partitions moved on), and a newer generation's version of a
   * window replaces an older one's.
   */
  generation: number;
}

/** Messages between the pipeline's parts (the MQ's own messages are in ../mq/types.ts). */
export type ApmRpc =
  /**
   * agent → lb → ingestion: one second of one server's metrics (`seq` per agent; retries keep it), in columns:
   * `values[i]` is metric `metrics[i]`. `metrics` is the agent's catalogue, one frozen array shared by every agent
   * with the same catalogue; `emitted` counts the metrics the server emits in all (see AgentConfig.metricsEmitted).
   */
  | { kind: 'publish'; agent: NodeId; server: string; seq: number; t: Micros; metrics: readonly string[]; values: readonly number[]; emitted: number; attempt: number }
  /**
   * ingestion → lb → agent (or ingestion → agent with direct server return). `ok: false` with a reason: refused (queue
   * full, no backend) — the agent retries.
   * `attempt` echoes the publish it answers, so an agent can tell a late answer to an attempt it already gave up on
   * from the answer to the attempt it is waiting for.
   */
  | { kind: 'published'; agent: NodeId; seq: number; attempt: number; ok: boolean; reason: string; by: NodeId }
  | { kind: 'load?' }
  | { kind: 'load'; queue: number }
  /** agent → supervisor, and the supervisor's restart order for a hung agent. */
  | { kind: 'alive'; server: string; seq: number }
  /** lb → supervisor: the agents it heard a publish from since its last report (piggybacked heartbeats). */
  | { kind: 'alive-from'; agents: readonly NodeId[] }
  | { kind: 'restart'; reason: string }
  /** ingestion → its local producer: messages to publish (the producer stamps ids and timestamps). */
  | { kind: 'offer'; msgs: readonly { topic: string; key: string; bytes: number; data: SamplePayload | SampleBlock }[] }
  /** aggregator → tsdb, and its answer (`duplicate`: that key was stored before; `conflict`: with other values). */
  | { kind: 'write-point'; point: PointWrite }
  | { kind: 'point-stored'; key: PointKey; ok: boolean; duplicate: boolean; conflict: boolean; fenced?: boolean }
  /** dashboard → tsdb: the points of a query from window start `from` on (inclusive). */
  | { kind: 'read'; rid: number; query: string; from: Micros }
  /**
   * tsdb → dashboard: ordered by (start, partition), at most READ_POINTS_MAX (tsdb.ts), cut at a window boundary so a
   * window's partials arrive together; `more`: points with later starts were left out (ask again after the last).
   */
  | { kind: 'read-reply'; rid: number; query: string; points: readonly PointWrite[]; more: boolean }
  /** autoscaler → aggregator: join the consumer group, or leave it. */
  | { kind: 'activate' }
  | { kind: 'deactivate' };
