import type { TopicStrategy } from '../sim/apm/types.ts';
import { APM_QUERIES } from './apm-baseline.ts';
import { APM_LIVENESS, APM_METRICS, apmParts, type ApmShape } from './apm-common.ts';
import type { ScenarioInput } from './schema.ts';

/**
 * The notes' "how many topics?" as three runs of one workload: twelve servers each send five metrics a second
 * (cpu, rpc.latency, rpc.count, carts, mq.unacked), the dashboard's two stored queries read two of them (cpu and
 * rpc.latency), and ingestion keeps all five — some other consumer (an archive, alerting) wants the rest — so the
 * topic layout alone decides what the two aggregators must read. Only the layout changes between the runs:
 *
 * - one topic per metric (`apm-topics-per-metric`, the notes' choice): the aggregators subscribe to the two wanted
 *   metrics' topics and read exactly what their queries need;
 * - one topic for everything (`apm-topics-one`): every partition carries every metric, so the aggregators read all
 *   five and throw three away;
 * - one topic per server (`apm-topics-per-server`): every server topic carries every metric, so the aggregators read
 *   and discard as much, and each query's window is assembled from twelve partitions, one per server.
 *
 * The consequences are measured the same way in all three: samples, messages and bytes each aggregator read
 * (`apm.samplesRead`, `apm.messagesRead`, `apm.bytesRead`, and per aggregator `apm.bytesRead.agg-1` …), the samples
 * it discarded because no query of its own wanted them (`apm.samplesDiscarded`), the partitions it read from
 * (`apm.partitionsRead.agg-1` …), and how many partitions a window's data comes through (`apm.windowPartials.max`,
 * the dashboard's fan-in).
 */

const SERVERS = 12;
/** Five metrics a second from each of twelve servers. */
const SAMPLES_PER_S = SERVERS * 5;

/** What each layout needs besides the topics: partitions per topic, so the three runs have 4 to 12 partitions. */
const LAYOUT: Record<TopicStrategy, { partitionsPerTopic: number }> = {
  'per-metric': { partitionsPerTopic: 2 },
  'one-topic': { partitionsPerTopic: 4 },
  'per-server': { partitionsPerTopic: 1 },
};

function shape(topics: TopicStrategy): ApmShape {
  return {
    servers: SERVERS,
    queries: APM_QUERIES,
    dropUnused: false,
    topics,
    ...LAYOUT[topics],
    ingest: 2,
    aggregators: 2,
    spreadAgents: true,
    // A block a second per topic and server bucket: the agents publish once a second, so a block holds a second of
    // every server that hashes to its bucket, and what a message costs in headers stays small next to its samples.
    ingestConfig: { blockMs: 1000 },
  };
}

const METRICS = [
  ...APM_METRICS,
  'apm.samplesRead', 'apm.samplesDiscarded', 'apm.messagesRead', 'apm.bytesRead', 'apm.windowPartials',
  'apm.bytesRead.agg-1', 'apm.bytesRead.agg-2', 'apm.partitionsRead.agg-1', 'apm.partitionsRead.agg-2',
];

const COMMON = {
  tags: ['apm', 'mq'],
  difficulty: 'core' as const,
  minutes: 6,
  duration: '30s',
  faults: [],
  metrics: METRICS,
  liveness: APM_LIVENESS,
};

/** Samples the aggregators read over the run: about 28 seconds of a stream of `SAMPLES_PER_S` (the first second is still on its way at the start, and the last is in flight at the end). */
const READ_ALL_MIN = 25 * SAMPLES_PER_S;

export const apmTopicsPerMetric: ScenarioInput = {
  id: 'apm-topics-per-metric',
  title: 'APM topics: one per metric — each aggregator reads only what its queries need',
  summary:
    'Twelve servers send five metrics a second; the dashboard’s two queries read cpu and rpc.latency; ingestion keeps ' +
    'all five (another consumer wants them). With one topic per metric, the aggregators subscribe to the two wanted ' +
    'topics only: two partitions each, every sample they read is one a query uses, and a window is assembled from the ' +
    'two partitions of its metric’s topic. Compare apm-topics-one and apm-topics-per-server: the same workload.',
  ...COMMON,
  goals: [
    'See the aggregators subscribe to two of the five metric topics and discard nothing.',
    'Count the partitions a query’s window comes from: the two of its metric’s topic.',
    'Compare the bytes read with the other two layouts of the same workload.',
  ],
  seed: 'apm-topics',
  ...apmParts(shape('per-metric')),
  narration: [
    {
      onEvent: { kind: 'node.note', name: 'rebalance' },
      text:
        'The aggregators joined their consumer group for the topics their queries need: metric.cpu and metric.rpc.latency, two partitions each. ' +
        'The three other metric topics fill up for whoever wants them; no aggregator reads them.',
      term: { name: 'Topic per metric', meaning: 'One query reads one metric, so it reads one topic: a consumer subscribes to exactly what it computes.' },
    },
    {
      onEvent: { kind: 'node.note', name: 'window' },
      text: 'A window closed on one partition of metric.cpu. The dashboard merges it with the other partition’s: two partials per window (apm.windowPartials).',
    },
    {
      at: '20s',
      text:
        'Every sample the aggregators read was wanted: apm.samplesDiscarded stays 0, and apm.samplesRead is two fifths of what the one-topic ' +
        'layout makes them read for the same dashboard (fewer, smaller blocks: apm.bytesRead is lower too, though block headers do not shrink). ' +
        'Two thousand topics — the notes’ two thousand metrics — is a number a cluster manages.',
      say: 'One topic per metric: a query reads exactly one topic, and nothing a consumer reads is thrown away.',
    },
  ],
  expect: [
    { check: 'no-violations', text: 'Every sample is counted once in its window and every aggregate matches a recomputation.' },
    { check: 'metric', metric: 'apm.samplesDiscarded', max: 0, text: 'No aggregator reads a sample its queries do not use.' },
    { check: 'metric', metric: 'apm.samplesRead', min: Math.round(READ_ALL_MIN * 0.4), max: 30 * SAMPLES_PER_S * 0.4, text: 'The aggregators read the two wanted metrics: two fifths of the stream.' },
    { check: 'metric', metric: 'apm.windowPartials.max', max: 2, text: 'A window is merged from at most the two partitions of its metric’s topic.' },
    { check: 'metric', metric: 'apm.partitionsRead.agg-1', max: 2, text: 'agg-1 reads at most two of the four wanted partitions (agg-2 the others).' },
    { check: 'metric', metric: 'windows', min: 8, text: 'Both queries get their windows, one partial per partition.' },
  ],
};

export const apmTopicsOne: ScenarioInput = {
  id: 'apm-topics-one',
  title: 'APM topics: one for everything — every aggregator reads all and discards most',
  summary:
    'The same twelve servers, five metrics and two queries, with every metric in one topic of four partitions. Each ' +
    'partition carries all five metrics, so each aggregator reads every sample of its partitions and throws away the ' +
    'three metrics no query reads: three samples in five read for nothing. Compare apm-topics-per-metric.',
  ...COMMON,
  goals: [
    'See each aggregator read all five metrics and discard three of them (apm.samplesDiscarded).',
    'Compare the bytes read with one topic per metric for the same dashboard.',
    'Say why "one topic for everything" is too much: every consumer pays for every metric.',
  ],
  seed: 'apm-topics',
  ...apmParts(shape('one-topic')),
  narration: [
    {
      onEvent: { kind: 'node.note', name: 'rebalance' },
      text: 'The aggregators joined the one topic, metrics: two of its four partitions each. Every partition holds every metric, in blocks of servers.',
      term: { name: 'One topic for everything', meaning: 'Every consumer subscribes to all the data and filters it: the filtering is paid for by every reader.' },
    },
    {
      onEvent: { kind: 'node.note', name: 'processed' },
      text: 'An aggregator worked through a batch: of each block it kept the cpu and rpc.latency samples and discarded rpc.count, carts and mq.unacked.',
    },
    {
      at: '20s',
      text:
        'apm.samplesDiscarded is three fifths of apm.samplesRead: the aggregators read every sample to use two metrics in five. With two thousand ' +
        'metrics and a query on one, a reader would throw away 1,999 samples in 2,000.',
      say: 'One topic for everything is too much: every consumer reads everything and discards what it does not need.',
    },
  ],
  expect: [
    { check: 'no-violations', text: 'Every sample a query wants is counted once in its window.' },
    { check: 'metric', metric: 'apm.samplesRead', min: READ_ALL_MIN, text: 'The aggregators read the whole stream: all five metrics.' },
    { check: 'metric', metric: 'apm.samplesDiscarded', min: Math.round(READ_ALL_MIN * 0.6), text: 'Three samples in five are read and thrown away.' },
    { check: 'metric', metric: 'apm.windowPartials.max', min: 2, text: 'A window is spread over the topic’s partitions: each holds some servers of every metric.' },
  ],
};

export const apmTopicsPerServer: ScenarioInput = {
  id: 'apm-topics-per-server',
  title: 'APM topics: one per server — a query fans in from every server’s topic',
  summary:
    'The same workload with one topic per server: twelve topics, one partition each. A server topic carries all five of ' +
    'its metrics, so the aggregators read all of them and discard three in five, as with one topic; and a query over ' +
    'servers(web-*) must subscribe to all twelve topics: every window is merged from twelve partials, one per server. ' +
    'A new server means a new topic, a rebalance, and one more partial in every window.',
  ...COMMON,
  goals: [
    'Count the topics one query reads: one per server.',
    'See every window assembled from twelve partials (apm.windowPartials).',
    'Say why one topic per server does not fit a fleet where servers come and go.',
  ],
  seed: 'apm-topics',
  ...apmParts(shape('per-server')),
  narration: [
    {
      onEvent: { kind: 'node.note', name: 'rebalance' },
      text: 'The aggregators joined twelve topics, server.web-1 to server.web-12: six partitions each. To serve FROM servers(web-*), they must read every one.',
      term: { name: 'Topic per server', meaning: 'Each producer gets its own topic: a query over many servers subscribes to many topics and merges them.' },
      ask: {
        question: 'The cpu query reads FROM servers(web-*). How many partials will the dashboard merge into each of its points?',
        answer: { from: 'metric', metric: 'apm.windowPartials.max' },
        explain: 'One per partition the window’s samples came through: each server’s topic is a partition of its own, so twelve.',
      },
    },
    {
      onEvent: { kind: 'node.note', name: 'window' },
      text: 'A window closed on one server’s partition: it holds that one server’s samples. The dashboard will merge twelve of these for one point.',
    },
    {
      at: '20s',
      text:
        'apm.windowPartials reaches 12: each point is merged from one partial per server. The aggregators read all five metrics of every server ' +
        'and discard three (apm.samplesDiscarded). At the notes’ scale that is ten thousand topics, and a topic born or retired with every server.',
      say: 'One topic per server makes a query over the fleet fan in from every server’s topic, and servers come and go.',
    },
  ],
  expect: [
    { check: 'no-violations', text: 'Every sample a query wants is counted once in its window.' },
    { check: 'metric', metric: 'apm.windowPartials.max', min: SERVERS, text: 'A window is merged from one partial per server: twelve.' },
    { check: 'metric', metric: 'apm.partitionsRead.agg-1', min: SERVERS / 2, text: 'Each aggregator reads six server topics’ partitions.' },
    { check: 'metric', metric: 'apm.samplesDiscarded', min: Math.round(READ_ALL_MIN * 0.6), text: 'Three samples in five are read and thrown away, as with one topic.' },
  ],
};

export const APM_TOPIC_SCENARIOS: readonly ScenarioInput[] = [apmTopicsPerMetric, apmTopicsOne, apmTopicsPerServer];
