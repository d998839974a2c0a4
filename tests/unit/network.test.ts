/**
 * Network and node fault semantics, over the probe harness: loss within tolerance, partitions cut (both ways, or one
 * way), in-flight messages meet the fate rule, heal restores, duplication and reordering happen at their rates,
 * FIFO holds otherwise, bandwidth queues, crash loses memory and keeps the disk, pause holds or drops input.
 */
import { describe, expect, it } from 'vitest';
import { partitionGroups } from '../../src/sim/kernel/network.ts';
import { RngStreams } from '../../src/sim/kernel/rng.ts';
import { memory, world } from './harness.ts';

const sender = (count: number, everyUs = 1_000, to = 'b') => ({ id: 'a', config: { sends: { to, count, everyUs } } });

function kinds(w: ReturnType<typeof world>, kind: string, extra: Record<string, unknown> = {}) {
  return w.trace.events.filter((e) => e.kind === kind && Object.entries(extra).every(([k, v]) => (e as any)[k] === v));
}

describe('loss', () => {
  it.each([0.1, 0.3, 0.5])('drops about %f of 10,000 messages', (loss) => {
    const w = world({ nodes: [sender(10_000, 100), { id: 'b' }], link: { loss }, durationUs: 2_000_000 });
    w.runUntil(2_000_000);
    const dropped = kinds(w, 'msg.drop', { reason: 'loss' }).length;
    const delivered = memory(w, 'b').received.length;
    expect(dropped + delivered).toBe(10_000);
    // Binomial(10,000, p): 5 standard deviations is at most 250 messages.
    expect(Math.abs(dropped / 10_000 - loss)).toBeLessThan(0.025);
  });

  it('delivers everything with no loss', () => {
    const w = world({ nodes: [sender(500), { id: 'b' }] });
    w.runUntil(2_000_000);
    expect(memory(w, 'b').received.map((r) => r.n)).toEqual([...Array(500).keys()]);
  });
});

describe('partitions', () => {
  it('a partitioned link delivers nothing, and heal restores delivery', () => {
    const w = world({
      nodes: [sender(300, 10_000), { id: 'b' }, { id: 'c' }],
      faults: [{ at: 1_000_000, fault: { kind: 'partition', shape: 'isolate', node: 'b' } }, { at: 2_000_000, fault: { kind: 'heal' } }],
    });
    w.runUntil(3_100_000);
    const got = memory(w, 'b').received;
    const during = got.filter((r) => r.at > 1_000_000 && r.at <= 2_000_000);
    expect(during).toEqual([]);
    expect(got.filter((r) => r.at > 2_000_000).length).toBeGreaterThan(90);
    expect(got.filter((r) => r.at < 1_000_000).length).toBeGreaterThan(90);
    expect(kinds(w, 'msg.drop', { reason: 'partition' }).length).toBe(100);
  });

  it('a message in flight when the partition starts is dropped on arrival', () => {
    // Latency 50 ms: the message sent at 10 ms arrives at 60 ms, after the cut at 30 ms.
    const w = world({ nodes: [sender(1, 10_000), { id: 'b' }], link: { latencyUs: 50_000 }, faults: [{ at: 30_000, fault: { kind: 'partition', shape: 'isolate', node: 'b' } }] });
    w.runUntil(100_000);
    expect(memory(w, 'b').received).toEqual([]);
    expect(kinds(w, 'msg.drop', { reason: 'partition' })).toHaveLength(1);
  });

  it('a message sent into a cut link stays dropped even if the cut heals before it arrives', () => {
    const w = world({
      nodes: [sender(1, 20_000), { id: 'b' }],
      link: { latencyUs: 50_000 },
      faults: [{ at: 10_000, fault: { kind: 'partition', shape: 'isolate', node: 'b' } }, { at: 30_000, fault: { kind: 'heal' } }],
    });
    w.runUntil(100_000);
    expect(memory(w, 'b').received).toEqual([]);
  });

  it('a one-way partition cuts only messages from the first group', () => {
    const w = world({
      nodes: [sender(10, 1_000, 'b'), { id: 'b', config: { sends: { to: 'a', count: 10, everyUs: 1_000 } } }],
      faults: [{ at: 0, fault: { kind: 'partition', shape: 'groups', groups: [['a'], ['b']], oneWay: true } }],
    });
    w.runUntil(100_000);
    expect(memory(w, 'b').received).toEqual([]);
    expect(memory(w, 'a').received).toHaveLength(10);
  });

  it('shapes: isolate, halves, ring, bridge', () => {
    const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const rng = new RngStreams('shapes').stream('faults');
    expect(partitionGroups('isolate', nodes, rng, 'n3')).toEqual([['n3'], ['n1', 'n2', 'n4', 'n5']]);
    const halves = partitionGroups('halves', nodes, rng);
    expect(halves.map((g) => g.length).sort()).toEqual([2, 3]);
    expect(halves.flat().sort()).toEqual(nodes);
    const ring = partitionGroups('ring', nodes, rng);
    // Every node sees a majority (3 of 5) including itself, yet no two views are the same majority.
    expect(ring).toHaveLength(5);
    for (const view of ring) expect(view).toHaveLength(3);
    expect(new Set(ring.map((v) => v.join())).size).toBe(5);
    const bridge = partitionGroups('bridge', nodes, rng, 'n3');
    expect(bridge.every((g) => g.includes('n3'))).toBe(true);
    expect(bridge[0].filter((n) => bridge[1].includes(n))).toEqual(['n3']);
  });

  it('a bridge node talks to both sides while the sides cannot talk to each other', () => {
    const w = world({
      nodes: [
        { id: 'a', config: { sends: { to: 'c', count: 5, everyUs: 1_000 } } },
        { id: 'b', config: { sends: { to: 'a', count: 5, everyUs: 1_000 } } },
        { id: 'c', config: { sends: { to: 'b', count: 5, everyUs: 1_000 } } },
      ],
      faults: [{ at: 0, fault: { kind: 'partition', shape: 'groups', groups: [['a', 'b'], ['b', 'c']] } }],
    });
    w.runUntil(100_000);
    expect(memory(w, 'c').received).toEqual([]); // a -> c cut
    expect(memory(w, 'a').received).toHaveLength(5); // b -> a
    expect(memory(w, 'b').received).toHaveLength(5); // c -> b
  });
});

describe('duplication, reordering, FIFO, bandwidth', () => {
  it('duplicates about the configured fraction, each copy delivered', () => {
    const w = world({ nodes: [sender(4_000, 100), { id: 'b' }], link: { dup: 0.2 } });
    w.runUntil(1_000_000);
    const dups = kinds(w, 'msg.dup').length;
    expect(Math.abs(dups / 4_000 - 0.2)).toBeLessThan(0.035);
    expect(memory(w, 'b').received.length).toBe(4_000 + dups);
  });

  it('keeps per-link FIFO order under jitter unless reordering is on', () => {
    const fifo = world({ nodes: [sender(2_000, 50), { id: 'b' }], link: { jitterUs: 5_000 } });
    fifo.runUntil(1_000_000);
    const order = memory(fifo, 'b').received.map((r) => r.n);
    expect(order).toEqual([...order].sort((x, y) => x - y));

    const re = world({ nodes: [sender(2_000, 50), { id: 'b' }], link: { jitterUs: 5_000, reorder: 0.3 } });
    re.runUntil(1_000_000);
    const got = memory(re, 'b').received.map((r) => r.n);
    let inversions = 0;
    for (let i = 1; i < got.length; i++) if (got[i] < got[i - 1]) inversions++;
    expect(got).toHaveLength(2_000);
    expect(inversions).toBeGreaterThan(100);
  });

  it('bandwidth serialises messages: 100 × 10 kB at 1 MB/s take a second', () => {
    const w = world({ nodes: [{ id: 'a', config: { sends: { to: 'b', count: 100, everyUs: 1, size: 10_000 } } }, { id: 'b' }], link: { bandwidthBytesPerS: 1_000_000 } });
    w.runUntil(5_000_000);
    const last = memory(w, 'b').received.at(-1)!;
    expect(memory(w, 'b').received).toHaveLength(100);
    expect(last.at).toBeGreaterThanOrEqual(1_000_000);
    expect(last.at).toBeLessThan(1_010_000);
  });
});

describe('crash, restart, pause', () => {
  it('a crash loses memory and keeps synced disk; unsynced writes survive unless the fault loses them', () => {
    for (const loseUnsynced of [false, true]) {
      const w = world({
        nodes: [{ id: 'a', config: { write: { key: 'k', value: 1, sync: false } } }, { id: 'b', config: { write: { key: 'k', value: 2, sync: true } } }],
        faults: [
          { at: 1_000, fault: { kind: 'crash', node: 'a', loseUnsynced } },
          { at: 1_000, fault: { kind: 'crash', node: 'b', loseUnsynced } },
          { at: 2_000, fault: { kind: 'restart', node: 'a' } },
          { at: 2_000, fault: { kind: 'restart', node: 'b' } },
        ],
      });
      w.runUntil(1_500);
      expect(w.node('a').memory).toBeNull();
      expect(w.node('a').status).toBe('crashed');
      w.runUntil(3_000);
      expect(memory(w, 'b').bootedFrom).toEqual({ k: 2 });
      expect(memory(w, 'a').bootedFrom).toEqual(loseUnsynced ? {} : { k: 1 });
      expect(kinds(w, 'node.crash', { node: 'a' })[0]).toMatchObject({ lostWrites: loseUnsynced ? 1 : 0 });
      expect(kinds(w, 'node.boot', { node: 'b' }).map((e) => (e as any).recovered)).toEqual([false, true]);
    }
  });

  it('a crashed node receives nothing and its timers never fire', () => {
    const w = world({ nodes: [sender(100, 1_000), { id: 'b' }], faults: [{ at: 10_500, fault: { kind: 'crash', node: 'a' } }] });
    w.runUntil(200_000);
    expect(memory(w, 'b').received).toHaveLength(10);
    expect(kinds(w, 'timer.fire', { node: 'a' })).toHaveLength(10);
  });

  it('messages to a crashed node are dropped as node-down', () => {
    const w = world({ nodes: [sender(20, 1_000), { id: 'b' }], faults: [{ at: 5_500, fault: { kind: 'crash', node: 'b' } }] });
    w.runUntil(100_000);
    // Sends at 1..20 ms arrive at 2..21 ms; those arriving after 5.5 ms (16 of them) find b down.
    expect(kinds(w, 'msg.drop', { reason: 'node-down' }).length).toBe(16);
  });

  it('a paused node holds its input (queue mode) and handles it on resume, in order', () => {
    const w = world({ nodes: [sender(20, 1_000), { id: 'b' }], faults: [{ at: 5_500, fault: { kind: 'pause', node: 'b' } }, { at: 50_000, fault: { kind: 'resume', node: 'b' } }] });
    w.runUntil(100_000);
    const got = memory(w, 'b').received;
    expect(got.map((r) => r.n)).toEqual([...Array(20).keys()]);
    expect(got.filter((r) => r.at === 50_000)).toHaveLength(16);
    expect(kinds(w, 'node.resume')[0]).toMatchObject({ queued: 16 });
  });

  it('a paused node drops its input in drop mode', () => {
    const w = world({ pauseMode: 'drop', nodes: [sender(20, 1_000), { id: 'b' }], faults: [{ at: 5_500, fault: { kind: 'pause', node: 'b' } }, { at: 50_000, fault: { kind: 'resume', node: 'b' } }] });
    w.runUntil(100_000);
    expect(memory(w, 'b').received).toHaveLength(4);
    expect(kinds(w, 'msg.drop', { reason: 'paused' })).toHaveLength(16);
  });

  it('faults that cannot apply are recorded and change nothing', () => {
    const w = world({ nodes: [{ id: 'a' }, { id: 'b' }], faults: [{ at: 1_000, fault: { kind: 'restart', node: 'a' } }] });
    w.runUntil(2_000);
    expect(kinds(w, 'fault')).toHaveLength(1);
    expect(kinds(w, 'node.boot', { node: 'a' })).toHaveLength(1);
    expect(w.cannotApply({ kind: 'restart', node: 'a' })).toBe('a is not crashed');
    expect(w.cannotApply({ kind: 'crash', node: 'zz' })).toBe('unknown node zz');
  });
});

describe('work before a send', () => {
  const worker = (count: number, workUs: number) => ({ id: 'a', config: { sends: { to: 'b', count, everyUs: 1_000, workUs } } });
  const arrivals = (w: ReturnType<typeof world>) => memory(w, 'b').received.map((r) => [r.n, r.at]);

  it('a message leaves when the work is done; its send is in the trace at once', () => {
    const w = world({ nodes: [worker(1, 5_000), { id: 'b' }] });
    w.runUntil(20_000);
    expect(arrivals(w)).toEqual([[0, 7_000]]);
    expect(kinds(w, 'msg.send')[0]).toMatchObject({ t: 1_000, deliverAt: 7_000 });
  });

  it('a sender that crashes before its message left loses it (sender-crashed); what already left arrives', () => {
    // Sends at 1..5 ms, each leaving 3 ms later (4..8 ms) and arriving 1 ms after that. The crash at 5.5 ms comes after
    // the first two left and before the other three did.
    const w = world({ nodes: [worker(5, 3_000), { id: 'b' }], faults: [{ at: 5_500, fault: { kind: 'crash', node: 'a' } }] });
    w.runUntil(6_000);
    expect(w.inFlight(10).map((m) => [m.id, m.doomed])).toEqual([[3, true], [4, true], [5, true]]);
    w.runUntil(20_000);
    expect(arrivals(w)).toEqual([[0, 5_000], [1, 6_000]]);
    expect(kinds(w, 'msg.drop', { reason: 'sender-crashed' }).map((e) => [e.t, (e as { id: number }).id])).toEqual([[7_000, 3], [8_000, 4], [9_000, 5]]);
  });

  it('a pause freezes the work: the message leaves later by the pause, and the link stays FIFO', () => {
    // Sent at 1 ms with 3 ms of work (it would leave at 4 ms). Paused 2..12 ms with 2 ms of work left, it leaves at
    // 14 ms and lands at 15 ms. The second send's timer, due at 2 ms, is held through the pause and fires on resume:
    // sent at 12 ms with 3 ms of work, it lands at 16 ms, after the first.
    const w = world({ nodes: [worker(2, 3_000), { id: 'b' }], faults: [{ at: 2_000, fault: { kind: 'pause', node: 'a' } }, { at: 12_000, fault: { kind: 'resume', node: 'a' } }] });
    w.runUntil(5_000);
    expect(memory(w, 'b').received).toEqual([]);
    w.runUntil(30_000);
    expect(arrivals(w)).toEqual([[0, 15_000], [1, 16_000]]);
    expect(kinds(w, 'msg.deliver').map((e) => e.t)).toEqual([15_000, 16_000]);
  });

  it('a sender crashing while paused loses what its frozen work was to send, at once', () => {
    const w = world({ nodes: [worker(1, 3_000), { id: 'b' }], faults: [{ at: 2_000, fault: { kind: 'pause', node: 'a' } }, { at: 6_000, fault: { kind: 'crash', node: 'a' } }] });
    w.runUntil(30_000);
    expect(memory(w, 'b').received).toEqual([]);
    expect(kinds(w, 'msg.drop', { reason: 'sender-crashed' }).map((e) => e.t)).toEqual([6_000]);
  });

  it('work that is done before a pause is not held', () => {
    const w = world({ nodes: [worker(1, 1_000), { id: 'b' }], faults: [{ at: 2_500, fault: { kind: 'pause', node: 'a' } }] });
    w.runUntil(30_000);
    expect(arrivals(w)).toEqual([[0, 3_000]]);
  });
});

describe('timers', () => {
  it('re-setting a timer later moves it without leaving stale items in the heap', () => {
    // An election timer is pushed back by every heartbeat: a hundred later re-sets of one timer must keep one heap
    // item (which re-arms itself at the final deadline), not a hundred stale ones. Effects are applied directly here.
    const w = world({ nodes: [{ id: 'a' }, { id: 'b' }] });
    const heapBefore = w.state.heap.items.length;
    const n = w.node('a');
    const only = (after: number) => ({ writes: [], nEvents: 0, nTimers: 1, timerNames: ['t'], timerAfters: [after], nSends: 0, nCounts: 0, nSamples: 0 });
    for (let i = 1; i <= 100; i++) (w as any)._perform(n, only(1_000 + i));
    expect(w.state.heap.items.length).toBe(heapBefore + 1);
    expect(n.timers.t.at).toBe(1_100);
  });
});
