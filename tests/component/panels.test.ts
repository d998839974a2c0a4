/**
 * The side panels rendered from their stories (fixed ping-pong snapshots, seed "story-1"): the inspector's memory,
 * disk and timers; invariant and expectation verdicts; narration progress; the fault panel's enabled actions and
 * refusals; the header's hash and count; the transport's clock; the help overlay.
 */
import { composeStories } from '@storybook/svelte';
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { snapshotAt } from '../../src/views/fixtures.ts';
import * as faultStories from '../../src/views/FaultPanel.stories.ts';
import * as helpStories from '../../src/views/HelpOverlay.stories.ts';
import * as inspectorStories from '../../src/views/Inspector.stories.ts';
import * as invariantStories from '../../src/views/Invariants.stories.ts';
import * as narrationStories from '../../src/views/Narration.stories.ts';
import * as runBarStories from '../../src/views/RunBar.stories.ts';
import * as transportStories from '../../src/views/Transport.stories.ts';
import { renderStory } from './render.ts';

describe('Inspector', () => {
  const { NothingSelected, RunningNode, CrashedNode, Recovered } = composeStories(inspectorStories);

  it('asks for a click when nothing is selected', () => {
    renderStory(NothingSelected);
    expect(screen.getByTestId('inspector').textContent).toContain('Click a node');
  });

  it('a running node shows memory, synced disk keys and its beat timer', () => {
    renderStory(RunningNode);
    const text = screen.getByTestId('inspector').textContent ?? '';
    expect(screen.getByTestId('inspector-status').textContent).toBe('up');
    expect(text).toContain('suspected');
    expect(text).toContain('n5 true');
    expect(screen.getByTestId('inspector-disk').textContent).toMatch(/epoch\s*1/);
    expect(text).toContain('beat');
  });

  it('a crashed node has no memory and no timers, but keeps its disk', () => {
    renderStory(CrashedNode);
    const text = screen.getByTestId('inspector').textContent ?? '';
    expect(screen.getByTestId('inspector-status').textContent).toBe('crashed');
    expect(text).toContain('Gone');
    expect(text).toContain('No timers set');
    expect(screen.getByTestId('inspector-disk').textContent).toMatch(/epoch\s*1/);
  });

  it('after restart the disk holds epoch 2', () => {
    renderStory(Recovered);
    expect(screen.getByTestId('inspector-disk').textContent).toMatch(/epoch\s*2/);
  });
});

describe('Invariants', () => {
  const { ColdStart, EndOfRun, Violated } = composeStories(invariantStories);

  it('at the end of the run every checker holds and every expectation passes', () => {
    renderStory(EndOfRun);
    const checkers = screen.getAllByTestId('checker');
    expect(checkers.length).toBe(snapshotAt('end').checkers.length);
    for (const c of checkers) expect(c.dataset.ok).toBe('true');
    const ex = screen.getAllByTestId('expectation');
    expect(ex).toHaveLength(7);
    expect(ex.map((e) => e.dataset.status)).toEqual(snapshotAt('end').expectations.map((e) => e.status));
    expect(ex.every((e) => e.dataset.status === 'pass')).toBe(true);
  });

  it('at cold start most expectations are pending', () => {
    renderStory(ColdStart);
    const pending = screen.getAllByTestId('expectation').filter((e) => e.dataset.status === 'pending');
    expect(pending.length).toBeGreaterThanOrEqual(4);
  });

  it('a violation turns its checker red with a count', () => {
    renderStory(Violated);
    const bad = screen.getAllByTestId('checker').filter((c) => c.dataset.ok === 'false');
    expect(bad).toHaveLength(1);
    expect(bad[0].textContent).toContain('1 violation');
    expect(screen.getByTestId('invariants').textContent).toContain('1 broken');
    expect(screen.getAllByTestId('expectation')[0].dataset.status).toBe('fail');
  });
});

describe('Narration', () => {
  const { ColdStart, Partition, EndOfRun } = composeStories(narrationStories);
  const reached = () => screen.getAllByTestId('narration-step').filter((s) => s.dataset.reached === 'true').length;

  it('reaches more steps as the run goes on', () => {
    renderStory(ColdStart);
    const cold = reached();
    cleanup();
    renderStory(Partition);
    const mid = reached();
    cleanup();
    renderStory(EndOfRun);
    const end = reached();
    expect(cold).toBe(1);
    expect(mid).toBeGreaterThan(cold);
    expect(end).toBe(7);
  });
});

describe('FaultPanel', () => {
  const { AllUp, CrashedSelected, DuringPartition, Refused, RunOver } = composeStories(faultStories);

  it('with every node up: crash and pause enabled, restart, resume and heal disabled', () => {
    renderStory(AllUp);
    expect((screen.getByTestId('fault-crash') as HTMLButtonElement).disabled).toBe(false);
    expect((screen.getByTestId('fault-pause') as HTMLButtonElement).disabled).toBe(false);
    expect((screen.getByTestId('fault-restart') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('fault-resume') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('fault-heal') as HTMLButtonElement).disabled).toBe(true);
  });

  it('a crashed, selected node can be restarted but not crashed again', () => {
    renderStory(CrashedSelected);
    expect((screen.getByTestId('fault-crash') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('fault-restart') as HTMLButtonElement).disabled).toBe(false);
    expect(screen.getByTestId('fault-isolate').textContent).toContain('n2');
  });

  it('during a partition heal is enabled', () => {
    renderStory(DuringPartition);
    expect((screen.getByTestId('fault-heal') as HTMLButtonElement).disabled).toBe(false);
  });

  it('shows why the lab refused a fault', async () => {
    renderStory(Refused);
    await fireEvent.click(screen.getByTestId('fault-crash'));
    await waitFor(() => expect(screen.getByTestId('fault-error').textContent).toContain('the run is over'));
  });

  it('when the run is over every fault is disabled', () => {
    renderStory(RunOver);
    for (const id of ['fault-crash', 'fault-pause', 'fault-isolate', 'fault-halves']) {
      expect((screen.getByTestId(id) as HTMLButtonElement).disabled).toBe(true);
    }
  });
});

describe('RunBar and Transport', () => {
  it('the header shows the trace hash, the event count and the seed', () => {
    const { MidRun } = composeStories(runBarStories);
    renderStory(MidRun);
    const s = snapshotAt('partition');
    expect(screen.getByTestId('trace-hash').textContent).toBe(s.traceHash);
    expect(screen.getByTestId('event-count').textContent).toBe(String(s.eventCount));
    expect((screen.getByTestId('seed') as HTMLInputElement).value).toBe('story-1');
  });

  it('the transport shows the virtual time with formatMicros', () => {
    const { MidRun, EndOfRun } = composeStories(transportStories);
    renderStory(MidRun);
    expect(screen.getByTestId('time').textContent).toBe('3.000s');
    expect((screen.getByTestId('seek') as HTMLInputElement).max).toBe('8000000');
    cleanup();
    renderStory(EndOfRun);
    expect(screen.getByTestId('time').textContent).toBe('8.000s');
  });
});

describe('HelpOverlay', () => {
  it('lists the shortcuts', () => {
    const { Open } = composeStories(helpStories);
    renderStory(Open);
    const text = screen.getByTestId('help-overlay').textContent ?? '';
    for (const s of ['Space', 'Play / pause', 'Step one event', 'Seek back 100 ms', 'Show or hide this help']) expect(text).toContain(s);
  });
});
