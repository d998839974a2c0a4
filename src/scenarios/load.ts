import { MQ_METRICS, mqTopology } from './mq-common.ts';
import { LEADER_ELECTED, RAFT_LIVENESS, raftTopology } from './raft-common.ts';
import type { ScenarioInput } from './schema.ts';

/**
 * Two scenarios sized for watching and seeking rather than for one lesson: a message queue busy enough that hundreds
 * of messages are always on the wire, and a Raft group over ten minutes with a few failovers to find on the timeline.
 * They are also what the browser benchmark measures (frame time with ≥ 500 messages in flight; seek latency in a
 * ten-minute run).
 */
export const mqLoad: ScenarioInput = {
  id: 'mq-load',
  title: 'Message queue under load: hundreds of messages in flight',
  summary:
    'Five brokers, three partitions replicated three ways, six producers writing 270 messages a second each in ' +
    'batches every 50 ms over a slow (200 ms) network, and three consumers. Several hundred requests, appends, acks ' +
    'and deliveries are on the wire at any moment. At 11 s a broker loses power; watch the partitions it led fail over while the ' +
    'traffic keeps flowing.',
  tags: ['mq', 'faults'],
  difficulty: 'core',
  minutes: 5,
  goals: [
    'See what steady traffic looks like on the wire: produce batches, appends, replies, deliveries and acks.',
    'Watch three partitions’ leaders fail over when their broker dies, under load.',
  ],
  seed: 'mq-load',
  duration: '22s',
  topology: mqTopology({
    brokers: 5,
    partitions: 3,
    replicas: 3,
    producers: Array.from({ length: 6 }, () => ({ ratePerS: 270, lingerMs: 50, maxInFlight: 20, requestTimeoutMs: 2500 })),
    consumers: Array.from({ length: 3 }, () => ({ processMs: 0.2, fetchMax: 200, bufferMax: 1000, heartbeatMs: 600, writeTimeoutMs: 4000 })),
    link: { latencyMs: 200, jitterMs: 40 },
    // Timers scaled to the slow network: an election timeout must exceed a vote's round trip, a lease its renewal.
    // Each entry leaves for the followers at once (no replication linger), so the wire shows every message.
    raft: { electionMinMs: 1300, electionMaxMs: 2600, heartbeatMs: 400, replicateLingerMs: 0, heartbeatWhenIdle: false },
    coordinator: { pollMs: 300, leaseMs: 2500, sessionMs: 4000 },
    partition: { visibilityMs: 4000, fetchWaitMs: 600 },
  }),
  faults: [
    { at: '11s', kind: 'crash', node: 'b2' },
    { at: '16s', kind: 'restart', node: 'b2' },
  ],
  narration: [
    { at: '5s', text: 'Steady load: every dot on the topology is a message on the wire, about 200 ms from end to end.' },
    { at: '11s', text: 'Broker b2 loses power, and with it every replica it hosts. The partitions it led elect new leaders.' },
    { at: '16s', text: 'b2 is back; its replicas catch up from the new leaders.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No acknowledged write is lost, under load and through the crash.' },
    { check: 'metric', metric: 'produced', min: 30_000, text: 'The producers write about 1,600 messages a second.' },
    { check: 'metric', metric: 'lost', max: 0, text: 'Nothing acknowledged is lost.' },
  ],
  metrics: [...MQ_METRICS],
};

export const raftTenMinutes: ScenarioInput = {
  id: 'raft-ten-minutes',
  title: 'Raft over ten minutes: find the failovers',
  summary:
    'Five replicas and a client writing ten times a second for ten minutes. Every two minutes something breaks: the ' +
    'leader crashes, a minority is cut off, the leader is isolated. Drag the time slider to any moment — the lab ' +
    'restores the nearest checkpoint and replays — and step to the next election to see each failover.',
  tags: ['raft', 'elections', 'faults'],
  difficulty: 'intro',
  minutes: 10,
  goals: ['Seek anywhere in a long run and step to the next election or fault.', 'Compare three failovers: a crash, a cut minority, an isolated leader.'],
  seed: 'raft-long',
  duration: '10m',
  topology: raftTopology(5, { client: { writeEveryMs: 100 } }),
  faults: [
    { at: '2m', kind: 'crash', node: '@leader' },
    { at: '130s', kind: 'restart', node: '@crashed' },
    { at: '4m', kind: 'partition', shape: 'groups', groups: [['r1', 'r2'], ['r3', 'r4', 'r5']] },
    { at: '260s', kind: 'heal' },
    { at: '6m', kind: 'partition', shape: 'isolate', node: '@leader' },
    { at: '375s', kind: 'heal' },
    { at: '8m', kind: 'crash', node: '@leader', loseUnsynced: true },
    { at: '485s', kind: 'restart', node: '@crashed' },
  ],
  narration: [
    { at: '2m', text: 'The leader crashes. Step to the next election (the “election” step button) to see who takes over.' },
    { at: '4m', text: 'A network cut: r1 and r2 on one side, the majority on the other. Only the majority can commit.' },
    { at: '6m', text: 'The leader is isolated. The others elect a new one; the old leader’s writes cannot commit.' },
    { at: '8m', text: 'The leader loses power, losing what it had not synced. Raft never acknowledged that.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No Raft safety property is violated in ten minutes of faults.' },
    { check: 'count', match: LEADER_ELECTED, min: 4, text: 'At least four leaders are elected over the run.' },
  ],
  metrics: ['failoverMs', 'elections', 'terms', 'leaderChanges', 'commitLatencyMs', 'writesAcked'],
  liveness: RAFT_LIVENESS,
};
