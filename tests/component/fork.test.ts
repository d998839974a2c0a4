/**
 * The what-if compare view in jsdom, on Labs running on this thread: from finished, seeded comparisons it shows the
 * ledger with the differing rows highlighted and their change (lost 0 → N), the checkers, both trace hashes, a chart
 * pair per chosen metric on shared scales, and per replica group the two leader timelines with the fork marked. It
 * shows a failing branch's error and leaves the main run alone; "Make B the main run" loads B into the session; its
 * keys never reach the main run's shortcuts. Also the app: the fault panel's "What if…" opens it on the current run.
 */
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { Lab } from '../../src/sim/lab.ts';
import App from '../../src/views/App.svelte';
import Fork from '../../src/views/Fork.svelte';
import { ForkModel, type Spawn } from '../../src/views/fork.svelte.ts';
import { localPort } from '../../src/views/port.ts';
import { LabSession } from '../../src/views/session.svelte.ts';

const spawn: Spawn = () => ({ port: localPort(new Lab()), terminate: () => {} });

function mainRun(scenario: string, seed: string, t: number) {
  const lab = new Lab();
  lab.load(scenario, { seed });
  const origin = lab.seek(t);
  return { lab, origin, session: new LabSession(localPort(lab), { snapshot: origin }) };
}

async function acksFork() {
  const main = mainRun('mq-acks-quorum', 'acks', 500_000);
  const model = new ForkModel(main.origin, spawn);
  model.mode = 'setting';
  model.settingKind = 'mq-producer';
  model.settingField = 'acks';
  model.settingValue = 'leader';
  await model.run();
  return { main, model };
}

async function crashFork() {
  const main = mainRun('raft-cold-start', '1', 1_000_000);
  const model = new ForkModel(main.origin, spawn);
  const leader = model.leadersAtFork[0];
  model.chooseFault({ kind: 'crash', node: leader });
  await model.run();
  return { main, model, leader };
}

describe('Fork view', { timeout: 30_000 }, () => {
  it('shows the ledger diff, the checkers, both hashes and a chart pair per chosen metric', async () => {
    const { main, model } = await acksFork();
    render(Fork, { props: { model, session: main.session, onclose: () => {} } });
    const fork = screen.getByTestId('fork');
    expect(fork.dataset.status).toBe('done');
    expect(screen.getByTestId('fork-change').textContent).toBe('mq-producer.acks = "leader", from 0');
    expect(screen.getByTestId('fork-hash-a').textContent).not.toBe(screen.getByTestId('fork-hash-b').textContent);
    expect(screen.getByTestId('fork-verdict').textContent).toContain('different traces');

    const lost = screen.getByTestId('fork-ledger').querySelector<HTMLElement>('[data-key="lost"]')!;
    const b = model.ledger.find((r) => r.key === 'lost')!.b!;
    expect(b).toBeGreaterThan(0);
    expect(lost.classList.contains('differs')).toBe(true);
    expect(within(lost).getByTestId('ledger-change').textContent).toBe(`0 → ${b} (+${b})`);
    const produced = screen.getByTestId('fork-ledger').querySelector<HTMLElement>('[data-key="produced"]')!;
    expect(produced.classList.contains('differs')).toBe(false);
    expect(within(produced).getByTestId('ledger-change').textContent).toBe('=');

    const ledgerChecker = screen.getByTestId('fork-checkers').querySelector('[data-checker="mq.ledger"]')!;
    expect(ledgerChecker.textContent).toContain('✓ holds');

    const charts = screen.getAllByTestId('fork-chart');
    expect(charts.map((c) => c.dataset.key)).toEqual(model.chosen);
    const lostChart = charts.find((c) => c.dataset.key === 'lost')!;
    expect(lostChart.dataset.differs).toBe('true');
    const [pa, pb] = within(lostChart).getAllByTestId('fork-line');
    expect(pa.getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+L/);
    expect(pb.getAttribute('d')).not.toBe(pa.getAttribute('d'));
    // Shared scales: the same y ticks in A's and B's panel, and B's panel draws A dashed behind its own line.
    const ticks = (side: string) => [...within(lostChart).getByTestId(`fork-chart-${side}`).querySelectorAll('.ytick')].map((t) => t.textContent);
    expect(ticks('A')).toEqual(ticks('B'));
    expect(within(lostChart).getByTestId('fork-chart-B').querySelector('.ghost')!.getAttribute('d')).toBe(pa.getAttribute('d'));

    // One leader timeline per replica group (the partition orders-0), both runs on one axis with the fork marked.
    const [tl] = screen.getAllByTestId('fork-timeline');
    expect(tl.dataset.group).toBe('orders-0');
    // The same replicas lead the same terms; the failover just completes at a slightly different moment in B.
    expect(tl.dataset.same).toBe('true');
    expect(within(tl).getByTestId('fork-leaders-verdict').textContent).toBe('same leaders, other times');
    expect(tl.querySelectorAll('.fork-mark')).toHaveLength(1);
  });

  it('shows the two leader timelines differing after a leader crash in B', async () => {
    const { main, model, leader } = await crashFork();
    render(Fork, { props: { model, session: main.session, onclose: () => {} } });
    const [tl] = screen.getAllByTestId('fork-timeline');
    expect(tl.dataset.same).toBe('false');
    expect(tl.textContent).toContain('leaders differ');
    const leaders = (side: string) => [...within(tl).getByTestId(`fork-timeline-${side}`).querySelectorAll<SVGElement>('[data-testid="fork-leader"]')].map((g) => `${g.dataset.node}:${g.dataset.term}`);
    expect(leaders('A')).toEqual([`${leader}:1`]);
    expect(leaders('B')[0]).toBe(`${leader}:1`);
    expect(leaders('B').slice(1).some((l) => l.endsWith(':2') && !l.startsWith(`${leader}:`))).toBe(true);
    expect(within(within(tl).getByTestId('fork-timeline-B')).getAllByTestId('fork-crash')).toHaveLength(1);
    expect(within(tl).getByTestId('fork-timeline-A').querySelectorAll('[data-testid="fork-crash"]')).toHaveLength(0);
    // The fork line sits at 1 s on the shared axis, between A's and B's leader bands.
    const forkX = Number(tl.querySelector('.fork-mark line')!.getAttribute('x1'));
    expect(forkX).toBeCloseTo(model.timelineX(1_000_000), 1);
    const leaderRow = screen.getByTestId('fork-ledger').querySelector('[data-key="leaderChanges"]')!;
    expect(leaderRow.textContent).toContain('1 → 2 (+1)');
  });

  it('a failing branch shows its error, no results, and leaves the main run alone', async () => {
    const main = mainRun('raft-cold-start', '1', 1_000_000);
    const before = main.session.snapshot;
    const model = new ForkModel(main.origin, spawn);
    render(Fork, { props: { model, session: main.session, onclose: () => {} } });
    await fireEvent.click(screen.getByTestId('fork-mode-setting'));
    expect(screen.getByTestId('fork-from-start').textContent).toContain('B re-runs from 0');
    await fireEvent.change(screen.getByTestId('fork-setting-kind'), { target: { value: 'raft' } });
    await fireEvent.input(screen.getByTestId('fork-setting-field'), { target: { value: 'electionMin' } });
    await fireEvent.input(screen.getByTestId('fork-setting-value'), { target: { value: '10' } });
    expect(screen.getByTestId('fork-pending').textContent).toContain('raft has no config field "electionMin"');
    expect((screen.getByTestId('fork-run') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(screen.getByTestId('fork-setting-field'), { target: { value: 'electionMinMs' } });
    expect(screen.getByTestId('fork-pending').textContent).toBe('B: raft.electionMinMs = 10, from 0');
    await fireEvent.click(screen.getByTestId('fork-run'));
    await waitFor(() => expect(screen.getByTestId('fork').dataset.status).toBe('failed'));
    expect(screen.getByTestId('fork-error').textContent).toMatch(/^B \(the branch\) failed: settings: a node refused its config: raft: .* The main run is unchanged\.$/);
    expect(screen.queryByTestId('fork-results')).toBeNull();
    expect(screen.queryByTestId('fork-promote')).toBeNull();
    expect(main.session.snapshot).toBe(before);
    expect(main.lab.snapshot().traceHash).toBe(before!.traceHash);
  });

  it('Make B the main run loads B into the session at the fork and closes', async () => {
    const { main, model } = await crashFork();
    const onclose = vi.fn();
    render(Fork, { props: { model, session: main.session, onclose } });
    await fireEvent.click(screen.getByTestId('fork-promote'));
    await waitFor(() => expect(onclose).toHaveBeenCalledTimes(1));
    expect(main.session.snapshot!.t).toBe(1_000_000);
    expect(main.session.snapshot!.actions).toEqual(model.finalB!.actions);
    await main.session.runToEnd();
    expect(main.session.snapshot!.traceHash).toBe(model.finalB!.traceHash);
  });

  it('keeps its keys from the main run’s shortcuts, and Escape closes it', async () => {
    const main = mainRun('raft-cold-start', '1', 1_000_000);
    const model = new ForkModel(main.origin, spawn);
    const onclose = vi.fn();
    const seen: string[] = [];
    const listener = (e: KeyboardEvent) => seen.push(e.key);
    window.addEventListener('keydown', listener);
    try {
      render(Fork, { props: { model, session: main.session, onclose } });
      const dialog = screen.getByTestId('fork');
      expect(document.activeElement).toBe(dialog);
      await fireEvent.keyDown(dialog, { key: ' ' });
      await fireEvent.keyDown(dialog, { key: 'ArrowLeft' });
      expect(seen).toEqual([]);
      await fireEvent.keyDown(dialog, { key: 'Escape' });
      expect(onclose).toHaveBeenCalledTimes(1);
    } finally {
      window.removeEventListener('keydown', listener);
    }
  });
});

describe('What if… in the app', () => {
  it('opens on the current run; a crash picked in its fault panel runs against the main run', async () => {
    render(App, { props: { port: localPort(new Lab()), syncHash: false, initial: { scenario: 'raft-cold-start', seed: '1', t: 1_000_000 }, spawn } });
    await waitFor(() => expect(screen.getByTestId('time').textContent).toBe('1.000s'));
    const hash = screen.getByTestId('trace-hash').textContent;
    await fireEvent.click(screen.getByTestId('what-if'));
    const fork = await screen.findByTestId('fork');
    expect(fork.textContent).toContain('at 1.000s');
    // Its own fault panel targets the leader at the fork; a click picks the crash for B (nothing is injected yet).
    const panel = within(fork).getByTestId('fault-panel');
    await fireEvent.click(within(panel).getByTestId('fault-crash'));
    expect(within(fork).getByTestId('fork-pending').textContent).toMatch(/^B: crashed r\d at 1\.000s$/);
    expect(within(panel).queryByTestId('what-if')).toBeNull();
    await fireEvent.click(within(fork).getByTestId('fork-run'));
    await waitFor(() => expect(fork.dataset.status).toBe('done'), { timeout: 20_000 });
    expect(within(fork).getByTestId('fork-timeline').dataset.same).toBe('false');
    // The main run is where it was.
    expect(screen.getByTestId('trace-hash').textContent).toBe(hash);
    await fireEvent.click(within(fork).getByLabelText('Close the comparison'));
    expect(screen.queryByTestId('fork')).toBeNull();
  }, 30_000);
});
