import { MQ_LIVENESS, MQ_METRICS, mqTopology } from './mq-common.ts';
import type { ScenarioInput } from './schema.ts';

export const mqBaseline: ScenarioInput = {
  id: 'mq-baseline',
  title: 'Message queue: the happy path',
  summary:
    'Three brokers, one topic with three partitions, each a Raft group of three replicas spread over the brokers. Two ' +
    'producers get a lease from the control plane and write 500 messages a second with acks=quorum; a group of two ' +
    'consumers pulls, processes and acks each message by id. Watch a message go producer → leader WAL → followers → ' +
    'commit → lane → consumer → sink → ack.',
  tags: ['mq', 'semantics'],
  difficulty: 'intro',
  minutes: 5,
  goals: [
    'Follow one message through the lease, the leader’s WAL, replication, commit, the lane, delivery and the ack.',
    'See the control plane find each partition’s leader by asking every 100 ms.',
    'Read the ledger: produced = acked = delivered, nothing duplicated or lost.',
  ],
  seed: 'mq',
  duration: '4s',
  topology: mqTopology({
    brokers: 3,
    partitions: 3,
    replicas: 3,
    producers: [{ ratePerS: 250, stopAtMs: 3000 }, { ratePerS: 250, stopAtMs: 3000 }],
    consumers: [{}, {}],
  }),
  faults: [],
  narration: [
    { onEvent: { kind: 'node.note', name: 'producer-id' }, text: 'A producer asked the control plane for a lease: the leader of each partition for the next 500 ms, and a producer id that makes its message ids unique.' },
    { onEvent: { kind: 'node.note', name: 'rebalance' }, text: 'A consumer joined group g1; the coordinator dealt out the partitions (a rebalance).' },
    { onEvent: { kind: 'node.note', name: 'enqueued' }, text: 'A batch committed: a quorum of the partition’s replicas hold it, so the leader put it in its lane and answered the producer (acks=quorum).' },
    { onEvent: { kind: 'node.note', name: 'processed' }, text: 'The sink wrote the first messages; the consumer now acks them by id, a separate RPC that goes through the log.' },
    { at: '3s', text: 'Producers stop. The consumers drain what is left; the ledger settles at the end of the run.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No safety property is violated: no acknowledged write is lost, nothing skipped.' },
    { check: 'metric', metric: 'produced', min: 1400, text: 'The producers create about 1,500 messages.' },
    { check: 'metric', metric: 'duplicated', max: 0, text: 'With no faults, nothing is delivered twice.' },
    { check: 'metric', metric: 'lost', max: 0, text: 'Nothing acknowledged is lost.' },
    { check: 'metric', metric: 'pending', max: 0, text: 'The queue drains: nothing is left at the end.' },
  ],
  metrics: [...MQ_METRICS],
  liveness: MQ_LIVENESS,
};
