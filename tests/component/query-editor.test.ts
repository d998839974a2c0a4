/**
 * The stored-query editor in jsdom. On its own: live parse errors with the parser's line, column and expectation and
 * the offending text marked; id and name checked with the store's rules; add, remove, revert; Apply handing over the
 * drafts and showing a refusal; markup shown as text; drafts following a new run. In the app shell on apm-baseline:
 * Apply reloads the run through the Lab port with `settings.queries` (same scenario, seed and bugs, no actions) and
 * the Charts panel gains the new query's chart; a refused Apply shows the Lab's error and the run stays as it was.
 */
import { composeStories } from '@storybook/svelte';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { APM_QUERIES } from '../../src/scenarios/apm-baseline.ts';
import { Lab } from '../../src/sim/lab.ts';
import App from '../../src/views/App.svelte';
import { localPort, type LabPort } from '../../src/views/port.ts';
import type { QueryText } from '../../src/views/query-editor.svelte.ts';
import QueryEditor from '../../src/views/QueryEditor.svelte';
import * as stories from '../../src/views/QueryEditor.stories.ts';
import { renderStory } from './render.ts';

const QUERIES: QueryText[] = APM_QUERIES.map((q) => ({ ...q }));
const text = (id: string) => screen.getByTestId(id).textContent?.replace(/\s+/g, ' ').trim();
const textareas = () => screen.getAllByTestId('query-text-input') as HTMLTextAreaElement[];
const apply = () => screen.getByTestId('query-apply') as HTMLButtonElement;

afterEach(() => cleanup());

describe('QueryEditor', () => {
  it('lists the run’s queries; nothing to apply until something changes', () => {
    render(QueryEditor, { props: { queries: QUERIES, onapply: async () => null } });
    expect(screen.getAllByTestId('query-draft').map((d) => d.dataset.id)).toEqual(['cpu', 'latency']);
    expect(textareas()[0].value).toBe(QUERIES[0].text);
    expect(apply().disabled).toBe(true);
    expect(screen.queryByTestId('query-error')).toBeNull();
  });

  it('parses as you type: line, column, what was expected, and the offending word marked', async () => {
    render(QueryEditor, { props: { queries: QUERIES, onapply: async () => null } });
    await fireEvent.input(textareas()[0], { target: { value: 'FROM servers(web-*) SELECT cpu WINDW 10s COMPUTE max' } });
    expect(text('query-error-pos')).toBe('line 1, column 32');
    expect(text('query-error')).toContain('expected WINDOW after the metric');
    expect(screen.getByTestId('query-error').textContent).toContain('found "WINDW"');
    expect(text('query-error-mark')).toBe('WINDW');
    expect(text('query-error-where')).toBe('FROM servers(web-*) SELECT cpu WINDW 10s COMPUTE max');
    expect(textareas()[0].getAttribute('aria-invalid')).toBe('true');
    expect(apply().disabled).toBe(true);
    expect(text('query-problems')).toBe('1 query needs fixing');

    // Cut short: the error is the end of the text, marked as an empty place after it.
    await fireEvent.input(textareas()[0], { target: { value: 'FROM servers(web-*) SELECT cpu WINDOW 10s COMPUTE' } });
    expect(text('query-error-pos')).toBe('line 1, column 50');
    expect(screen.getByTestId('query-error-mark').classList.contains('end')).toBe(true);

    await fireEvent.input(textareas()[0], { target: { value: 'FROM servers(web-*) SELECT cpu WINDOW 10s COMPUTE max' } });
    expect(screen.queryByTestId('query-error')).toBeNull();
    expect(apply().disabled).toBe(false);
  });

  it('checks ids and names with the store’s rules: a bad id, a duplicate, a blank name', async () => {
    render(QueryEditor, { props: { queries: QUERIES, onapply: async () => null } });
    const ids = () => screen.getAllByTestId('query-id') as HTMLInputElement[];
    await fireEvent.input(ids()[1], { target: { value: 'cpu' } });
    expect(text('query-id-error')).toBe('Id: a query with id "cpu" already exists');
    await fireEvent.input(ids()[1], { target: { value: 'no spaces' } });
    expect(text('query-id-error')).toMatch(/^Id: a query id is a letter or digit/);
    await fireEvent.input(ids()[1], { target: { value: 'lat' } });
    await fireEvent.input(screen.getAllByTestId('query-name')[1], { target: { value: '   ' } });
    expect(text('query-name-error')).toMatch(/^Name: a query name is 1 to 80 characters and not blank/);
    expect(apply().disabled).toBe(true);
  });

  it('adds and removes queries, keeps at least one, and reverts to the run’s', async () => {
    render(QueryEditor, { props: { queries: QUERIES, onapply: async () => null } });
    await fireEvent.click(screen.getByTestId('query-add'));
    expect(screen.getAllByTestId('query-draft').map((d) => d.dataset.id)).toEqual(['cpu', 'latency', 'q1']);
    expect(textareas()[2].value).toBe('FROM servers(web-*) SELECT rpc.count WINDOW 10s COMPUTE sum, max');
    const removes = () => screen.getAllByTestId('query-remove') as HTMLButtonElement[];
    await fireEvent.click(removes()[0]);
    await fireEvent.click(removes()[0]);
    expect(screen.getAllByTestId('query-draft').map((d) => d.dataset.id)).toEqual(['q1']);
    expect(removes()[0].disabled).toBe(true);
    await fireEvent.click(screen.getByTestId('query-revert'));
    expect(screen.getAllByTestId('query-draft').map((d) => d.dataset.id)).toEqual(['cpu', 'latency']);
  });

  it('Apply hands over the drafts in order; a refusal is shown and the drafts stay', async () => {
    const onapply = vi.fn(async (_q: QueryText[]) => 'settings.queries[1] ("latency"): no agent emits metric "disk"');
    render(QueryEditor, { props: { queries: QUERIES, onapply } });
    await fireEvent.input(textareas()[1], { target: { value: 'FROM * SELECT disk WINDOW 5s COMPUTE max' } });
    await fireEvent.click(apply());
    expect(onapply).toHaveBeenCalledWith([QUERIES[0], { ...QUERIES[1], text: 'FROM * SELECT disk WINDOW 5s COMPUTE max' }]);
    await waitFor(() => expect(text('query-apply-error')).toBe('Not applied — the run is unchanged: settings.queries[1] ("latency"): no agent emits metric "disk"'));
    expect(textareas()[1].value).toBe('FROM * SELECT disk WINDOW 5s COMPUTE max');
  });

  it('drafts follow the run: new queries from a reloaded run replace them', async () => {
    const { rerender } = render(QueryEditor, { props: { queries: QUERIES, onapply: async () => null } });
    await fireEvent.input(textareas()[0], { target: { value: 'FROM * SELECT cpu WINDOW 1s COMPUTE max' } });
    await rerender({ queries: [{ id: 'only', name: 'Only', text: 'FROM * SELECT carts WINDOW 30s COMPUTE avg' }] });
    expect(screen.getAllByTestId('query-draft').map((d) => d.dataset.id)).toEqual(['only']);
    expect(apply().disabled).toBe(true);
  });

  it('shows names and query text with markup as text, never as HTML', () => {
    const { MarkupAsText } = composeStories(stories);
    const { container } = renderStory(MarkupAsText);
    expect(container.querySelector('img, b')).toBeNull();
    expect((screen.getByTestId('query-name') as HTMLInputElement).value).toBe('<img src=x onerror=alert(1)>');
    expect(text('query-error-where')).toBe('FROM servers(<b>web</b>) SELECT cpu WINDOW 10s COMPUTE max');
  });
});

/** A port on a real Lab that records every load. */
function recordingPort(): { port: LabPort; loads: Parameters<LabPort['load']>[] } {
  const port = localPort(new Lab());
  const loads: Parameters<LabPort['load']>[] = [];
  const load = port.load;
  port.load = (...args) => {
    loads.push(structuredClone(args));
    return load(...args);
  };
  return { port, loads };
}

describe('in the app (apm-baseline)', () => {
  async function openApm() {
    const rec = recordingPort();
    render(App, { props: { port: rec.port, syncHash: false, initial: { scenario: 'apm-baseline', seed: 'qe' } } });
    await waitFor(() => expect(screen.getByTestId('query-editor')).toBeTruthy(), { timeout: 10_000 });
    return rec;
  }

  it('Apply reloads the run with settings.queries, and the charts gain the new query', async () => {
    const { loads } = await openApm();
    await fireEvent.click(screen.getByTestId('query-add'));
    await fireEvent.input(screen.getAllByTestId('query-name')[2], { target: { value: 'RPCs per 5 s' } });
    await fireEvent.input(textareas()[2], { target: { value: 'FROM servers(web-*) SELECT rpc.count WINDOW 5s COMPUTE sum' } });
    const before = loads.length;
    await fireEvent.click(apply());
    await waitFor(() => expect(screen.getByTestId('chart-query:q1')).toBeTruthy());
    const queries = [...QUERIES, { id: 'q1', name: 'RPCs per 5 s', text: 'FROM servers(web-*) SELECT rpc.count WINDOW 5s COMPUTE sum' }];
    expect(loads.slice(before)).toEqual([['apm-baseline', { seed: 'qe', bugs: [], settings: { queries }, actions: [] }]]);
    expect(within(screen.getByTestId('chart-query:q1')).getByTestId('query-text').textContent).toBe(queries[2].text);
    // The load resolves after the new snapshot is on screen (it sets the speed too); then the editor reports.
    await waitFor(() => expect(text('query-applied')).toBe('Applied: the run restarted from 0 with 3 stored queries.'));
    // The editor now shows the applied queries as the run's own: nothing left to apply.
    expect(screen.getAllByTestId('query-draft').map((d) => d.dataset.id)).toEqual(['cpu', 'latency', 'q1']);
    expect(apply().disabled).toBe(true);
  }, 30_000);

  it('a refused Apply shows the Lab’s error and keeps the run, its hash and the drafts', async () => {
    await openApm();
    await fireEvent.click(screen.getByTestId('step'));
    await waitFor(() => expect(text('event-count')).not.toBe('0'));
    const hash = text('trace-hash');
    const events = text('event-count');
    await fireEvent.input(textareas()[1], { target: { value: 'FROM servers(web-*) SELECT disk.io WINDOW 10s COMPUTE max' } });
    await fireEvent.click(apply());
    await waitFor(() => expect(text('query-apply-error')).toContain('no agent emits metric "disk.io"'));
    expect(text('query-apply-error')).toMatch(/^Not applied — the run is unchanged: settings\.queries\[1\] \("latency"\)/);
    expect(text('trace-hash')).toBe(hash);
    expect(text('event-count')).toBe(events);
    expect(textareas()[1].value).toBe('FROM servers(web-*) SELECT disk.io WINDOW 10s COMPUTE max');
    expect(screen.queryByTestId('chart-query:latency')).toBeTruthy();
  }, 30_000);
});
