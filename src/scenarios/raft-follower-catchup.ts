import { RAFT_LIVENESS, raftTopology } from './raft-common.ts';
import type { ScenarioInput } from './schema.ts';

export const raftFollowerCatchup: ScenarioInput = {
  id: 'raft-follower-catchup',
  title: 'Raft: a follower crashes, restarts and catches up; applied lags commit',
  summary:
    'Three replicas whose background applier handles 150 entries a second while the client writes 100 a second. ' +
    'At 1 s a follower crashes; the other two still form a majority, so writes keep committing. At 3 s it restarts: ' +
    'its log survived on disk, but commit and applied positions are in memory, so it learns the commit index from ' +
    'the leader and re-applies its log — visibly behind — while the leader re-sends the entries it missed.',
  tags: ['raft', 'replication', 'faults'],
  difficulty: 'intro',
  minutes: 6,
  goals: [
    'Read the WAL positions: append position, commit index, applied position, and on the leader each follower’s replicated (match) position.',
    'A minority failure does not stop commits; the restarted follower catches up from the leader.',
    'Applied can lag commit: the state machine is rebuilt from the log at the applier’s pace.',
    'Eventual reads go to any replica: the ones served by the restarted follower are stale (eventualReadStaleness).',
  ],
  seed: 'raft-catchup',
  duration: '6s',
  topology: raftTopology(3, { raft: { applyRatePerS: 150 }, client: { readEveryMs: 20, readMode: 'eventual' } }),
  faults: [
    { at: '1s', kind: 'crash', node: '@follower' },
    { at: '3s', kind: 'restart', node: '@crashed' },
  ],
  narration: [
    { onEvent: { kind: 'node.crash' }, text: 'A follower crashed. Two of three is still a majority: the leader keeps committing.' },
    { onEvent: { kind: 'node.boot', recovered: true }, text: 'It restarts with its log from disk but commit = applied = 0: those positions live in memory.' },
    { onEvent: { kind: 'node.note', name: 'append-rejected' }, after: '3s', text: 'Its log is behind: the leader’s AppendEntries fails the consistency check, so the leader moves nextIndex back.' },
    { onEvent: { kind: 'node.note', name: 'caught-up' }, after: '3s', text: 'Caught up: the follower’s replicated position equals the leader’s append position. Its applied position still trails.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No Raft safety property is violated.' },
    { check: 'count', match: { kind: 'node.note', name: 'write-acked' }, from: '1.2s', to: '3s', min: 150, text: 'Writes keep committing while one of three replicas is down.' },
    { check: 'within', after: { kind: 'node.boot', recovered: true }, then: { kind: 'node.note', name: 'caught-up' }, within: '500ms', text: 'The restarted follower catches up within 500 ms.' },
    { check: 'metric', metric: 'terms', max: 1, text: 'A follower crash causes no election.' },
    { check: 'metric', metric: 'eventualReadStaleness.max', min: 50, text: 'Some eventual reads, served by the recovering follower, miss 50 or more acknowledged writes.' },
  ],
  metrics: ['terms', 'writesAcked', 'commitLatencyMs', 'writeLatencyMs', 'applied', 'readsServed', 'eventualReadStaleness'],
  liveness: RAFT_LIVENESS,
};
