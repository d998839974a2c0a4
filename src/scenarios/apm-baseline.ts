import { APM_LIVENESS, APM_METRICS, apmParts } from './apm-common.ts';
import type { ScenarioInput } from './schema.ts';

/** The dashboard's stored queries most APM scenarios share. */
export const APM_QUERIES = [
  { id: 'cpu', name: 'CPU by 10 s window', text: 'FROM servers(web-*) SELECT cpu WINDOW 10s COMPUTE min, max, avg, p99' },
  { id: 'latency', name: 'Max RPC latency, p50 / p99', text: 'FROM servers(web-*) SELECT rpc.latency WINDOW 10s COMPUTE avg, p50, p99, max' },
] as const;

export const apmBaseline: ScenarioInput = {
  id: 'apm-baseline',
  title: 'APM: the dashboard pipeline, end to end',
  summary:
    'Eight servers each run an agent that samples five metrics every second and publishes them through a load ' +
    'balancer to two stateless ingestion servers. Ingestion drops the metrics no stored query reads and publishes ' +
    'one message per sample to a topic per metric (the notes’ choice), replicated by Raft across three brokers. Two ' +
    'aggregation servers read the topics as a consumer group, compute 10-second windows (min, max, avg, p99) and write ' +
    'each window to the time-series store before they ack; the dashboard reads the store through its cache.',
  tags: ['apm', 'mq'],
  difficulty: 'intro',
  minutes: 8,
  goals: [
    'Follow one second of metrics from an agent to a point on the dashboard.',
    'See ingestion drop the metrics no query uses, and why one topic per metric makes one query read one topic.',
    'Read a window’s evidence: the samples it counted, and the aggregates recomputed from them.',
    'See the ack come only after the window is stored (write the data point, then ack).',
  ],
  seed: 'apm',
  duration: '40s',
  ...apmParts({ servers: 8, queries: APM_QUERIES, ingest: 2, aggregators: 2, partitionsPerTopic: 2 }),
  faults: [],
  narration: [
    { onEvent: { kind: 'node.note', name: 'sampled' }, text: 'An agent sampled its server: a CPU snapshot, the highest RPC latency of the second, the RPC count and two more.' },
    { onEvent: { kind: 'node.note', name: 'produced' }, text: 'An ingestion server unpacked a batch, dropped the metrics no query reads, and handed one message per sample to its producer (one topic per metric).' },
    { onEvent: { kind: 'node.note', name: 'rebalance' }, text: 'The aggregators joined their consumer group: the control plane dealt them the partitions of the metric topics.' },
    { onEvent: { kind: 'node.note', name: 'window' }, text: 'A window closed: the watermark passed its end, so the aggregator computed min, max, avg and p99 and wrote the point to the store. Only when the store confirms does it ack the samples.' },
    { at: '20s', text: 'Steady state: every 10 seconds each query gets one point per partition; the dashboard merges them into one.' },
  ],
  expect: [
    { check: 'no-violations', text: 'Every sample is counted once in its window and every aggregate matches a recomputation.' },
    { check: 'metric', metric: 'windows', min: 12, text: 'Each query gets a window per partition every 10 s: twelve closed by 40 s.' },
    { check: 'metric', metric: 'lateSamples', max: 0, text: 'With no faults no sample arrives late.' },
    { check: 'metric', metric: 'lost', max: 0, text: 'The queue loses nothing.' },
  ],
  metrics: [...APM_METRICS],
  liveness: APM_LIVENESS,
};
