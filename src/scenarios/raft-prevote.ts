import { LEADER_ELECTED, RAFT_LIVENESS, raftTopology } from './raft-common.ts';
import type { ScenarioInput } from './schema.ts';

const faults: ScenarioInput['faults'] = [
  { at: '1s', kind: 'partition', shape: 'isolate', node: '@follower' },
  { at: '3s', kind: 'heal' },
];

const expectBase = { check: 'no-violations', text: 'No Raft safety property is violated.' } as const;

export const raftFlappingNoPreVote: ScenarioInput = {
  id: 'raft-flapping-no-prevote',
  title: 'Raft without PreVote: a cut-off follower disrupts the leader',
  summary:
    'Five replicas. At 1 s one follower is cut off. Hearing no heartbeats it campaigns again and again, raising its ' +
    'term each time. At 3 s it reconnects with a term far above the leader’s: its messages force the healthy leader ' +
    'to step down and the group holds a needless election. Compare with the PreVote scenario.',
  tags: ['raft', 'elections', 'partitions'],
  difficulty: 'deep',
  minutes: 6,
  goals: ['See how an isolated node inflates its term.', 'See the disruption when it returns: a healthy leader deposed by a higher term (§9.6).'],
  seed: 'raft-flap',
  duration: '5s',
  topology: raftTopology(5, { raft: { preVote: false } }),
  faults,
  narration: [
    { onEvent: { kind: 'net.partition' }, text: 'A follower is cut off. Each election timeout it becomes a candidate in a new, higher term.' },
    { onEvent: { kind: 'net.heal' }, text: 'It reconnects. The next reply it sends carries its high term: the leader must step down.' },
  ],
  expect: [
    expectBase,
    { check: 'metric', metric: 'terms', min: 5, text: 'The isolated follower inflates the term.' },
    { check: 'count', match: LEADER_ELECTED, from: '3s', min: 1, text: 'The healthy leader is deposed after the heal and a new election is held.' },
  ],
  metrics: ['terms', 'elections', 'preVotes', 'leaderChanges', 'writesAcked'],
  liveness: RAFT_LIVENESS,
};

export const raftFlappingPreVote: ScenarioInput = {
  ...raftFlappingNoPreVote,
  id: 'raft-flapping-prevote',
  title: 'Raft with PreVote: a cut-off follower cannot disrupt',
  summary:
    'The same fault with PreVote on (§9.6). The cut-off follower first asks “would you vote for me?” without raising ' +
    'its term; nobody can answer, so it never campaigns for real. When it reconnects the others refuse its pre-votes ' +
    'because they still hear from a leader, and the leader’s next heartbeat brings it back as a follower.',
  goals: ['See PreVote keep terms stable through a partition.', 'Compare leader changes with the scenario without PreVote.'],
  seed: 'raft-flap',
  topology: raftTopology(5, { raft: { preVote: true } }),
  narration: [
    { onEvent: { kind: 'net.partition' }, text: 'A follower is cut off. It asks for pre-votes, which do not raise its term.' },
    { onEvent: { kind: 'net.heal' }, text: 'It reconnects with the same term as everyone else and simply follows the leader.' },
  ],
  expect: [
    expectBase,
    { check: 'metric', metric: 'terms', max: 1, text: 'Terms stay put: pre-votes never raise them.' },
    { check: 'count', match: LEADER_ELECTED, from: '1s', max: 0, text: 'The leader is never deposed: no election after the first.' },
    { check: 'metric', metric: 'preVotes', min: 5, text: 'The isolated follower keeps asking for pre-votes.' },
  ],
};
