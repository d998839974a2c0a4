/**
 * The whole app shell in jsdom on a Lab running on this thread (no worker): it loads the run named by the props or
 * the URL hash, shows hash and count, steps, opens the inspector on a node click, refuses a bad link while keeping
 * the run, and answers keyboard shortcuts except while typing.
 */
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../src/sim/lab.ts';
import App from '../../src/views/App.svelte';
import { localPort } from '../../src/views/port.ts';

function reference(seed: string) {
  const lab = new Lab();
  return lab.load('ping-pong', { seed });
}

const text = (id: string) => screen.getByTestId(id).textContent?.trim();

afterEach(() => {
  cleanup();
  history.replaceState(null, '', '#');
});

describe('App', () => {
  it('loads the run the hash names and writes the canonical hash back', async () => {
    history.replaceState(null, '', '#seed=hello');
    render(App, { props: { port: localPort(new Lab()) } });
    await waitFor(() => expect(document.body.dataset.ready).toBe('true'));
    const ref = reference('hello');
    expect(text('trace-hash')).toBe(ref.traceHash);
    expect(text('event-count')).toBe(String(ref.eventCount));
    expect(text('time')).toBe('0');
    await waitFor(() => expect(location.hash).toBe('#scenario=ping-pong&seed=hello'));
  });

  it('step advances the event count as the Lab does; a node click opens the inspector', async () => {
    render(App, { props: { port: localPort(new Lab()), syncHash: false, initial: { scenario: 'ping-pong', seed: 'abc' } } });
    await waitFor(() => expect(document.body.dataset.ready).toBe('true'));
    const lab = new Lab();
    lab.load('ping-pong', { seed: 'abc' });
    const after = lab.step(1);
    await fireEvent.click(screen.getByTestId('step'));
    await waitFor(() => expect(text('event-count')).toBe(String(after.eventCount)));
    expect(text('trace-hash')).toBe(after.traceHash);

    await fireEvent.click(screen.getByTestId('node-n3'));
    expect(screen.getByTestId('inspector').textContent).toContain('n3');
    expect(screen.getByTestId('inspector-status').textContent).toBe('up');
  });

  it('a hash naming an unknown scenario shows an error and keeps the run', async () => {
    history.replaceState(null, '', '#scenario=ping-pong&seed=abc');
    render(App, { props: { port: localPort(new Lab()) } });
    await waitFor(() => expect(document.body.dataset.ready).toBe('true'));
    const hash = text('trace-hash');
    location.hash = '#scenario=nope&seed=abc';
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await waitFor(() => expect(text('error')).toContain('Unknown scenario "nope"'));
    expect(text('trace-hash')).toBe(hash);
    expect(location.hash).toBe('#scenario=ping-pong&seed=abc');
  });

  it('keyboard: → steps, ? opens help, Escape closes it; keys typed in the seed field are left alone', async () => {
    render(App, { props: { port: localPort(new Lab()), syncHash: false, initial: { scenario: 'ping-pong', seed: 'abc' } } });
    await waitFor(() => expect(document.body.dataset.ready).toBe('true'));
    const count = text('event-count');
    await fireEvent.keyDown(window, { key: 'ArrowRight' });
    await waitFor(() => expect(text('event-count')).not.toBe(count));

    await fireEvent.keyDown(window, { key: '?' });
    expect(screen.getByTestId('help-overlay')).toBeTruthy();
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByTestId('help-overlay')).toBeNull();

    const seed = screen.getByTestId('seed');
    const before = text('event-count');
    await fireEvent.keyDown(seed, { key: 'ArrowRight' });
    await fireEvent.keyDown(seed, { key: '?' });
    expect(screen.queryByTestId('help-overlay')).toBeNull();
    expect(text('event-count')).toBe(before);
  });
});
