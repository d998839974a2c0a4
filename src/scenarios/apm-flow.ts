import { APM_QUERIES } from './apm-baseline.ts';
import { APM_LIVENESS, APM_METRICS, apmParts } from './apm-common.ts';
import type { ScenarioInput } from './schema.ts';

/**
 * The APM case study's load lessons: a load balancer's policy with one slow ingestion server, lag that an autoscaler
 * answers with more aggregators, and the percentile-averaging mistake.
 */
function balancer(id: string, policy: 'round-robin' | 'least-busy'): ScenarioInput {
  const rr = policy === 'round-robin';
  return {
    id,
    title: rr ? 'APM: round robin sends a slow ingestion server its full share' : 'APM: least-busy steers around a slow ingestion server',
    summary:
      'Three stateless ingestion servers sit behind the load balancer; ingest-3 has a failing disk and unpacks thirty ' +
      `times slower. ${rr ? 'Round robin gives it every third request regardless, so its queue grows and those agents wait.' : 'Least-busy asks every backend for its queue length every 100 ms (the cost: two messages per backend per poll) and sends each request where the least work waits.'}`,
    tags: ['apm', 'faults'],
    difficulty: 'core',
    minutes: 6,
    goals: [
      'Compare where requests go and how long agents wait for an answer under each policy.',
      rr ? 'See why a balancer that ignores load lets one straggler set the tail latency.' : 'Count what knowing the load costs: the polls.',
    ],
    seed: 'apm-lb',
    duration: '20s',
    ...apmParts({
      servers: 24,
      queries: APM_QUERIES.slice(0, 1),
      ingest: 3,
      aggregators: 1,
      lb: { policy, loadPollMs: 100 },
      ingestConfig: { unpackUs: 4000, perSampleUs: 200 },
      ingests: { 'ingest-3': { slowdown: 30 } },
      agent: { requestTimeoutMs: 500 },
      spreadAgents: true,
    }),
    faults: [],
    narration: [
      { at: '1s', text: rr ? 'Every third publish goes to ingest-3, which takes thirty times longer to unpack it.' : 'The balancer polled the three backends; ingest-3’s queue is the longest, so it gets fewer requests.' },
      { at: '10s', text: 'Compare apm.publishDelayMs (how long an agent waits for its second to be accepted) with the other policy’s run.' },
    ],
    expect: [
      { check: 'no-violations', text: 'Every sample is counted once in its window.' },
      ...(rr
        ? [
            { check: 'metric' as const, metric: 'apm.lbForwarded.ingest-3', min: 140, text: 'Round robin sends ingest-3 a third of the requests.' },
            { check: 'metric' as const, metric: 'apm.retries', min: 20, text: 'Its queue overflows the agents’ 500 ms timeout: they retry.' },
          ]
        : [
            { check: 'metric' as const, metric: 'apm.lbForwarded.ingest-3', max: 130, text: 'Least-busy sends the slow server fewer than its third.' },
            { check: 'metric' as const, metric: 'apm.lbPolls', min: 300, text: 'Knowing the load costs a poll of every backend ten times a second.' },
          ]),
    ],
    metrics: [...APM_METRICS, 'apm.lbForwarded.ingest-1', 'apm.lbForwarded.ingest-2', 'apm.lbForwarded.ingest-3'],
    liveness: APM_LIVENESS,
  };
}

export const apmLbRoundRobin = balancer('apm-lb-round-robin', 'round-robin');
export const apmLbLeastBusy = balancer('apm-lb-least-busy', 'least-busy');

export const apmAutoscale: ScenarioInput = {
  id: 'apm-autoscale',
  title: 'APM: lag grows, the autoscaler adds aggregators',
  summary:
    'Each aggregation server spends 40 ms on a sample (a heavy query), so one keeps up with 25 samples a second, but ' +
    'sixteen servers send two queried metrics each: 32 a second. The lag grows from the start. The autoscaler watches ' +
    'it through the control plane and activates standby aggregators, up to one per partition: a consumer group cannot ' +
    'use more consumers than partitions.',
  tags: ['apm', 'mq'],
  difficulty: 'core',
  minutes: 8,
  goals: [
    'Read lag two ways: messages waiting and the age of the oldest, and the trend that predicts the time to drain.',
    'See the autoscaler stop at the partition count, and why more partitions would be needed to go further.',
  ],
  seed: 'apm-scale',
  duration: '40s',
  ...apmParts({
    servers: 16,
    queries: APM_QUERIES,
    ingest: 2,
    aggregators: 1,
    standby: 3,
    partitionsPerTopic: 2,
    consumer: { processMs: 40, fetchMax: 100, bufferMax: 200 },
    autoscaler: { pollMs: 500, upLagMs: 1500, upAfter: 2, cooldownMs: 2000, downAfter: 20 },
  }),
  faults: [],
  narration: [
    { onEvent: { kind: 'node.note', name: 'scale' }, text: 'The oldest waiting sample is older than 1.5 s two polls in a row: the autoscaler activates a standby aggregator, whose consumer joins the group — a rebalance hands it partitions.' },
    { onEvent: { kind: 'node.note', name: 'rebalance' }, after: '3s', text: 'The new aggregator’s consumer joined the group: the control plane moved partitions to it, and their leaders put back what was in flight to the old owner, so the new one reads it first.' },
    { at: '30s', text: 'Two aggregators keep up. Had they not, the autoscaler could add two more — one per partition — and no further: more would sit idle.' },
  ],
  expect: [
    { check: 'no-violations', text: 'Scaling moves partitions without losing or double-counting a sample.' },
    { check: 'count', match: { kind: 'node.note', name: 'scale' }, min: 1, text: 'The autoscaler adds at least one aggregator.' },
    { check: 'metric', metric: 'lost', max: 0, text: 'The queue loses nothing.' },
  ],
  metrics: [...APM_METRICS],
  liveness: APM_LIVENESS,
};

export const apmPercentiles: ScenarioInput = {
  id: 'apm-percentiles',
  title: 'APM: the average of p99s is not the p99',
  summary:
    'The RPC-latency topic has two partitions, so each 10 s window is computed twice, once per partition, and the ' +
    'dashboard merges the two. One of the eight servers is in trouble: its latencies run eight times higher. The ' +
    'dashboard shows the true p99 from the merged DDSketches next to the average of the two partitions’ p99s — the ' +
    'mistake of averaging percentiles — and the checker recomputes every window from its samples.',
  tags: ['apm'],
  difficulty: 'deep',
  minutes: 6,
  goals: [
    'See why percentiles do not average, and what mergeable sketches give instead.',
    'Read DDSketch’s promise: every percentile within 1% of the true value.',
  ],
  seed: 'apm-p99',
  duration: '40s',
  ...apmParts({
    servers: 8,
    queries: [{ id: 'latency', name: 'Max RPC latency, p50 / p90 / p99', text: 'FROM servers(web-*) SELECT rpc.latency WINDOW 10s COMPUTE avg, p50, p90, p99, max' }],
    ingest: 2,
    aggregators: 2,
    partitionsPerTopic: 2,
    agents: { 'web-3': { skew: { 'rpc.latency': 8 } } },
  }),
  faults: [],
  narration: [
    {
      onEvent: { kind: 'node.note', name: 'window' },
      text: 'A partition’s window closed: its p99 covers only the servers whose samples hash to this partition.',
      say: 'Percentiles do not compose: the p99 of two partitions is not the average of their p99s, so we ship mergeable sketches instead.',
      term: { name: 'DDSketch', meaning: 'A mergeable quantile sketch with relative-error buckets: merging two sketches gives the sketch of the union.' },
      ask: {
        question: 'By 25 s, will the checker find a window whose stored p99 differs from a recomputation from its samples?',
        answer: { from: 'checker', checker: 'apm.windows', at: '25s' },
        explain: 'No: the dashboard merges the partitions’ DDSketches, and a merged sketch answers any percentile within 1% of the true value. Only the “average of partials” line is wrong — and it is drawn, never stored as p99.',
      },
    },
    {
      at: '25s',
      text: 'On the dashboard, compare p99 (merged sketches) with “avg of partials”: the hot server’s partition drags one partial up, and averaging halves its weight.',
      say: 'Aggregate raw data or mergeable summaries, never pre-computed percentiles.',
      term: { name: 'Mergeable aggregate', meaning: 'A summary (count, sum, min, max, sketch) whose merge equals the summary of the combined data.' },
    },
  ],
  expect: [
    { check: 'no-violations', text: 'Every window’s aggregates equal a recomputation from its samples.' },
    { check: 'metric', metric: 'windows', min: 6, text: 'Both partitions write their windows.' },
  ],
  metrics: [...APM_METRICS],
  liveness: APM_LIVENESS,
};
