import { assert, fail } from '../kernel/assert.ts';
import type { Checker } from '../kernel/checker.ts';
import { ms } from '../kernel/time.ts';
import type { NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';

/**
 * The kernel's template node: every `heartbeatMs` it pings each peer; a peer not heard from for `suspectAfterMs` is
 * suspected (a heartbeat failure detector, the mechanism Raft followers use to notice a dead leader). It keeps two
 * things on disk to show what a crash keeps and loses:
 * - `epoch`, bumped and synced at every boot, so peers can tell incarnations apart (a generation clock);
 * - `beats`, written without sync on every beat and synced every `syncEvery` beats, so a power-cut crash loses some.
 *
 * Teaching bug `unsynced-epoch`: the epoch is written without sync, so a crash that loses unsynced writes brings the
 * node back with an epoch it already used — two incarnations that peers cannot tell apart.
 */
export interface PingerConfig {
  heartbeatMs: number;
  suspectAfterMs: number;
  syncEvery: number;
}

export interface PingerMemory {
  epoch: number;
  beats: number;
  heartbeatUs: number;
  suspectAfterUs: number;
  syncEvery: number;
  /** Per peer: virtual time it was last heard from (boot time until then). */
  lastHeard: Record<NodeId, number>;
  suspected: Record<NodeId, boolean>;
  /** Per peer: the highest epoch it has reported. */
  peerEpoch: Record<NodeId, number>;
}

interface PingBody {
  epoch: number;
  beat: number;
  sentAt: number;
}

export const PINGER_DEFAULTS: PingerConfig = { heartbeatMs: 100, suspectAfterMs: 350, syncEvery: 10 };

export const pinger: NodeBehavior<PingerMemory, Partial<PingerConfig>> = {
  kind: 'pinger',
  bugs: { 'unsynced-epoch': 'the boot epoch is written without fsync, so a power-cut crash can reuse an epoch' },
  headline: (m) => ({ epoch: m.epoch, beats: m.beats, suspects: Object.values(m.suspected).filter(Boolean).length }),

  boot(config, disk, ctx) {
    const c = { ...PINGER_DEFAULTS, ...config };
    assert(c.heartbeatMs > 0 && c.suspectAfterMs > c.heartbeatMs, 'pinger: suspectAfterMs must exceed heartbeatMs > 0');
    assert(Number.isInteger(c.syncEvery) && c.syncEvery >= 1, 'pinger: syncEvery must be a positive integer');
    const epoch = ((disk.epoch as number | undefined) ?? 0) + 1;
    const beats = (disk.beats as number | undefined) ?? 0;
    ctx.persist({ op: 'put', key: 'epoch', value: epoch }, !ctx.bug('unsynced-epoch'));
    ctx.state('epoch', epoch);
    const m: PingerMemory = {
      epoch,
      beats,
      heartbeatUs: ms(c.heartbeatMs),
      suspectAfterUs: ms(c.suspectAfterMs),
      syncEvery: c.syncEvery,
      lastHeard: {},
      suspected: {},
      peerEpoch: {},
    };
    for (const p of ctx.peers) m.lastHeard[p] = ctx.now;
    // A random first beat spreads the nodes out, as real processes never start in the same microsecond.
    ctx.setTimer('beat', ctx.rng('beat').int(1, m.heartbeatUs));
    return m;
  },

  step(m, input, ctx) {
    if (input.type === 'timer') {
      if (!(input.name === 'beat')) fail(`pinger has no timer ${input.name}`);
      return beat(m, ctx);
    }
    const { msg } = input;
    const body = msg.body as PingBody;
    heard(m, msg.from, body.epoch, ctx);
    switch (msg.kind) {
      case 'ping':
        ctx.send(msg.from, 'pong', { epoch: m.epoch, beat: body.beat, sentAt: body.sentAt } satisfies PingBody, 48);
        return;
      case 'pong':
        ctx.count('pongsReceived');
        ctx.observe('rttMs', (ctx.now - body.sentAt) / 1000);
        return;
      default:
        throw new Error(`pinger got unknown message ${msg.kind}`);
    }
  },
};

function beat(m: PingerMemory, ctx: NodeContext): void {
  m.beats++;
  ctx.persist({ op: 'put', key: 'beats', value: m.beats }, m.beats % m.syncEvery === 0);
  for (const p of ctx.peers) {
    ctx.send(p, 'ping', { epoch: m.epoch, beat: m.beats, sentAt: ctx.now } satisfies PingBody, 48);
    ctx.count('pingsSent');
    if (!m.suspected[p] && ctx.now - m.lastHeard[p] > m.suspectAfterUs) {
      m.suspected[p] = true;
      ctx.state(`suspects:${p}`, true);
      ctx.count('suspicions');
    }
  }
  ctx.setTimer('beat', m.heartbeatUs);
}

function heard(m: PingerMemory, from: NodeId, epoch: number, ctx: NodeContext): void {
  m.lastHeard[from] = ctx.now;
  if (m.suspected[from]) {
    m.suspected[from] = false;
    ctx.state(`suspects:${from}`, false);
    ctx.count('recoveries');
  }
  const known = m.peerEpoch[from] ?? 0;
  if (epoch > known) {
    m.peerEpoch[from] = epoch;
    if (known > 0) ctx.note('peer-restarted', { peer: from, epoch });
  }
}

/**
 * Epochs are generation numbers: each boot of a node must announce an epoch higher than every epoch that node
 * announced before, or peers could confuse a new incarnation with an old one.
 */
export const epochsIncrease: Checker<Record<NodeId, number>> = {
  name: 'ping.epochs-increase',
  description: 'Each boot of a node announces a higher epoch than any it announced before.',
  kinds: ['node.state'],
  init: () => ({}),
  onEvent(s, e) {
    if (e.kind !== 'node.state' || e.key !== 'epoch') return null;
    const epoch = e.value as number;
    const before = s[e.node] ?? 0;
    if (epoch <= before) {
      return { message: `${e.node} booted with epoch ${epoch}, but it already used epoch ${before}`, evidence: { node: e.node, epoch, before, seq: e.seq } };
    }
    s[e.node] = epoch;
    return null;
  },
};
