import { MQ_LIVENESS, MQ_METRICS, mqTopology } from './mq-common.ts';
import type { ScenarioInput } from './schema.ts';

export const mqChaos: ScenarioInput = {
  id: 'mq-chaos',
  title: 'MQ chaos: random faults against quorum acks',
  summary:
    'Three brokers, two partitions of three replicas, two producers with acks=quorum and idempotence, two at-least-once ' +
    'consumers. Run it with random faults (`sim run mq-chaos --faults random`, or a sweep over many seeds): brokers lose ' +
    'power, leaders are killed, links drop, duplicate and reorder, the network splits every way. Duplicates are allowed ' +
    '(at-least-once); losing a quorum-acknowledged write, skipping a committed message or leaking one in flight is not.',
  tags: ['mq', 'raft', 'faults', 'semantics'],
  difficulty: 'deep',
  minutes: 10,
  goals: [
    'Sweep seeds and see the ledger never lose an acknowledged write, whatever the faults.',
    'See what at-least-once costs under faults: redeliveries and duplicates.',
  ],
  seed: 'mq-chaos',
  duration: '6s',
  topology: mqTopology({
    brokers: 3,
    partitions: 2,
    replicas: 3,
    producers: [{ ratePerS: 200 }, { ratePerS: 200, partitioner: 'key-hash' }],
    consumers: [{}, {}],
    // Snapshots every 32 applied entries, 8 kept before each: sweeps exercise compaction and InstallSnapshot.
    raft: { snapshotEntries: 32, snapshotKeepEntries: 8 },
  }),
  faults: [
    { at: '2s', kind: 'crash', node: '@leader/orders-0', loseUnsynced: true },
    { at: '3s', kind: 'restart', node: '@crashed' },
  ],
  narration: [
    { onEvent: { kind: 'node.crash' }, text: 'A broker lost power, and with it every replica it hosts: the partitions it led elect new leaders.' },
    { onEvent: { kind: 'node.state', key: 'role', value: 'leader' }, after: '2s', text: 'The partition elected a new leader; producers learn it from a “not leader” reply or their next lease, and retry with backoff.' },
    { onEvent: { kind: 'node.boot', recovered: true }, text: 'The broker restarts from its disk; its replicas rejoin their groups as followers and catch up.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No quorum-acknowledged write is lost, nothing committed is skipped, nothing leaks in flight.' },
    { check: 'metric', metric: 'lost', max: 0, text: 'Nothing acknowledged is lost.' },
  ],
  metrics: [...MQ_METRICS],
  liveness: MQ_LIVENESS,
};
