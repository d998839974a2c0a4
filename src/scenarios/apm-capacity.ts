import { computeCapacity, formatNumber as n, NOTES_CAPACITY, NOTES_PRESET_SCALE, presetFromCapacity } from '../sim/apm/capacity.ts';
import { APM_QUERIES } from './apm-baseline.ts';
import { APM_LIVENESS, APM_METRICS, apmParts, metricCatalogue } from './apm-common.ts';
import type { ScenarioInput } from './schema.ts';

/**
 * The notes' capacity plan as a run: the calculator's default sizing (src/sim/apm/capacity.ts — 10,000 servers ×
 * 2,000 metrics × 16 B = 320 MB/s; 320 / 100 MB/s → 4 partitions; × 3 replicas = 12 brokers), scaled down by
 * `presetFromCapacity` to a fleet a browser simulates and a topology view can show: 1:500 on servers and on metrics
 * per server.
 *
 * Settings cannot change a scenario's partitions or brokers (only node config and stored queries), so the calculator
 * panel opens this preset rather than resizing apm-baseline. It is built from the calculator itself, so the two
 * cannot drift apart: change the notes' numbers there and this topology follows.
 *
 * The layout is the calculator's model, not apm-baseline's: every metric travels through the queue (no dropping of
 * unused metrics, which is the notes' next saving), in one topic of `partitions` partitions, and every replica has a
 * broker of its own. Ingestion gathers samples for 100 ms into one message per server bucket (Kafka's record
 * batches). Broker bandwidth is not throttled: the sim's disks and NICs charge a replication message's full size on
 * the leader's NIC (every follower's copy), which the notes' one-number broker does not model, so the run shows the
 * sized topology and its flow, and the calculator shows the load.
 */
export const CAPACITY_PRESET = presetFromCapacity(computeCapacity(NOTES_CAPACITY), NOTES_PRESET_SCALE);

const real = computeCapacity(NOTES_CAPACITY);
const p = CAPACITY_PRESET;
const scale = `1:${n(1 / p.scale)}`;

export const apmCapacity: ScenarioInput = {
  id: 'apm-capacity',
  title: `APM: the notes’ capacity plan, ${p.partitions} partitions × ${p.replicationFactor} = ${p.brokers} brokers (scaled ${scale})`,
  summary:
    `The capacity calculator’s default sizing as a run. ${n(real.input.servers)} servers × ${n(real.input.metricsPerServer)} ` +
    `metrics × ${n(real.input.bytesPerMetric)} B = ${n(real.mbPerS)} MB/s; a broker takes about ${n(real.input.brokerMBps)} MB/s, ` +
    `so ${p.partitions} partitions, each a Raft group of ${p.replicationFactor} replicas on brokers of their own: ${p.brokers} brokers. ` +
    `Scaled ${scale} on servers and on metrics per server to ${n(p.servers)} × ${n(p.metricsPerServer)} = ${n(p.messagesPerS)} ` +
    `samples a second (1:${n(1 / p.trafficScale)} of the traffic), with the same partitions, replicas and brokers. Every metric goes ` +
    'through the queue, as the calculator assumes; the dashboard reads two of them.',
  tags: ['apm', 'mq'],
  difficulty: 'core',
  minutes: 6,
  goals: [
    `Match each line of the calculator to the run: the samples per second, the ${p.partitions} partitions, the ${p.brokers} brokers.`,
    `See one partition’s leader take 1/${p.partitions} of the stream and each follower copy all of it.`,
    'Say why a replica group has an odd size: 2f + 1 replicas keep a majority through f failures; one more adds nothing.',
  ],
  seed: 'capacity',
  duration: '25s',
  ...apmParts({
    servers: p.servers,
    metrics: metricCatalogue(p.metricsPerServer),
    queries: APM_QUERIES,
    dropUnused: false,
    topics: 'one-topic',
    partitionsPerTopic: p.partitions,
    brokers: p.brokers,
    replicas: p.replicationFactor,
    ownBrokers: true,
    ingest: 2,
    aggregators: p.partitions,
    spreadAgents: true,
    agent: { heartbeatMs: 5000 },
    ingestConfig: { blockMs: 100 },
    consumer: { processMs: 0.001, fetchMax: 2000, bufferMax: 8000 },
  }),
  faults: [],
  narration: [
    {
      at: '500ms',
      text:
        `${n(p.servers)} agents each publish ${n(p.metricsPerServer)} metrics a second: ${n(p.messagesPerS)} samples of ` +
        `${n(p.bytesPerMetric)} B, ${n(p.messagesPerS * p.bytesPerMetric)} B/s — the notes’ ${n(real.mbPerS)} MB/s, scaled ${scale} each way.`,
      say: `${n(real.mbPerS)} MB/s over brokers of about ${n(real.input.brokerMBps)} MB/s needs ${p.partitions} partitions; ${p.replicationFactor} replicas each makes ${p.brokers} brokers.`,
      term: { name: 'Back-of-envelope sizing', meaning: 'Throughput ÷ what one broker takes, rounded up, gives partitions; partitions × replicas gives brokers.' },
    },
    {
      onEvent: { kind: 'node.note', name: 'rebalance' },
      text: `The ${p.partitions} aggregators joined one consumer group: the control plane dealt each one partition. More aggregators than partitions would sit idle.`,
    },
    {
      onEvent: { kind: 'node.note', name: 'window' },
      text: `A window closed: each aggregator wrote its partition’s partial of the window; the dashboard merges the ${p.partitions} partials into one point.`,
    },
    {
      at: '15s',
      text:
        `Each partition’s leader takes 1/${p.partitions} of the stream (${n(p.messagesPerS / p.partitions)} samples/s here, ${n(real.perPartitionMBps)} MB/s ` +
        `in the real fleet: ${n(real.brokerUtilization * 100)}% of a broker) and each follower copies all of it — every broker carries one partition’s full rate.`,
      say: `A replica group is an odd number of brokers: ${p.replicationFactor} keep a majority of ${Math.floor(p.replicationFactor / 2) + 1} through ${real.failuresTolerated} failure${real.failuresTolerated === 1 ? '' : 's'}.`,
    },
  ],
  expect: [
    { check: 'no-violations', text: 'Every sample is counted once in its window and every aggregate matches a recomputation.' },
    { check: 'metric', metric: 'windows', min: 8, text: 'Both queries get a window from every partition every 10 s.' },
    { check: 'metric', metric: 'lost', max: 0, text: 'The queue loses nothing.' },
  ],
  metrics: [...APM_METRICS],
  liveness: APM_LIVENESS,
};
