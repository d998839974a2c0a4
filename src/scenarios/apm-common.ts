import { addQuery, metricsUsed, type QueryStore } from '../sim/apm/query.ts';
import { DEFAULT_METRICS, topicOf, type AgentConfig, type IngestConfig, type LbConfig, type MetricSpec, type TopicStrategy } from '../sim/apm/types.ts';
import type { ScenarioInput } from './schema.ts';

/**
 * The APM pipeline of the lecture's case study, laid out as scenario data: servers `web-1…` each running an agent
 * (`web-1.agent`, host `web-1`), a supervisor `sup`, the load balancer `lb`, ingestion servers `ingest-1…` each with
 * its MQ producer (`ingest-1.producer`, same host), the message queue (brokers `b1…`, one Raft group per partition,
 * the control plane `ctl`), aggregators `agg-1…` each with its MQ consumer (`agg-1.consumer`, same host), the
 * time-series store `tsdb`, the dashboard query service `dash`, and optionally the autoscaler `scaler`. Built by code
 * only to avoid repeating the same lines; what it returns is plain scenario data.
 */
export interface ApmShape {
  servers: number;
  /** Server names are `<prefix>-<n>`: `web-1`, `web-2`… */
  serverPrefix?: string;
  metrics?: readonly MetricSpec[];
  /** The dashboard's stored queries, in the query language: `FROM servers(web-*) SELECT cpu WINDOW 10s COMPUTE …`. */
  queries: readonly { id: string; name: string; text: string }[];
  /** Ingestion drops metrics no stored query reads (the notes' idea); off keeps every metric. */
  dropUnused?: boolean;
  topics?: TopicStrategy;
  partitionsPerTopic?: number;
  brokers?: number;
  replicas?: number;
  /**
   * Each replica on a broker of its own (the notes' sizing: brokers = partitions × replicas, one partition per broker)
   * instead of the default ring, where neighbouring partitions share brokers. Needs that many brokers.
   */
  ownBrokers?: boolean;
  ingest?: number;
  aggregators?: number;
  /** Aggregators beyond `aggregators` that wait on standby for the autoscaler. */
  standby?: number;
  autoscaler?: Record<string, unknown>;
  agent?: Partial<AgentConfig>;
  /** Spread the agents' publishing evenly over the period instead of all on its boundary. */
  spreadAgents?: boolean;
  /** Per-server agent settings: a hot server's skew, a hang, another retry policy. */
  agents?: Record<string, Partial<AgentConfig>>;
  lb?: Partial<Omit<LbConfig, 'backends' | 'directReturn' | 'reportAliveMs'>>;
  /** Direct server return: ingestion answers the agents itself, the balancer only forwards (set on both). */
  directReturn?: boolean;
  /** Agents send no heartbeats: the balancer reports the agents it heard publish to the supervisor, once a period. */
  piggybackHeartbeats?: boolean;
  ingestConfig?: Partial<Omit<IngestConfig, 'producer' | 'topics' | 'keepMetrics' | 'directReturn'>>;
  /** Per-ingestion-server settings (a slow one). */
  ingests?: Record<string, Partial<IngestConfig>>;
  aggregator?: Record<string, unknown>;
  consumer?: Record<string, unknown>;
  producer?: Record<string, unknown>;
  dashboard?: Record<string, unknown>;
  tsdb?: Record<string, unknown>;
  link?: ScenarioInput['topology']['link'];
  /** The partitions' Raft timing; default: heartbeats every 50 ms, elections after 150–300 ms (quick to watch). */
  raft?: { heartbeatMs: number; electionMinMs: number; electionMaxMs: number };
}

export function apmStore(queries: ApmShape['queries']): QueryStore {
  let store: QueryStore = { queries: [] };
  for (const q of queries) {
    const r = addQuery(store, q);
    if (!r.ok) throw new Error(`query ${q.id}: ${r.error.message}`);
    store = r.store;
  }
  return store;
}

export function serverNames(shape: Pick<ApmShape, 'servers' | 'serverPrefix'>): string[] {
  return Array.from({ length: shape.servers }, (_, i) => `${shape.serverPrefix ?? 'web'}-${i + 1}`);
}

/** The topics the pipeline needs: per metric kept, per server, or one for everything. */
export function apmTopics(o: ApmShape): string[] {
  const store = apmStore(o.queries);
  const metrics = (o.metrics ?? DEFAULT_METRICS).map((m) => m.name);
  const kept = o.dropUnused === false ? metrics : metrics.filter((m) => metricsUsed(store).has(m));
  const topics = new Set<string>();
  for (const server of serverNames(o)) for (const m of kept) topics.add(topicOf(o.topics ?? 'per-metric', server, m).topic);
  return [...topics];
}

/**
 * The topics the aggregators read: those that can hold a metric some stored query reads. With one topic per metric
 * that leaves out the topics of metrics no query wants (ingestion keeps them only when told not to drop them); with
 * one topic for everything, or one per server, every topic holds some wanted metric, so all of them are read.
 */
export function apmReadTopics(o: ApmShape): string[] {
  const used = metricsUsed(apmStore(o.queries));
  const wanted = new Set<string>();
  for (const server of serverNames(o)) for (const m of used) wanted.add(topicOf(o.topics ?? 'per-metric', server, m).topic);
  return apmTopics(o).filter((t) => wanted.has(t));
}

/** How long a sample may stay unacked: its window, the lateness, the watermark's slack and a margin. */
function visibilityMs(store: QueryStore, aggregator: Record<string, unknown>): number {
  let longest = 0;
  for (const q of store.queries) longest = Math.max(longest, (q.query.windowUs + q.query.latenessUs) / 1000);
  const slack = Number(aggregator.outOfOrderMs ?? 500) + Number(aggregator.idleMs ?? 3000);
  return Math.ceil(longest + slack + 10_000);
}

/**
 * A scenario's topology and the shape it was built from (`workload.apm`), so settings can rebuild it with other
 * stored queries (src/scenarios/settings.ts).
 */
export function apmParts(o: ApmShape): Pick<ScenarioInput, 'topology' | 'workload'> {
  return { topology: apmTopology(o), workload: { apm: structuredClone(o) } };
}

export function apmTopology(o: ApmShape): ScenarioInput['topology'] {
  const store = apmStore(o.queries);
  const servers = serverNames(o);
  const topics = apmTopics(o);
  const readTopics = apmReadTopics(o);
  const nodes: ScenarioInput['topology']['nodes'] = [];
  const strategy = o.topics ?? 'per-metric';
  const brokers = o.brokers ?? 3;
  const replicas = o.replicas ?? 3;
  const perTopic = o.partitionsPerTopic ?? 1;
  const holdMs = visibilityMs(store, o.aggregator ?? {});
  if (o.ownBrokers && brokers < topics.length * perTopic * replicas) {
    throw new Error(`ownBrokers: ${topics.length * perTopic} partitions × ${replicas} replicas need ${topics.length * perTopic * replicas} brokers, got ${brokers}`);
  }
  const stride = o.ownBrokers ? replicas : 1;
  const partitions: Record<string, { topic: string; replicas: string[] }> = {};
  let ring = 0;
  for (const topic of topics) {
    for (let p = 0; p < perTopic; p++, ring++) {
      const name = `${topic}-${p}`;
      const hosts = Array.from({ length: replicas }, (_, r) => `b${((ring * stride + r) % brokers) + 1}`);
      const group = hosts.map((h) => `${h}.${name}`);
      partitions[name] = { topic, replicas: group };
      for (let r = 0; r < replicas; r++) {
        nodes.push({ id: group[r], kind: 'mq-partition', host: hosts[r], config: { group, name, machine: { topic, partition: name, visibilityMs: holdMs, maxDeliveries: 0, fetchWaitMs: 200 } } });
      }
    }
  }
  nodes.sort((a, b) => (a.host ?? a.id).localeCompare(b.host ?? b.id, 'en', { numeric: true }) || a.id.localeCompare(b.id, 'en', { numeric: true }));
  nodes.push({ id: 'ctl', kind: 'mq-coordinator', config: { partitions, sessionMs: 2000 } });
  const agents = servers.map((s) => `${s}.agent`);
  servers.forEach((server, i) => {
    const every = o.agent?.publishEveryMs ?? 1000;
    const phase = o.spreadAgents ? { phaseMs: Math.floor((i * every) / servers.length) } : {};
    const piggyback = o.piggybackHeartbeats ? { piggybackHeartbeat: true } : {};
    nodes.push({ id: agents[i], kind: 'apm-agent', host: server, config: { server, metrics: o.metrics ?? DEFAULT_METRICS, ...phase, ...piggyback, ...o.agent, ...o.agents?.[server] } });
  });
  nodes.push({ id: 'sup', kind: 'apm-supervisor', config: { agents, heartbeatMs: o.agent?.heartbeatMs ?? 500, missedMax: 3 } });
  const ingests = Array.from({ length: o.ingest ?? 2 }, (_, i) => `ingest-${i + 1}`);
  const directReturn = o.directReturn === true;
  const reportAliveMs = o.piggybackHeartbeats ? (o.agent?.heartbeatMs ?? 500) : 0;
  nodes.push({ id: 'lb', kind: 'apm-lb', config: { backends: ingests, ...o.lb, directReturn, reportAliveMs } });
  const keepMetrics = o.dropUnused === false ? [] : [...metricsUsed(store)].sort();
  for (const id of ingests) {
    nodes.push({ id, kind: 'apm-ingest', host: id, config: { producer: `${id}.producer`, topics: strategy, keepMetrics, ...o.ingestConfig, ...o.ingests?.[id], directReturn } });
    nodes.push({
      id: `${id}.producer`, kind: 'mq-producer', host: id,
      config: { topic: topics[0], topics, source: 'offer', acks: 'quorum', partitioner: 'key-hash', lingerMs: 50, batchMax: 1000, idempotent: true, ...o.producer },
    });
  }
  const active = o.aggregators ?? 2;
  const pool = Array.from({ length: active + (o.standby ?? 0) }, (_, i) => `agg-${i + 1}`);
  pool.forEach((id, i) => {
    nodes.push({ id, kind: 'apm-aggregator', host: id, config: { queries: store.queries, consumer: `${id}.consumer`, ...o.aggregator } });
    nodes.push({
      id: `${id}.consumer`, kind: 'mq-consumer', host: id,
      config: {
        topic: readTopics[0], topics: readTopics, group: 'aggregators', sink: id, revokeNotice: true, startIdle: i >= active, semantics: 'at-least-once',
        processMs: 0.02, fetchMax: 500, bufferMax: 5000, writeTimeoutMs: holdMs, ...o.consumer,
      },
    });
  });
  nodes.push({ id: 'tsdb', kind: 'apm-tsdb', config: { ...o.tsdb } });
  nodes.push({ id: 'dash', kind: 'apm-dashboard', config: { queries: store.queries, tsdb: 'tsdb', ...o.dashboard } });
  if (o.autoscaler) nodes.push({ id: 'scaler', kind: 'apm-autoscaler', config: { pool, initial: active, min: 1, topics: readTopics, ...o.autoscaler } });
  return {
    nodes,
    config: { 'mq-partition': { ...(o.raft ?? { electionMinMs: 150, electionMaxMs: 300, heartbeatMs: 50 }) } },
    link: o.link ?? { latencyMs: 1, jitterMs: 0.5 },
  };
}

export const APM_METRICS = [
  'windows', 'windowRewrites', 'lateSamples', 'samplesPending', 'samplesConserved', 'apm.published', 'apm.retries', 'apm.dropped',
  'apm.publishDelayMs', 'apm.droppedUnused', 'apm.ingestQueueMs', 'apm.lagMessages', 'apm.lagSeconds', 'apm.aggregators',
  'apm.dashStalenessMs', 'apm.dashCacheHitRate', 'apm.tsdbBytesPerPoint', 'apm.lbPolls', 'produced', 'acked', 'delivered',
  'duplicated', 'lost', 'pending', 'failoverMs', 'leaderChanges',
] as const;

/** Progress under random faults: once healed, aggregators write windows again. */
export const APM_LIVENESS = {
  match: { kind: 'node.note', name: 'window' },
  within: '15s',
  text: 'once every fault is healed, an aggregator writes a window again within 15 s',
} as const;

/** Ten metrics of the catalogue's kinds (cpu, latencies, counts…), for presets beyond the five named ones. */
export function metricCatalogue(n: number): MetricSpec[] {
  const out: MetricSpec[] = [];
  for (let i = 0; i < n; i++) {
    const base = DEFAULT_METRICS[i % DEFAULT_METRICS.length];
    out.push({ ...base, name: i < DEFAULT_METRICS.length ? base.name : `${base.name}.${Math.floor(i / DEFAULT_METRICS.length)}` });
  }
  return out;
}

/**
 * The notes' scale, or a fraction of it: `servers` × `metricsEmitted` per second, `queries` stored queries over
 * `queries / 2` metrics (two queries per metric: a 10 s and a 60 s window). Only the queried metrics are sampled; the
 * rest travel as bytes and are dropped by ingestion. Ingestion gathers samples per topic for 250 ms into one message
 * (Kafka's record batches, its `linger.ms`) — one block per topic, as each topic has one partition — three replicas
 * over twelve brokers (the notes' 12). A quarter second is invisible behind 10 s windows, and the queue sees 80 produce
 * requests a second at 1,000 servers instead of the 200 that 100 ms blocks make: each request costs a Raft round
 * (appends, replies, commit) whatever its size, so at this scale the block interval sets the queue's load.
 * At this scale ingestion answers the agents directly (the balancer would relay ten thousand answers a second), the
 * agents' heartbeats ride on their publishes (the balancer reports who published, once per heartbeat period), and
 * agents note no `sampled` per second (the publishes carry the values). The partitions' Raft runs on etcd's default
 * timing — heartbeats every 100 ms, elections after 1–2 s — rather than the lessons' 50 ms and 150–300 ms, quick to
 * watch: with eight produce requests a second per partition, heartbeats were most of the queue's messages.
 */
export function apmScaleShape(o: { servers: number; metricsEmitted: number; queries: number; ingest: number; aggregators: number }): ApmShape {
  const metrics = metricCatalogue(Math.max(1, Math.ceil(o.queries / 2)));
  const queries: { id: string; name: string; text: string }[] = [];
  for (let i = 0; i < o.queries; i++) {
    const m = metrics[Math.floor(i / 2)].name;
    const win = i % 2 === 0 ? '10s' : '60s';
    queries.push({ id: `q${i + 1}`, name: `${m} by ${win}`, text: `FROM servers(web-*) SELECT ${m} WINDOW ${win} COMPUTE min, max, avg, p99` });
  }
  return {
    servers: o.servers,
    metrics,
    queries,
    ingest: o.ingest,
    aggregators: o.aggregators,
    brokers: 12,
    partitionsPerTopic: 1,
    agent: { metricsEmitted: o.metricsEmitted, heartbeatMs: 5000, noteSampled: false },
    spreadAgents: true,
    directReturn: true,
    piggybackHeartbeats: true,
    ingestConfig: { blockMs: 250, blockBuckets: 1, perSampleUs: 0.5 },
    consumer: { processMs: 0.001, fetchMax: 2000, bufferMax: 8000 },
    raft: { heartbeatMs: 100, electionMinMs: 1000, electionMaxMs: 2000 },
  };
}
