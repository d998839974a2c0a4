import { LEADER_ELECTED, RAFT_LIVENESS, raftTopology } from './raft-common.ts';
import type { ScenarioInput } from './schema.ts';

export const raftLeaderCrash: ScenarioInput = {
  id: 'raft-leader-crash',
  title: 'Raft: leader crash and failover',
  summary:
    'Five replicas with a steady client. At 2 s the leader loses power. Followers stop hearing heartbeats; after an ' +
    'election timeout one campaigns in a new term and wins with votes from a majority whose logs are no newer than ' +
    'its own. Its no-op commits, and with it every entry the old leader had committed. At 4 s the old leader restarts, ' +
    'finds a higher term, follows, and catches up.',
  tags: ['raft', 'elections', 'faults'],
  difficulty: 'core',
  minutes: 8,
  goals: [
    'Measure failover: leader crash → a new leader has committed an entry of its own term.',
    'See why no acknowledged write is lost: the winner’s log must be at least as up to date as a majority’s.',
    'See the restarted replica recover term, vote and log from disk, then catch up from the new leader.',
  ],
  seed: 'raft-crash',
  duration: '6s',
  topology: raftTopology(5),
  faults: [
    { at: '2s', kind: 'crash', node: '@leader', loseUnsynced: true },
    { at: '4s', kind: 'restart', node: '@crashed' },
  ],
  narration: [
    {
      at: '1s',
      text: 'Steady state: the leader replicates each write to the four followers; it commits when three of five hold it.',
      say: 'Five replicas tolerate two failures: a write is safe once three of them have it.',
      term: { name: 'Replication factor', meaning: 'How many copies of the log exist; with 2f + 1 replicas a majority survives f failures.' },
    },
    {
      onEvent: { kind: 'node.crash' },
      after: '2s',
      text: 'The leader lost power. Its in-flight messages still arrive, then silence: followers’ election timers run down.',
      say: 'Failure detection is a timeout: followers cannot tell a dead leader from a slow one, so they wait one election timeout.',
      term: { name: 'Failover', meaning: 'Moving leadership to another replica; its time is failure detection plus one election.' },
      ask: {
        question: 'Which replica will lead next?',
        answer: { from: 'next-event', match: LEADER_ELECTED, choices: ['r1', 'r2', 'r3', 'r4', 'r5'] },
        explain: 'A follower whose timer fires first campaigns; it wins only if its log is at least as up to date as a majority’s, so the new leader holds every committed write.',
      },
    },
    {
      onEvent: { kind: 'node.state', key: 'role', value: 'candidate' },
      after: '2s',
      text: 'A follower’s timer fired first. It campaigns in a higher term; the client’s writes fail over to it as soon as it leads.',
      say: 'The client retries against the new leader; with idempotent requests a retry cannot apply a write twice.',
      term: { name: 'Leader Completeness', meaning: 'A leader’s log contains every entry committed in earlier terms (Raft §5.4).' },
      ask: {
        question: 'Will any acknowledged write be lost in this failover?',
        answer: { from: 'checker', checker: 'raft.safety' },
        explain: 'No: an acknowledged write is on a majority, and a candidate missing it cannot win a majority of votes. The safety checker verifies every commit after the failover.',
      },
    },
    {
      onEvent: { kind: 'node.boot', recovered: true },
      after: '4s',
      text: 'The old leader restarts from disk: term, vote and log survived (they were synced). It learns the higher term and follows.',
      say: 'A restarted node recovers term, vote and log from disk — that is why they are fsynced before a reply leaves.',
      term: { name: 'Persistent state', meaning: 'currentTerm, votedFor and the log: written to stable storage before answering any RPC.' },
    },
    {
      onEvent: { kind: 'node.note', name: 'caught-up' },
      after: '4s',
      text: 'The restarted replica has caught up: the leader walked nextIndex back and re-sent what it missed.',
      say: 'Catch-up is the normal replication path: the leader backs off until the logs match, then streams what is missing.',
      term: { name: 'In-sync replica (ISR)', meaning: 'Kafka’s name for a follower that has caught up with the leader’s log.' },
    },
  ],
  expect: [
    { check: 'no-violations', text: 'No Raft safety property is violated: no acknowledged write is lost.' },
    { check: 'within', after: { kind: 'node.crash' }, then: LEADER_ELECTED, within: '1s', text: 'A new leader is elected within 1 s of the crash.' },
    { check: 'metric', metric: 'failoverMs.max', max: 1000, text: 'Failover (crash → new leader with a committed no-op) takes under 1 s.' },
    { check: 'within', after: { kind: 'node.boot', recovered: true }, then: { kind: 'node.note', name: 'caught-up' }, within: '1s', text: 'The restarted replica catches up within 1 s.' },
  ],
  metrics: ['failoverMs', 'elections', 'terms', 'leaderChanges', 'commitLatencyMs', 'writeLatencyMs', 'writesAcked', 'clientRetries'],
  liveness: RAFT_LIVENESS,
};
