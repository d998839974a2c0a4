import { LEADER_ELECTED, RAFT_LIVENESS } from './raft-common.ts';
import type { ScenarioInput } from './schema.ts';

/**
 * Raft paper Figure 8, made to happen with three replicas: a leader must not count replicas to commit an entry from an
 * earlier term (§5.4.2). Election timeouts are fixed per replica (r1 100 ms, r2 300 ms, r3 600 ms) and links have no
 * jitter, so the story plays the same for every seed; the slow r2→r3 link (100 ms) gives the fault at 1.45 s a wide
 * window to catch r2's first AppendEntries in flight.
 */
const topology: ScenarioInput['topology'] = {
  nodes: [
    { id: 'r1', kind: 'raft', config: { electionMinMs: 100, electionMaxMs: 100 } },
    { id: 'r2', kind: 'raft', config: { electionMinMs: 300, electionMaxMs: 300 } },
    { id: 'r3', kind: 'raft', config: { electionMinMs: 600, electionMaxMs: 600 } },
    { id: 'c1', kind: 'raft-client' },
  ],
  config: {
    raft: { group: ['r1', 'r2', 'r3'], heartbeatMs: 50, appendEntriesMax: 1 },
    'raft-client': { group: ['r1', 'r2', 'r3'], writeEveryMs: 10, timeoutMs: 300 },
  },
  link: { latencyMs: 2, jitterMs: 0 },
  links: [{ from: 'r2', to: 'r3', latencyMs: 100 }],
};

const faults: ScenarioInput['faults'] = [
  { at: '1s', kind: 'partition', shape: 'groups', groups: [['r1', 'c1'], ['r2', 'r3']] },
  { at: '1.45s', kind: 'partition', shape: 'isolate', node: 'r2' },
  { at: '1.59s', kind: 'crash', node: 'r1' },
  { at: '1.8s', kind: 'heal' },
  { at: '2.5s', kind: 'restart', node: 'r1' },
];

const narration: ScenarioInput['narration'] = [
  { at: '1s', text: 'r1 leads term 1 but is cut off with the client. It keeps appending the client’s writes (term 1) that nobody else has.' },
  { onEvent: LEADER_ELECTED, after: '1s', text: 'r2 wins term 2 with r3’s vote and appends a no-op of term 2 — but r2 is cut off before that entry reaches r3.' },
  { onEvent: { kind: 'node.state', node: 'r1', key: 'role', value: 'leader' }, after: '1.46s', text: 'r1 wins term 3 (its log is longer than r3’s). It brings r3 up to date one entry at a time, starting with its old term-1 entries.' },
  { onEvent: { kind: 'node.crash' }, text: 'r1 crashes before its own term-3 no-op reaches r3. What did it commit?' },
  { onEvent: { kind: 'node.state', node: 'r2', key: 'role', value: 'leader' }, after: '1.8s', text: 'r2 returns with a term-2 entry where r3 has term-1 entries: its log is more up to date, r3 votes for it, and r2 overwrites them.' },
];

export const raftFigure8: ScenarioInput = {
  id: 'raft-figure-8',
  title: 'Raft Figure 8: why a leader commits only entries of its own term',
  summary:
    'A term-1 entry reaches a majority under the term-3 leader r1, yet r2 — holding a term-2 entry at that index — can ' +
    'still win an election and overwrite it. Raft’s rule (§5.4.2): a leader counts replicas only for entries of its ' +
    'current term, so r1 commits nothing until its term-3 no-op is on a majority — and here it crashes first. The ' +
    'overwrite is legal because nothing there was committed or acknowledged. Compare raft-figure-8-bug.',
  tags: ['raft', 'safety', 'faults'],
  difficulty: 'deep',
  minutes: 10,
  goals: [
    'Follow Figure 8: an entry on a majority is not yet safe if it is from an earlier term.',
    'See the commit index of r1 stay put while it re-replicates term-1 entries, and why.',
  ],
  seed: 'figure-8',
  duration: '4s',
  topology,
  faults,
  narration,
  expect: [
    { check: 'no-violations', text: 'No Raft safety property is violated.' },
    { check: 'count', match: { kind: 'node.note', name: 'truncate', node: 'r3' }, from: '1.8s', min: 1, text: 'r3’s uncommitted term-1 entries are overwritten by r2’s log.' },
    { check: 'count', match: { kind: 'node.note', name: 'write-acked' }, from: '1.45s', to: '1.8s', max: 0, text: 'r1 acknowledges no write while its own-term entry is not on a majority.' },
  ],
  metrics: ['elections', 'terms', 'leaderChanges', 'writesAcked'],
  liveness: RAFT_LIVENESS,
};

export const raftFigure8Bug: ScenarioInput = {
  ...raftFigure8,
  id: 'raft-figure-8-bug',
  title: 'Raft Figure 8 with the bug: committing an old-term entry by counting loses it',
  summary:
    'The same schedule with the teaching bug `commit-old-term`: r1 (term 3) counts r3’s copies of its term-1 entries, ' +
    'commits and applies them — then crashes. r2 wins a later term and overwrites those entries: committed entries ' +
    'are lost, and the Leader Completeness and State Machine Safety checkers say where.',
  bugs: ['commit-old-term'],
  expect: [
    { check: 'violation', checker: 'raft.safety', text: 'The safety checker catches the lost commit (Leader Completeness, then State Machine Safety).' },
    { check: 'count', match: { kind: 'node.note', name: 'truncate', node: 'r3' }, from: '1.8s', min: 1, text: 'r3’s committed term-1 entries are overwritten by r2’s log.' },
  ],
  narration: [
    ...narration.slice(0, 3),
    { onEvent: { kind: 'node.crash' }, text: 'r1 crashes. With the bug it has already committed — and applied — the term-1 entries r3 acknowledged, counting replicas of an old term.' },
    narration[4],
    { onEvent: { kind: 'check.violation' }, text: 'The checker fires: r2 leads without entries r1 had committed, then commits its own entry at the same index.' },
  ],
};
