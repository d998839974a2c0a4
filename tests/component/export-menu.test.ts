/**
 * The header's export menu, rendered from its stories: the main button saves JSON; the menu lists every trace format
 * and the two pictures, saves each under a file name made of scenario, seed and time with the format's suffix, and
 * with the exporter's text; without an exporter only JSON (through the app's handler) and the pictures are offered.
 * The SVG export is a standalone document with styles inlined. Keyboard: arrows move, Escape closes and is kept from
 * the app's shortcuts. Downloads are caught at URL.createObjectURL and the link's click.
 */
import { composeStories } from '@storybook/svelte';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EXPORT_FORMATS } from '../../src/sim/export/chunks.ts';
import ExportMenu from '../../src/views/ExportMenu.svelte';
import * as stories from '../../src/views/ExportMenu.stories.ts';
import * as runBarStories from '../../src/views/RunBar.stories.ts';
import * as topologyStories from '../../src/views/Topology.stories.ts';
import { snapshotAt } from '../../src/views/fixtures.ts';
import { renderStory } from './render.ts';

const { EveryFormat, Loading } = composeStories(stories);

interface Saved {
  name: string;
  blob: Blob;
}
let saved: Saved[] = [];

beforeEach(() => {
  saved = [];
  const blobs = new Map<string, Blob>();
  let n = 0;
  vi.stubGlobal('URL', Object.assign(URL, {
    createObjectURL: (b: Blob) => {
      const url = `blob:test/${++n}`;
      blobs.set(url, b);
      return url;
    },
    revokeObjectURL: () => {},
  }));
  vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
    saved.push({ name: this.download, blob: blobs.get(this.href)! });
  });
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

/** jsdom's Blob has no text(); FileReader reads it. */
function textOf(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error);
    r.readAsText(blob);
  });
}

async function openMenu() {
  await fireEvent.click(screen.getByTestId('export-menu'));
  return screen.getByTestId('export-formats');
}

describe('ExportMenu', () => {
  it('lists every trace format and both pictures, all available with an exporter', async () => {
    renderStory(EveryFormat);
    const menu = await openMenu();
    const items = [...menu.querySelectorAll<HTMLButtonElement>('[role="menuitem"]')];
    expect(items.map((b) => b.dataset.format)).toEqual([...EXPORT_FORMATS.map((f) => f.format), 'svg', 'png']);
    expect(items.every((b) => !b.disabled)).toBe(true);
    expect(screen.getByTestId('export-menu').getAttribute('aria-expanded')).toBe('true');
  });

  it.each(['perfetto', 'shiviz', 'csv-ledger', 'jsonl'])('saves %s with the exporter’s text and the format’s suffix', async (format) => {
    renderStory(EveryFormat);
    const menu = await openMenu();
    await fireEvent.click(menu.querySelector(`[data-format="${format}"]`)!);
    await waitFor(() => expect(saved).toHaveLength(1));
    const snap = snapshotAt('partition');
    const info = EXPORT_FORMATS.find((f) => f.format === format)!;
    expect(saved[0].name).toBe(`streamlab-ping-pong-${snap.seed}-${snap.t}us${info.suffix}`);
    expect(saved[0].blob.type).toBe(info.mime);
    const text = await textOf(saved[0].blob);
    if (format === 'perfetto') expect(JSON.parse(text).traceEvents.length).toBeGreaterThan(100);
    if (format === 'shiviz') expect(text.split('\n')[0]).toBe('(?<event>.*)\\n(?<host>\\S*) (?<clock>{.*})');
    if (format === 'csv-ledger') expect(text.startsWith('msg,sent,duplicated,delivered,')).toBe(true);
    expect(screen.queryByTestId('export-formats')).toBeNull();
  });

  it('the main button saves the native JSON', async () => {
    renderStory(EveryFormat);
    await fireEvent.click(screen.getByTestId('export'));
    await waitFor(() => expect(saved).toHaveLength(1));
    expect(saved[0].name.endsWith('.json')).toBe(true);
    expect(JSON.parse(await textOf(saved[0].blob)).format).toBe('streamlab-trace');
  });

  it('without an exporter, offers JSON through the app’s handler and the pictures only', async () => {
    const onexportjson = vi.fn();
    render(ExportMenu, { props: { snapshot: snapshotAt('partition'), onexportjson } });
    const menu = await openMenu();
    const enabled = [...menu.querySelectorAll<HTMLButtonElement>('[role="menuitem"]:not(:disabled)')].map((b) => b.dataset.format);
    expect(enabled).toEqual(['json', 'svg', 'png']);
    await fireEvent.click(screen.getByTestId('export'));
    expect(onexportjson).toHaveBeenCalledOnce();
  });

  it('is disabled until there is a run', () => {
    renderStory(Loading);
    expect((screen.getByTestId('export') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('export-menu') as HTMLButtonElement).disabled).toBe(true);
  });

  it('saves the topology view as a standalone SVG with styles inlined', async () => {
    renderStory(composeStories(topologyStories).Partition);
    renderStory(EveryFormat);
    const menu = await openMenu();
    await fireEvent.click(menu.querySelector('[data-format="svg"]')!);
    await waitFor(() => expect(saved).toHaveLength(1));
    expect(saved[0].name.endsWith('-topology.svg')).toBe(true);
    const text = await textOf(saved[0].blob);
    expect(text.startsWith('<?xml')).toBe(true);
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const svg = doc.documentElement;
    expect(svg.tagName).toBe('svg');
    expect(svg.getAttribute('xmlns')).toBe('http://www.w3.org/2000/svg');
    expect(Number(svg.getAttribute('width'))).toBeGreaterThan(0);
    expect(doc.querySelectorAll('[class]')).toHaveLength(0);
    expect(doc.querySelectorAll('[style]').length).toBeGreaterThan(10);
    expect(doc.querySelectorAll('[data-testid="partition-group"]').length).toBeGreaterThan(0);
  });

  it('reports a picture with no view on the page instead of failing silently', async () => {
    const onerror = vi.fn();
    render(ExportMenu, { props: { snapshot: snapshotAt('partition'), exporter: async () => '', onerror } });
    const menu = await openMenu();
    await fireEvent.click(menu.querySelector('[data-format="png"]')!);
    await waitFor(() => expect(onerror).toHaveBeenCalledWith('export failed: there is no topology view on the page to save'));
    expect(saved).toHaveLength(0);
  });

  it('arrows move through the items; Escape closes and is kept from the app’s shortcuts', async () => {
    renderStory(EveryFormat);
    const menu = await openMenu();
    await waitFor(() => expect(document.activeElement?.getAttribute('data-format')).toBe('json'));
    await fireEvent.keyDown(menu, { key: 'ArrowDown' });
    expect(document.activeElement?.getAttribute('data-format')).toBe('jsonl');
    await fireEvent.keyDown(menu, { key: 'ArrowUp' });
    await fireEvent.keyDown(menu, { key: 'ArrowUp' });
    expect(document.activeElement?.getAttribute('data-format')).toBe('png');
    const esc = new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true });
    menu.dispatchEvent(esc);
    expect(esc.defaultPrevented).toBe(true);
    await waitFor(() => expect(screen.queryByTestId('export-formats')).toBeNull());
    expect(document.activeElement).toBe(screen.getByTestId('export-menu'));
  });

  it('sits in the header bar in place of the old export button', async () => {
    renderStory(composeStories(runBarStories).MidRun);
    expect(screen.getByTestId('export').textContent).toContain('Export');
    const menu = await openMenu();
    // The RunBar story passes no exporter: JSON and pictures only.
    expect(menu.querySelectorAll('[role="menuitem"]:not(:disabled)')).toHaveLength(3);
  });
});
