/**
 * The replica-logs view over compacted logs (§7): a replica whose log starts after a snapshot shows one band —
 * "entries 1..N compacted into a snapshot (term T)" — where those cells would be, draws cells only after it, and never
 * asks the Lab for compacted entries; `Lab.logEntries` itself answers from the first kept entry. Runs raft-leader-crash
 * with compaction switched on through settings (a snapshot every 300 applied entries, 10 kept before it): at 5 s each
 * log keeps more than the snapshot view's 200-entry tail, so the entries just after the compacted prefix are paged in.
 */
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/sim/lab.ts';
import { localPort, type LabPort } from '../../src/views/port.ts';
import { raftView } from '../../src/views/raft-format.ts';
import ReplicaLogs from '../../src/views/ReplicaLogs.svelte';
import { CELL_W, FALLBACK_VIEWPORT_PX } from '../../src/views/replica-logs.svelte.ts';

function compactingLab(): Lab {
  const lab = new Lab();
  lab.load('raft-leader-crash', { seed: '1', settings: { config: { raft: { snapshotEntries: 300, snapshotKeepEntries: 10 } } } });
  return lab;
}

describe('ReplicaLogs over compacted logs', () => {
  it('Lab.logEntries answers from the first entry kept after the snapshot', () => {
    const lab = compactingLab();
    const snap = lab.seek(5_000_000);
    const v = raftView(snap.nodes.find((n) => raftView(n)?.role === 'leader')!)!;
    const base = v.logBase ?? 0;
    expect(base).toBeGreaterThan(200);
    expect(v.snapshot).toMatchObject({ term: expect.any(Number) });
    expect(v.logFrom).toBeGreaterThan(base);
    const page = lab.logEntries(v.id, 1, 5) as { index: number }[];
    expect(page.map((e) => e.index)).toEqual([base + 1, base + 2, base + 3, base + 4, base + 5]);
    expect(lab.logEntries(v.id, base + 3, 2).map((e) => (e as { index: number }).index)).toEqual([base + 3, base + 4]);
  });

  it('shows the compacted prefix as one labelled band, cells only after it, and never asks for compacted entries', async () => {
    const lab = compactingLab();
    const snap = lab.seek(5_000_000);
    const asked: [string, number, number][] = [];
    const base = localPort(lab);
    const port: LabPort = { ...base, logEntries: (node, from, count) => (asked.push([node, from, count]), base.logEntries(node, from, count)) };
    render(ReplicaLogs, { props: { snapshot: snap, port } });
    const scroller = screen.getByTestId('log-scroll');
    Object.defineProperty(scroller, 'scrollLeft', { configurable: true, writable: true, value: -1e6 });
    await fireEvent.scroll(scroller);
    const up = snap.nodes.map((n) => raftView(n)).filter((v) => v !== null && (v.logBase ?? 0) > 0);
    expect(up.length).toBeGreaterThan(0);
    await waitFor(() => expect(screen.getAllByTestId('log-compacted').length).toBe(up.length));
    for (const v of up) {
      const band = document.querySelector<SVGGElement>(`[data-testid="log-compacted"][data-node="${v!.id}"]`)!;
      expect(Number(band.dataset.index)).toBe(v!.logBase);
      expect(band.textContent).toContain(`entries 1..${v!.logBase} compacted into a snapshot`);
      expect(band.textContent).toMatch(new RegExp(`\\(term ${v!.snapshot!.term}\\)`));
      const indexes = [...document.querySelectorAll<SVGGElement>(`[data-testid="log-cell"][data-node="${v!.id}"]`)].map((c) => Number(c.dataset.index));
      expect(indexes.every((i) => i > v!.logBase!)).toBe(true);
    }
    // Scroll to just before the leader's first kept entry: the entries after it that the snapshot's tail lacks are paged
    // in, and no request reaches into a compacted prefix.
    const leader = up.find((v) => v!.role === 'leader')!;
    expect(leader.logFrom).toBeGreaterThan(leader.logBase! + 1);
    const maxIndex = Math.max(...snap.nodes.map((n) => raftView(n)?.logLength ?? 0));
    const tail = Math.max(FALLBACK_VIEWPORT_PX, (maxIndex + 3) * CELL_W) - FALLBACK_VIEWPORT_PX;
    scroller.scrollLeft = (leader.logBase! - 3) * CELL_W - tail;
    await fireEvent.scroll(scroller);
    await waitFor(() => expect(asked.some(([node]) => node === leader.id)).toBe(true));
    await waitFor(() => {
      const c = document.querySelector<SVGGElement>(`[data-testid="log-cell"][data-node="${leader.id}"][data-index="${leader.logBase! + 1}"]`);
      expect(c?.classList.contains('loading')).toBe(false);
    });
    for (const [node, from] of asked) {
      const v = up.find((x) => x!.id === node);
      if (v) expect(from).toBeGreaterThan(v.logBase!);
    }
  });
});
