/**
 * Hosts in the kernel: several nodes (one Raft replica per partition, say) run on one host (a broker machine), and
 * the host is the unit of failure, of network placement and of resources. Over small hand-built worlds — two hosts
 * of two nodes each, with the harness `probe` and a `scripted` node defined here — it checks that a fault naming one
 * node acts on its whole host, that partitions and link faults are keyed by host while traffic inside a host is a
 * local, FIFO, lossless hand-over, that a host's disk delays durable replies by bytes / rate and its NIC serialises
 * what leaves it (expected delivery times computed by hand), that checkpoints carry the queues, that the scenario
 * schema and the Lab know hosts, and that a topology naming every node its own host runs exactly as one without hosts.
 */
import { describe, expect, it } from 'vitest';
import { toScenarioFault, withRandomFaults } from '../../src/cli/faults.ts';
import { findScenario } from '../../src/scenarios/index.ts';
import { compileScenario, type ScenarioInput } from '../../src/scenarios/schema.ts';
import { KERNEL_CHECKERS } from '../../src/sim/check/kernel.ts';
import { LOCAL_LATENCY_US } from '../../src/sim/kernel/network.ts';
import { randomFaults } from '../../src/sim/kernel/random-faults.ts';
import { RngStreams } from '../../src/sim/kernel/rng.ts';
import type { TraceEvent } from '../../src/sim/kernel/trace.ts';
import type { Fault, LinkSpec, NodeBehavior, NodeId } from '../../src/sim/kernel/types.ts';
import { World, type HostSpec, type NodeSpec, type WorldSpec } from '../../src/sim/kernel/world.ts';
import { Lab } from '../../src/sim/lab.ts';
import { BEHAVIORS, bugsFor } from '../../src/sim/nodes.ts';
import { LINK, probe, type ProbeConfig, type ProbeMemory } from './harness.ts';

/** Sends a burst in one step when its `go` timer fires; answers each `req` with a disk write and an `ack`. */
interface ScriptedConfig {
  goAtUs?: number;
  burst?: { to: NodeId; kind: string; size: number }[];
  /** On `req`: append one item of `bytes` bytes to the log (synced or not), then reply `ack`. */
  echo?: { bytes: number; sync: boolean };
}
interface ScriptedMemory {
  config: ScriptedConfig;
  received: { from: NodeId; kind: string; at: number }[];
}
const scripted: NodeBehavior<ScriptedMemory, ScriptedConfig> = {
  kind: 'scripted',
  boot(config, _disk, ctx) {
    if (config.goAtUs !== undefined) ctx.setTimer('go', config.goAtUs);
    return { config, received: [] };
  },
  step(m, input, ctx) {
    if (input.type === 'timer') {
      for (const b of m.config.burst ?? []) ctx.send(b.to, b.kind, {}, b.size);
      return;
    }
    m.received.push({ from: input.msg.from, kind: input.msg.kind, at: ctx.now });
    if (input.msg.kind === 'req' && m.config.echo) {
      ctx.persist({ op: 'append', key: 'log', items: [input.msg.id], bytes: m.config.echo.bytes }, m.config.echo.sync);
      ctx.send(input.msg.from, 'ack', {}, 64);
    }
  },
};

type NodeEntry = { id: NodeId; host?: string; kind?: 'probe' | 'scripted'; config?: ProbeConfig | ScriptedConfig };

function spec(opts: { nodes: NodeEntry[]; link?: Partial<LinkSpec>; faults?: { at: number; fault: Fault }[]; hosts?: Record<string, HostSpec>; links?: WorldSpec['links']; durationUs?: number; seed?: string }): WorldSpec {
  return {
    scenario: 'hosts',
    seed: opts.seed ?? 'hosts',
    nodes: opts.nodes.map((n): NodeSpec => ({ id: n.id, kind: n.kind ?? 'probe', config: n.config ?? {}, ...(n.host !== undefined ? { host: n.host } : {}) })),
    link: { ...LINK, ...opts.link },
    links: opts.links ?? [],
    faults: (opts.faults ?? []).map((f) => ({ ...f, source: 'scenario' as const })),
    bugs: [],
    durationUs: opts.durationUs ?? 3_000_000,
    pauseMode: 'queue',
    ...(opts.hosts ? { hosts: opts.hosts } : {}),
  };
}

function build(s: WorldSpec): World {
  return new World(s, { behaviors: { probe, scripted }, checkers: [...KERNEL_CHECKERS], keepEvents: true });
}

/** Two hosts of two nodes each: b1 holds b1.a and b1.b, b2 holds b2.a and b2.b. */
function twoByTwo(configs: Partial<Record<string, Omit<NodeEntry, 'id' | 'host'>>> = {}): NodeEntry[] {
  return ['b1.a', 'b1.b', 'b2.a', 'b2.b'].map((id) => ({ id, host: id.slice(0, 2), ...configs[id] }));
}

const probeMem = (w: World, id: NodeId) => w.node(id).memory as ProbeMemory;
const scriptedMem = (w: World, id: NodeId) => w.node(id).memory as ScriptedMemory;
const of = <K extends TraceEvent['kind']>(w: World, kind: K) => w.trace.events.filter((e): e is Extract<TraceEvent, { kind: K }> => e.kind === kind);
const sendsOf = (w: World, msg: string) => of(w, 'msg.send').filter((e) => e.msg === msg);

describe('host topology', () => {
  it('lists hosts in order of first appearance and maps nodes both ways; a node without host is its own', () => {
    const w = build(spec({ nodes: [{ id: 'x', host: 'h2' }, { id: 'solo' }, { id: 'y', host: 'h1' }, { id: 'z', host: 'h2' }] }));
    expect(w.hostIds).toEqual(['h2', 'solo', 'h1']);
    expect(w.hostOf('z')).toBe('h2');
    expect(w.hostOf('solo')).toBe('solo');
    expect(w.nodesOn('h2')).toEqual(['x', 'z']);
    expect(() => w.nodesOn('nope')).toThrow(/unknown host nope/);
  });

  it('refuses a host id that is the id of a node on another host, and resources for unknown hosts', () => {
    expect(() => build(spec({ nodes: [{ id: 'a', host: 'h1' }, { id: 'b', host: 'a' }] }))).toThrow(/host id a is the id of a node on host h1/);
    expect(() => build(spec({ nodes: [{ id: 'a' }], hosts: { zz: { diskBytesPerS: 1, nicBytesPerS: 0 } } }))).toThrow(/unknown host zz/);
    expect(() => build(spec({ nodes: [{ id: 'a' }], hosts: { a: { diskBytesPerS: -1, nicBytesPerS: 0 } } }))).toThrow(/diskBytesPerS/);
    // A node may name itself as its host, and others may join it.
    expect(build(spec({ nodes: [{ id: 'a', host: 'a' }, { id: 'b', host: 'a' }] })).hostIds).toEqual(['a']);
  });
});

describe('faults act on whole hosts', () => {
  it('a crash naming one node crashes every node of its host, in topology order; a restart boots them all', () => {
    const w = build(spec({ nodes: twoByTwo(), faults: [{ at: 1_000, fault: { kind: 'crash', node: 'b1.b' } }, { at: 2_000, fault: { kind: 'restart', node: 'b1.a' } }] }));
    w.runUntil(1_500);
    expect(of(w, 'node.crash').map((e) => e.node)).toEqual(['b1.a', 'b1.b']);
    expect(w.nodesOn('b1').map((id) => w.node(id).status)).toEqual(['crashed', 'crashed']);
    expect(w.nodesOn('b2').map((id) => w.node(id).status)).toEqual(['up', 'up']);
    expect(w.hostStatus('b1')).toBe('crashed');
    expect(w.cannotApply({ kind: 'crash', node: 'b1' })).toBe('b1 is already crashed');
    expect(w.cannotApply({ kind: 'crash', node: 'b1.a' })).toBe('b1 is already crashed');
    expect(w.cannotApply({ kind: 'restart', node: 'b2.b' })).toBe('b2 is not crashed');
    expect(w.cannotApply({ kind: 'crash', node: 'b9' })).toBe('unknown node b9');
    w.runUntil(2_500);
    const boots = of(w, 'node.boot').filter((e) => e.t === 2_000);
    expect(boots.map((e) => [e.node, e.incarnation])).toEqual([['b1.a', 1], ['b1.b', 1]]);
    expect(w.hostStatus('b1')).toBe('up');
    // One fault event per fault, as given; the world did the fan-out.
    expect(of(w, 'fault').map((e) => (e.fault as { node: string }).node)).toEqual(['b1.b', 'b1.a']);
  });

  it('pause and resume by host id hold and release every node of the host', () => {
    const w = build(spec({ nodes: twoByTwo({ 'b2.a': { config: { sends: { to: 'b1.b', count: 5, everyUs: 1_000 } } } }) }));
    w.runUntil(100);
    expect(w.cannotApply({ kind: 'resume', node: 'b1' })).toBe('b1 is not paused');
    const pause: Fault = { kind: 'pause', node: 'b1' };
    w.fork({ ...pause, at: w.t, step: w.steps });
    w.step();
    expect(of(w, 'node.pause').map((e) => e.node)).toEqual(['b1.a', 'b1.b']);
    expect(w.cannotApply({ kind: 'pause', node: 'b1.a' })).toBe('b1 is not running');
    w.runUntil(10_000);
    expect(probeMem(w, 'b1.b').received).toEqual([]);
    w.fork({ kind: 'resume', node: 'b1.b', at: w.t, step: w.steps });
    w.step();
    expect(of(w, 'node.resume').map((e) => [e.node, e.queued])).toEqual([['b1.a', 0], ['b1.b', 5]]);
    expect(probeMem(w, 'b1.b').received.map((r) => r.n)).toEqual([0, 1, 2, 3, 4]);
  });

  it('role references resolve to a node first, then to its host', () => {
    const w = build(spec({ nodes: twoByTwo() }));
    expect(w.resolve({ kind: 'crash', node: 'b2.b' })).toEqual({ kind: 'crash', node: 'b2' });
    expect(w.resolve({ kind: 'crash', node: '@leader' })).toBeNull();
    expect(w.cannotApply({ kind: 'crash', node: '@leader' })).toMatch(/no node has that role/);
  });
});

describe('network by host', () => {
  it('a partition by host cuts cross-host traffic but never traffic inside a host', () => {
    const w = build(spec({
      nodes: twoByTwo({
        'b1.a': { config: { sends: { to: 'b1.b', count: 290, everyUs: 10_000 } } },
        'b2.a': { config: { sends: { to: 'b1.a', count: 290, everyUs: 10_000 } } },
      }),
      faults: [{ at: 1_000_000, fault: { kind: 'partition', shape: 'isolate', node: 'b1.b' } }, { at: 2_000_000, fault: { kind: 'heal' } }],
    }));
    w.runUntil(3_000_000);
    expect(of(w, 'net.partition')[0]).toMatchObject({ shape: 'isolate', groups: [['b1'], ['b2']] });
    const local = probeMem(w, 'b1.b').received;
    expect(local.map((r) => r.n)).toEqual([...Array(290).keys()]);
    const cross = probeMem(w, 'b1.a').received;
    expect(cross.filter((r) => r.at > 1_000_000 && r.at <= 2_000_000)).toEqual([]);
    expect(cross.filter((r) => r.at > 2_000_000).length).toBeGreaterThan(90);
    const drops = of(w, 'msg.drop');
    expect(drops.length).toBe(100);
    expect(drops.every((d) => d.reason === 'partition' && d.from === 'b2.a' && d.to === 'b1.a')).toBe(true);
  });

  it('partition groups may name nodes or hosts; @rest is every host not named', () => {
    const w = build(spec({ nodes: [...twoByTwo(), { id: 'c' }], faults: [{ at: 1_000, fault: { kind: 'partition', shape: 'groups', groups: [['b1.a', 'b1.b'], ['@rest']] } }] }));
    w.runUntil(2_000);
    expect(of(w, 'net.partition')[0].groups).toEqual([['b1'], ['b2', 'c']]);
    expect(w.cannotApply({ kind: 'partition', shape: 'groups', groups: [['b1'], ['zz']] })).toBe('unknown node zz in partition groups');
  });

  it('messages inside a host are FIFO at LOCAL_LATENCY_US and never lost, duplicated or reordered, even at loss 1.0', () => {
    const w = build(spec({
      nodes: twoByTwo({
        'b1.a': { config: { sends: { to: 'b1.b', count: 200, everyUs: 100 } } },
        'b2.a': { config: { sends: { to: 'b1.a', count: 50, everyUs: 100 } } },
      }),
      link: { loss: 1, dup: 1, reorder: 1, jitterUs: 500 },
    }));
    w.runUntil(1_000_000);
    expect(probeMem(w, 'b1.b').received.map((r) => r.n)).toEqual([...Array(200).keys()]);
    for (const s of sendsOf(w, 'data').filter((e) => e.to === 'b1.b')) expect(s.deliverAt).toBe(s.t + LOCAL_LATENCY_US);
    // Across hosts the same link settings lose every original (its duplicates get through, as the network defines).
    expect(of(w, 'msg.drop').filter((d) => d.from === 'b2.a' && d.reason === 'loss')).toHaveLength(50);
    expect(of(w, 'msg.drop').filter((d) => d.to === 'b1.b')).toEqual([]);
    expect(of(w, 'msg.dup').map((d) => d.from)).toEqual(Array(50).fill('b2.a'));
  });

  it('link faults and topology links naming nodes are set on their hosts', () => {
    const w = build(spec({
      nodes: twoByTwo({
        'b2.a': { config: { sends: { to: 'b1.a', count: 3, everyUs: 1_000 } } },
        'b2.b': { config: { sends: { to: 'b1.b', count: 3, everyUs: 1_000 } } },
        'b1.a': { config: { sends: { to: 'b2.b', count: 3, everyUs: 1_000 } } },
      }),
      links: [{ from: 'b1.b', to: 'b2.a', set: { latencyUs: 7_000 }, symmetric: false }],
      faults: [{ at: 1_500, fault: { kind: 'link', from: 'b2.a', to: 'b1.b', set: { latencyUs: 50_000 } } }],
    }));
    w.runUntil(100_000);
    expect(of(w, 'net.link')[0]).toMatchObject({ from: 'b2', to: 'b1' });
    // Before the fault the b2→b1 link has its default 1 ms; after it, both b2 nodes' messages to b1 take 50 ms.
    const delays = (from: string) => sendsOf(w, 'data').filter((e) => e.from === from).map((e) => e.deliverAt - e.t);
    expect(delays('b2.a')).toEqual([1_000, 50_000, 50_000]);
    expect(delays('b2.b')).toEqual([1_000, 50_000, 50_000]);
    // The topology link named b1.b → b2.a and applies to every b1 → b2 message.
    expect(delays('b1.a')).toEqual([7_000, 7_000, 7_000]);
  });
});

describe('host resources', () => {
  const DISK_1MBPS: HostSpec = { diskBytesPerS: 1_000_000, nicBytesPerS: 0 }; // 1 byte per microsecond
  /** b2.a and b2.b each send one request at 1 ms to b1.a / b1.b, which answer after a synced write of 10,000 / 4,000 bytes. */
  const twoSyncedEchoes = (faults: { at: number; fault: Fault }[] = []) =>
    spec({
      nodes: twoByTwo({
        'b1.a': { kind: 'scripted', config: { echo: { bytes: 10_000, sync: true } } },
        'b1.b': { kind: 'scripted', config: { echo: { bytes: 4_000, sync: true } } },
        'b2.a': { kind: 'scripted', config: { goAtUs: 1_000, burst: [{ to: 'b1.a', kind: 'req', size: 64 }] } },
        'b2.b': { kind: 'scripted', config: { goAtUs: 1_000, burst: [{ to: 'b1.b', kind: 'req', size: 64 }] } },
      }),
      hosts: { b1: DISK_1MBPS },
      faults,
    });

  it('a synced write holds the reply until the host disk has written its bytes; the next write queues behind it', () => {
    const w = build(twoSyncedEchoes());
    w.runUntil(100_000);
    // Both requests arrive at 2 ms (1 ms link). b1.a's 10,000 bytes take 10 ms: ack leaves at 12 ms, lands at 13 ms.
    // b1.b's 4,000 bytes wait for the disk until 12 ms and take 4 ms: ack leaves at 16 ms, lands at 17 ms.
    const acks = sendsOf(w, 'ack');
    expect(acks.map((e) => [e.from, e.t, e.deliverAt])).toEqual([['b1.a', 2_000, 13_000], ['b1.b', 2_000, 17_000]]);
    expect(scriptedMem(w, 'b2.a').received).toEqual([{ from: 'b1.a', kind: 'ack', at: 13_000 }]);
    expect(scriptedMem(w, 'b2.b').received).toEqual([{ from: 'b1.b', kind: 'ack', at: 17_000 }]);
    expect(w.metrics().samples.diskWaitMs).toEqual([10]);
    expect(w.metrics().samples.nicWaitMs).toBeUndefined();
  });

  it('a reply waiting on its synced write is lost with a crash before the write is done (sender-crashed)', () => {
    // As above: b1.a's ack waits for the disk until 12 ms, b1.b's until 16 ms. The host crashes at 14 ms: b1.a's ack
    // had left (it lands at 13 ms); b1.b's had not, so it never arrives — dropped when it would have landed.
    const w = build(twoSyncedEchoes([{ at: 14_000, fault: { kind: 'crash', node: 'b1' } }]));
    w.runUntil(15_000);
    expect(w.inFlight(10).map((m) => [m.from, m.doomed])).toEqual([['b1.b', true]]);
    w.runUntil(100_000);
    expect(scriptedMem(w, 'b2.a').received).toEqual([{ from: 'b1.a', kind: 'ack', at: 13_000 }]);
    expect(scriptedMem(w, 'b2.b').received).toEqual([]);
    const drops = w.trace.events.filter((e) => e.kind === 'msg.drop');
    expect(drops.map((e) => [e.t, e.kind === 'msg.drop' && e.from, e.kind === 'msg.drop' && e.reason])).toEqual([[17_000, 'b1.b', 'sender-crashed']]);
  });

  it('unsynced writes cost disk time but hold no message', () => {
    const w = build(spec({
      nodes: twoByTwo({
        'b1.a': { kind: 'scripted', config: { echo: { bytes: 10_000, sync: false } } },
        'b2.a': { kind: 'scripted', config: { goAtUs: 1_000, burst: [{ to: 'b1.a', kind: 'req', size: 64 }] } },
      }),
      hosts: { b1: DISK_1MBPS },
    }));
    w.runUntil(2_000);
    expect(sendsOf(w, 'ack').map((e) => e.deliverAt)).toEqual([3_000]);
    expect(w.hostBacklog('b1')).toEqual({ diskUs: 10_000, nicUs: 0 });
    w.runUntil(5_000);
    expect(w.hostBacklog('b1').diskUs).toBe(7_000);
  });

  it('the NIC serialises back-to-back messages leaving the host; local messages skip it', () => {
    const w = build(spec({
      nodes: twoByTwo({
        'b2.a': {
          kind: 'scripted',
          config: { goAtUs: 1_000, burst: [{ to: 'b1.a', kind: 'm', size: 5_000 }, { to: 'b1.b', kind: 'm', size: 5_000 }, { to: 'b2.b', kind: 'm', size: 5_000 }, { to: 'b1.a', kind: 'm', size: 5_000 }] },
        },
        'b1.a': { kind: 'scripted' },
        'b1.b': { kind: 'scripted' },
        'b2.b': { kind: 'scripted' },
      }),
      hosts: { b2: { diskBytesPerS: 0, nicBytesPerS: 1_000_000 } },
    }));
    w.runUntil(100_000);
    // 5,000 bytes at 1 byte/µs: the three remote messages leave at 6, 11 and 16 ms and land 1 ms later; the local
    // one is handed over in LOCAL_LATENCY_US without waiting for the NIC.
    expect(sendsOf(w, 'm').map((e) => [e.to, e.deliverAt])).toEqual([['b1.a', 7_000], ['b1.b', 12_000], ['b2.b', 1_000 + LOCAL_LATENCY_US], ['b1.a', 17_000]]);
    expect(w.metrics().samples.nicWaitMs).toEqual([5, 10]);
  });

  it('disk and NIC waits add up: a durable reply waits for the disk, then for the NIC', () => {
    const w = build(spec({
      nodes: twoByTwo({
        'b1.a': { kind: 'scripted', config: { echo: { bytes: 3_000, sync: true } } },
        'b2.a': { kind: 'scripted', config: { goAtUs: 1_000, burst: [{ to: 'b1.a', kind: 'req', size: 64 }] } },
      }),
      hosts: { b1: { diskBytesPerS: 1_000_000, nicBytesPerS: 64_000 } }, // 64 bytes take 1 ms on the NIC
    }));
    w.runUntil(100_000);
    // Arrives at 2 ms; disk done at 5 ms; NIC done at 6 ms; link 1 ms.
    expect(sendsOf(w, 'ack').map((e) => e.deliverAt)).toEqual([7_000]);
  });

  it('checkpoints carry host queues: resuming from one reproduces the same trace hash', () => {
    const make = () =>
      spec({
        nodes: twoByTwo({
          'b1.a': { config: { sends: { to: 'b2.a', count: 400, everyUs: 2_000, size: 3_000 }, write: { key: 'k', value: 1, sync: true } } },
          'b1.b': { config: { sends: { to: 'b1.a', count: 400, everyUs: 3_000 } } },
          'b2.b': { config: { sends: { to: 'b1.b', count: 400, everyUs: 1_500, size: 2_000 } } },
        }),
        link: { jitterUs: 800, loss: 0.05, dup: 0.05, reorder: 0.1 },
        hosts: { b1: { diskBytesPerS: 50_000, nicBytesPerS: 1_000_000 }, b2: { diskBytesPerS: 0, nicBytesPerS: 1_500_000 } },
        faults: [
          { at: 300_000, fault: { kind: 'partition', shape: 'isolate', node: 'b2.b' } },
          { at: 500_000, fault: { kind: 'heal' } },
          { at: 600_000, fault: { kind: 'crash', node: 'b2.a', loseUnsynced: true } },
          { at: 700_000, fault: { kind: 'restart', node: 'b2' } },
        ],
        durationUs: 1_200_000,
      });
    const whole = build(make());
    whole.runUntil(1_200_000);
    while (whole.step());
    const first = build(make());
    first.runUntil(650_000);
    const cp = first.checkpoint();
    expect(Object.values(cp.state.hostLoad).some((l) => l.nicBusyUntil > 0)).toBe(true);
    first.runUntil(1_200_000);
    const resumed = new World(make(), { behaviors: { probe, scripted }, checkers: [...KERNEL_CHECKERS], keepEvents: true }, [], { checkpoint: cp, events: first.trace.events });
    resumed.runUntil(1_200_000);
    while (resumed.step());
    expect(resumed.trace.hashHex()).toBe(whole.trace.hashHex());
    expect(resumed.trace.count).toBe(whole.trace.count);
  });
});

// ---- scenario schema, Lab, random faults -------------------------------------------------------------------------

const compile = (raw: unknown) => compileScenario(raw, { knownKinds: Object.keys(BEHAVIORS), knownBugs: bugsFor });

/** ping-pong with n1, n2 on host h1 and n3, n4 on host h2; n5 stays its own host. */
function pingPongOnHosts(): ScenarioInput {
  const s = structuredClone(findScenario('ping-pong')!) as ScenarioInput;
  s.topology.nodes = s.topology.nodes.map((n) => (n.id === 'n5' ? n : { ...n, host: n.id === 'n1' || n.id === 'n2' ? 'h1' : 'h2' }));
  return s;
}

describe('scenario schema with hosts', () => {
  it('passes hosts and MB/s resources into the world spec; faults and links may name hosts', () => {
    const s = pingPongOnHosts();
    s.hosts = { h1: { diskMBps: 100, nicMBps: 12.5 }, n5: { nicMBps: 1 } };
    s.topology.links = [{ from: 'h1', to: 'n5', latencyMs: 9 }];
    s.faults = [{ at: '1s', kind: 'crash', node: 'h2' }, { at: '2s', kind: 'partition', shape: 'groups', groups: [['h1'], ['@rest']] }, { at: '3s', kind: 'link', from: 'h1', to: '*', set: { loss: 0.5 } }];
    const { world } = compile(s);
    expect(world.nodes.map((n) => n.host)).toEqual(['h1', 'h1', 'h2', 'h2', undefined]);
    expect(world.hosts).toEqual({ h1: { diskBytesPerS: 100_000_000, nicBytesPerS: 12_500_000 }, n5: { diskBytesPerS: 0, nicBytesPerS: 1_000_000 } });
    expect(world.faults[0].fault).toEqual({ kind: 'crash', node: 'h2' });
    expect(world.links[0]).toMatchObject({ from: 'h1', to: 'n5' });
  });

  it('leaves the world spec as it was when the scenario declares no hosts', () => {
    const { world } = compile(findScenario('ping-pong'));
    expect('hosts' in world).toBe(false);
    expect(world.nodes.every((n) => !('host' in n))).toBe(true);
  });

  it.each<[string, (s: any) => void, RegExp]>([
    ['a host id that is another host’s node', (s) => (s.topology.nodes[0].host = 'n3'), /topology\.nodes\[0\]\.host: host id "n3" is the id of a node on host "h2"/],
    ['an unknown host in hosts', (s) => (s.hosts = { h9: { diskMBps: 10 } }), /hosts\.h9: unknown host "h9"/],
    ['a host id that is not an id', (s) => (s.topology.nodes[0].host = '9h'), /topology\.nodes\[0\]\.host: a host id is a letter/],
    ['a zero rate', (s) => (s.hosts = { h1: { diskMBps: 0 } }), /hosts\.h1\.diskMBps/],
    ['an unknown resource', (s) => (s.hosts = { h1: { cpu: 2 } }), /hosts\.h1/],
    ['a fault on an unknown host', (s) => (s.faults = [{ at: '1s', kind: 'pause', node: 'h9' }]), /faults\[0\]\.node: unknown node "h9"/],
  ])('refuses %s with its path', (_name, change, message) => {
    const s = pingPongOnHosts();
    change(s);
    expect(() => compile(s)).toThrow(message);
  });
});

describe('Lab with hosts', () => {
  it('shows hosts with status and disk backlog, and injects faults by host or node id', () => {
    const s = pingPongOnHosts();
    s.faults = [];
    s.metrics = [];
    // 64 bytes per beat per node at 500 B/s (128 ms a write): two pingers beating every 100 ms overload h1's disk.
    s.hosts = { h1: { diskMBps: 0.0005 } };
    const lab = new Lab();
    let snap = lab.load(s as unknown);
    expect(snap.hosts.map((h) => [h.id, h.nodes, h.status])).toEqual([['h1', ['n1', 'n2'], 'up'], ['h2', ['n3', 'n4'], 'up'], ['n5', ['n5'], 'up']]);
    snap = lab.step({ until: 2_000_000 });
    const h1 = snap.hosts[0];
    expect(h1.diskBacklogMs).toBeGreaterThan(100);
    expect(snap.hosts[1].diskBacklogMs).toBe(0);
    expect(snap.metrics.diskWaitMs).toMatchObject({ count: expect.any(Number) });
    snap = lab.inject({ kind: 'crash', node: 'h1' });
    expect(snap.hosts[0].status).toBe('crashed');
    expect(snap.nodes.filter((n) => n.status === 'crashed').map((n) => n.id)).toEqual(['n1', 'n2']);
    expect(() => lab.inject({ kind: 'crash', node: 'n2' })).toThrow('cannot crash: h1 is already crashed');
    snap = lab.inject({ kind: 'partition', shape: 'isolate', node: 'n4' });
    expect(snap.network.partition?.groups).toEqual([['h2'], ['h1', 'n5']]);
    snap = lab.inject({ kind: 'restart', node: 'n1' });
    expect(snap.hosts[0].status).toBe('up');
    // Seeking back and forth replays the same run, actions and all.
    const end = lab.runToEnd().traceHash;
    lab.seek(1_000_000);
    expect(lab.runToEnd().traceHash).toBe(end);
  });
});

describe('random faults over hosts', () => {
  it('draws crashes, pauses and partitions over host ids, and every drawn node fault applies to a whole host', () => {
    const s = pingPongOnHosts();
    s.faults = [];
    s.expect = [];
    const { world } = compile(s);
    const hostIds = ['h1', 'h2', 'n5'];
    let hostCrashes = 0;
    for (const seed of ['1', '2', '3', '4', '5', '6']) {
      const drawn = randomFaults(hostIds, world.durationUs, new RngStreams(seed).stream('faults:random'), { defaultLink: world.link });
      const targets = new Set(drawn.flatMap(({ fault: f }) => ('node' in f && f.node ? [f.node] : [])));
      for (const t of targets) expect(hostIds).toContain(t);
      const lab = new Lab();
      lab.load({ ...s, faults: drawn.map(toScenarioFault) } as unknown, { seed });
      const snap = lab.runToEnd();
      expect(snap.violations).toEqual([]);
      const events = lab.events(0, 10_000, { kinds: ['fault', 'node.crash', 'node.boot', 'node.pause', 'node.resume'] });
      const sizes: Record<string, number> = { h1: 2, h2: 2, n5: 1 };
      const expected = { crash: 0, restart: 0, pause: 0, resume: 0 };
      for (const { fault: f } of drawn) if (f.kind in expected) expected[f.kind as keyof typeof expected] += sizes[(f as { node: string }).node];
      const count = (kind: string, after = 0) => events.filter((e) => e.kind === kind && e.t > after).length;
      expect(count('node.crash')).toBe(expected.crash);
      hostCrashes += drawn.filter(({ fault: f }) => f.kind === 'crash' && f.node !== 'n5').length;
      expect(count('node.boot', 0)).toBe(expected.restart);
      expect(count('node.pause')).toBe(expected.pause);
      expect(count('node.resume')).toBe(expected.resume);
    }
    expect(hostCrashes).toBeGreaterThan(3);
  });
});

describe('no hosts declared: nothing changes', () => {
  /** Every node named its own host explicitly, which must be the same world as naming none. */
  const ownHosts = (s: ScenarioInput): ScenarioInput => ({ ...s, topology: { ...s.topology, nodes: s.topology.nodes.map((n) => ({ ...n, host: n.id })) } });

  it.each([
    ['ping-pong', '1'],
    ['ping-pong', '7'],
    ['raft-chaos', '1'],
    ['raft-chaos', '42'],
  ])('%s seed %s under random faults keeps its trace hash when every node is its own host', (id, seed) => {
    const withFaults = withRandomFaults(findScenario(id)! as ScenarioInput, seed);
    const hash = (input: ScenarioInput) => {
      const lab = new Lab();
      lab.load(input as unknown, { seed, keepEvents: false });
      return lab.runToEnd().traceHash;
    };
    const plain = hash(withFaults);
    expect(hash(ownHosts(withFaults))).toBe(plain);
    expect(hash({ ...withFaults, hosts: {} })).toBe(plain);
  });
});
