import { MQ_LIVENESS, MQ_METRICS, mqTopology } from './mq-common.ts';
import type { ScenarioInput } from './schema.ts';

/**
 * Delivery semantics end to end, the same slow-consumer story three ways. The consumer stalls for 1.5 s (a long GC
 * pause) holding messages it was given; their visibility timeout (500 ms) runs out and the broker delivers them again.
 */
type Mode = 'at-most-once' | 'at-least-once' | 'exactly-once';

const TEXT: Record<Mode, { title: string; summary: string; say: string }> = {
  'at-most-once': {
    title: 'MQ semantics: at-most-once loses what a crashed consumer held',
    summary: 'The consumer acks each message as it arrives, before processing it. When it crashes at 1.5 s, what it had ' +
      'buffered is gone: acknowledged to the broker, never processed. Nothing is ever delivered twice (ack count ≤ 1).',
    say: 'At-most-once: ack on receipt. Cheap, never a duplicate, but a consumer crash loses what it held.',
  },
  'at-least-once': {
    title: 'MQ semantics: at-least-once redelivers to a slow consumer (duplicates)',
    summary: 'The consumer acks only after the sink confirmed. It stalls for 1.5 s; the visibility timeout (500 ms) runs ' +
      'out and the broker redelivers. When the consumer wakes it processes its stale copies too: duplicates, nothing lost.',
    say: 'At-least-once: ack after processing. Nothing is lost, but a slow ack means a second delivery.',
  },
  'exactly-once': {
    title: 'MQ semantics: exactly-once with an idempotent producer and a deduplicating sink',
    summary: 'The same stall, with an idempotent producer and a sink that remembers every id it wrote (synced to disk ' +
      'before it answers). Redeliveries still happen on the wire; the sink writes each message once. The price: the ' +
      'sink’s id store and its disk writes.',
    say: 'Exactly-once: at-least-once delivery plus idempotent processing — the price is remembering every id.',
  },
};

function semantics(mode: Mode): ScenarioInput {
  const t = TEXT[mode];
  const crash = mode === 'at-most-once';
  return {
    id: `mq-${mode}`,
    title: t.title,
    summary: t.summary,
    tags: ['mq', 'semantics', 'faults'],
    difficulty: 'core',
    minutes: 6,
    goals: [t.say, 'Read the ledger: delivered, duplicated, lost.'],
    seed: 'semantics',
    duration: '5s',
    topology: mqTopology({
      brokers: 3,
      partitions: 1,
      replicas: 3,
      producers: [{ ratePerS: 200, stopAtMs: 3000, idempotent: mode === 'exactly-once' }],
      // At-most-once: a slower consumer with a deeper buffer, so the crash finds messages acked and not yet processed.
      consumers: [crash ? { semantics: mode, processMs: 8, fetchMax: 200, bufferMax: 400 } : { semantics: mode, processMs: 2, fetchMax: 50 }],
      partition: { visibilityMs: 500 },
      sink: { dedupe: mode === 'exactly-once' },
    }),
    faults: crash
      ? [{ at: '1.5s', kind: 'crash', node: 'c1' }, { at: '2s', kind: 'restart', node: 'c1' }]
      : [{ at: '1.5s', kind: 'pause', node: 'c1' }, { at: '3s', kind: 'resume', node: 'c1' }],
    narration: [
      {
        at: '1s',
        text: t.say,
        say:
          mode === 'at-most-once'
            ? 'When losing a message is cheaper than handling it twice — a metrics sample, say — at-most-once is the cheapest choice.'
            : mode === 'at-least-once'
              ? 'We would pick at-least-once and make the consumer idempotent: a duplicate is easier to handle than a loss.'
              : 'Exactly-once is at-least-once plus deduplication: the sink remembers ids, and that store costs disk writes.',
        term:
          mode === 'at-most-once'
            ? { name: 'At-most-once', meaning: 'Commit the offset (ack) before processing: a crash can lose messages, never duplicate them.' }
            : mode === 'at-least-once'
              ? { name: 'At-least-once', meaning: 'Commit the offset (ack) after processing: a crash or a slow ack means redelivery, never loss.' }
              : { name: 'Exactly-once (effectively once)', meaning: 'At-least-once delivery plus an idempotent producer and sink: each message takes effect once.' },
        ask: {
          question: 'How many messages will the sink process twice?',
          answer: { from: 'metric', metric: 'duplicated', tolerance: mode === 'at-least-once' ? 10 : 0 },
          explain:
            mode === 'at-most-once'
              ? 'None: every message is acknowledged on receipt, so the broker never hands it out again — which is exactly why the crash loses what the consumer held.'
              : mode === 'exactly-once'
                ? 'None: the broker still redelivers what the stalled consumer held, but the sink remembers every id it wrote and skips the copies.'
                : 'About one fetch batch (fetchMax is 50): everything the stalled consumer held when it froze is delivered again after its 500 ms visibility timeout — and the stale copies are processed too when it wakes.',
        },
      },
      crash
        ? {
            onEvent: { kind: 'node.crash' },
            text: 'The consumer crashed with messages it had already acknowledged: they are gone.',
            say: 'Acking on receipt means a crash between ack and processing silently drops those messages.',
            term: { name: 'Offset commit', meaning: 'The consumer telling the broker how far it has processed; where it commits decides the semantics.' },
          }
        : {
            onEvent: { kind: 'node.pause' },
            text: 'The consumer stalls with messages in hand. Their visibility timeout starts to run out.',
            say: 'A GC pause looks exactly like a crash from the broker’s side: it cannot tell slow from dead.',
            term: { name: 'Visibility timeout', meaning: 'How long a delivered, unacked message stays hidden before the broker delivers it again (SQS; Kafka’s session timeout plays this part).' },
          },
      {
        onEvent: { kind: 'node.note', name: 'redeliver' },
        text: 'A visibility timeout ran out: the broker puts the message back in its lane, at its old offset, and delivers it again.',
        say: mode === 'exactly-once' ? 'Redelivery still happens; exactly-once is achieved at the sink, by deduplication.' : 'Redelivery is the price of never losing a message: make the processing idempotent.',
        term: { name: 'Redelivery', meaning: 'The broker handing out a message again because its acknowledgement did not arrive in time.' },
      },
    ],
    expect: [
      { check: 'no-violations', text: mode === 'exactly-once' ? 'Nothing is processed twice, nothing acknowledged is lost.' : 'No safety property fails.' },
      ...(mode === 'at-most-once'
        ? [
            { check: 'metric' as const, metric: 'duplicated', max: 0, text: 'Nothing is delivered twice.' },
            { check: 'metric' as const, metric: 'pollSkip', min: 1, text: 'Messages the consumer had acknowledged but not processed are never delivered.' },
          ]
        : mode === 'at-least-once'
          ? [
              { check: 'metric' as const, metric: 'duplicated', min: 1, text: 'The stalled consumer’s messages are processed twice.' },
              { check: 'metric' as const, metric: 'lost', max: 0, text: 'Nothing acknowledged is lost.' },
            ]
          : [
              { check: 'metric' as const, metric: 'duplicated', max: 0, text: 'The sink writes every message once.' },
              { check: 'metric' as const, metric: 'redelivered', min: 1, text: 'Redeliveries still happen on the wire.' },
              { check: 'metric' as const, metric: 'lost', max: 0, text: 'Nothing acknowledged is lost.' },
            ]),
    ],
    metrics: [...MQ_METRICS],
    liveness: MQ_LIVENESS,
  };
}

export const mqAtMostOnce = semantics('at-most-once');
export const mqAtLeastOnce = semantics('at-least-once');
export const mqExactlyOnce = semantics('exactly-once');
