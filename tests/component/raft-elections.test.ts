/**
 * The elections timeline at fixed Raft moments (seed "1"): leader bands for the right replica and term, a crash as a
 * down band, campaigns with their votes (granted, and the candidate's receipt), the followers' election-timeout
 * windows at the cursor, heartbeat ticks, zooming, and click-to-seek. Bands and marks carry data attributes with
 * what they stand for, so the test reads them like a person reads labels.
 */
import { composeStories } from '@storybook/svelte';
import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { TraceEvent } from '../../src/sim/kernel/trace.ts';
import { raftLabAt, raftSnapshotAt, raftTraceAt, type RaftMoment } from '../../src/views/fixtures.ts';
import { formatMicros } from '../../src/views/format.ts';
import Elections from '../../src/views/Elections.svelte';
import * as stories from '../../src/views/Elections.stories.ts';
import { renderStory } from './render.ts';

const { ColdStartElection, SteadyState, LeaderCrashed, StaleLeaderPartition, LaggingFollower } = composeStories(stories);

function bands(filter: { node?: string; role?: string } = {}): SVGGElement[] {
  return [...document.querySelectorAll<SVGGElement>('[data-testid="band"]')].filter(
    (b) => (!filter.node || b.dataset.node === filter.node) && (!filter.role || b.dataset.role === filter.role),
  );
}

const title = (el: Element) => el.querySelector('title')?.textContent ?? '';

/** Times are read from the run itself, so the test checks the drawing of whatever the simulator did. */
function firstEvent(moment: RaftMoment, match: (e: TraceEvent) => boolean): TraceEvent {
  const e = raftLabAt(moment)
    .events(0, 10_000, { kinds: ['node.state', 'node.note'] })
    .find(match);
  if (!e) throw new Error('no such event');
  return e;
}

const isState = (node: string, key: string, value: unknown) => (e: TraceEvent) => e.kind === 'node.state' && e.node === node && e.key === key && e.value === value;

describe('Elections', () => {
  it('steady state: one leader band, r1 in term 1, heartbeats on its lane, and followers’ timeout windows', () => {
    renderStory(SteadyState);
    const leaders = bands({ role: 'leader' });
    expect(leaders.map((b) => [b.dataset.node, b.dataset.term])).toEqual([['r1', '1']]);
    const won = firstEvent('steady', isState('r1', 'role', 'leader'));
    expect(title(leaders[0])).toMatch(new RegExp(`^r1: leader in term 1, from ${formatMicros(won.t)} until now`));
    expect(screen.getByTestId('elections-summary').textContent).toBe('term 1 · 1 campaign · 1 won · leader r1');
    expect(document.querySelectorAll('.hb').length).toBeGreaterThan(10);
    const timers = screen.getAllByTestId('timer-window').map((t) => t.dataset.node);
    expect(timers).toEqual(['r2', 'r3']);
    expect(title(screen.getAllByTestId('timer-window')[0])).toMatch(/r2’s election timer was last reset at .* \(AppendEntries from r1\)/);
    expect(screen.getByTestId('lane-timer-r2').textContent).toMatch(/^timeout in \d+–\d+ ms$/);
  });

  it('cold start mid-election (20 ms window): r1’s campaign for term 1 and the two grants', () => {
    renderStory(ColdStartElection);
    const campaigns = screen.getAllByTestId('campaign');
    expect(campaigns.map((c) => [c.dataset.node, c.dataset.term])).toEqual([['r1', '1']]);
    const started = firstEvent('coldStart', isState('r1', 'role', 'candidate'));
    expect(title(campaigns[0])).toContain(`r1 campaigned for term 1 at ${formatMicros(started.t)}`);
    const votes = screen.getAllByTestId('vote');
    expect(votes.map((v) => [v.dataset.voter, v.dataset.granted]).sort()).toEqual([
      ['r2', 'true'],
      ['r3', 'true'],
    ]);
    const grant = firstEvent('coldStart', (e) => e.kind === 'node.note' && e.name === 'vote-grant' && e.node === 'r2');
    expect(title(votes.find((v) => v.dataset.voter === 'r2')!)).toBe(
      `r2 granted its vote to r1 for term 1 at ${formatMicros(grant.t)}; the reply has not arrived (in flight or lost).`,
    );
    expect(bands({ node: 'r1', role: 'candidate' })).toHaveLength(1);
    expect(bands({ role: 'leader' })).toHaveLength(0);
  });

  it('leader crashed: r5 led term 1 and went down at 2 s; r1 leads term 2', () => {
    renderStory(LeaderCrashed);
    const leaders = bands({ role: 'leader' }).map((b) => [b.dataset.node, b.dataset.term]);
    expect(leaders).toEqual([
      ['r1', '2'],
      ['r5', '1'],
    ]);
    const down = bands({ node: 'r5', role: 'down' });
    expect(down).toHaveLength(1);
    expect(title(down[0])).toMatch(/^r5: down \(crashed\) in term 1, from 2\.000s until now/);
    const won = screen.getAllByTestId('campaign').find((c) => c.dataset.node === 'r1' && c.dataset.term === '2')!;
    const lead = firstEvent('leaderCrashed', isState('r1', 'role', 'leader'));
    expect(title(won)).toMatch(new RegExp(`r1 campaigned for term 2 at 2\\.\\d{3}s .*Votes: .*✓.*Outcome: won at ${formatMicros(lead.t).replace('.', '\\.')}`));
    expect(screen.getByTestId('lane-head-r5').textContent).toContain('crashed');
    expect(screen.getByTestId('elections-summary').textContent).toContain('leader r1');
  });

  it('stale leader: two leader bands at once, in different terms', () => {
    renderStory(StaleLeaderPartition);
    const snap = raftSnapshotAt('stalePartition');
    const leaders = bands({ role: 'leader' }).filter((b) => title(b).includes('until now'));
    expect(leaders.map((b) => [b.dataset.node, b.dataset.term]).sort()).toEqual([
      ['r3', '2'],
      ['r5', '1'],
    ]);
    expect(snap.nodes.filter((n) => n.headline.role === 'leader').map((n) => n.id)).toEqual(['r3', 'r5']);
  });

  it('a follower crash causes no election: one campaign, r2 down for two seconds', () => {
    renderStory(LaggingFollower);
    expect(screen.getAllByTestId('campaign')).toHaveLength(1);
    const down = bands({ node: 'r2', role: 'down' });
    expect(title(down[0])).toMatch(/from 1\.000s to 3\.000s \(2\.000s\)/);
  });

  it('zooms around the cursor and seeks where the lanes are clicked', async () => {
    const onseek = vi.fn();
    render(Elections, { props: { snapshot: raftSnapshotAt('leaderCrashed'), trace: raftTraceAt('leaderCrashed'), onseek } });
    expect(bands({ node: 'r1', role: 'leader' })[0].querySelector('rect')!.getAttribute('width')).toBe('2.5');
    await fireEvent.click(screen.getByTestId('elections-zoom-20ms'));
    // 20 ms around 2.168 s: the campaign and r1's short leadership fill the view.
    const lead = bands({ node: 'r1', role: 'leader' })[0];
    expect(Number(lead.querySelector('rect')!.getAttribute('width'))).toBeGreaterThan(10);
    expect(screen.getAllByTestId('vote').length).toBeGreaterThanOrEqual(3);
    // jsdom has no layout: the lanes start at x = 0 and are 900 px wide (the fallback), padded 14 px each side.
    await fireEvent.pointerDown(screen.getByTestId('elections-svg'), { clientX: 14, button: 0 });
    expect(onseek).toHaveBeenCalledWith(2_168_000 - 15_000);
  });
});
