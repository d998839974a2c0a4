/**
 * The scenario picker: search by title, id or summary; tag filters that narrow (every picked tag must be present);
 * difficulty and minutes on each option; keyboard navigation from the search box (↑ ↓ move, Enter picks, Esc closes,
 * focus back on the button); and the app's shortcuts ("/" opens it; N / B walk the narration; radio groups keep
 * their arrow keys).
 */
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { scenarioList } from '../../src/views/fixtures.ts';
import { commandFor, type KeyLike } from '../../src/views/keys.ts';
import ScenarioPicker from '../../src/views/ScenarioPicker.svelte';
import { filterScenarios, PICKER_TAGS } from '../../src/views/scenario-picker.svelte.ts';

const ALL = scenarioList();

function open(current = 'raft-cold-start') {
  const onpick = vi.fn();
  const view = render(ScenarioPicker, { props: { scenarios: ALL, current, onpick } });
  return { onpick, view };
}

const ids = () => screen.getAllByTestId('picker-option').map((o) => o.dataset.id);
const active = () => screen.getAllByTestId('picker-option').find((o) => o.getAttribute('aria-selected') === 'true')?.dataset.id;

describe('filterScenarios', () => {
  it('matches every word in title, id, summary or tags, ignoring case', () => {
    expect(filterScenarios(ALL, 'SPLIT vote', []).map((s) => s.id)).toEqual(['raft-split-vote']);
    expect(filterScenarios(ALL, 'split', []).map((s) => s.id)).toContain('mq-hot-key'); // "splitting the hot one", in its summary
    expect(filterScenarios(ALL, 'mq-acks-leader', []).map((s) => s.id)).toEqual(['mq-acks-leader']); // by id
    expect(filterScenarios(ALL, 'ddsketch', []).map((s) => s.id)).toEqual(['apm-percentiles']); // only in the summary
    expect(filterScenarios(ALL, '', [])).toHaveLength(ALL.length);
    expect(filterScenarios(ALL, 'no such words', [])).toEqual([]);
  });

  it('puts the exact id first, then title and id matches, then summary-only ones', () => {
    expect(filterScenarios(ALL, 'raft-chaos', []).map((s) => s.id)[0]).toBe('raft-chaos');
    const split = filterScenarios(ALL, 'split', []).map((s) => s.id);
    expect(split.indexOf('raft-split-vote')).toBeLessThan(split.indexOf('mq-hot-key'));
  });

  it('narrows by every picked tag', () => {
    const apm = filterScenarios(ALL, '', ['apm']);
    expect(apm.length).toBeGreaterThan(3);
    expect(apm.every((s) => s.tags.includes('apm'))).toBe(true);
    const both = filterScenarios(ALL, '', ['apm', 'faults']);
    expect(both.length).toBeLessThan(apm.length);
    expect(both.every((s) => s.tags.includes('apm') && s.tags.includes('faults'))).toBe(true);
  });

  it('every built-in scenario carries at least one of the picker’s tags', () => {
    expect(ALL.filter((s) => !s.tags.some((t) => (PICKER_TAGS as readonly string[]).includes(t))).map((s) => s.id)).toEqual([]);
  });
});

describe('ScenarioPicker', () => {
  it('opens from its button, focused on the search, with the current scenario active and marked', async () => {
    open();
    expect(screen.queryByTestId('scenario-picker')).toBeNull();
    expect(screen.getByTestId('scenario').textContent).toContain('Raft: cold start');
    await fireEvent.click(screen.getByTestId('scenario'));
    const search = await screen.findByTestId('picker-search');
    await waitFor(() => expect(document.activeElement).toBe(search));
    expect(ids()).toHaveLength(ALL.length);
    expect(active()).toBe('raft-cold-start');
    const option = screen.getAllByTestId('picker-option').find((o) => o.dataset.id === 'raft-cold-start')!;
    expect(option.textContent).toContain('intro');
    expect(option.textContent).toContain('~5 min');
    expect(option.textContent).toContain('current');
    expect(search.getAttribute('aria-activedescendant')).toBe(option.id);
  });

  it('searches and filters by tag, and says how many match', async () => {
    open();
    await fireEvent.click(screen.getByTestId('scenario'));
    await fireEvent.input(await screen.findByTestId('picker-search'), { target: { value: 'spike' } });
    expect(ids()).toEqual(['mq-push-spike', 'mq-pull-spike']);
    expect(screen.getByTestId('picker-count').textContent).toContain(`2 of ${ALL.length}`);
    await fireEvent.input(screen.getByTestId('picker-search'), { target: { value: '' } });
    await fireEvent.click(screen.getByTestId('picker-tag-semantics'));
    expect(screen.getByTestId('picker-tag-semantics').getAttribute('aria-pressed')).toBe('true');
    expect(ids()).toEqual(filterScenarios(ALL, '', ['semantics']).map((s) => s.id));
    await fireEvent.click(screen.getByTestId('picker-tag-raft'));
    expect(ids()).toEqual(filterScenarios(ALL, '', ['semantics', 'raft']).map((s) => s.id));
    await fireEvent.input(screen.getByTestId('picker-search'), { target: { value: 'zzz' } });
    expect(screen.queryAllByTestId('picker-option')).toHaveLength(0);
    expect(screen.getByTestId('scenario-picker').textContent).toContain('No scenario matches');
  });

  it('↑ ↓ move the active option (wrapping), Enter picks it and closes, focus returns to the button', async () => {
    const { onpick } = open();
    await fireEvent.click(screen.getByTestId('scenario'));
    const search = await screen.findByTestId('picker-search');
    await fireEvent.input(search, { target: { value: 'raft' } });
    const list = ids();
    expect(active()).toBe(list[0]);
    await fireEvent.keyDown(search, { key: 'ArrowDown' });
    await fireEvent.keyDown(search, { key: 'ArrowDown' });
    expect(active()).toBe(list[2]);
    await fireEvent.keyDown(search, { key: 'ArrowUp' });
    await fireEvent.keyDown(search, { key: 'ArrowUp' });
    await fireEvent.keyDown(search, { key: 'ArrowUp' });
    expect(active()).toBe(list[list.length - 1]);
    await fireEvent.keyDown(search, { key: 'Enter' });
    expect(onpick).toHaveBeenCalledWith(list[list.length - 1]);
    expect(screen.queryByTestId('scenario-picker')).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('scenario')));
  });

  it('Esc closes without picking; keys typed in the picker never reach the app’s shortcuts', async () => {
    const { onpick } = open();
    const seen: string[] = [];
    const onWindow = (e: KeyboardEvent) => seen.push(e.key);
    window.addEventListener('keydown', onWindow);
    try {
      await fireEvent.click(screen.getByTestId('scenario'));
      const search = await screen.findByTestId('picker-search');
      await fireEvent.keyDown(search, { key: 'n' });
      await fireEvent.keyDown(screen.getByTestId('picker-tag-mq'), { key: ' ' });
      await fireEvent.keyDown(search, { key: 'Escape' });
    } finally {
      window.removeEventListener('keydown', onWindow);
    }
    expect(seen).toEqual([]);
    expect(onpick).not.toHaveBeenCalled();
    expect(screen.queryByTestId('scenario-picker')).toBeNull();
  });

  it('a click on an option picks it', async () => {
    const { onpick } = open();
    await fireEvent.click(screen.getByTestId('scenario'));
    const opt = (await screen.findAllByTestId('picker-option')).find((o) => o.dataset.id === 'apm-percentiles')!;
    await fireEvent.click(opt);
    expect(onpick).toHaveBeenCalledWith('apm-percentiles');
  });
});

describe('shortcuts', () => {
  const key = (k: string, target: EventTarget = document.body): KeyLike => ({ key: k, shiftKey: false, ctrlKey: false, metaKey: false, altKey: false, target });
  it('"/" opens the picker, N and B walk the narration', () => {
    expect(commandFor(key('/'))).toBe('pick-scenario');
    expect(commandFor(key('n'))).toBe('narration-next');
    expect(commandFor(key('B'))).toBe('narration-back');
  });
  it('off while typing; a radio group (a question’s choices) keeps its arrow keys', () => {
    const input = document.createElement('input');
    expect(commandFor(key('/', input))).toBeNull();
    const radio = document.createElement('input');
    radio.type = 'radio';
    expect(commandFor(key('ArrowRight', radio))).toBeNull();
    expect(commandFor(key('ArrowLeft', radio))).toBeNull();
  });
});
