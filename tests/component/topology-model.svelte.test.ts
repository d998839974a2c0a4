/**
 * The topology view-model under `$effect.root` + `flushSync` (STYLE.md 24): node geometry on the ring, cut links and
 * partition hulls from the snapshot's network, and message positions at `(t - sentAt) / (deliverAt - sentAt)` along
 * their lane. Numbers are rounded to 0.1 by the model, so they are compared exactly.
 */
import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/sim/lab.ts';
import { labWithMessagesAt, snapshotAt, MOMENTS } from '../../src/views/fixtures.ts';
import { nodeRadius, round1, TopologyModel, tripProgress, VIEW_W } from '../../src/views/topology.svelte.ts';

function withModel(initial: Snapshot | null, body: (model: TopologyModel, set: (s: Snapshot | null) => void) => void): void {
  const cleanup = $effect.root(() => {
    let snap = $state.raw<Snapshot | null>(initial);
    const model = new TopologyModel(() => snap);
    body(model, (s) => {
      snap = s;
      flushSync();
    });
  });
  cleanup();
}

describe('TopologyModel', () => {
  it('places five nodes clockwise from the top on a ring', () => {
    withModel(snapshotAt('coldStart'), (m) => {
      flushSync();
      expect(m.nodes.map((n) => n.id)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
      expect(m.nodes.map((n) => [n.x, n.y])).toEqual([
        [350, 66],
        [528.8, 195.9],
        [460.5, 406.1],
        [239.5, 406.1],
        [171.2, 195.9],
      ]);
      expect(m.nodes[0].x).toBe(VIEW_W / 2);
      expect(m.radius).toBe(30);
      expect(m.links).toHaveLength(10);
      expect(m.cutLinks).toHaveLength(0);
      expect(m.hulls).toHaveLength(0);
    });
  });

  it('follows the snapshot: a partition cuts four links and draws two hulls; a heal removes them', () => {
    withModel(snapshotAt('coldStart'), (m, set) => {
      set(snapshotAt('partition'));
      expect(m.cutLinks.map((l) => l.key)).toEqual(['n1-n5', 'n2-n5', 'n3-n5', 'n4-n5']);
      expect(m.cutLinks.every((l) => !l.oneWay)).toBe(true);
      expect(m.hulls.map((h) => h.members)).toEqual([['n5'], ['n1', 'n2', 'n3', 'n4']]);
      expect(m.hulls[0].path).toMatch(/^M[\d.,CZ-]+/);
      set(snapshotAt('end'));
      expect(m.cutLinks).toHaveLength(0);
      expect(m.hulls).toHaveLength(0);
    });
  });

  it('marks node status and colour from the snapshot', () => {
    withModel(snapshotAt('crashed'), (m) => {
      const n2 = m.nodes.find((n) => n.id === 'n2');
      expect(n2?.status).toBe('crashed');
      expect(n2?.color).toBe('#D55E00');
      expect(m.summary).toContain('crashed: n2');
    });
  });

  it('puts each message at its trip fraction along its lane, and moves it as t advances', () => {
    const lab = labWithMessagesAt(MOMENTS.firstPings);
    const s0 = lab.snapshot();
    const msg = s0.inFlight[0];
    withModel(s0, (m, set) => {
      const mark = m.messages.find((x) => x.id === msg.id);
      expect(mark).toBeDefined();
      const p0 = tripProgress(s0.t, msg.sentAt, msg.deliverAt);
      expect(mark!.progress).toBe(Math.round(p0 * 1000) / 1000);

      // Recompute the expected point independently: lane offset 6 to the right, ends at radius + 4.
      const a = m.positions.get(msg.from)!;
      const b = m.positions.get(msg.to)!;
      const len = Math.hypot(b.x - a.x, b.y - a.y);
      const [ux, uy] = [(b.x - a.x) / len, (b.y - a.y) / len];
      const r = nodeRadius(5) + 4;
      const at = (p: number) => {
        const x0 = a.x + ux * r - uy * 6;
        const y0 = a.y + uy * r + ux * 6;
        const x1 = b.x - ux * r - uy * 6;
        const y1 = b.y - uy * r + ux * 6;
        return [round1(x0 + (x1 - x0) * p), round1(y0 + (y1 - y0) * p)];
      };
      expect([mark!.x, mark!.y]).toEqual(at(p0));

      // Half-way through its trip, the same message sits half-way along its lane.
      const mid = Math.round((msg.sentAt + msg.deliverAt) / 2);
      set({ ...s0, t: mid });
      const later = m.messages.find((x) => x.id === msg.id)!;
      expect(later.progress).toBeCloseTo(0.5, 2);
      expect([later.x, later.y]).toEqual(at(tripProgress(mid, msg.sentAt, msg.deliverAt)));
    });
  });

  it('trip progress clamps to 0..1 and treats zero latency as arrived', () => {
    expect(tripProgress(5, 10, 20)).toBe(0);
    expect(tripProgress(15, 10, 20)).toBe(0.5);
    expect(tripProgress(25, 10, 20)).toBe(1);
    expect(tripProgress(10, 10, 10)).toBe(1);
  });

  it('has nothing to draw without a snapshot', () => {
    withModel(null, (m) => {
      expect(m.nodes).toEqual([]);
      expect(m.messages).toEqual([]);
      expect(m.summary).toBe('No run loaded.');
    });
  });
});
