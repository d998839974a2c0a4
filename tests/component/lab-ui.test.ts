/**
 * The lab UI of issue 6, rendered from stories and fixed runs: the transport's "run until the next election, commit,
 * fault or delivery of a kind"; the fault panel's Jepsen shapes, group picker and per-link form (each producing the
 * fault the Lab is then asked to inject); a red checker linking to its evidence; fault windows shaded on the
 * elections timeline the way the charts shade them; and the dead-letter queue filling in a live queue run.
 */
import { composeStories } from '@storybook/svelte';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { flushSync, type Component } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import type { Fault } from '../../src/sim/kernel/types.ts';
import * as chartsStories from '../../src/views/Charts.stories.ts';
import Elections from '../../src/views/Elections.svelte';
import * as electionStories from '../../src/views/Elections.stories.ts';
import { faultBands, FaultWindows, faultMarks } from '../../src/views/fault-windows.ts';
import { groupsFault, linkFault } from '../../src/views/fault-forms.ts';
import FaultPanel from '../../src/views/FaultPanel.svelte';
import * as faultStories from '../../src/views/FaultPanel.stories.ts';
import { LAB_MOMENTS, labMomentLab, labMomentSnapshot, raftLabAt, raftSnapshotAt, traceOf } from '../../src/views/fixtures.ts';
import Invariants from '../../src/views/Invariants.svelte';
import * as invariantStories from '../../src/views/Invariants.stories.ts';
import * as transportStories from '../../src/views/Transport.stories.ts';
import { renderStory } from './render.ts';

const button = (id: string) => screen.getByTestId(id) as HTMLButtonElement;

/** Renders a story's component with its args and some of them replaced (a spy for a callback). */
function renderWith(component: unknown, story: { args: unknown }, props: Record<string, unknown>) {
  return render(component as Component<Record<string, unknown>>, { props: { ...(story.args as Record<string, unknown>), ...props } });
}

describe('Transport: run until the next …', () => {
  const { MidRun, RaftRun } = composeStories(transportStories);

  it('ping-pong has no elections or commits: those two are disabled, fault and state change are not', () => {
    renderStory(MidRun);
    expect(button('step-election').disabled).toBe(true);
    expect(button('step-commit').disabled).toBe(true);
    expect(button('step-fault').disabled).toBe(false);
    expect(button('step-state').disabled).toBe(false);
    expect(button('step-election').title).toContain('§5.2');
  });

  it('a Raft run lists the message kinds seen and steps to the next delivery of the chosen one', async () => {
    renderStory(RaftRun);
    const select = screen.getByTestId('step-deliver-kind') as HTMLSelectElement;
    const kinds = [...select.options].map((o) => o.value);
    expect(kinds).toEqual(expect.arrayContaining(['append', 'append-reply', 'vote', 'vote-reply']));
    expect(button('step-election').disabled).toBe(false);
    expect(button('step-commit').disabled).toBe(false);
    await fireEvent.change(select, { target: { value: 'append-reply' } });
    const before = screen.getByTestId('time').textContent;
    await fireEvent.click(button('step-deliver'));
    await waitFor(() => expect(screen.getByTestId('time').textContent).not.toBe(before));
  });

  it('next commit and next election move the clock forward in a Raft run', async () => {
    renderStory(RaftRun);
    for (const id of ['step-commit', 'step-election']) {
      const before = screen.getByTestId('time').textContent;
      await fireEvent.click(button(id));
      await waitFor(() => expect(screen.getByTestId('time').textContent).not.toBe(before));
    }
  });
});

describe('fault forms', () => {
  it('a link form becomes a link fault in kernel units; empty fields are left alone', () => {
    const r = linkFault({ from: 'r1', to: 'r2', lossPct: '25', latencyMs: '40', dupPct: '', symmetric: true });
    expect(r).toEqual({ ok: true, fault: { kind: 'link', from: 'r1', to: 'r2', set: { loss: 0.25, latencyUs: 40_000 }, symmetric: true }, label: 'set r1 ↔ r2: loss 25%, latency 40 ms' });
    const one = linkFault({ from: '*', to: 'r3', lossPct: '', latencyMs: '', dupPct: '5', symmetric: false });
    expect(one.ok && one.fault).toEqual({ kind: 'link', from: '*', to: 'r3', set: { dup: 0.05 } });
  });

  it.each([
    [{ lossPct: '101' }, 'loss % must be a number from 0 to 100'],
    [{ latencyMs: '-1' }, 'latency ms must be a number from 0 to 60000'],
    [{ dupPct: 'x' }, 'duplication % must be a number from 0 to 100'],
    [{}, 'set at least one of loss, latency or duplication'],
    [{ to: 'r1' }, 'a link joins two different nodes'],
  ])('refuses %j: %s', (patch, error) => {
    expect(linkFault({ from: 'r1', to: 'r2', lossPct: '', latencyMs: '', dupPct: '', symmetric: false, ...patch })).toEqual({ ok: false, error });
  });

  it('picked groups become a groups partition; fewer than two groups is refused', () => {
    const order = ['a', 'b', 'c', 'd'];
    expect(groupsFault({ a: 2, b: 1, c: 0, d: 1 }, order, false)).toEqual({ ok: true, fault: { kind: 'partition', shape: 'groups', groups: [['b', 'd'], ['a']] }, label: 'cut {b d} | {a}' });
    expect(groupsFault({ a: 1, b: 3 }, order, true)).toMatchObject({ ok: true, fault: { groups: [['a'], ['b']], oneWay: true } });
    expect(groupsFault({ a: 1, b: 1 }, order, false)).toEqual({ ok: false, error: 'put nodes in at least two groups' });
  });
});

describe('FaultPanel: shapes, groups and links', () => {
  const { AllUp, PickGroups, LinkForm, BrokerHosts, RunOver } = composeStories(faultStories);

  it('the Jepsen shapes: ring and bridge through the target', async () => {
    const oninject = vi.fn(async (_f: Fault) => null);
    renderWith(FaultPanel, AllUp, { oninject });
    await fireEvent.click(button('fault-ring'));
    await fireEvent.click(button('fault-bridge'));
    expect(oninject.mock.calls.map((c) => c[0])).toEqual([{ kind: 'partition', shape: 'ring' }, { kind: 'partition', shape: 'bridge', node: 'n1' }]);
    expect(button('fault-ring').title).toContain('majority');
  });

  it('picking groups: two halves to start with, changed by the selects, injected as a groups partition', async () => {
    const oninject = vi.fn(async (_f: Fault) => null);
    renderWith(FaultPanel, PickGroups, { oninject });
    expect(screen.getByTestId('group-preview').textContent).toBe('{n1 n2 n3} | {n4 n5}');
    await fireEvent.change(screen.getByTestId('group-n2'), { target: { value: '3' } });
    await fireEvent.change(screen.getByTestId('group-n5'), { target: { value: '0' } });
    await fireEvent.click(screen.getByTestId('group-oneway'));
    expect(screen.getByTestId('group-preview').textContent).toBe('{n1 n3} → {n4} → {n2}');
    // Picking does not fold the form away (it is the reader's to open and close).
    expect((screen.getByTestId('fault-groups') as HTMLDetailsElement).open).toBe(true);
    await fireEvent.click(button('fault-groups-apply'));
    expect(oninject).toHaveBeenCalledWith({ kind: 'partition', shape: 'groups', groups: [['n1', 'n3'], ['n4'], ['n2']], oneWay: true });
    await waitFor(() => expect(screen.getByTestId('fault-panel').textContent).toContain('Recorded as an action'));
  });

  it('the link form: typed values become a link fault; a bad value shows why and injects nothing', async () => {
    const oninject = vi.fn(async (_f: Fault) => null);
    renderWith(FaultPanel, LinkForm, { oninject });
    await fireEvent.input(screen.getByTestId('link-loss'), { target: { value: '150' } });
    await fireEvent.click(button('fault-link-apply'));
    expect(screen.getByTestId('fault-error').textContent).toBe('loss % must be a number from 0 to 100');
    expect(oninject).not.toHaveBeenCalled();
    await fireEvent.input(screen.getByTestId('link-loss'), { target: { value: '30' } });
    await fireEvent.input(screen.getByTestId('link-latency'), { target: { value: '15' } });
    await fireEvent.change(screen.getByTestId('link-to'), { target: { value: 'n4' } });
    await fireEvent.click(button('fault-link-apply'));
    expect(oninject).toHaveBeenCalledWith({ kind: 'link', from: 'n1', to: 'n4', set: { loss: 0.3, latencyUs: 15_000 }, symmetric: true });
  });

  it('in a queue run the groups and links are between brokers (hosts), not their replicas', () => {
    renderStory(BrokerHosts);
    const hosts = labMomentSnapshot('dlqFilling').hosts.map((h) => h.id);
    expect(hosts).toEqual(expect.arrayContaining(['b1', 'b2', 'b3']));
    for (const h of hosts) expect(screen.getByTestId(`group-${h}`)).toBeTruthy();
    expect(screen.queryByTestId('group-b1.orders-0')).toBeNull();
  });

  it('when the run is over the new forms are disabled too', () => {
    renderStory(RunOver);
    for (const id of ['fault-ring', 'fault-bridge', 'fault-groups-apply', 'fault-link-apply']) expect(button(id).disabled).toBe(true);
  });
});

describe('Invariants: a red checker links to its evidence', () => {
  const { BrokenRun, EndOfRun } = composeStories(invariantStories);

  it('names the first violation and opens its event', async () => {
    const onshowevent = vi.fn();
    renderWith(Invariants, BrokenRun, { onshowevent });
    const s = labMomentSnapshot('doubleVote');
    const broken = s.checkers.find((c) => c.violations > 0)!;
    const row = screen.getAllByTestId('checker').find((r) => r.dataset.ok === 'false')!;
    expect(row.textContent).toContain(broken.name);
    const evidence = row.querySelector('[data-testid="checker-evidence"]')!;
    expect(evidence.textContent).toContain(s.violations[0].message);
    expect(evidence.textContent).toContain(`event #${broken.firstSeq}`);
    await fireEvent.click(evidence.querySelector('button')!);
    expect(onshowevent).toHaveBeenCalledWith(broken.firstSeq);
  });

  it('decided expectations link to their evidence event; green checkers have none', async () => {
    const onshowevent = vi.fn();
    renderWith(Invariants, EndOfRun, { onshowevent });
    expect(screen.queryAllByTestId('checker-evidence')).toHaveLength(0);
    const links = screen.getAllByTestId('evidence-link');
    expect(links.length).toBeGreaterThan(0);
    await fireEvent.click(links[0]);
    expect(onshowevent).toHaveBeenCalledWith(Number(/#(\d+)/.exec(links[0].textContent ?? '')![1]));
  });
});

describe('Elections: fault windows shaded as on the charts', () => {
  const { LeaderCrashed, SteadyState, StaleLeaderPartition } = composeStories(electionStories);

  it('the leader crash at 2 s is a band from 2 s to the cursor, labelled above the lanes', () => {
    const { container } = renderStory(LeaderCrashed);
    const bands = [...container.querySelectorAll<SVGGElement>('[data-testid="fault-band"]')];
    expect(bands.map((b) => b.dataset.kind)).toEqual(['crash']);
    expect(bands[0].textContent).toContain('crash r5');
    expect(bands[0].querySelector('title')!.textContent).toContain('still going at');
    expect(bands[0].querySelector('title')!.textContent).toContain('scheduled by the scenario');
    expect(container.querySelector('.fault-head')?.textContent).toBe('faults');
  });

  it('a partition is shaded; a run without faults has no strip and its lanes start under the axis', () => {
    const { container } = renderStory(StaleLeaderPartition);
    expect([...container.querySelectorAll<SVGGElement>('[data-testid="fault-band"]')].map((b) => b.dataset.kind)).toContain('partition');
    const steady = renderStory(SteadyState);
    expect(steady.container.querySelectorAll('[data-testid="fault-band"]')).toHaveLength(0);
    expect(steady.container.querySelector('.fault-head')).toBeNull();
  });

  it('the bands are the charts’ bands: same records, labels and tooltips from one helper', () => {
    const trace = traceOf(raftLabAt('leaderCrashed'));
    const bands = faultBands(trace.faults.list);
    expect(bands).toHaveLength(1);
    expect(bands[0]).toMatchObject({ kind: 'crash', from: 2_000_000, to: null, subjects: ['r5'], source: 'scenario' });
    const marks = faultMarks(trace.faults.list, { now: 2_100_000, t0: 0, t1: 4_000_000, x: (t) => t / 10_000, hosts: [], labelPx: () => 50, rowsMax: 2 });
    expect(marks).toEqual([expect.objectContaining({ kind: 'crash', x: 200, w: 10, label: 'crash r5', row: 0 })]);
  });

  it('a seek back before the crash removes its band', () => {
    const trace = traceOf(raftLabAt('leaderCrashed'));
    const crashSeq = trace.faults.list[0].seq;
    trace.truncate(crashSeq);
    expect(trace.faults.list).toEqual([]);
    const props = { snapshot: raftSnapshotAt('steady'), trace };
    const { container } = render(Elections, { props });
    flushSync();
    expect(container.querySelectorAll('[data-testid="fault-band"]')).toHaveLength(0);
  });

  it('a window closed by its repair reopens when the repair is cut away', () => {
    const w = new FaultWindows();
    const base = { seq: 0, t: 0 };
    w.ingest({ ...base, seq: 1, t: 10, kind: 'node.crash', node: 'r1', lostWrites: 0 });
    w.ingest({ ...base, seq: 2, t: 20, kind: 'node.boot', node: 'r1', incarnation: 1, recovered: true });
    expect(w.list[0]).toMatchObject({ end: 20, endSeq: 2 });
    w.truncate(2);
    expect(w.list[0]).toMatchObject({ end: null, endSeq: -1 });
  });
});

describe('Storybook states of the whole lab', () => {
  it('the DLQ-filling moment has dead-lettered messages, and its charts show them', () => {
    const s = labMomentSnapshot('dlqFilling');
    expect(s.scenario.id).toBe(LAB_MOMENTS.dlqFilling.scenario);
    expect(Number(s.metrics.deadLettered)).toBeGreaterThanOrEqual(2);
    const { DlqFilling } = composeStories(chartsStories);
    const { container } = renderStory(DlqFilling);
    expect(container.textContent).toContain('dead-lettered');
  });

  it('the broken-run moment has a red checker; the election moment has a candidate and no leader yet', () => {
    expect(labMomentSnapshot('doubleVote').checkers.some((c) => c.violations > 0)).toBe(true);
    const election = labMomentLab('electionInProgress').snapshot();
    expect(election.nodes.map((n) => n.headline.role)).toContain('candidate');
    expect(election.nodes.map((n) => n.headline.role)).not.toContain('leader');
  });
});
