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
    { at: '0', text: 'Three followers, no leader. Each waits a random 150–300 ms election timeout for a heartbeat that will not come.' },
    { onEvent: { kind: 'node.state', key: 'role', value: 'candidate' }, text: 'A timer fired: this replica becomes a candidate for term 1, votes for itself and sends RequestVote to the others.' },
    { onEvent: { kind: 'node.note', name: 'vote-grant' }, text: 'A follower grants its vote: it has not voted in this term and the candidate’s log is at least as up to date as its own (§5.4.1).' },
    { onEvent: LEADER_ELECTED, text: 'A majority voted: the candidate is leader for term 1. It appends a no-op entry of its term and sends heartbeats (AppendEntries).' },
    { onEvent: { kind: 'node.note', name: 'write-acked' }, text: 'The first client write is acknowledged: the leader replicated it to a majority, committed it and applied it.' },
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
