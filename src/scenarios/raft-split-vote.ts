import { CANDIDATE, LEADER_ELECTED, RAFT_LIVENESS, raftTopology } from './raft-common.ts';
import type { ScenarioInput } from './schema.ts';

export const raftSplitVote: ScenarioInput = {
  id: 'raft-split-vote',
  title: 'Raft: split votes when timeouts are too close',
  summary:
    'Five replicas whose election timeouts are drawn from 150–151 ms while a message takes 10 ms. Every replica ' +
    'times out before any vote request reaches it, votes for itself and refuses the others: no majority, term after ' +
    'term. At 2 s the network speeds up to 0.1 ms: now the spread of timeouts exceeds the message delay, the first ' +
    'candidate’s requests arrive before the others time out, and it wins. Raft randomizes election timeouts (§5.2) ' +
    'and needs the message delay to be well below the timeout spread (§5.6).',
  tags: ['raft', 'elections'],
  difficulty: 'core',
  minutes: 6,
  goals: [
    'See a split vote: every candidate votes for itself, so no one reaches a majority.',
    'See why the randomized timeouts must spread wider than the time a vote request takes.',
  ],
  seed: 'raft-split',
  duration: '3s',
  topology: raftTopology(5, { raft: { electionMinMs: 150, electionMaxMs: 151 }, client: { writeEveryMs: 50 }, link: { latencyMs: 10, jitterMs: 0 } }),
  faults: [{ at: '2s', kind: 'link', from: '*', to: '*', set: { latencyMs: 0.1 } }],
  narration: [
    {
      onEvent: CANDIDATE,
      text: 'All five timers fire within 1 ms of each other, but a vote request takes 10 ms: everyone is a candidate and votes for itself.',
      say: 'If everyone campaigns at once, everyone votes for themselves and nobody gets a majority: a split vote.',
      term: { name: 'Split vote', meaning: 'An election in which no candidate reaches a majority; the term ends without a leader.' },
      ask: {
        question: 'Will anyone be elected before the network speeds up at 2 s?',
        answer: { from: 'metric-above', metric: 'leaderChanges', above: 0, at: '1999ms' },
        explain: 'No: the 1 ms spread of the timeouts is smaller than the 10 ms a vote request takes, so every replica has already voted for itself when a request arrives.',
      },
    },
    {
      at: '600ms',
      text: 'Term after term, the same thing: votes are refused with “already voted for …”. Nobody leads; writes cannot commit.',
      say: 'Without a leader the group is unavailable for writes: liveness needs the timeout spread to exceed the message delay.',
      term: { name: 'Liveness', meaning: 'Something good eventually happens (a leader is elected); safety holds even while it does not.' },
    },
    {
      onEvent: { kind: 'net.link' },
      text: 'Messages now take 0.1 ms, less than the 1 ms spread of the timeouts.',
      say: 'Raft needs broadcast time ≪ election timeout: then the first candidate’s requests arrive before anyone else times out.',
      term: { name: 'Timing requirement', meaning: 'broadcastTime ≪ electionTimeout ≪ MTBF (Raft §5.6).' },
      ask: {
        question: 'Which replica will win now?',
        answer: { from: 'next-event', match: LEADER_ELECTED, choices: ['r1', 'r2', 'r3', 'r4', 'r5'] },
        explain: 'The first replica to time out after the speed-up: its vote requests reach the others before their own timers fire.',
      },
    },
    {
      onEvent: LEADER_ELECTED,
      text: 'The first candidate’s requests arrived before the others timed out: they voted for it and it leads.',
      say: 'Randomized timeouts make split votes rare and short, not impossible; each retry draws a new timeout.',
      term: { name: 'Randomized timeout', meaning: 'Each election timer is drawn anew from a range, so repeated collisions are unlikely.' },
    },
  ],
  expect: [
    { check: 'no-violations', text: 'No Raft safety property is violated.' },
    { check: 'count', match: LEADER_ELECTED, to: '2s', max: 0, text: 'While messages are slower than the timeout spread, no one is elected.' },
    { check: 'count', match: { kind: 'node.state', key: 'term' }, to: '2s', min: 40, text: 'Candidates keep campaigning in new terms (split votes).' },
    { check: 'within', after: { kind: 'net.link' }, then: LEADER_ELECTED, within: '500ms', text: 'Once messages are faster than the spread, a leader is elected within 500 ms.' },
  ],
  metrics: ['elections', 'terms', 'leaderChanges', 'writesAcked'],
  liveness: RAFT_LIVENESS,
};
