import type { ScenarioInput } from './schema.ts';

/**
 * The kernel's template scenario: five nodes ping each other, a partition cuts one off, another node crashes with a
 * power cut and comes back. It exercises every kernel mechanism later layers rely on — timers, latency and jitter,
 * loss, partitions and heal, crash with disk survival and lost unsynced writes, restart and recovery — and shows the
 * heartbeat failure detector that Raft followers use to notice a dead leader.
 */
export const pingPong: ScenarioInput = {
  id: 'ping-pong',
  title: 'Ping-pong under faults: heartbeats, partitions and crashes',
  summary:
    'Five nodes send each other heartbeats every 100 ms and suspect a peer they have not heard from for 350 ms. ' +
    'At 2 s node n5 is cut off from the rest; at 4 s the partition heals. At 5 s n2 loses power (unsynced writes are ' +
    'lost) and at 6.5 s it restarts, reading its epoch back from disk.',
  tags: ['kernel', 'faults', 'heartbeats'],
  difficulty: 'intro',
  minutes: 5,
  goals: [
    'See how a heartbeat failure detector turns silence into suspicion, and why it cannot tell a crash from a partition.',
    'See what a crash keeps (the synced disk) and what it loses (memory, unsynced writes).',
    'Step an event at a time and watch messages in flight between their send and delivery times.',
  ],
  seed: 'ping-1',
  duration: '8s',
  topology: {
    nodes: [
      { id: 'n1', kind: 'pinger' },
      { id: 'n2', kind: 'pinger' },
      { id: 'n3', kind: 'pinger' },
      { id: 'n4', kind: 'pinger' },
      { id: 'n5', kind: 'pinger' },
    ],
    config: { pinger: { heartbeatMs: 100, suspectAfterMs: 350, syncEvery: 10 } },
    link: { latencyMs: 5, jitterMs: 3, loss: 0.01 },
  },
  faults: [
    { at: '2s', kind: 'partition', shape: 'isolate', node: 'n5' },
    { at: '4s', kind: 'heal' },
    { at: '5s', kind: 'crash', node: 'n2', loseUnsynced: true },
    { at: '6.5s', kind: 'restart', node: 'n2' },
  ],
  narration: [
    { at: '0', text: 'Five nodes boot. Each picks a random first heartbeat so they do not all fire in the same microsecond.' },
    { at: '1s', text: 'Steady state: every node hears from every peer each 100 ms. A lost ping (1% loss) is not enough to raise suspicion.' },
    { onEvent: { kind: 'net.partition' }, after: '2s', text: 'n5 is cut off. Messages already in flight to or from it are dropped when they arrive.' },
    { onEvent: { kind: 'node.state', key: 'suspects:n5', value: true }, text: 'After 350 ms of silence the others suspect n5, and n5 suspects all of them: each side thinks the other failed.' },
    { onEvent: { kind: 'net.heal' }, after: '4s', text: 'The partition heals; the first ping across clears each suspicion.' },
    { onEvent: { kind: 'node.crash', node: 'n2' }, after: '5s', text: 'n2 loses power. Its memory is gone; writes it had not synced are lost, synced ones stay on disk.' },
    { onEvent: { kind: 'node.boot', node: 'n2', recovered: true }, after: '6.5s', text: 'n2 restarts, reads its epoch from disk and announces epoch 2, so peers know it is a new incarnation.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No kernel or epoch invariant is violated.' },
    { check: 'count', match: { kind: 'node.state', key: 'suspects:n5', value: true }, min: 4, text: 'All four peers suspect the isolated n5.' },
    { check: 'count', match: { kind: 'msg.drop', reason: 'partition' }, min: 20, text: 'The partition drops messages in both directions.' },
    { check: 'count', match: { kind: 'msg.deliver', from: 'n5' }, from: '2.05s', to: '4s', max: 0, text: 'Nothing from n5 gets through while it is cut off.' },
    { check: 'within', after: { kind: 'net.heal' }, then: { kind: 'node.state', key: 'suspects:n5', value: false }, within: '300ms', text: 'Suspicion of n5 clears within 300 ms of the heal.' },
    { check: 'count', match: { kind: 'node.state', node: 'n2', key: 'epoch', value: 2 }, min: 1, max: 1, text: 'n2 comes back with epoch 2, read from its disk.' },
    { check: 'metric', metric: 'rttMs.p50', min: 6, max: 20, text: 'Median round trip is about twice the 5 ms link latency plus jitter.' },
  ],
  metrics: ['pingsSent', 'pongsReceived', 'rttMs', 'suspicions', 'recoveries'],
  liveness: { match: { kind: 'msg.deliver', msg: 'pong' }, within: '1s', text: 'once every fault is healed, pongs flow again within 1 s' },
};
