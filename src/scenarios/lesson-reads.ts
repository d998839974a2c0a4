import type { ScenarioInput } from './schema.ts';

/**
 * The notes' "big trade-off" AP vs CP, as two scenarios over one Raft group (src/sim/raft) that replicates a counter.
 * Five replicas r1…r5; a writer increments the counter 50 times a second; two readers read it 20 times a second each:
 * `near` runs on r1's machine, `far` on r5's. From 4 s to 9 s the network splits {r1, r2, r3, writer} from {r4, r5}:
 * the writer and `near` are with the majority, `far` with the minority.
 * - AP (`lesson-ap-reads`): readers ask their own machine's replica (follower reads). Every read is answered, even on
 *   the minority side — with a counter frozen at the moment of the split.
 * - CP (`lesson-cp-reads`): readers read through the leader (ReadIndex: the leader confirms with a majority before it
 *   answers). Every answer is up to date; `far`, cut off from any majority, gets no answers at all until the heal.
 * The linearizable-reads checker measures every answer against the latest committed value (`staleReads`,
 * `staleReadAgeMs`); in CP the readers declare that they need linearizable reads, so a stale one would be a violation.
 */

type Design = 'ap' | 'cp';

const GROUP = ['r1', 'r2', 'r3', 'r4', 'r5'];
const RAFT = { group: GROUP, electionMinMs: 150, electionMaxMs: 300, heartbeatMs: 50, preVote: true, checkQuorum: true };
const METRICS = [
  'writesAcked', 'readsServed', 'readsUnavailable', 'readsChecked', 'staleReads', 'staleReadAgeMs', 'staleReadLagEntries', 'readLatencyMs', 'writeLatencyMs', 'readRetries',
];

function topology(design: Design): ScenarioInput['topology'] {
  const reader = design === 'ap' ? { readFrom: 'follower', linearizable: false } : { readFrom: 'leader', linearizable: true };
  return {
    nodes: [
      ...GROUP.map((id) => ({ id, kind: 'raft' })),
      { id: 'writer', kind: 'lesson-writer', config: { group: GROUP, writeEveryMs: 20 } },
      { id: 'near', kind: 'lesson-reader', host: 'r1', config: { group: GROUP, local: 'r1', ...reader } },
      { id: 'far', kind: 'lesson-reader', host: 'r5', config: { group: GROUP, local: 'r5', ...reader } },
    ],
    config: { raft: RAFT, 'lesson-reader': { readEveryMs: 50, attemptMs: 200, timeoutMs: 1_000 } },
    link: { latencyMs: 2, jitterMs: 1 },
  };
}

const PARTITION: ScenarioInput['faults'] = [
  { at: '4s', kind: 'partition', shape: 'groups', groups: [['r1', 'r2', 'r3', 'writer'], ['r4', 'r5']] },
  { at: '9s', kind: 'heal' },
];

const COMMON = {
  tags: ['lesson', 'raft', 'faults', 'semantics'],
  seed: 'ap-cp-1',
  duration: '13s',
  faults: PARTITION,
  metrics: METRICS,
  liveness: { match: { kind: 'node.note', name: 'read-ok' }, within: '2s', text: 'once every fault is healed, reads are answered again within 2 s' },
};

export const lessonApReads: ScenarioInput = {
  ...COMMON,
  id: 'lesson-ap-reads',
  title: 'Lesson: AP — follower reads stay available and go stale in a partition',
  summary:
    'A Raft group replicates a counter the writer increments 50 times a second. The readers read from their own ' +
    'machine’s replica — fast, and always answered while that replica is up. From 4 s to 9 s a partition cuts r4 and ' +
    'r5 (and the reader far, on r5’s machine) off from the majority. The majority keeps committing; far keeps getting ' +
    'answers, every one of them older and older: availability kept, consistency given up.',
  difficulty: 'core',
  minutes: 6,
  goals: [
    'Read staleReads and staleReadAgeMs: answers that missed committed writes, and by how much (up to the partition’s length).',
    'Read readsUnavailable: zero — every read is answered.',
    'Compare with lesson-cp-reads: same partition, reads through the leader.',
  ],
  topology: topology('ap'),
  narration: [
    { at: '0', text: 'Five replicas elect a leader; the writer finds it and starts incrementing. The readers ask their local replica, which answers from what it has applied.' },
    { at: '2s', text: 'Even without faults a follower read can miss the newest writes: a follower learns of a commit a heartbeat later.' },
    { onEvent: { kind: 'net.partition' }, text: 'The partition: r4 and r5 — and far, on r5’s machine — are cut off. The majority (r1, r2, r3) keeps a leader and keeps committing.' },
    { at: '6s', text: 'far still gets an answer to every read, instantly — the value r5 had applied at 4 s. Each answer is two seconds staler than the last.' },
    { onEvent: { kind: 'net.heal' }, text: 'The heal: r4 and r5 catch up from the leader, and far’s answers are fresh again.' },
    { at: '12.5s', text: 'AP: readsUnavailable = 0, staleReads > 0. The minority answered for five seconds with a frozen counter.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No invariant is violated (these readers do not require linearizable reads).' },
    { check: 'count', match: { kind: 'node.note', name: 'read-unavailable' }, max: 0, text: 'Every read is answered: none unavailable, partition or not.' },
    { check: 'count', match: { kind: 'node.note', node: 'far', name: 'read-ok' }, from: '4.5s', to: '9s', min: 80, text: 'far, on the minority side, gets answers throughout the partition (20 a second).' },
    { check: 'metric', metric: 'staleReads', min: 80, text: 'Many answers are stale: they miss writes committed before the read began.' },
    { check: 'metric', metric: 'staleReadAgeMs.max', min: 4_000, text: 'By the end of the partition far’s answers are over 4 s old.' },
    { check: 'metric', metric: 'readLatencyMs.p50', max: 1, text: 'A follower read on the same machine answers in well under a millisecond (p50).' },
  ],
};

export const lessonCpReads: ScenarioInput = {
  ...COMMON,
  id: 'lesson-cp-reads',
  title: 'Lesson: CP — reads through the leader stay consistent and fail in a partition',
  summary:
    'The same group, writer and partition. Now the readers read through the leader with ReadIndex: the leader notes its ' +
    'commit index, confirms with a majority that it still leads, and answers once it has applied up to that index. ' +
    'Every answer includes every committed write — and far, cut off with the minority, gets no answer at all for five ' +
    'seconds: consistency kept, availability given up. The readers declare they need linearizable reads, so the ' +
    'checker would flag a single stale answer.',
  difficulty: 'core',
  minutes: 6,
  goals: [
    'Read staleReads: zero, and the linearizable-reads checker stays silent.',
    'Count far’s read-unavailable notes during the partition: every read it makes there fails.',
    'Compare readLatencyMs with lesson-ap-reads: a leader read costs a round trip to a majority.',
    'Try it: set lesson-reader readFrom to follower (keeping linearizable) and watch the checker fire.',
  ],
  topology: topology('cp'),
  narration: [
    { at: '0', text: 'Five replicas elect a leader. Reads go to it; it answers only after a heartbeat round confirms a majority still follows it.' },
    { onEvent: { kind: 'net.partition' }, text: 'The partition. far can reach only r4 and r5, and neither can lead: two of five is not a majority.' },
    { onEvent: { kind: 'node.note', node: 'far', name: 'read-unavailable' }, text: 'far’s first read gives up after 1 s without an answer: r4 and r5 say “not leader”, and the leader cannot be reached.' },
    { at: '6s', text: 'near, with the majority, reads fresh values throughout. far gets nothing: the system chose consistency over availability on the minority side.' },
    { onEvent: { kind: 'net.heal' }, text: 'The heal: far reaches the leader again and its reads succeed, up to date.' },
    { at: '12.5s', text: 'CP: staleReads = 0 and the checker is silent; readsUnavailable > 0, all of them far’s, all during the partition.' },
  ],
  expect: [
    { check: 'no-violations', text: 'The linearizable-reads checker (and every Raft invariant) stays silent.' },
    { check: 'metric', metric: 'staleReads', max: 0, text: 'No read is stale: each reflects every write committed before it began.' },
    { check: 'metric', metric: 'readsChecked', min: 300, text: 'The checker judged hundreds of reads.' },
    { check: 'count', match: { kind: 'node.note', node: 'far', name: 'read-unavailable' }, from: '4s', to: '10s', min: 60, text: 'far’s reads fail during the partition: no majority, no answer.' },
    { check: 'count', match: { kind: 'node.note', node: 'near', name: 'read-unavailable' }, max: 3, text: 'near, with the majority, stays available (at most a read or two lost while a new leader is chosen).' },
    { check: 'count', match: { kind: 'node.note', name: 'read-unavailable' }, from: '0', to: '4s', max: 0, text: 'Before the partition no read fails.' },
    { check: 'within', after: { kind: 'net.heal' }, then: { kind: 'node.note', node: 'far', name: 'read-ok' }, within: '1.5s', text: 'After the heal far is answered again within 1.5 s.' },
    { check: 'metric', metric: 'readLatencyMs.p50', min: 4, text: 'A leader read costs a majority round trip: 4 ms or more (p50), against under 1 ms for a local follower read.' },
  ],
};
