/**
 * Sharing in the views (jsdom, the Lab on this thread): the "Copy link" control puts the page's address with the
 * run's link on the clipboard, shows the link selected for a manual copy when the clipboard is refused, and reports
 * a run too large for a link; the app keeps the address bar a link of the current run as faults are injected, and a
 * hostile link on a running page shows its message as text and keeps the run.
 */
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Lab } from '../../src/sim/lab.ts';
import App from '../../src/views/App.svelte';
import ExportMenu from '../../src/views/ExportMenu.svelte';
import { snapshotAt } from '../../src/views/fixtures.ts';
import { localPort } from '../../src/views/port.ts';
import { parseLink } from '../../src/views/share.ts';

let writeText: ReturnType<typeof vi.fn>;

beforeEach(() => {
  writeText = vi.fn(() => Promise.resolve());
  Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
  history.replaceState(null, '', '#');
});

const page = () => location.href.split('#')[0];

describe('Copy link', () => {
  it('copies the address with the run’s link and says so; its tooltip promises an exact reproduction', async () => {
    const snapshot = snapshotAt('partition');
    render(ExportMenu, { props: { snapshot } });
    const button = screen.getByTestId('copy-link');
    expect(button.getAttribute('title')).toMatch(/reproduces the run exactly — the same events and the same trace hash/);
    expect(button.textContent?.trim()).toBe('Copy link');
    await fireEvent.click(button);
    await waitFor(() => expect(button.textContent?.trim()).toBe('Link copied'));
    expect(writeText).toHaveBeenCalledWith(`${page()}#scenario=ping-pong&seed=story-1`);
  });

  it('carries the recorded actions, which reload to the same trace hash', async () => {
    const lab = new Lab();
    lab.load('ping-pong', { seed: 's' });
    lab.seek(1_000_000);
    lab.inject({ kind: 'crash', node: 'n2' });
    const snapshot = lab.seek(2_000_000);
    render(ExportMenu, { props: { snapshot } });
    await fireEvent.click(screen.getByTestId('copy-link'));
    await waitFor(() => expect(writeText).toHaveBeenCalledTimes(1));
    const url = String(writeText.mock.calls[0][0]);
    expect(url.startsWith(`${page()}#scenario=ping-pong&seed=s&run=`)).toBe(true);
    const parsed = parseLink(url.slice(url.indexOf('#')), ['ping-pong']);
    if (!parsed.ok) throw new Error(parsed.error);
    const other = new Lab();
    other.load('ping-pong', { seed: 's', actions: parsed.link.actions });
    expect(other.seek(2_000_000).traceHash).toBe(snapshot.traceHash);
  });

  it('shows the link selected to copy by hand when the clipboard is refused', async () => {
    writeText.mockImplementation(() => Promise.reject(new DOMException('Document is not focused.', 'NotAllowedError')));
    render(ExportMenu, { props: { snapshot: snapshotAt('partition') } });
    await fireEvent.click(screen.getByTestId('copy-link'));
    const field = (await screen.findByTestId('copy-link-text')) as HTMLInputElement;
    expect(field.value).toBe(`${page()}#scenario=ping-pong&seed=story-1`);
    expect(field.readOnly).toBe(true);
    expect(screen.getByTestId('copy-link-manual').textContent).toContain('press Ctrl+C');
    await fireEvent.keyDown(field, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByTestId('copy-link-manual')).toBeNull());
  });

  it('reports a run too large for a link instead of copying a partial one', async () => {
    const base = snapshotAt('partition');
    const actions = Array.from({ length: 1_800 }, (_, i) => ({ kind: 'pause' as const, node: 'n1', at: i * 7919 + ((i * 104_729) % 997), step: i * 13 + (i % 7) }));
    const onerror = vi.fn();
    render(ExportMenu, { props: { snapshot: { ...base, actions }, onerror } });
    await fireEvent.click(screen.getByTestId('copy-link'));
    await waitFor(() => expect(onerror).toHaveBeenCalledTimes(1));
    expect(onerror.mock.calls[0][0]).toMatch(/^copy link failed: This run's link would be [\d,]+ characters \(1800 actions\)/);
    expect(writeText).not.toHaveBeenCalled();
  });
});

describe('the address bar follows the run', () => {
  it('an injected fault lands in the hash; a hostile link shows its message as text and keeps the run', async () => {
    history.replaceState(null, '', '#scenario=ping-pong&seed=abc');
    render(App, { props: { port: localPort(new Lab()) } });
    await waitFor(() => expect(document.body.dataset.ready).toBe('true'));
    await waitFor(() => expect(location.hash).toBe('#scenario=ping-pong&seed=abc'));
    await fireEvent.change(screen.getByTestId('fault-node'), { target: { value: 'n3' } });
    await fireEvent.click(screen.getByTestId('fault-crash'));
    await waitFor(() => expect(location.hash).toMatch(/^#scenario=ping-pong&seed=abc&run=/));
    const parsed = parseLink(location.hash, ['ping-pong']);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.link.actions).toEqual([expect.objectContaining({ kind: 'crash', node: 'n3', at: 0 })]);
    const own = location.hash;
    const hash = screen.getByTestId('trace-hash').textContent;

    location.hash = `#scenario=ping-pong&seed=${encodeURIComponent('<img src=x onerror=alert(1)>')}`;
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await waitFor(() => expect(screen.getByTestId('error').textContent).toContain('Bad seed in the link: the seed contains HTML markup at character 1.'));
    expect(screen.getByTestId('error').querySelector('img')).toBeNull();
    expect(screen.getByTestId('trace-hash').textContent).toBe(hash);
    await waitFor(() => expect(location.hash).toBe(own));
  });
});
