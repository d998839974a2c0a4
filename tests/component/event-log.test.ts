/**
 * The event log over a real Lab (ping-pong, seed "story-1"): it shows the newest page of rows, kind / node / text
 * filters narrow them to exactly what the Lab's own `events()` filter returns, and paging walks back and forth through
 * the trace without ever holding more than a page. The model is also driven directly, without the DOM.
 */
import { composeStories } from '@storybook/svelte';
import { fireEvent, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { EventLogModel, PAGE_ROWS } from '../../src/views/event-log.svelte.ts';
import { labAt, MOMENTS } from '../../src/views/fixtures.ts';
import * as stories from '../../src/views/EventLog.stories.ts';
import { localPort } from '../../src/views/port.ts';
import { renderStory } from './render.ts';

const { Partition, ColdStart } = composeStories(stories);

const rows = () => screen.queryAllByTestId('event-row');

describe('EventLog (story)', () => {
  it('shows the newest page of events, ending with the last one', async () => {
    renderStory(Partition);
    const lab = labAt(MOMENTS.partition);
    const count = lab.snapshot().eventCount;
    await waitFor(() => expect(rows()).toHaveLength(PAGE_ROWS));
    const seqs = rows().map((r) => Number(r.querySelector('td')?.textContent));
    expect(seqs[seqs.length - 1]).toBe(count - 1);
    expect(seqs[0]).toBe(count - PAGE_ROWS);
    expect(screen.getByTestId('log-range').textContent).toBe(`#${count - PAGE_ROWS}–#${count - 1}`);
  });

  it('filtering by kind narrows the rows to that kind', async () => {
    renderStory(Partition);
    await waitFor(() => expect(rows()).toHaveLength(PAGE_ROWS));
    const kindsBefore = new Set(rows().map((r) => r.dataset.kind));
    expect(kindsBefore.size).toBeGreaterThan(1);

    await fireEvent.click(screen.getByTestId('kind-net.partition'));
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(rows()[0].dataset.kind).toBe('net.partition');
    expect(rows()[0].textContent).toContain('{n5} | {n1 n2 n3 n4}');

    // Adding a second kind widens the filter again (kinds are OR-ed).
    await fireEvent.click(screen.getByTestId('kind-fault'));
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(rows().map((r) => r.dataset.kind)).toEqual(['fault', 'net.partition']);
  });

  it('filters by node and by free text', async () => {
    renderStory(Partition);
    await waitFor(() => expect(rows()).toHaveLength(PAGE_ROWS));
    const node = screen.getByTestId('log-node') as HTMLSelectElement;
    node.value = 'n5';
    await fireEvent.change(node);
    await waitFor(() => expect(rows().every((r) => r.textContent?.includes('n5'))).toBe(true));

    const text = screen.getByTestId('log-text') as HTMLInputElement;
    await fireEvent.input(text, { target: { value: 'suspects:n1' } });
    await waitFor(() => {
      expect(rows().length).toBeGreaterThan(0);
      expect(rows().every((r) => r.dataset.kind === 'node.state' && r.textContent?.includes('suspects:n1'))).toBe(true);
    });
  });

  it('cold start: fewer events than a page, and clicking a row opens its JSON', async () => {
    renderStory(ColdStart);
    const count = labAt(MOMENTS.coldStart).snapshot().eventCount;
    await waitFor(() => expect(rows()).toHaveLength(count));
    await fireEvent.click(rows()[0]);
    expect(screen.getByText(/"kind": "run.start"/)).toBeTruthy();
  });
});

describe('EventLogModel', () => {
  it('pages back and forth through the whole trace, matching events() exactly', async () => {
    const lab = labAt(MOMENTS.end);
    const total = lab.snapshot().eventCount;
    const model = new EventLogModel(localPort(lab));
    await model.update(total);
    expect(model.following).toBe(true);
    expect(model.rows.map((e) => e.seq)).toEqual(lab.events(total - PAGE_ROWS, PAGE_ROWS).map((e) => e.seq));

    await model.older();
    expect(model.following).toBe(false);
    expect(model.rows[0].seq).toBe(total - 2 * PAGE_ROWS);
    expect(model.hasNewer).toBe(true);

    await model.first();
    expect(model.rows[0].seq).toBe(0);
    expect(model.hasOlder).toBe(false);

    await model.newer();
    expect(model.rows[0].seq).toBe(PAGE_ROWS);

    await model.latest();
    expect(model.rows[model.rows.length - 1].seq).toBe(total - 1);
  });

  it('a filtered tail equals the last matches of the Lab filter, across scan windows', async () => {
    const lab = labAt(MOMENTS.end);
    const total = lab.snapshot().eventCount;
    const model = new EventLogModel(localPort(lab));
    model.kinds = ['msg.drop'];
    await model.update(total);
    const all = lab.events(0, 10_000, { kinds: ['msg.drop'] });
    expect(all.length).toBeGreaterThan(PAGE_ROWS);
    expect(model.rows.map((e) => e.seq)).toEqual(all.slice(-PAGE_ROWS).map((e) => e.seq));
    await model.older();
    expect(model.rows.map((e) => e.seq)).toEqual(all.slice(-2 * PAGE_ROWS, -PAGE_ROWS).map((e) => e.seq));
  });

  it('follows the run back when it is seeked before the page', async () => {
    const lab = labAt(MOMENTS.end);
    const port = localPort(lab);
    const model = new EventLogModel(port);
    await model.update(lab.snapshot().eventCount);
    await model.older();
    expect(model.following).toBe(false);
    const back = await port.seek(100_000);
    await model.update(back.eventCount);
    expect(model.following).toBe(true);
    expect(model.rows[model.rows.length - 1].seq).toBe(back.eventCount - 1);
  });
});
