import type { ScenarioInput } from './schema.ts';

/**
 * The notes' "stream processing before 2010" lesson: a smart broker (RabbitMQ / JMS style: small in-memory queues,
 * push, per-message acks, delete on ack) against a partitioned log (Kafka style: append-only, consumers keep offsets,
 * retention) under the same high-velocity stream — 500 orders a second for 28 s — and the same trouble: the `worker`
 * consumer (800 orders a second) slows to 100 a second from 5 s to 13 s, a downstream hiccup. At 18 s a second
 * downstream system, `audit`, starts and wants every order.
 * - smart broker: the worker's queue fills (1,000 messages) and the broker drops the oldest; the audit queue is
 *   declared at 18 s and gets only what is published from then on. Memory stays small; data is lost.
 * - partitioned log: the backlog is just a gap between the worker's offset and the end of the log; the worker catches
 *   up once it is fast again, and audit replays the log from the first offset. Nothing is lost; the price is delay.
 * The ledger checker's `missed:<consumer>` says, per consumer, how many generated orders it never processed.
 */

type Design = 'smart-broker' | 'partitioned-log';

const ORDERS = { ratePerS: 500, tickMs: 50, keys: 64, stopAtMs: 28_000 };
const SLOW = { fromMs: 5_000, toMs: 13_000, ratePerS: 100 };
const METRICS = [
  'generated', 'processed', 'ledgerGenerated', 'missed:worker', 'missed:audit', 'duplicates:worker', 'duplicates:audit', 'backlogRecords', 'backlogRecords:worker', 'backlogRecords:audit', 'lagMs:worker', 'lagMs:audit',
  'brokerDropped', 'brokerPublished', 'retentionSkipped', 'sourceDropped',
];

function nodes(design: Design): ScenarioInput['topology']['nodes'] {
  if (design === 'smart-broker') {
    return [
      { id: 'orders', kind: 'lesson-source', config: { target: 'broker', ...ORDERS } },
      { id: 'broker', kind: 'lesson-broker', config: { queueMax: 1_000, overflow: 'drop-head' } },
      { id: 'worker', kind: 'lesson-consumer', config: { from: 'broker', mode: 'push', prefetch: 50, ratePerS: 800, fixedCostMs: 0.5, slow: SLOW } },
      { id: 'audit', kind: 'lesson-consumer', config: { from: 'broker', mode: 'push', prefetch: 200, ratePerS: 3_000, fixedCostMs: 0.5, startAtMs: 18_000 } },
    ];
  }
  const pull = { from: 'log', mode: 'pull', partitions: 4, pollMs: 50, fixedCostMs: 0.5 };
  return [
    { id: 'orders', kind: 'lesson-source', config: { target: 'log', ...ORDERS } },
    { id: 'log', kind: 'lesson-log', config: { partitions: 4, retentionMs: 600_000, segmentRecords: 1_000 } },
    { id: 'worker', kind: 'lesson-consumer', config: { ...pull, fetchMax: 50, bufferMax: 200, ratePerS: 800, slow: SLOW } },
    { id: 'audit', kind: 'lesson-consumer', config: { ...pull, fetchMax: 500, bufferMax: 2_000, ratePerS: 3_000, startAtMs: 18_000, startFrom: 'earliest' } },
  ];
}

const COMMON = {
  tags: ['lesson', 'mq', 'semantics'],
  difficulty: 'core' as const,
  minutes: 8,
  seed: 'before-2010',
  duration: '35s',
  faults: [],
  metrics: METRICS,
};

export const lessonSmartBroker: ScenarioInput = {
  ...COMMON,
  id: 'lesson-smart-broker',
  title: 'Lesson: a smart broker with small queues under a high-velocity stream',
  summary:
    'Before 2010, “stream processing” meant a message broker such as RabbitMQ or ActiveMQ: the broker is smart (it ' +
    'routes, pushes, tracks every message until it is acknowledged, then deletes it) and the clients are dumb. It works ' +
    'best when queues are short. Here 500 orders a second flow through it; the worker slows to 100 a second for 8 s, its ' +
    'queue reaches its 1,000-message limit, and the broker drops the oldest. A second consumer that starts later gets ' +
    'only what is published after it subscribed: acknowledged messages are gone, there is nothing to replay.',
  goals: [
    'Watch the worker’s queue depth (backlogRecords:worker, the broker’s backlog state) hit its limit and stay there while the broker drops (brokerDropped).',
    'Read missed:worker — orders the worker never saw — and missed:audit — everything before audit subscribed.',
    'Compare with lesson-partitioned-log: same orders, same slowdown. With overflow: reject-publish the broker pushes back on the source instead, which must then buffer or drop.',
  ],
  topology: { nodes: nodes('smart-broker'), link: { latencyMs: 1, jitterMs: 0.5 } },
  narration: [
    { at: '0', text: 'The worker subscribes; the broker declares its queue and pushes at most 50 unacknowledged orders at a time. Each is deleted once acknowledged.' },
    { onEvent: { kind: 'node.note', name: 'slow-start' }, text: 'The worker slows to 100 orders a second (a slow database downstream). 400 a second now pile up in its queue, in the broker’s memory.' },
    { onEvent: { kind: 'node.note', name: 'dropped' }, text: 'The queue holds its limit of 1,000 ready messages: the broker drops the oldest to take the newest (RabbitMQ’s drop-head overflow). These orders are lost.' },
    { onEvent: { kind: 'node.note', name: 'slow-end' }, text: 'The worker is fast again and drains the short queue in a few seconds — but what was dropped is not coming back.' },
    { onEvent: { kind: 'node.note', name: 'queue-declared' }, after: '17s', text: 'Audit subscribes 18 s in. Its queue starts empty: a broker keeps no history, so the orders of the first 18 s are not available to it.' },
    { at: '34s', text: 'The ledger: missed:worker is what the broker dropped; missed:audit is everything before it subscribed. The broker kept memory small by losing data.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No invariant is violated.' },
    { check: 'metric', metric: 'brokerDropped', min: 1_500, text: 'The broker drops well over 1,500 orders from the full queue.' },
    { check: 'metric', metric: 'missed:worker', min: 1_500, text: 'The worker never processes them: over 1,500 orders missed.' },
    { check: 'metric', metric: 'missed:audit', min: 8_000, text: 'Audit misses everything published before it subscribed (18 s × 500 a second).' },
    { check: 'metric', metric: 'backlogRecords:worker.max', max: 1_100, text: 'The worker’s queue never holds more than its limit plus what is in flight: small queues, small memory.' },
    { check: 'metric', metric: 'duplicates:worker', max: 0, text: 'Nothing is processed twice.' },
    { check: 'metric', metric: 'lagMs:worker.max', max: 3_500, text: 'The worker is never far behind — not because it kept up, but because the orders it would have been behind on were dropped.' },
    { check: 'count', match: { kind: 'node.note', name: 'dropped' }, from: '5s', to: '13.5s', min: 1, text: 'The drops happen during the slowdown.' },
  ],
};

export const lessonPartitionedLog: ScenarioInput = {
  ...COMMON,
  id: 'lesson-partitioned-log',
  title: 'Lesson: a partitioned log absorbs the backlog and replays',
  summary:
    'The same 500 orders a second go to a Kafka-style log: four append-only partitions (by customer), kept for ten ' +
    'minutes whether read or not. Consumers pull from their own offsets and commit them back. When the worker slows ' +
    'to 100 a second for 8 s, its backlog is just a gap between its offset and the end of the log — about 3,000 ' +
    'orders — and once it is fast again it catches up. Audit starts at 18 s from the first offset and replays every ' +
    'order. Nothing is lost; the price is delay: during the backlog an order waits seconds to be processed.',
  goals: [
    'Watch the worker’s backlog (backlogRecords:worker, the log’s backlog state) grow to about 3,000 during the slowdown and fall back to zero: the log absorbs it.',
    'Read missed:worker and missed:audit: zero — the worker caught up and audit replayed from offset 0.',
    'Read lagMs:worker.max: the cost of absorbing — seconds of delay instead of loss.',
  ],
  topology: { nodes: nodes('partitioned-log'), link: { latencyMs: 1, jitterMs: 0.5 } },
  narration: [
    { at: '0', text: 'Orders are appended to four partitions by customer. The worker fetches from its own offsets; the log only stores.' },
    { onEvent: { kind: 'node.note', name: 'slow-start' }, text: 'The worker slows to 100 a second. The log does not care: it appends, and the worker’s offset falls further behind the end.' },
    { onEvent: { kind: 'node.note', node: 'worker', name: 'fell-behind' }, text: 'The worker is more than 2 s behind. Its backlog lives on the log’s disk, not in a queue in memory.' },
    { onEvent: { kind: 'node.note', name: 'slow-end' }, text: 'The worker is fast again (800 a second, 300 more than arrive): it works through the backlog at full speed.' },
    { onEvent: { kind: 'node.note', node: 'audit', name: 'started' }, text: 'Audit starts 18 s in and asks for the oldest offsets: it replays the whole log, 9,000 orders, at its own pace.' },
    { onEvent: { kind: 'node.note', node: 'worker', name: 'caught-up' }, text: 'The worker has caught up. Every order arrived late during the backlog, none was lost.' },
    { at: '34s', text: 'The ledger: missed:worker = 0 and missed:audit = 0. A log trades memory for disk and loss for delay — and lets new consumers replay.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No invariant is violated.' },
    { check: 'metric', metric: 'missed:worker', max: 0, text: 'The worker processes every order: none lost.' },
    { check: 'metric', metric: 'missed:audit', max: 0, text: 'Audit, starting 18 s late, replays every order from the first offset.' },
    { check: 'metric', metric: 'backlogRecords:worker.max', min: 2_500, text: 'The log absorbs a backlog of over 2,500 orders for the worker — more than twice the broker’s queue limit.' },
    { check: 'metric', metric: 'backlogRecords:audit.max', min: 7_000, text: 'Audit starts with a backlog of the whole history so far (about 9,000 orders) — that is what replay means.' },
    { check: 'metric', metric: 'lagMs:worker.max', min: 4_000, text: 'The price: at the worst of the backlog the worker processes orders more than 4 s after they happened.' },
    { check: 'metric', metric: 'retentionSkipped', max: 0, text: 'Retention (10 minutes) deletes nothing anyone still needed.' },
    { check: 'count', match: { kind: 'node.note', node: 'worker', name: 'caught-up' }, from: '13s', min: 1, text: 'The worker catches up after the slowdown.' },
  ],
};
