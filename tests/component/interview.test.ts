/**
 * The interview panel in jsdom: the timer under fake timers (start, the countdown ticking, pause, next phase,
 * overtime, reset), the drawer's keys (Esc closes it and gives focus back; Space stays inside), the checklist's
 * scenario links (each calls back with a scenario the lab knows; an unknown one is disabled), ticks persisted in
 * localStorage and read back guarded, and the app shell's wiring: "I" opens the panel and a link loads its scenario.
 */
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Lab } from '../../src/sim/lab.ts';
import App from '../../src/views/App.svelte';
import { scenarioList } from '../../src/views/fixtures.ts';
import { CHECKLIST } from '../../src/views/interview-checklist.ts';
import InterviewPanel from '../../src/views/InterviewPanel.svelte';
import { InterviewModel, readTicks, TICKS_KEY, type TickStorage } from '../../src/views/interview.svelte.ts';
import { localPort } from '../../src/views/port.ts';

const text = (id: string) => screen.getByTestId(id).textContent?.trim();

function memoryStorage(initial: Record<string, string> = {}): TickStorage & { data: Record<string, string> } {
  const data = { ...initial };
  return { data, getItem: (k) => data[k] ?? null, setItem: (k, v) => void (data[k] = v) };
}

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  localStorage.clear();
});

describe('timer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  it('starts, counts down on the wall clock, pauses, skips a phase and resets', async () => {
    const model = new InterviewModel(() => Date.now(), memoryStorage());
    render(InterviewPanel, { props: { open: true, scenarios: [], model } });
    expect(text('timer-phase')).toBe('Requirements');
    expect(text('timer-left')).toBe('10:00');
    expect(text('timer-total')).toBe('Interview: 45:00 left of 45:00');

    await fireEvent.click(screen.getByTestId('timer-start'));
    expect(text('timer-start')).toBe('Pause');
    await vi.advanceTimersByTimeAsync(61_000);
    flushSync();
    expect(text('timer-left')).toBe('8:59');
    expect(text('timer-total')).toBe('Interview: 43:59 left of 45:00');
    expect(screen.getByTestId('timer-left').getAttribute('aria-label')).toBe('8 minutes 59 seconds left');

    await fireEvent.click(screen.getByTestId('timer-start'));
    expect(text('timer-start')).toBe('Resume');
    await vi.advanceTimersByTimeAsync(120_000);
    flushSync();
    expect(text('timer-left')).toBe('8:59');

    await fireEvent.click(screen.getByTestId('timer-skip'));
    expect(text('timer-phase')).toBe('High-level design');
    expect(text('timer-left')).toBe('10:00');
    expect(text('timer-guide')).toContain('we can do A or B');
    expect(text('timer-total')).toBe('Interview: 43:59 left of 45:00');

    await fireEvent.click(screen.getByTestId('timer-reset'));
    expect(text('timer-phase')).toBe('Requirements');
    expect(text('timer-left')).toBe('10:00');
    expect(text('timer-start')).toBe('Start');
  });

  it('shows overtime in red once a phase runs past its ten minutes, and on the closed drawer’s button', async () => {
    const model = new InterviewModel(() => Date.now(), null);
    const { rerender } = render(InterviewPanel, { props: { open: true, scenarios: [], model } });
    await fireEvent.click(screen.getByTestId('timer-start'));
    await vi.advanceTimersByTimeAsync(10 * 60_000 + 5_000);
    flushSync();
    expect(text('timer-left')).toBe('+0:05');
    expect(screen.getByTestId('timer-left').classList.contains('late')).toBe(true);
    await rerender({ open: false });
    expect(screen.queryByTestId('interview-panel')).toBeNull();
    expect(text('interview-toggle-time')).toBe('+0:05');
    expect(screen.getByTestId('interview-toggle').classList.contains('late')).toBe(true);
    // The timer runs on while the drawer is closed.
    await vi.advanceTimersByTimeAsync(10_000);
    flushSync();
    expect(text('interview-toggle-time')).toBe('+0:15');
    model.dispose();
  });

  it('stops ticking when disposed: no interval is left behind', async () => {
    const model = new InterviewModel(() => Date.now(), null);
    model.start();
    expect(vi.getTimerCount()).toBe(1);
    model.pause();
    expect(vi.getTimerCount()).toBe(0);
    model.start();
    model.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('drawer', () => {
  it('the toggle opens it, Esc closes it and gives focus back to the toggle; Space inside stays inside', async () => {
    render(InterviewPanel, { props: { scenarios: scenarioList(), model: new InterviewModel(() => 0, null) } });
    const toggle = screen.getByTestId('interview-toggle');
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    await fireEvent.click(toggle);
    const panel = screen.getByTestId('interview-panel');
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    expect(document.activeElement).toBe(panel);

    const outside = vi.fn();
    window.addEventListener('keydown', outside);
    await fireEvent.keyDown(screen.getByTestId('timer-start'), { key: ' ' });
    expect(outside).not.toHaveBeenCalled();
    window.removeEventListener('keydown', outside);

    await fireEvent.keyDown(panel, { key: 'Escape' });
    expect(screen.queryByTestId('interview-panel')).toBeNull();
    expect(document.activeElement).toBe(toggle);
  });

  it('tabs switch with a click or the arrow keys', async () => {
    render(InterviewPanel, { props: { open: true, scenarios: scenarioList(), model: new InterviewModel(() => 0, null) } });
    expect(screen.getByTestId('checklist')).toBeTruthy();
    await fireEvent.keyDown(screen.getByTestId('interview-tab-checklist'), { key: 'ArrowRight' });
    expect(screen.getByTestId('capacity')).toBeTruthy();
    expect(screen.getByTestId('interview-tab-capacity').getAttribute('aria-selected')).toBe('true');
    await fireEvent.click(screen.getByTestId('interview-tab-checklist'));
    expect(screen.getAllByTestId('checklist-item')).toHaveLength(CHECKLIST.length);
  });
});

describe('checklist', () => {
  it('each item shows its sentence and a tooltip teaching the term; each link names a scenario the lab knows', async () => {
    const opened: string[] = [];
    render(InterviewPanel, { props: { open: true, scenarios: scenarioList(), model: new InterviewModel(() => 0, null), onopenscenario: (id: string) => opened.push(id) } });
    const known = new Set(scenarioList().map((s) => s.id));
    const links = screen.getAllByTestId('checklist-link') as HTMLButtonElement[];
    expect(links.length).toBe(CHECKLIST.flatMap((i) => i.links).length);
    for (const l of links) {
      expect(known.has(l.dataset.scenario ?? ''), l.dataset.scenario).toBe(true);
      expect(l.disabled).toBe(false);
    }
    const acks = screen.getAllByTestId('checklist-item').find((li) => li.dataset.id === 'acks')!;
    expect(acks.textContent).toContain('acks=all');
    expect(acks.querySelector('label')?.getAttribute('title')).toMatch(/^acks: when the broker confirms a write/);
    await fireEvent.click(links.find((l) => l.dataset.scenario === 'mq-acks-quorum')!);
    await fireEvent.click(links.find((l) => l.dataset.scenario === 'apm-capacity')!);
    expect(opened).toEqual(['mq-acks-quorum', 'apm-capacity']);
  });

  it('a link to a scenario this lab does not have is disabled and says so', () => {
    const scenarios = scenarioList().filter((s) => s.id !== 'mq-hot-key');
    render(InterviewPanel, { props: { open: true, scenarios, model: new InterviewModel(() => 0, null), onopenscenario: () => {} } });
    const hot = (screen.getAllByTestId('checklist-link') as HTMLButtonElement[]).find((l) => l.dataset.scenario === 'mq-hot-key')!;
    expect(hot.disabled).toBe(true);
    expect(hot.title).toBe('Scenario mq-hot-key is not available in this lab');
  });

  it('ticks persist in localStorage and come back in a new panel', async () => {
    render(InterviewPanel, { props: { open: true, scenarios: scenarioList(), model: new InterviewModel(() => 0) } });
    const boxes = () => screen.getAllByTestId('checklist-tick') as HTMLInputElement[];
    await fireEvent.click(boxes()[1]);
    await fireEvent.click(boxes()[0]);
    expect(JSON.parse(localStorage.getItem(TICKS_KEY) ?? 'null')).toEqual([CHECKLIST[0].id, CHECKLIST[1].id]);
    expect(text('interview-tab-checklist')).toContain(`2/${CHECKLIST.length}`);
    cleanup();
    render(InterviewPanel, { props: { open: true, scenarios: scenarioList(), model: new InterviewModel(() => 0) } });
    expect(boxes().map((b) => b.checked).slice(0, 3)).toEqual([true, true, false]);
    await fireEvent.click(screen.getByTestId('checklist-clear'));
    expect(localStorage.getItem(TICKS_KEY)).toBe('[]');
    expect(boxes().every((b) => !b.checked)).toBe(true);
  });

  it('reads stored ticks guarded: junk, unknown ids and a throwing storage count as none', () => {
    expect(readTicks(memoryStorage({ [TICKS_KEY]: '["ap-cp","nope",3,"ap-cp"]' }))).toEqual(['ap-cp']);
    expect(readTicks(memoryStorage({ [TICKS_KEY]: '{"ap-cp":true}' }))).toEqual([]);
    expect(readTicks(memoryStorage({ [TICKS_KEY]: 'not json' }))).toEqual([]);
    expect(readTicks(memoryStorage())).toEqual([]);
    const throwing: TickStorage = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
    };
    expect(readTicks(throwing)).toEqual([]);
    const model = new InterviewModel(() => 0, throwing);
    model.tick('acks', true);
    expect(model.ticks).toEqual(['acks']);
  });
});

describe('in the app', () => {
  it('"I" opens the panel; a checklist link loads its scenario with the current seed; Esc closes the panel', async () => {
    render(App, { props: { port: localPort(new Lab()), syncHash: false, initial: { scenario: 'ping-pong', seed: 'iv' } } });
    await waitFor(() => expect(document.body.dataset.ready).toBe('true'));
    await fireEvent.keyDown(document.body, { key: 'i' });
    expect(screen.getByTestId('interview-panel')).toBeTruthy();
    const link = (screen.getAllByTestId('checklist-link') as HTMLButtonElement[]).find((l) => l.dataset.scenario === 'mq-hot-key')!;
    await waitFor(() => expect(link.disabled).toBe(false));
    await fireEvent.click(link);
    const hot = new Lab().load('mq-hot-key', { seed: 'iv' });
    await waitFor(() => expect(text('trace-hash')).toBe(hot.traceHash));
    await fireEvent.keyDown(document.body, { key: 'Escape' });
    expect(screen.queryByTestId('interview-panel')).toBeNull();
  }, 30_000);
});
