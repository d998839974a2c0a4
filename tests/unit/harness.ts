/**
 * A small in-memory harness for kernel tests (etcd-raft's network harness in spirit): a `probe` node that sends what
 * a test tells it to on timers and records what it receives, and helpers to build worlds by hand.
 */
import type { Checker } from '../../src/sim/kernel/checker.ts';
import { KERNEL_CHECKERS } from '../../src/sim/check/kernel.ts';
import type { Fault, LinkSpec, NodeBehavior, NodeId } from '../../src/sim/kernel/types.ts';
import { World, type WorldSpec } from '../../src/sim/kernel/world.ts';

export interface ProbeConfig {
  /** Send `count` messages to `to`, one every `everyUs`, starting at `everyUs`; each leaves after `workUs` of work. */
  sends?: { to: NodeId; count: number; everyUs: number; size?: number; workUs?: number };
  /** Write `key` to disk at boot; synced or not. */
  write?: { key: string; value: unknown; sync: boolean };
}

export interface ProbeMemory {
  sent: number;
  received: { from: NodeId; n: number; at: number }[];
  bootedFrom: Record<string, unknown>;
  config: ProbeConfig;
}

export const probe: NodeBehavior<ProbeMemory, ProbeConfig> = {
  kind: 'probe',
  boot(config, disk, ctx) {
    if (config.write) ctx.persist({ op: 'put', key: config.write.key, value: config.write.value }, config.write.sync);
    if (config.sends) ctx.setTimer('send', config.sends.everyUs);
    return { sent: 0, received: [], bootedFrom: { ...disk }, config };
  },
  step(m, input, ctx) {
    if (input.type === 'timer') {
      const s = m.config.sends!;
      ctx.send(s.to, 'data', { n: m.sent }, s.size ?? 64, s.workUs ?? 0);
      m.sent++;
      if (m.sent < s.count) ctx.setTimer('send', s.everyUs);
      return;
    }
    m.received.push({ from: input.msg.from, n: (input.msg.body as { n: number }).n, at: ctx.now });
  },
};

export const LINK: LinkSpec = { latencyUs: 1_000, jitterUs: 0, loss: 0, dup: 0, reorder: 0, bandwidthBytesPerS: 0 };

export function world(opts: {
  nodes: { id: NodeId; config?: ProbeConfig }[];
  link?: Partial<LinkSpec>;
  faults?: { at: number; fault: Fault }[];
  durationUs?: number;
  seed?: string;
  checkers?: Checker[];
  pauseMode?: 'queue' | 'drop';
}): World {
  const spec: WorldSpec = {
    scenario: 'harness',
    seed: opts.seed ?? 'harness',
    nodes: opts.nodes.map((n) => ({ id: n.id, kind: 'probe', config: n.config ?? {} })),
    link: { ...LINK, ...opts.link },
    links: [],
    faults: (opts.faults ?? []).map((f) => ({ ...f, source: 'scenario' as const })),
    bugs: [],
    durationUs: opts.durationUs ?? 10_000_000,
    pauseMode: opts.pauseMode ?? 'queue',
  };
  return new World(spec, { behaviors: { probe }, checkers: opts.checkers ?? [...KERNEL_CHECKERS], keepEvents: true });
}

export function memory(w: World, id: NodeId): ProbeMemory {
  return w.node(id).memory as ProbeMemory;
}
