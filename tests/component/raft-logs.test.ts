/**
 * The replica-logs view at fixed Raft moments (seed "1"): cells coloured and numbered by term, committed vs not,
 * markers for append / commit / applied at the indices the snapshot states, the leader's per-follower match pins,
 * crashed replicas drawn from their disk, the "why isn't this committed?" card for known entries (the term rule,
 * a stale leader's doomed entry), and paging back beyond the snapshot's 200-entry tail through `logEntries`.
 * Expected numbers are read from the snapshot where they are its facts, so the test checks the drawing, not the run.
 */
import { composeStories } from '@storybook/svelte';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/sim/lab.ts';
import { raftLabAt, raftSnapshotAt } from '../../src/views/fixtures.ts';
import { localPort } from '../../src/views/port.ts';
import { raftView, termColor } from '../../src/views/raft-format.ts';
import ReplicaLogs from '../../src/views/ReplicaLogs.svelte';
import * as stories from '../../src/views/ReplicaLogs.stories.ts';
import { renderStory } from './render.ts';

const { SteadyState, LeaderCrashed, LaggingFollower, StaleLeaderPartition, ColdStartElection } = composeStories(stories);

function cells(node: string): SVGGElement[] {
  return [...document.querySelectorAll<SVGGElement>(`[data-testid="log-cell"][data-node="${node}"]`)];
}

function cell(node: string, index: number): SVGGElement {
  const c = document.querySelector<SVGGElement>(`[data-testid="log-cell"][data-node="${node}"][data-index="${index}"]`);
  if (!c) throw new Error(`no cell ${node}[${index}]`);
  return c;
}

/** Pin triangles by kind on a replica's row: index → kind. */
function pins(node: string): { kind: string; index: number }[] {
  return [...document.querySelectorAll<SVGPathElement>(`[data-testid="log-pin"][data-node="${node}"] path[data-kind]`)].map((p) => ({
    kind: p.dataset.kind!,
    index: Number(p.dataset.index),
  }));
}

function labels(node: string): string[] {
  return [...document.querySelectorAll<SVGGElement>(`[data-testid="log-pin"][data-node="${node}"]`)].map((g) => g.dataset.label!);
}

describe('ReplicaLogs', () => {
  it('cold start mid-election: three empty logs, r1 a candidate', () => {
    renderStory(ColdStartElection);
    expect(screen.queryAllByTestId('log-cell')).toHaveLength(0);
    expect(screen.getByTestId('log-head-r1').dataset.role).toBe('candidate');
    expect(screen.getByTestId('log-head-r1').textContent).toContain('T1');
  });

  it('steady state: every cell is coloured and numbered by its term; the tail shows, aligned by index', () => {
    renderStory(SteadyState);
    const snap = raftSnapshotAt('steady');
    const leader = raftView(snap.nodes[0])!;
    expect(leader.role).toBe('leader');
    const r1 = cells('r1');
    expect(r1.length).toBeGreaterThan(20);
    // Following the tail: the last cell is the append position.
    expect(Number(r1[r1.length - 1].dataset.index)).toBe(leader.logLength);
    for (const c of r1) {
      const term = Number(c.dataset.term);
      expect(term).toBe(1);
      expect(fill(c)).toBe(termColor(term).toLowerCase());
      expect(c.querySelector('text')!.textContent).toBe(String(term));
    }
    // Rows align: the same index sits at the same x on every replica.
    const x = (n: string, i: number) => cell(n, i).querySelector('rect')!.getAttribute('x');
    expect(x('r2', leader.commitIndex)).toBe(x('r1', leader.commitIndex));
  });

  it('markers sit at the append, commit and applied positions the snapshot states; the leader pins its followers’ match', () => {
    renderStory(LaggingFollower);
    const snap = raftSnapshotAt('lagging');
    const [r1, r2] = snap.nodes.map(raftView);
    expect(r1!.role).toBe('leader');
    expect(pins('r1')).toEqual(
      expect.arrayContaining([
        { kind: 'append', index: r1!.logLength },
        { kind: 'commit', index: r1!.commitIndex },
        { kind: 'match', index: r1!.matchIndex.r2 },
      ]),
    );
    expect(labels('r1')).toContain(`match r2 r3 → ${r1!.matchIndex.r2}`);
    // r2's applier is far behind: its applied pin is off to the left, labelled at the edge.
    expect(r2!.lastApplied).toBeLessThan(r2!.commitIndex - 100);
    expect(labels('r2')).toContain(`applied ${r2!.lastApplied}`);
    expect(screen.getByTestId('log-head-r2').textContent).toContain(`applied ${r2!.lastApplied}`);
    // Entries above a follower's commit index are drawn uncommitted; at or below it, committed.
    expect(cell('r2', r2!.commitIndex).dataset.committed).toBe('true');
    if (r2!.logLength > r2!.commitIndex) {
      expect(cell('r2', r2!.logLength).dataset.committed).toBe('false');
      expect(cell('r2', r2!.logLength).classList.contains('uncommitted')).toBe(true);
    }
  });

  it('leader crashed: r1’s no-op is term 2 and uncommitted; r5 shows its disk log; entry 200 is held back by the term rule', () => {
    renderStory(LeaderCrashed);
    const noop = cell('r1', 201);
    expect(noop.dataset.term).toBe('2');
    expect(noop.dataset.committed).toBe('false');
    expect(noop.querySelector('circle.noop')).not.toBeNull();
    expect(fill(noop)).toBe(termColor(2).toLowerCase());
    expect(cell('r1', 200).dataset.term).toBe('1');

    expect(screen.getByTestId('log-head-r5').dataset.role).toBe('down');
    expect(screen.getByTestId('log-head-r5').textContent).toContain('crashed');
    expect(cell('r5', 200).classList.contains('disk')).toBe(true);

    const why = screen.getByTestId('why');
    expect(why.dataset.verdict).toBe('term-rule');
    expect(screen.getByTestId('why-headline').textContent).toContain('term rule');
    expect(why.textContent).toContain('§5.4.2, Figure 8');
    expect(why.textContent).toContain('the no-op at index 201');
    expect(why.textContent).toContain('5 of 5 replicas hold it; a majority needs 3.');
    expect(why.textContent).toContain('The leader knows of 1');
  });

  it('stale leader in a minority: r5’s entry 240 is held by 2 of 5 and will be replaced by r3’s log', () => {
    renderStory(StaleLeaderPartition);
    const why = screen.getByTestId('why');
    expect(why.dataset.verdict).toBe('will-be-replaced');
    expect(why.textContent).toContain('r5 still believes it leads term 1, but r3 leads the newer term 2');
    expect(why.textContent).toContain('2 of 5 replicas hold it; a majority needs 3.');
    const holders = [...why.querySelectorAll('.holders li')].map((li) => [li.querySelector('strong')!.textContent, li.classList.contains('yes')]);
    expect(holders).toEqual([
      ['r1', true],
      ['r2', false],
      ['r3', false],
      ['r4', false],
      ['r5', true],
    ]);
  });

  it('hovering a cell explains it; a click pins the card and Escape closes it', async () => {
    const lab = raftLabAt('leaderCrashed');
    render(ReplicaLogs, { props: { snapshot: lab.snapshot(), port: localPort(lab) } });
    expect(screen.queryByTestId('why')).toBeNull();
    await fireEvent.mouseOver(cell('r2', 199).querySelector('rect')!);
    expect(screen.getByTestId('why').dataset.verdict).toBe('committed');
    await fireEvent.mouseOver(cell('r2', 200).querySelector('rect')!);
    expect(screen.getByTestId('why-headline').textContent).toContain('term rule');
    await fireEvent.click(cell('r2', 200));
    await fireEvent.mouseLeave(screen.getByTestId('log-svg'));
    expect(screen.getByTestId('why')).not.toBeNull();
    await fireEvent.keyDown(screen.getByTestId('why'), { key: 'Escape' });
    expect(screen.queryByTestId('why')).toBeNull();
  });

  it('the keyboard walks the entries and explains the one reached', async () => {
    const lab = raftLabAt('leaderCrashed');
    render(ReplicaLogs, { props: { snapshot: lab.snapshot(), port: localPort(lab) } });
    const svg = screen.getByTestId('log-svg');
    await fireEvent.keyDown(svg, { key: 'ArrowRight' });
    // The first key lands on the newest entry of the first replica: r1's no-op.
    expect(screen.getByTestId('why').textContent).toContain('r1 · index 201');
    await fireEvent.keyDown(svg, { key: 'ArrowLeft' });
    await fireEvent.keyDown(svg, { key: 'ArrowDown' });
    expect(screen.getByTestId('why').textContent).toContain('r2 · index 200');
    expect(screen.getByTestId('why').dataset.verdict).toBe('term-rule');
    await fireEvent.keyDown(svg, { key: 'Escape' });
    expect(screen.queryByTestId('why')).toBeNull();
  });

  it('is not capped at the snapshot’s tail: scrolling back pages older entries in through logEntries', async () => {
    const lab = new Lab();
    lab.load('raft-leader-crash', { seed: '1' });
    const snap = lab.seek(5_000_000);
    const r1 = raftView(snap.nodes[0])!;
    expect(r1.logFrom).toBeGreaterThan(1);
    render(ReplicaLogs, { props: { snapshot: snap, port: localPort(lab) } });
    // The scrollbar is right-to-left (0 = the newest entries); scroll all the way back to the first entry.
    const scroller = screen.getByTestId('log-scroll');
    Object.defineProperty(scroller, 'scrollLeft', { configurable: true, writable: true, value: -1e6 });
    await fireEvent.scroll(scroller);
    expect(screen.getByTestId('logs-follow')).not.toBeNull();
    await waitFor(() => expect(cell('r1', 1).dataset.term).toBe('1'));
    expect(cell('r1', 1).classList.contains('loading')).toBe(false);
    expect(cell('r3', 5).dataset.committed).toBe('true');
    // Back to the newest entries.
    await fireEvent.click(screen.getByTestId('logs-follow'));
    expect(cells('r1').some((c) => Number(c.dataset.index) === r1.logLength)).toBe(true);
  });
});

/** A cell's inline fill, lower-cased (jsdom keeps the hex the view wrote). */
function fill(c: SVGGElement): string {
  return c.querySelector('rect')!.style.fill.toLowerCase();
}
