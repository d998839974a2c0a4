/**
 * The topology view at fixed moments of ping-pong (seed "story-1"): statuses by shape and label, partition cuts and
 * groups, messages in flight. Also an SVG snapshot of the partition picture (numbers are rounded to 0.1).
 */
import { composeStories } from '@storybook/svelte';
import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { snapshotAt } from '../../src/views/fixtures.ts';
import Topology from '../../src/views/Topology.svelte';
import * as stories from '../../src/views/Topology.stories.ts';
import { renderStory } from './render.ts';

const { ColdStart, MessagesInFlight, Partition, CrashedNode, EndOfRun } = composeStories(stories);

describe('Topology', () => {
  it('cold start: five nodes up, no cuts, no partition groups', () => {
    renderStory(ColdStart);
    for (const id of ['n1', 'n2', 'n3', 'n4', 'n5']) {
      expect(screen.getByTestId(`node-${id}`).dataset.status).toBe('up');
      expect(screen.getByTestId(`status-${id}`).textContent).toContain('up');
    }
    expect(screen.queryAllByTestId('cut')).toHaveLength(0);
    expect(screen.queryAllByTestId('partition-group')).toHaveLength(0);
  });

  it('partition: n5 is cut off from the four others, in two groups', () => {
    renderStory(Partition);
    // Four undirected links touch n5; each is drawn once as cut.
    const cuts = screen.getAllByTestId('cut');
    expect(cuts).toHaveLength(4);
    for (const c of cuts) expect(c.querySelector('title')?.textContent).toMatch(/n5/);
    expect(screen.getAllByTestId('partition-group')).toHaveLength(2);
    expect(screen.getByTestId('topology-summary').textContent).toContain('partition: {n5} | {n1 n2 n3 n4}');
  });

  it('crashed node: n2 is drawn crashed (shape, label) and selected', () => {
    renderStory(CrashedNode);
    const n2 = screen.getByTestId('node-n2');
    expect(n2.dataset.status).toBe('crashed');
    expect(n2.querySelector('polygon')).not.toBeNull();
    expect(n2.querySelector('circle.shape')).toBeNull();
    expect(n2.getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('status-n2').textContent).toContain('crashed');
    expect(screen.getByTestId('node-n1').dataset.status).toBe('up');
    expect(screen.getByTestId('topology-summary').textContent).toContain('crashed: n2');
  });

  it('messages in flight are drawn between their endpoints', () => {
    renderStory(MessagesInFlight);
    const msgs = screen.getAllByTestId('message');
    expect(msgs.length).toBeGreaterThan(0);
    for (const m of msgs) expect(m.getAttribute('transform')).toMatch(/^translate\(\d+(\.\d)? \d+(\.\d)?\)$/);
    expect(screen.getByTestId('topology-summary').textContent).toMatch(/[1-9]\d* messages? in flight/);
  });

  it('end of run: partition healed, n2 back up', () => {
    renderStory(EndOfRun);
    expect(screen.queryAllByTestId('cut')).toHaveLength(0);
    expect(screen.getByTestId('node-n2').dataset.status).toBe('up');
  });

  it('clicking a node (or Enter on it) asks to select it', async () => {
    const picked: string[] = [];
    render(Topology, { props: { snapshot: snapshotAt('partition'), onselect: (id: string) => picked.push(id) } });
    await fireEvent.click(screen.getByTestId('node-n3'));
    await fireEvent.keyDown(screen.getByTestId('node-n5'), { key: 'Enter' });
    expect(picked).toEqual(['n3', 'n5']);
  });

  it('SVG snapshot of the partition (rounded numbers)', () => {
    renderStory(Partition);
    const svg = screen.getByTestId('topology');
    // Scoped-style class hashes change with any CSS edit; the picture is what the snapshot pins.
    const html = svg.outerHTML.replace(/<!---->/g, '').replace(/ ?svelte-[a-z0-9]+/g, '').replace(/ class=""/g, '');
    expect(html).toMatchSnapshot();
  });
});
