import { LEADER_ELECTED, RAFT_LIVENESS } from './raft-common.ts';
import type { ScenarioInput } from './schema.ts';

/**
 * Why `votedFor` must reach the disk before the vote leaves (Raft Figure 2, "updated on stable storage before
 * responding to RPCs"). r3 votes for r1 in term 1, loses power and restarts; then r2 asks for term 1. Timeouts are fixed
 * per replica and links have no jitter, so the story is the same for every seed.
 */
const topology: ScenarioInput['topology'] = {
  nodes: [
    { id: 'r1', kind: 'raft', config: { electionMinMs: 100, electionMaxMs: 100 } },
    { id: 'r2', kind: 'raft', config: { electionMinMs: 200, electionMaxMs: 200 } },
    { id: 'r3', kind: 'raft', config: { electionMinMs: 1000, electionMaxMs: 1000 } },
    { id: 'c1', kind: 'raft-client' },
  ],
  config: {
    raft: { group: ['r1', 'r2', 'r3'], heartbeatMs: 50 },
    'raft-client': { group: ['r1', 'r2', 'r3'], writeEveryMs: 20, timeoutMs: 300 },
  },
  link: { latencyMs: 10, jitterMs: 0 },
};

const faults: ScenarioInput['faults'] = [
  { at: '0', kind: 'partition', shape: 'groups', groups: [['r1', 'r3', 'c1'], ['r2', 'r3']] },
  { at: '125ms', kind: 'partition', shape: 'groups', groups: [['r1', 'c1'], ['r2', 'r3']] },
  { at: '150ms', kind: 'crash', node: 'r3', loseUnsynced: true },
  { at: '160ms', kind: 'restart', node: 'r3' },
  { at: '1s', kind: 'heal' },
];

export const raftVotePersistence: ScenarioInput = {
  id: 'raft-vote-persistence',
  title: 'Raft: a vote survives a crash',
  summary:
    'r1 and r2 cannot reach each other; r3 reaches both. r1 campaigns first and wins term 1 with r3’s vote. Before ' +
    'r1’s first AppendEntries reaches r3, r3 loses power and restarts. At 200 ms r2 asks r3 for a vote in the same ' +
    'term 1: r3 read votedFor = r1 back from disk, so it refuses, and r2 has to win a later term. One leader per term.',
  tags: ['raft', 'safety', 'persistence'],
  difficulty: 'core',
  minutes: 6,
  goals: ['See why currentTerm and votedFor are synced to disk before a vote is sent.', 'Compare with raft-vote-persistence-bug.'],
  seed: 'vote-persistence',
  duration: '2.5s',
  topology,
  faults,
  narration: [
    { onEvent: LEADER_ELECTED, text: 'r1 leads term 1 with r3’s vote. r3 wrote term 1 and votedFor r1 to disk before replying.' },
    { onEvent: { kind: 'node.crash' }, text: 'r3 loses power before r1’s first AppendEntries reaches it. Its memory is gone; its disk keeps term and vote.' },
    { onEvent: { kind: 'node.state', node: 'r2', key: 'role', value: 'candidate' }, text: 'r2 campaigns for term 1. r3 has already voted in term 1 — does it remember?' },
  ],
  expect: [
    { check: 'no-violations', text: 'No Raft safety property is violated: one leader per term.' },
    { check: 'count', match: { kind: 'node.state', node: 'r2', key: 'role', value: 'leader' }, min: 1, text: 'r2 does lead — in a later term, after r3 refused it term 1.' },
  ],
  metrics: ['elections', 'terms', 'leaderChanges', 'writesAcked'],
  liveness: RAFT_LIVENESS,
};

export const raftVotePersistenceBug: ScenarioInput = {
  ...raftVotePersistence,
  id: 'raft-vote-persistence-bug',
  title: 'Raft with the bug: a forgotten vote elects two leaders in one term',
  summary:
    'The same schedule with the teaching bug `no-persist-vote`: r3’s vote for r1 never reaches the disk, so after the ' +
    'restart r3 votes again in term 1 — for r2. r1 and r2 both lead term 1, and Election Safety is broken.',
  goals: ['See a double vote after a crash elect two leaders in one term.', 'Find it with `sim sweep raft-vote-persistence --bug no-persist-vote`.'],
  bugs: ['no-persist-vote'],
  expect: [
    { check: 'violation', checker: 'raft.safety', text: 'Election Safety fires: two leaders in term 1.' },
    { check: 'count', match: { kind: 'node.state', node: 'r2', key: 'role', value: 'leader' }, to: '300ms', min: 1, text: 'r2 wins term 1 with r3’s second vote.' },
  ],
};
