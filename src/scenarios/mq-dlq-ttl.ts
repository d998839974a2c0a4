import { MQ_LIVENESS, MQ_METRICS, mqTopology } from './mq-common.ts';
import type { ScenarioInput } from './schema.ts';

export const mqPoison: ScenarioInput = {
  id: 'mq-poison-dlq',
  title: 'MQ: a poison message goes to the dead-letter queue',
  summary: 'One message in fifty has a key the consumer can never process. It is delivered, not acked, delivered ' +
    'again when its visibility timeout runs out — and after three deliveries the broker moves it to the dead-letter ' +
    'store instead of blocking the lane forever. Every other message flows.',
  tags: ['mq', 'semantics'],
  difficulty: 'intro',
  minutes: 5,
  goals: ['See retries end in the dead-letter queue (max deliveries).', 'See the delivery count replicated with each requeue, so failover remembers it.'],
  seed: 'poison',
  duration: '4s',
  topology: mqTopology({
    brokers: 3, partitions: 2, replicas: 3,
    producers: [{ ratePerS: 100, stopAtMs: 2000, poisonShare: 0.02 }],
    consumers: [{ failKey: 'poison' }],
    partition: { visibilityMs: 300, maxDeliveries: 3 },
  }),
  faults: [],
  narration: [
    {
      onEvent: { kind: 'node.note', name: 'processing-failed' },
      text: 'The consumer cannot process this message; it does not ack it.',
      say: 'A poison message fails every time, so plain retries would redeliver it forever.',
      term: { name: 'Poison message', meaning: 'A message no consumer can process, whatever the number of attempts.' },
      ask: {
        question: 'Will any message still be stuck in the queue at the end of the run?',
        answer: { from: 'metric-above', metric: 'pending', above: 0, evidence: { kind: 'node.note', name: 'dead-lettered' } },
        explain: 'No: after three failed deliveries the broker moves each poison message to the dead-letter queue, so nothing is retried forever and the partition drains.',
      },
    },
    {
      onEvent: { kind: 'node.note', name: 'redeliver' },
      text: 'Its visibility timeout ran out: delivered again, with the delivery count replicated through the log.',
      say: 'The delivery count is replicated state: a failover must not reset it, or the poison message gets fresh retries.',
      term: { name: 'Max deliveries', meaning: 'How many times a message may be delivered before the broker gives up on it (SQS maxReceiveCount).' },
    },
    {
      onEvent: { kind: 'node.note', name: 'dead-lettered' },
      text: 'Third failure: the message moves to the dead-letter queue for a human (or another service) to look at.',
      say: 'We park poison messages in a dead-letter queue and alert on it, rather than block or silently drop them.',
      term: { name: 'Dead-letter queue (DLQ)', meaning: 'Where messages go that could not be processed or expired, kept for inspection and replay.' },
    },
  ],
  expect: [
    { check: 'no-violations', text: 'No safety property fails.' },
    { check: 'metric', metric: 'deadLettered', min: 1, text: 'Poison messages end in the dead-letter queue.' },
    { check: 'metric', metric: 'lost', max: 0, text: 'Every other acknowledged message is delivered.' },
  ],
  metrics: [...MQ_METRICS],
  liveness: MQ_LIVENESS,
};

export const mqTtl: ScenarioInput = {
  id: 'mq-ttl',
  title: 'MQ: TTL expiry while the consumers are down',
  summary: 'Messages live 800 ms. The only consumer crashes at 1 s and is back at 2.5 s; meanwhile messages wait in ' +
    'their lanes and age. The leader dead-letters those past their TTL instead of delivering stale data.',
  tags: ['mq', 'faults', 'semantics'],
  difficulty: 'intro',
  minutes: 5,
  goals: ['See TTL turn a consumer outage into expired messages instead of stale deliveries.'],
  seed: 'ttl',
  duration: '4s',
  topology: mqTopology({
    brokers: 3, partitions: 1, replicas: 3,
    producers: [{ ratePerS: 200, stopAtMs: 3000 }],
    consumers: [{}],
    partition: { ttlMs: 800, ttlAction: 'dead-letter' },
  }),
  faults: [{ at: '1s', kind: 'crash', node: 'c1' }, { at: '2.5s', kind: 'restart', node: 'c1' }],
  narration: [
    { onEvent: { kind: 'node.crash' }, text: 'The consumer is down. Messages pile up in the lane.' },
    { onEvent: { kind: 'node.note', name: 'dead-lettered' }, text: 'The oldest messages passed their TTL: dead-lettered, never delivered stale.' },
    { onEvent: { kind: 'node.boot' }, after: '2s', text: 'The consumer is back: it gets only messages younger than the TTL.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No safety property fails.' },
    { check: 'metric', metric: 'expired', min: 50, text: 'Messages expire during the outage.' },
  ],
  metrics: [...MQ_METRICS],
  liveness: MQ_LIVENESS,
};
