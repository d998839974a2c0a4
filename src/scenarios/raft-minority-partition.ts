import { LEADER_ELECTED, RAFT_LIVENESS, raftTopology } from './raft-common.ts';
import type { ScenarioInput } from './schema.ts';

export const raftMinorityPartition: ScenarioInput = {
  id: 'raft-minority-partition',
  title: 'Raft: a stale leader in a minority cannot commit',
  summary:
    'Five replicas. At 1 s a partition leaves the leader with one follower and the client on one side, three ' +
    'replicas on the other. The old leader still thinks it leads and appends the client’s writes, but two of five is ' +
    'no majority: nothing commits and nothing is acknowledged. The majority elects a new leader in a higher term. ' +
    'At 3 s the partition heals: the stale leader sees the higher term, steps down, and its uncommitted entries are ' +
    'truncated and replaced by the new leader’s log.',
  tags: ['raft', 'faults', 'partitions'],
  difficulty: 'core',
  minutes: 8,
  goals: [
    'A leader cut off from a majority cannot commit — Raft chooses consistency (CP) over availability here.',
    'Two replicas may both believe they lead, but never in the same term (Election Safety).',
    'After the heal, Log Matching forces the stale side to truncate its uncommitted suffix.',
  ],
  seed: 'raft-minority',
  duration: '5s',
  topology: raftTopology(5),
  faults: [
    { at: '1s', kind: 'partition', shape: 'groups', groups: [['@leader', '@follower', 'c1'], ['@rest']] },
    { at: '3s', kind: 'heal' },
  ],
  narration: [
    { onEvent: { kind: 'net.partition' }, text: 'The leader, one follower and the client are cut off from the other three replicas.' },
    { onEvent: LEADER_ELECTED, after: '1s', text: 'The majority side elected a leader in a higher term. The old leader does not know yet: it keeps appending writes that cannot commit.' },
    { onEvent: { kind: 'net.heal' }, text: 'The partition heals. The first message from the new term reaches the old leader, which steps down.' },
    { onEvent: { kind: 'node.note', name: 'truncate' }, after: '3s', text: 'A replica drops entries the new leader does not have: they were never committed, so no acknowledged write is lost.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No Raft safety property is violated.' },
    { check: 'count', match: { kind: 'node.note', name: 'write-acked' }, from: '1.1s', to: '3s', max: 0, text: 'No write is acknowledged while the client can only reach the minority.' },
    { check: 'count', match: LEADER_ELECTED, from: '1s', to: '3s', min: 1, text: 'The majority side elects a new leader during the partition.' },
    { check: 'count', match: { kind: 'node.note', name: 'truncate' }, from: '3s', min: 1, text: 'After the heal the stale side truncates its uncommitted entries.' },
    { check: 'count', match: { kind: 'node.note', name: 'write-acked' }, from: '3s', min: 50, text: 'Writes commit again after the heal.' },
  ],
  metrics: ['elections', 'terms', 'leaderChanges', 'writesAcked', 'clientRetries', 'commitLatencyMs'],
  liveness: RAFT_LIVENESS,
};
