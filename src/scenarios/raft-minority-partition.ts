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
    {
      onEvent: { kind: 'net.partition' },
      text: 'The leader, one follower and the client are cut off from the other three replicas.',
      say: 'Under a partition Raft is CP: only the side with a majority can make progress; the minority stops committing.',
      term: { name: 'CP (CAP theorem)', meaning: 'Under a partition, choose consistency: refuse writes that cannot reach a majority rather than diverge.' },
      ask: {
        question: 'Which replica will lead the majority side?',
        answer: { from: 'next-event', match: LEADER_ELECTED, choices: ['r1', 'r2', 'r3', 'r4', 'r5'] },
        explain: 'One of the three replicas cut off from the old leader: their election timers fire, and three of five is a majority.',
      },
    },
    {
      onEvent: LEADER_ELECTED,
      after: '1s',
      text: 'The majority side elected a leader in a higher term. The old leader does not know yet: it keeps appending writes that cannot commit.',
      say: 'Two nodes may both think they lead, but never in the same term, and only the one with a majority can commit.',
      term: { name: 'Election Safety', meaning: 'At most one leader per term (Raft §5.2); a stale leader of an older term cannot commit.' },
      ask: {
        question: 'Will any acknowledged write be lost when the partition heals?',
        answer: { from: 'checker', checker: 'raft.safety' },
        explain: 'No: the stale leader never acknowledged its new entries (it had no majority), so truncating them after the heal loses nothing the client was promised.',
      },
    },
    {
      onEvent: { kind: 'net.heal' },
      text: 'The partition heals. The first message from the new term reaches the old leader, which steps down.',
      say: 'Any message with a higher term makes a leader step down at once: terms fence off stale leaders.',
      term: { name: 'Fencing (epoch)', meaning: 'A monotonically increasing number that lets nodes reject a deposed leader; Raft’s term, Kafka’s leader epoch.' },
    },
    {
      onEvent: { kind: 'node.note', name: 'truncate' },
      after: '3s',
      text: 'A replica drops entries the new leader does not have: they were never committed, so no acknowledged write is lost.',
      say: 'Followers truncate uncommitted suffixes that conflict with the leader: the leader’s log always wins.',
      term: { name: 'Log Matching', meaning: 'If two logs share an entry’s index and term, they are identical up to it (Raft §5.3).' },
    },
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
