import { LEADER_ELECTED, RAFT_LIVENESS, raftTopology } from './raft-common.ts';
import type { ScenarioInput } from './schema.ts';

export const raftColdStart: ScenarioInput = {
  id: 'raft-cold-start',
  title: 'Raft: cold start — the first election',
  summary:
    'Three replicas boot as followers with no leader. The first whose randomized election timer fires becomes a ' +
    'candidate for term 1, votes for itself and asks the others; with a majority it leads, appends a no-op of its ' +
    'term and starts heartbeats. Then a client writes every 10 ms and every write commits once two of three hold it.',
  tags: ['raft', 'elections', 'replication'],
  difficulty: 'intro',
  minutes: 5,
  goals: [
    'Every replica boots as a follower; the randomized election timeout decides who campaigns first.',
    'A leader needs a majority of votes (2 of 3) in its term; it then appends a no-op to commit in its own term.',
    'Watch the WAL positions: append position, commit index and applied position move together when nothing fails.',
  ],
  seed: 'raft-cold',
  duration: '3s',
  topology: raftTopology(3),
  faults: [],
  narration: [
    {
      at: '0',
      text: 'Three followers, no leader. Each waits a random 150–300 ms election timeout for a heartbeat that will not come.',
      say: 'Leader election is driven by randomized timeouts: whoever times out first usually wins before anyone else even campaigns.',
      term: { name: 'Election timeout', meaning: 'How long a follower waits without hearing a leader before it campaigns; randomized so candidates rarely collide (Raft §5.2).' },
      ask: {
        question: 'Which replica will win the first election?',
        answer: { from: 'next-event', match: LEADER_ELECTED, choices: ['r1', 'r2', 'r3'] },
        explain: 'The replica whose random timer fires first asks for votes before the others time out, so it collects a majority (2 of 3) in term 1.',
      },
    },
    {
      onEvent: { kind: 'node.state', key: 'role', value: 'candidate' },
      text: 'A timer fired: this replica becomes a candidate for term 1, votes for itself and sends RequestVote to the others.',
      say: 'A candidate bumps the term, votes for itself and asks everyone else; a higher term always wins over a lower one.',
      term: { name: 'Term', meaning: 'Raft’s logical clock: every election starts a new term, and a term has at most one leader.' },
    },
    {
      onEvent: { kind: 'node.note', name: 'vote-grant' },
      text: 'A follower grants its vote: it has not voted in this term and the candidate’s log is at least as up to date as its own (§5.4.1).',
      say: 'A node votes at most once per term, and only for a candidate whose log is at least as up to date — that is what keeps committed data on the winner.',
      term: { name: 'RequestVote', meaning: 'The vote RPC; granted once per term, persisted before the reply leaves.' },
    },
    {
      onEvent: LEADER_ELECTED,
      text: 'A majority voted: the candidate is leader for term 1. It appends a no-op entry of its term and sends heartbeats (AppendEntries).',
      say: 'With a majority of votes it leads; it writes a no-op in its own term so that everything before it can commit.',
      term: { name: 'Quorum', meaning: 'A majority of the replicas (2 of 3, 3 of 5): any two quorums overlap in at least one node.' },
    },
    {
      onEvent: { kind: 'node.note', name: 'write-acked' },
      text: 'The first client write is acknowledged: the leader replicated it to a majority, committed it and applied it.',
      say: 'A write is acknowledged once a quorum has it in its log: losing any minority of nodes cannot lose it.',
      term: { name: 'Commit index (Kafka: high watermark)', meaning: 'The last log position stored on a majority; only entries up to it are acknowledged and applied.' },
    },
  ],
  expect: [
    { check: 'no-violations', text: 'No Raft safety property is violated.' },
    { check: 'count', match: LEADER_ELECTED, to: '600ms', min: 1, text: 'A leader is elected within 600 ms of a cold start.' },
    { check: 'metric', metric: 'terms', max: 2, text: 'The election settles in at most two terms.' },
    { check: 'metric', metric: 'writesAcked', min: 200, text: 'The client’s writes commit steadily once there is a leader.' },
    { check: 'metric', metric: 'commitLatencyMs.p99', max: 15, text: 'A write commits within a few network round trips (p99 < 15 ms).' },
  ],
  metrics: ['elections', 'terms', 'leaderChanges', 'commitLatencyMs', 'writeLatencyMs', 'writesAcked'],
  liveness: RAFT_LIVENESS,
};
