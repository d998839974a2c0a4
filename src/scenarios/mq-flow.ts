import { MQ_LIVENESS, MQ_METRICS, mqTopology } from './mq-common.ts';
import type { ScenarioInput } from './schema.ts';

const base = { tags: ['mq'], difficulty: 'core' as const, minutes: 6, metrics: [...MQ_METRICS], liveness: MQ_LIVENESS };

export const mqPriority: ScenarioInput = {
  ...base,
  id: 'mq-priority',
  title: 'MQ: priority lanes under load',
  summary: 'Producers write 600 messages a second — 10% urgent (lane 0), 30% normal, 60% bulk — to a consumer that ' +
    'handles 400. The backlog grows, but the broker always serves the highest non-empty lane first: urgent messages ' +
    'wait a fraction of a second, bulk ones seconds.',
  goals: ['Compare end-to-end latency per lane (e2eLatencyMs.lane0 … lane2).', 'See why priorities need a backlog to matter.'],
  seed: 'priority',
  duration: '5s',
  topology: mqTopology({
    brokers: 3, partitions: 1, replicas: 3,
    producers: [{ ratePerS: 600, stopAtMs: 3000, laneWeights: [1, 3, 6] }],
    consumers: [{ processMs: 2.5, fetchMax: 20, bufferMax: 40 }],
  }),
  metrics: [...MQ_METRICS, 'e2eLatencyMs.lane0', 'e2eLatencyMs.lane1', 'e2eLatencyMs.lane2'],
  faults: [],
  narration: [
    { at: '1s', text: 'The consumer is slower than the producers: a backlog builds in the lanes.' },
    { at: '3s', text: 'Producers stop. Urgent messages never waited behind bulk ones; the bulk lane drains last.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No safety property fails.' },
    { check: 'metric', metric: 'e2eLatencyMs.lane0.p90', max: 500, text: 'Urgent messages (lane 0) are processed within half a second (p90): the consumer’s own buffer is most of it.' },
    { check: 'metric', metric: 'e2eLatencyMs.lane2.p90', min: 1000, text: 'Bulk messages (lane 2) wait over a second (p90): they queue behind every urgent and normal one.' },
  ],
};

function spike(mode: 'push' | 'pull'): ScenarioInput {
  const push = mode === 'push';
  return {
    ...base,
    id: `mq-${mode}-spike`,
    title: push ? 'MQ: push overruns a slow consumer in a spike' : 'MQ: pull smooths the same spike',
    summary: push
      ? 'A producer bursts from 100 to 3,000 messages a second for half a second. With push the broker sends as fast as ' +
        'messages arrive; the consumer (500 a second, room for 200) is overrun and drops what does not fit. Dropped ' +
        'messages come back after their visibility timeout: the spike becomes redeliveries. Push protects the broker’s memory.'
      : 'The same burst with pull: the consumer asks only for what it has room for. The queue absorbs the spike and the ' +
        'consumer works at capacity until it drains — the lecture’s “smoothing traffic over time”. Pull protects the consumer.',
    goals: [push ? 'See overrun and the redeliveries it causes.' : 'See the queue depth rise and drain while the consumer stays at capacity.'],
    seed: 'spike',
    duration: '6s',
    topology: mqTopology({
      brokers: 3, partitions: 1, replicas: 3,
      producers: [{ ratePerS: 100, stopAtMs: 3000, spikes: [{ fromMs: 1000, toMs: 1500, ratePerS: 3000 }] }],
      consumers: [{ mode, processMs: 2, bufferMax: 200, fetchMax: 100 }],
      partition: { visibilityMs: 1000 },
    }),
    metrics: [...MQ_METRICS, 'depth.orders-0', 'e2eLatencyMs'],
    faults: [],
    narration: [
      {
        at: '1s',
        text: 'The spike starts: 30× the usual rate for half a second.',
        say: push
          ? 'With push the broker decides the rate: great latency when the consumer keeps up, overload when it cannot.'
          : 'We choose pull because the consumer knows its own capacity: it fetches only what it has room for, and the log absorbs the spike.',
        term: push
          ? { name: 'Push delivery', meaning: 'The broker sends messages as they arrive (RabbitMQ, most JMS brokers); the consumer needs flow control.' }
          : { name: 'Pull (fetch)', meaning: 'The consumer asks for the next batch from its offset (Kafka): natural backpressure.' },
        ask: {
          question: 'Will the consumer be overrun and drop messages during the spike?',
          answer: push
            ? { from: 'metric-above', metric: 'overrun', above: 0, evidence: { kind: 'node.note', name: 'overrun' } }
            : { from: 'metric-above', metric: 'overrun', above: 0 },
          explain: push
            ? 'Yes: at 3,000 a second the broker pushes six times what the consumer processes; its 200-message buffer fills and the rest is dropped, to come back after the visibility timeout.'
            : 'No: the consumer never asks for more than its buffer holds. The spike waits in the partition’s log instead — the queue depth rises and drains.',
        },
      },
      push
        ? {
            onEvent: { kind: 'node.note', name: 'overrun' },
            text: 'The consumer’s buffer is full and the broker keeps pushing: messages are dropped on the floor.',
            say: 'Push needs backpressure (credits, prefetch limits) or the spike turns into drops and redeliveries.',
            term: { name: 'Backpressure', meaning: 'A slow receiver slowing the sender down instead of being overrun.' },
          }
        : {
            at: '1.6s',
            text: 'The spike is over; the queue holds the excess and the consumer drains it at its own pace.',
            say: 'The queue smooths traffic over time: producers and consumers no longer need the same peak capacity.',
            term: { name: 'Consumer lag', meaning: 'How far the consumer’s offset is behind the end of the log; it grows in a spike and drains after.' },
          },
    ],
    expect: push
      ? [
          { check: 'no-violations', text: 'No safety property fails.' },
          { check: 'metric', metric: 'overrun', min: 1, text: 'The consumer is overrun.' },
          { check: 'metric', metric: 'redelivered', min: 1, text: 'What was dropped is delivered again after its visibility timeout.' },
        ]
      : [
          { check: 'no-violations', text: 'No safety property fails.' },
          { check: 'metric', metric: 'overrun', max: 0, text: 'The consumer is never overrun.' },
          { check: 'metric', metric: 'depth.orders-0.max', min: 200, text: 'The queue absorbs the spike.' },
          { check: 'metric', metric: 'pending', max: 0, text: 'And drains it by the end.' },
        ],
  };
}

export const mqPushSpike = spike('push');
export const mqPullSpike = spike('pull');

export const mqRebalance: ScenarioInput = {
  ...base,
  id: 'mq-rebalance-failover',
  title: 'MQ: consumer-group rebalance during a broker failover',
  summary: 'Three partitions, three consumers. At 1 s consumer c3 dies; after its session timeout the coordinator ' +
    'rebalances its partition to the others. At 1.5 s broker b1 loses power: the partitions it led elect new leaders, ' +
    'and consumers find them through the coordinator. At 2.5 s c3 returns and the group rebalances again.',
  tags: ['mq', 'faults', 'raft'],
  goals: ['See the generation move on each join, leave and death.', 'See consumers follow partition leaders after a failover.'],
  seed: 'rebalance',
  duration: '5s',
  topology: mqTopology({
    brokers: 3, partitions: 3, replicas: 3,
    producers: [{ ratePerS: 300, stopAtMs: 3500 }],
    consumers: [{}, {}, {}],
  }),
  faults: [
    { at: '1s', kind: 'crash', node: 'c3' },
    { at: '1.5s', kind: 'crash', node: 'b1' },
    { at: '2.5s', kind: 'restart', node: 'c3' },
    { at: '3s', kind: 'restart', node: 'b1' },
  ],
  narration: [
    { onEvent: { kind: 'node.note', name: 'member-expired' }, text: 'c3 missed its heartbeats for a session timeout: the coordinator takes its partitions back.' },
    { onEvent: { kind: 'node.note', name: 'rebalance' }, after: '1s', text: 'Rebalance: a new generation, partitions dealt out again to the live members.' },
    { onEvent: { kind: 'node.crash', node: 'b1.orders-0' }, text: 'Broker b1 is down, with its replica of every partition.' },
    { onEvent: { kind: 'node.note', name: 'rebalance' }, after: '2.5s', text: 'c3 is back and joins: another rebalance.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No quorum-acknowledged write is lost through the failover and both rebalances.' },
    { check: 'count', match: { kind: 'node.note', name: 'rebalance' }, min: 5, text: 'The group rebalances on each join, the death and the return.' },
    { check: 'metric', metric: 'lost', max: 0, text: 'Nothing acknowledged is lost.' },
  ],
};

export const mqHotKey: ScenarioInput = {
  ...base,
  id: 'mq-hot-key',
  title: 'MQ: a hot key overloads one partition',
  summary: 'Messages are partitioned by key hash, so all messages of a key stay in order on one partition — and 70% of ' +
    'the traffic uses one key. That partition’s queue grows while the others idle: adding consumers does not help, ' +
    'because a partition has one consumer in the group. The fix is a better key (or splitting the hot one).',
  goals: ['Compare queue depth per partition (depth.orders-N).', 'Say why key-hash keeps order and why it makes hot spots.'],
  seed: 'hot',
  duration: '5s',
  topology: mqTopology({
    brokers: 3, partitions: 3, replicas: 3,
    producers: [{ ratePerS: 600, stopAtMs: 3000, partitioner: 'key-hash', hotKeyShare: 0.7 }],
    consumers: Array.from({ length: 3 }, () => ({ processMs: 3, fetchMax: 50, bufferMax: 100 })),
  }),
  metrics: [...MQ_METRICS, 'lagMs', 'depth.orders-0', 'depth.orders-1', 'depth.orders-2'],
  faults: [],
  narration: [{ at: '1.5s', text: 'One partition holds the hot key: its queue grows while the other two stay near empty.' }],
  expect: [
    { check: 'no-violations', text: 'No safety property fails.' },
    { check: 'metric', metric: 'reordered', max: 0, text: 'Key-hash keeps every key in order.' },
    { check: 'metric', metric: 'lagMs.max', min: 300, text: 'The hot partition lags behind.' },
  ],
};
