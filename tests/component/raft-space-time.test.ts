/**
 * The space-time diagram at fixed Raft moments (seed "1"): the number of arrows in a window equals the number of
 * messages between replicas that overlap it, counted independently from the Lab's raw events; drops end in ×;
 * in-flight messages are dashed to their planned delivery; the kind and node filters; selecting an arrow shows its
 * details and body; dense windows switch to a canvas.
 */
import { composeStories } from '@storybook/svelte';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { Lab } from '../../src/sim/lab.ts';
import type { Micros } from '../../src/sim/kernel/time.ts';
import { raftLabAt, raftSnapshotAt, raftTraceAt, type RaftMoment } from '../../src/views/fixtures.ts';
import { localPort } from '../../src/views/port.ts';
import SpaceTime from '../../src/views/SpaceTime.svelte';
import * as stories from '../../src/views/SpaceTime.stories.ts';
import { renderStory } from './render.ts';

const { SteadyState, LeaderCrashed, StaleLeaderPartition, DenseCanvas } = composeStories(stories);

interface Msg {
  kind: string;
  from: string;
  to: string;
  sentAt: Micros;
  end: Micros;
  state: 'delivered' | 'dropped' | 'in-flight';
}

/** Every message copy of a run so far, from raw events: the naive reference for the view's binary-searched window. */
function messagesOf(lab: Lab): Msg[] {
  const events = lab.events(0, 10_000, { kinds: ['msg.send', 'msg.dup', 'msg.deliver', 'msg.drop'] });
  for (let more = events; more.length === 10_000; ) {
    more = lab.events(more[more.length - 1].seq + 1, 10_000, { kinds: ['msg.send', 'msg.dup', 'msg.deliver', 'msg.drop'] });
    events.push(...more);
  }
  const out: Msg[] = [];
  const open = new Map<number, Msg[]>();
  for (const e of events) {
    if (e.kind === 'msg.send' || e.kind === 'msg.dup') {
      const m: Msg = { kind: e.msg, from: e.from, to: e.to, sentAt: e.t, end: e.deliverAt, state: 'in-flight' };
      out.push(m);
      open.set(e.id, [...(open.get(e.id) ?? []), m].sort((a, b) => a.end - b.end));
    } else if (e.kind === 'msg.deliver' || e.kind === 'msg.drop') {
      const m = open.get(e.id)?.shift();
      if (!m) continue;
      m.end = e.t;
      m.state = e.kind === 'msg.drop' ? 'dropped' : 'delivered';
    }
  }
  return out;
}

/** Messages between replicas overlapping the 20 ms window that puts the cursor at 80%. */
function expected(moment: RaftMoment, windowUs = 20_000): Msg[] {
  const lab = raftLabAt(moment);
  const t = lab.snapshot().t;
  const t0 = Math.max(0, Math.round(t - 0.8 * windowUs));
  const t1 = t0 + windowUs;
  const replicas = new Set(lab.snapshot().nodes.filter((n) => n.kind === 'raft').map((n) => n.id));
  return messagesOf(lab).filter((m) => replicas.has(m.from) && replicas.has(m.to) && m.sentAt <= t1 && m.end >= t0);
}

const arrows = () => screen.queryAllByTestId('arrow');

describe('SpaceTime', () => {
  it('steady state: one arrow per replica message overlapping the window, coloured by kind', () => {
    renderStory(SteadyState);
    const want = expected('steady');
    expect(want.length).toBeGreaterThan(4);
    expect(arrows()).toHaveLength(want.length);
    const byKind = (list: string[]) => Object.fromEntries([...new Set(list)].sort().map((k) => [k, list.filter((x) => x === k).length]));
    expect(byKind(arrows().map((a) => a.dataset.kind!))).toEqual(byKind(want.map((m) => m.kind)));
    expect(byKind(arrows().map((a) => a.dataset.state!))).toEqual(byKind(want.map((m) => m.state)));
    // The client's messages are left out: c1 is not a replica, and its chip is off.
    expect(screen.getByTestId('st-node-c1').getAttribute('aria-pressed')).toBe('false');
    const append = arrows().find((a) => a.dataset.kind === 'append')!;
    expect(append.style.getPropertyValue('--c')).toBe('#0072B2');
  });

  it('leader crashed: the votes to the crashed r5 end in ×; r1’s first AppendEntries are in flight', () => {
    renderStory(LeaderCrashed);
    const want = expected('leaderCrashed');
    expect(arrows()).toHaveLength(want.length);
    const dropped = arrows().filter((a) => a.dataset.state === 'dropped');
    expect(dropped.map((a) => a.dataset.kind)).toEqual(want.filter((m) => m.state === 'dropped').map((m) => m.kind));
    expect(dropped.some((a) => a.dataset.kind === 'vote')).toBe(true);
    expect(dropped[0].querySelector('title')!.textContent).toMatch(/^vote #\d+ r1→r5, term 2, sent at .*; dropped at .* \(node-down\)\.$/);
    const flying = arrows().filter((a) => a.dataset.state === 'in-flight');
    expect(flying.length).toBe(want.filter((m) => m.state === 'in-flight').length);
    expect(flying.filter((a) => a.dataset.kind === 'append').length).toBeGreaterThanOrEqual(3);
    expect(screen.getByTestId('space-time-summary').textContent).toMatch(new RegExp(`^${want.length} messages · ${dropped.length} dropped · ${flying.length} in flight`));
  });

  it('stale leader: r5’s AppendEntries across the partition are dropped', () => {
    renderStory(StaleLeaderPartition);
    const dropped = arrows().filter((a) => a.dataset.state === 'dropped');
    expect(dropped.length).toBeGreaterThan(0);
    for (const a of dropped) expect(a.querySelector('title')!.textContent).toMatch(/r5→r[234].*\(partition\)/);
  });

  it('filters by kind and by node', async () => {
    renderStory(LeaderCrashed);
    const all = arrows().length;
    const votes = arrows().filter((a) => a.dataset.kind === 'vote').length;
    await fireEvent.click(screen.getByTestId('st-kind-vote'));
    expect(arrows()).toHaveLength(all - votes);
    expect(screen.getByTestId('st-kind-vote').getAttribute('aria-pressed')).toBe('false');
    await fireEvent.dblClick(screen.getByTestId('st-kind-vote'));
    expect(arrows().every((a) => a.dataset.kind === 'vote')).toBe(true);
    expect(arrows()).toHaveLength(votes);
    await fireEvent.click(screen.getByTestId('st-node-r5'));
    expect(arrows().every((a) => !a.querySelector('title')!.textContent!.includes('r5'))).toBe(true);
  });

  it('clicking an arrow selects it: the details name its send event and show its body', async () => {
    const lab = raftLabAt('leaderCrashed');
    render(SpaceTime, { props: { snapshot: lab.snapshot(), trace: raftTraceAt('leaderCrashed'), port: localPort(lab) } });
    const vote = arrows().find((a) => a.dataset.kind === 'vote')!;
    await fireEvent.click(vote);
    expect(vote.classList.contains('selected')).toBe(true);
    const detail = screen.getByTestId('space-time-detail');
    expect(detail.textContent).toContain(`Send event #${vote.dataset.seq}`);
    await waitFor(() => expect(detail.querySelector('pre')?.textContent).toContain('"lastLogIndex"'));
    await fireEvent.click(vote);
    expect(screen.queryByTestId('space-time-detail')).toBeNull();
  });

  it('a dense window is drawn on a canvas', () => {
    renderStory(DenseCanvas);
    const canvas = screen.getByTestId('space-time-canvas');
    expect(Number(canvas.dataset.arrows)).toBe(expected('leaderCrashed', 1_000_000).length);
    expect(Number(canvas.dataset.arrows)).toBeGreaterThan(500);
    expect(arrows()).toHaveLength(0);
    expect(raftSnapshotAt('leaderCrashed').t).toBe(2_168_000);
  });
});
