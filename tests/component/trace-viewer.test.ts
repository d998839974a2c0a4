/**
 * A trace opened for viewing (issue 8): the viewer shows the trace's summary and pages through its recorded events
 * with `openedEvents`, filters them as the Lab does, and hands Close / Re-run back to the app. In the app shell, "Open
 * for viewing" shows the viewer beside the live run; a malformed file shows the error and leaves both the run and the
 * opened trace as they were; Re-run imports the same text and closes the viewer once its hash verifies.
 */
import { composeStories } from '@storybook/svelte';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Lab } from '../../src/sim/lab.ts';
import { seconds } from '../../src/sim/kernel/time.ts';
import App from '../../src/views/App.svelte';
import { localPort } from '../../src/views/port.ts';
import { LabSession } from '../../src/views/session.svelte.ts';
import TraceViewer, { VIEWER_PAGE_ROWS } from '../../src/views/TraceViewer.svelte';
import * as stories from '../../src/views/TraceViewer.stories.ts';
import { fixtureTrace, openedPort } from '../../src/views/TraceViewer.stories.ts';
import { renderStory } from './render.ts';

const { Partition, WithUserCrash } = composeStories(stories);

const rows = () => screen.queryAllByTestId('viewer-row');
const seqs = () => rows().map((r) => Number(r.querySelector('td')?.textContent));
const text = (id: string) => screen.getByTestId(id).textContent?.trim();

afterEach(() => {
  cleanup();
  history.replaceState(null, '', '#');
});

describe('TraceViewer (story)', () => {
  it('shows the summary of the opened trace', async () => {
    renderStory(Partition);
    const view = new Lab().openTrace(fixtureTrace());
    expect(text('viewer-scenario')).toBe('ping-pong');
    expect(text('viewer-seed')).toBe('story-1');
    expect(text('viewer-events')).toBe(String(view.events));
    expect(text('viewer-hash')).toBe(view.hash);
    expect(text('viewer-time')).toBe('3.000s');
    expect(text('viewer-actions')).toBe('0');
    expect(view.violations).toEqual([]);
    expect(screen.getByTestId('viewer-no-violations')).toBeTruthy();
  });

  it('a user action is counted', async () => {
    renderStory(WithUserCrash);
    expect(text('viewer-actions')).toBe('1');
    await waitFor(() => expect(rows()).toHaveLength(VIEWER_PAGE_ROWS));
  });

  it('pages through the events in order, forward and back', async () => {
    renderStory(Partition);
    await waitFor(() => expect(rows()).toHaveLength(VIEWER_PAGE_ROWS));
    expect(seqs()).toEqual(Array.from({ length: VIEWER_PAGE_ROWS }, (_, i) => i));
    expect(rows()[0].dataset.kind).toBe('run.start');
    expect((screen.getByTestId('viewer-older') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(screen.getByTestId('viewer-newer'));
    await waitFor(() => expect(seqs()[0]).toBe(VIEWER_PAGE_ROWS));
    expect(text('viewer-range')).toBe(`#${VIEWER_PAGE_ROWS}–#${2 * VIEWER_PAGE_ROWS - 1}`);
    await fireEvent.click(screen.getByTestId('viewer-older'));
    await waitFor(() => expect(seqs()[0]).toBe(0));
  });

  it('filters by kind, node and text exactly as openedEvents does', async () => {
    const lab = new Lab();
    lab.openTrace(fixtureTrace());
    renderStory(Partition);
    await waitFor(() => expect(rows()).toHaveLength(VIEWER_PAGE_ROWS));

    const kind = screen.getByTestId('viewer-kind') as HTMLSelectElement;
    kind.value = 'net.partition';
    await fireEvent.change(kind);
    await waitFor(() => expect(rows().map((r) => r.dataset.kind)).toEqual(['net.partition']));
    expect(rows()[0].textContent).toContain('{n5} | {n1 n2 n3 n4}');
    expect(text('viewer-range')).toContain('(filtered)');

    kind.value = '';
    await fireEvent.change(kind);
    const node = screen.getByTestId('viewer-node') as HTMLSelectElement;
    node.value = 'n5';
    await fireEvent.change(node);
    await fireEvent.input(screen.getByTestId('viewer-text'), { target: { value: 'suspects' } });
    const want = lab.openedEvents(0, VIEWER_PAGE_ROWS, { node: 'n5', text: 'suspects' }).map((e) => e.seq);
    expect(want.length).toBeGreaterThan(0);
    await waitFor(() => expect(seqs()).toEqual(want));
  });

  it('Close and Re-run call back', async () => {
    const onclose = vi.fn();
    const onrerun = vi.fn();
    const { port, view } = openedPort(fixtureTrace());
    render(TraceViewer, { props: { port, view, onclose, onrerun } });
    await fireEvent.click(screen.getByTestId('viewer-close'));
    await fireEvent.click(screen.getByTestId('viewer-rerun'));
    expect(onclose).toHaveBeenCalledTimes(1);
    expect(onrerun).toHaveBeenCalledTimes(1);
  });
});

describe('LabSession: opening a trace for viewing', () => {
  function session() {
    const lab = new Lab();
    lab.load('ping-pong', { seed: 'live' });
    const s = new LabSession(localPort(lab), { snapshot: lab.seek(seconds(1)) });
    return { lab, s };
  }

  it('opens beside the run, refuses a malformed file keeping both, and re-runs into a verified import', async () => {
    const { s } = session();
    const before = s.snapshot;
    const trace = fixtureTrace();
    const view = await s.openTrace(trace);
    expect(view?.seed).toBe('story-1');
    expect(s.opened?.hash).toBe(view?.hash);
    expect(s.snapshot).toBe(before);

    expect(await s.openTrace('{"format": "streamlab-trace", "version": 1,')).toBeUndefined();
    expect(s.error).toMatch(/^open failed: .*not valid JSON/);
    expect(s.opened?.hash).toBe(view?.hash);
    expect(s.snapshot).toBe(before);
    expect((await s.port.openedView()).hash).toBe(view?.hash);

    const result = await s.rerunOpened();
    expect(result?.hash).toBe(view?.hash);
    expect(s.notice).toContain('verified');
    expect(s.opened).toBeNull();
    expect(s.snapshot?.traceHash).toBe(view?.hash);
    expect(s.snapshot?.seed).toBe('story-1');
  });

  it('close drops the opened trace and keeps the run', async () => {
    const { s } = session();
    const before = s.snapshot;
    await s.openTrace(fixtureTrace());
    await s.closeTrace();
    expect(s.opened).toBeNull();
    expect(s.snapshot).toBe(before);
    await expect(s.port.openedView()).rejects.toThrow(/no trace is open/);
  });
});

/** A File with `text()`, which jsdom's File lacks. */
function file(content: string, name: string): File {
  return Object.assign(new File([content], name, { type: 'application/json' }), { text: async () => content });
}

describe('App: Open for viewing', () => {
  it('shows the viewer above the live run, and Close removes it', async () => {
    render(App, { props: { port: localPort(new Lab()), syncHash: false, initial: { scenario: 'ping-pong', seed: 'abc' } } });
    await waitFor(() => expect(document.body.dataset.ready).toBe('true'));
    const liveHash = text('trace-hash');
    const button = screen.getByTestId('open-trace-button');
    expect(button.getAttribute('title')).toBe('Open a trace to read its events and summary without re-running it');

    const trace = fixtureTrace();
    const view = new Lab().openTrace(trace);
    const input = screen.getByTestId('open-trace') as HTMLInputElement;
    await fireEvent.change(input, { target: { files: [file(trace, 'run.json')] } });
    await waitFor(() => expect(screen.getByTestId('trace-viewer')).toBeTruthy());
    expect(text('viewer-hash')).toBe(view.hash);
    expect(text('viewer-events')).toBe(String(view.events));
    expect(text('trace-hash')).toBe(liveHash);
    expect(screen.getByTestId('event-log')).toBeTruthy();

    await fireEvent.change(input, { target: { files: [file('not json', 'bad.json')] } });
    await waitFor(() => expect(text('error')).toContain('open failed: trace: not valid JSON'));
    expect(text('viewer-hash')).toBe(view.hash);
    expect(text('trace-hash')).toBe(liveHash);

    await fireEvent.click(screen.getByTestId('viewer-close'));
    await waitFor(() => expect(screen.queryByTestId('trace-viewer')).toBeNull());
    expect(text('trace-hash')).toBe(liveHash);
  });
});
