import { APM_QUERIES } from './apm-baseline.ts';
import { APM_LIVENESS, APM_METRICS, apmParts, type ApmShape } from './apm-common.ts';
import type { ScenarioInput } from './schema.ts';

/**
 * The APM case study's failure lessons: a network outage between a rack and the load balancer (exponential backoff
 * with jitter vs fixed retries), an aggregator crash in the middle of a window, and data arriving past the watermark.
 */
const RACK = ['web-1', 'web-2', 'web-3', 'web-4', 'web-5', 'web-6'];
const BASE: Omit<ApmShape, 'agent'> = { servers: 12, queries: APM_QUERIES, ingest: 2, aggregators: 2, partitionsPerTopic: 2 };

function outage(id: string, retry: 'exponential' | 'fixed', jitter: boolean): ScenarioInput {
  const exp = retry === 'exponential';
  return {
    id,
    title: exp ? 'APM: a network outage, retried with exponential backoff and jitter' : 'APM: a network outage, retried at fixed intervals',
    summary:
      'A rack of six servers loses its link to the load balancer for four seconds. Each agent keeps its unsent seconds ' +
      `in a buffer and retries ${exp ? 'after 10, 20, 40, 80 ms and then every 80 ms, each wait drawn from ½ to 1½ of its value (jitter)' : 'every 10 ms, all at the same instants'}. ` +
      'When the link heals, the backlog arrives — and, because the other servers kept the watermark moving, as late data.',
    tags: ['apm', 'faults'],
    difficulty: 'core',
    minutes: 8,
    goals: [
      exp ? 'See the waits double — the notes’ “binary search” over what might have gone wrong, from a 1 ms switch blip to a server restart.' : 'See six agents retry in lock step: the herd that fixed intervals make.',
      'Count the retries each policy spends on the same outage.',
      'See the backlog arrive after the heal and miss its windows: late data, counted but not aggregated.',
    ],
    seed: 'apm-outage',
    duration: '30s',
    ...apmParts({ ...BASE, agent: { retry, jitter, backoffBaseMs: 10, backoffMaxMs: exp ? 80 : 10 } }),
    faults: [
      { at: '8.2s', kind: 'partition', shape: 'groups', groups: [RACK, ['lb']] },
      { at: '12.2s', kind: 'heal' },
    ],
    narration: [
      {
        at: '8.2s',
        text: 'The rack’s uplink fails: six agents can no longer reach the load balancer. Their publishes time out.',
        say: 'Agents buffer locally and retry, so a short network outage delays metrics instead of losing them.',
        term: { name: 'Store and forward', meaning: 'Keep data in a local buffer while the next hop is unreachable; send it when the link returns.' },
        ask: {
          question: 'Will any of the rack’s samples arrive too late for its window (by 16 s)?',
          answer: { from: 'metric-above', metric: 'lateSamples', above: 0, at: '16s', evidence: { kind: 'node.note', name: 'late' } },
          explain: 'Yes: the other six servers keep the watermark moving, so the windows of the outage close before the backlog arrives. Those samples are counted late, not aggregated.',
        },
      },
      {
        onEvent: { kind: 'node.note', name: 'retry' },
        after: '8.2s',
        text: exp ? 'An agent retries after a short wait, and doubles it each time: 10, 20, 40, 80 ms.' : 'An agent retries after 10 ms — and so do the other five, at the same instants.',
        say: exp
          ? 'We retry with exponential backoff and jitter: quick for a blip, gentle for a long outage, and clients spread out instead of stampeding.'
          : 'Fixed-interval retries from many clients line up into a thundering herd that hits the recovering service all at once.',
        term: exp
          ? { name: 'Exponential backoff with jitter', meaning: 'Double the wait after each failure, up to a cap, and randomize each wait so clients do not synchronize.' }
          : { name: 'Thundering herd', meaning: 'Many clients acting at the same instant (retrying, reconnecting) and overloading a service together.' },
      },
      {
        at: '12.2s',
        text: 'The link heals. Each agent sends its buffered seconds, oldest first.',
        say: 'After an outage the backlog arrives on top of live traffic: size the pipeline for catch-up, not just the steady state.',
        term: { name: 'Backlog', meaning: 'Work queued during an outage that must be drained on top of the live load.' },
      },
      {
        onEvent: { kind: 'node.note', name: 'late' },
        text: 'A sample arrived after its window closed: the watermark, moved on by the healthy servers, had passed it. It is counted late, not aggregated.',
        say: 'Windows are by event time; the watermark decides when a window is complete, and anything behind it is late data.',
        term: { name: 'Watermark', meaning: 'The stream processor’s estimate that no more events older than time T will arrive; it closes windows.' },
      },
    ],
    expect: [
      { check: 'no-violations', text: 'No sample is counted twice or lost from a window it was in time for.' },
      { check: 'metric', metric: 'apm.retries', min: 20, text: 'The rack’s agents retry while cut off.' },
      { check: 'metric', metric: 'lateSamples', min: 1, text: 'Part of the backlog arrives after its window closed.' },
      { check: 'count', match: { kind: 'node.note', name: 'buffer-drop' }, max: 0, text: 'Four seconds fit in the agents’ buffers: nothing is dropped.' },
    ],
    metrics: [...APM_METRICS],
    liveness: APM_LIVENESS,
  };
}

export const apmOutageBackoff = outage('apm-outage-backoff', 'exponential', true);
export const apmOutageFixed = outage('apm-outage-fixed', 'fixed', false);

export const apmAggregatorCrash: ScenarioInput = {
  id: 'apm-aggregator-crash',
  title: 'APM: an aggregator crashes in the middle of a window',
  summary:
    'Two aggregators share the metric topics’ partitions. At 14.5 s one crashes with half-built windows in memory. ' +
    'Nothing it held was acked — samples are acked only after their window is stored — so the control plane hands its ' +
    'partitions to the survivor, the queue redelivers the samples after their visibility timeout, and the survivor ' +
    'rebuilds those windows whole. No window is lost, none is stored twice with different values.',
  tags: ['apm', 'mq', 'faults', 'semantics'],
  difficulty: 'core',
  minutes: 10,
  goals: [
    'See why “write the data point, then ack” makes a crash harmless.',
    'Watch the consumer group rebalance and the unacked samples come back.',
    'Check the window evidence: each sample counted once, every aggregate recomputed.',
  ],
  seed: 'apm-crash',
  duration: '50s',
  ...apmParts({ ...BASE, servers: 8, aggregator: { idleMs: 2000 } }),
  faults: [
    { at: '14.5s', kind: 'crash', node: 'agg-1' },
    { at: '30s', kind: 'restart', node: 'agg-1' },
  ],
  narration: [
    { at: '14.5s', text: 'agg-1 crashes. Its open windows (10–20 s) die with it; none of their samples was acked.' },
    { onEvent: { kind: 'node.note', name: 'member-expired' }, text: 'The control plane stopped hearing agg-1’s consumer and rebalanced: agg-2 now owns every partition.' },
    { onEvent: { kind: 'node.note', name: 'redeliver' }, text: 'The visibility timeout of agg-1’s unacked samples ran out: the queue delivers them again, to agg-2.' },
    { at: '30s', text: 'agg-1 restarts empty and rejoins; the group rebalances again.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No window lost, none written twice with different contents, every aggregate correct.' },
    { check: 'metric', metric: 'windows', min: 16, text: 'Every window of both queries on both partitions is written through the crash.' },
    { check: 'metric', metric: 'lost', max: 0, text: 'The queue loses nothing.' },
  ],
  metrics: [...APM_METRICS],
  liveness: APM_LIVENESS,
};

export const apmLateData: ScenarioInput = {
  id: 'apm-late-data',
  title: 'APM: late data, the watermark and allowed lateness',
  summary:
    'One server’s path to the load balancer turns slow (1.5 s) for ten seconds. Its samples still carry the time they ' +
    'were taken (event time), so they belong in their own windows — but the watermark, moved by the other servers, ' +
    'has passed them. The query with no allowed lateness counts them late; the same query with LATENESS 3s keeps ' +
    'each window open 3 s longer and aggregates them.',
  tags: ['apm', 'faults'],
  difficulty: 'deep',
  minutes: 8,
  goals: [
    'Tell event time from processing time, and see what a watermark promises.',
    'Compare a window that waits (allowed lateness) with one that does not: completeness against freshness.',
  ],
  seed: 'apm-late',
  duration: '40s',
  ...apmParts({
    servers: 8,
    ingest: 2,
    aggregators: 2,
    partitionsPerTopic: 1,
    queries: [
      { id: 'cpu', name: 'CPU, no lateness', text: 'FROM servers(web-*) SELECT cpu WINDOW 5s COMPUTE min, max, avg, count' },
      { id: 'cpu-patient', name: 'CPU, 3 s allowed lateness', text: 'FROM servers(web-*) SELECT cpu WINDOW 5s LATENESS 3s COMPUTE min, max, avg, count' },
    ],
  }),
  faults: [
    { at: '10s', kind: 'link', from: 'web-8', to: 'lb', set: { latencyMs: 1500 } },
    { at: '20s', kind: 'link', from: 'web-8', to: 'lb', set: { latencyMs: 1 } },
  ],
  narration: [
    { at: '10s', text: 'web-8’s link to the load balancer slows to 1.5 s. Its samples keep their event times.' },
    { onEvent: { kind: 'node.note', name: 'late' }, text: 'A web-8 sample reached the aggregator after the watermark passed its window’s end: the impatient query counts it late.' },
    { at: '20s', text: 'The link recovers. Compare the two queries’ counts per window on the dashboard.' },
  ],
  expect: [
    { check: 'no-violations', text: 'Late samples are counted as late, never lost silently and never counted twice.' },
    { check: 'metric', metric: 'lateSamples', min: 3, text: 'The impatient query misses some of web-8’s samples.' },
  ],
  metrics: [...APM_METRICS],
  liveness: APM_LIVENESS,
};
