import { MQ_LIVENESS, MQ_METRICS, mqTopology } from './mq-common.ts';
import type { ScenarioInput } from './schema.ts';

/**
 * Kafka's acks, side by side: the same leader crash with acks=leader (acks=1) and acks=quorum (acks=all). The leader of
 * orders-0 is cut off from its followers first, so what it appends cannot replicate; then it loses power.
 */
function acksScenario(acks: 'leader' | 'quorum'): ScenarioInput {
  const leader = acks === 'leader';
  return {
    id: `mq-acks-${acks}`,
    title: leader ? 'MQ: acks=leader loses acknowledged writes on failover' : 'MQ: acks=quorum survives the same failover',
    summary: leader
      ? 'One producer writes 400 messages a second with acks=leader (Kafka acks=1): the leader answers as soon as the batch ' +
        'is in its own WAL. At 1 s the leader of orders-0 is partitioned from its followers; it keeps appending and ' +
        'acknowledging writes that no follower has. At 1.2 s it crashes. The followers elect a new leader without those ' +
        'entries; when the old one returns it truncates them. The producer was told they were safe: the ledger counts them lost.'
      : 'The same run with acks=quorum (Kafka acks=all): the leader answers only once a quorum of replicas holds the batch ' +
        '(the commit). Cut off from its followers at 1 s, the old leader cannot commit, so it acknowledges nothing; the ' +
        'producer times out and retries against the new leader. Nothing acknowledged is lost.',
    tags: ['mq', 'raft', 'faults', 'semantics'],
    difficulty: 'core',
    minutes: 8,
    goals: leader
      ? ['See a write acknowledged from one replica’s WAL and lost when that replica fails.', 'Find the truncation on the old leader after it restarts.']
      : ['See acknowledgement wait for the commit (the quorum).', 'See the producer retry with backoff against the new leader, and the ledger lose nothing.'],
    seed: 'acks',
    duration: '5s',
    topology: mqTopology({
      brokers: 3,
      partitions: 1,
      replicas: 3,
      producers: [{ ratePerS: 400, stopAtMs: 3000, acks, idempotent: true, requestTimeoutMs: 300 }],
      consumers: [{}],
      // Slow elections (≥ 300 ms) so the crash at 1.2 s still finds the old leader in charge.
      raft: { electionMinMs: 300, electionMaxMs: 600 },
    }),
    faults: [
      { at: '1s', kind: 'partition', shape: 'groups', groups: [['@leader/orders-0', 'prod1', 'ctl'], ['@rest']] },
      { at: '1.2s', kind: 'crash', node: '@leader/orders-0' },
      { at: '1.6s', kind: 'heal' },
      { at: '2.2s', kind: 'restart', node: '@crashed' },
    ],
    narration: [
      {
        at: '0.9s',
        text: `Steady state: each batch is appended to orders-0’s leader WAL and replicated. With acks=${acks} the leader answers the producer ${leader ? 'straight after its own append' : 'after the commit: a quorum holds it'}.`,
        say: leader
          ? 'With acks=1 the producer hears back after one disk write: low latency, but the promise is only as durable as one broker.'
          : 'With acks=all the producer hears back only once a quorum has the batch: one replication round trip more, and no single broker can lose it.',
        term: leader
          ? { name: 'acks=1', meaning: 'Kafka producer setting: the partition leader acknowledges once the write is in its own log.' }
          : { name: 'acks=all', meaning: 'Kafka producer setting: the leader acknowledges once every in-sync replica (here: a quorum) has the write.' },
      },
      {
        onEvent: { kind: 'net.partition' },
        text: 'The leader is cut off from both followers (it can still hear the producer and the control plane).',
        say: 'The dangerous moment is a leader that can still talk to clients but not to its replicas.',
        term: { name: 'Partial partition', meaning: 'Some links fail and others work, so nodes disagree about who is reachable.' },
        ask: {
          question: 'Will any acknowledged write be lost?',
          answer: leader
            ? { from: 'metric-above', metric: 'lost', above: 0, evidence: { kind: 'node.note', name: 'truncate' } }
            : { from: 'metric-above', metric: 'lost', above: 0, evidence: { kind: 'node.note', name: 'retry' } },
          explain: leader
            ? 'Yes: the isolated leader acknowledged batches that only its own WAL held. The new leader never had them, and the old one truncates them when it returns.'
            : 'No: without a quorum the old leader commits nothing, so it acknowledges nothing; the producer retries those batches against the new leader.',
        },
      },
      leader
        ? {
            onEvent: { kind: 'node.note', name: 'acked' },
            after: '1.05s',
            text: 'The isolated leader still acknowledges: the batch is only in its own WAL. This is acks=1’s promise.',
            say: 'An acknowledgement is a promise about durability; acks=1 promises one copy.',
            term: { name: 'Durability', meaning: 'An acknowledged write survives the failures the system claims to tolerate.' },
          }
        : {
            onEvent: { kind: 'node.note', name: 'retry' },
            after: '1s',
            text: 'No quorum, no commit, no acknowledgement: the producer times out and backs off (exponentially, with jitter).',
            say: 'The producer retries with an idempotent id, so a batch that did land is not written twice.',
            term: { name: 'Idempotent producer', meaning: 'Kafka tags each batch with a producer id and sequence number so a retry is deduplicated.' },
          },
      {
        onEvent: { kind: 'node.crash' },
        text: 'The old leader loses power.',
        term: { name: 'Unclean leader election', meaning: 'Kafka electing a replica that was not in sync: fast recovery, lost writes. Raft never does it.' },
      },
      {
        onEvent: { kind: 'node.state', key: 'role', value: 'leader' },
        after: '1s',
        text: 'The followers elect a new leader. Its log has only what was replicated before the cut.',
        say: 'The new leader is whoever has the most up-to-date log among a majority; what only the old leader had is gone.',
        term: { name: 'Leader epoch', meaning: 'Kafka’s per-partition term: followers use it to find where their log diverges from the new leader’s.' },
      },
      {
        onEvent: { kind: 'node.note', name: 'truncate' },
        text: 'The old leader restarted and follows; its unreplicated tail conflicts with the new leader’s log and is truncated.',
        say: 'On return the old leader truncates to the new leader’s log: its extra entries were never committed.',
        term: { name: 'Log truncation', meaning: 'Dropping a follower’s log suffix that the leader does not have, before appending the leader’s entries.' },
      },
    ],
    expect: leader
      ? [
          { check: 'no-violations', text: 'No safety property fails: acks=leader promised nothing beyond one WAL.' },
          { check: 'metric', metric: 'lost', min: 1, text: 'Acknowledged writes are lost (the ledger counts them).' },
          { check: 'count', match: { kind: 'node.note', name: 'truncate' }, min: 1, text: 'The old leader truncates its unreplicated tail.' },
        ]
      : [
          { check: 'no-violations', text: 'No quorum-acknowledged write is lost, nothing committed is skipped.' },
          { check: 'metric', metric: 'lost', max: 0, text: 'Nothing acknowledged is lost.' },
          { check: 'metric', metric: 'pending', max: 0, text: 'The queue drains by the end.' },
          { check: 'count', match: { kind: 'node.note', name: 'retry' }, min: 1, text: 'The producer retries what the old leader could not commit.' },
        ],
    metrics: [...MQ_METRICS],
    liveness: MQ_LIVENESS,
  };
}

export const mqAcksLeader = acksScenario('leader');
export const mqAcksQuorum = acksScenario('quorum');
