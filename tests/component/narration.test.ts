/**
 * The guided narration panel over a real Lab on this thread (raft-cold-start, seed "1"): Next and Back move the run
 * and the current step; a question takes an answer, Reveal runs to the event that answers it and shows right or
 * wrong with the actual replica and an evidence link; the guided toggle reaches the Lab; and narration, interview
 * sentences, terms and questions that contain markup are shown as text, never parsed as HTML.
 */
import { composeStories } from '@storybook/svelte';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { SCENARIOS } from '../../src/scenarios/index.ts';
import { Lab } from '../../src/sim/lab.ts';
import Narration from '../../src/views/Narration.svelte';
import * as stories from '../../src/views/Narration.stories.ts';
import { NarrationGuide, currentStep, previousStep } from '../../src/views/narration.svelte.ts';
import { localPort, type LabPort } from '../../src/views/port.ts';
import { LabSession } from '../../src/views/session.svelte.ts';
import { renderStory } from './render.ts';

const { GuidedStart, GuidedMidway, RevealedRight, RevealedWrong, ColdStart } = composeStories(stories);

/** The replica that wins raft-cold-start's first election with seed "1", computed by a Lab in this test. */
function winner(): string {
  const lab = new Lab();
  lab.load('raft-cold-start', { seed: '1' });
  lab.runToEnd();
  const [e] = lab.events(0, 1, { kinds: ['node.state'], text: '"value":"leader"' });
  return e.kind === 'node.state' ? e.node : '';
}

function guided(scenario: unknown = 'raft-cold-start', port?: (lab: Lab) => LabPort) {
  const lab = new Lab();
  lab.load(scenario, { seed: '1' });
  const session = new LabSession(port ? port(lab) : localPort(lab), { snapshot: lab.snapshot() });
  const guide = new NarrationGuide(session);
  const onshowevent = vi.fn();
  const view = render(Narration, { props: { narration: session.snapshot!.narration, scenario: session.snapshot!.scenario, guide, onshowevent } });
  return { lab, session, guide, onshowevent, view };
}

const progress = () => screen.getByTestId('narration-progress').textContent?.replace(/\s+/g, ' ').trim() ?? '';
const reached = () => screen.getAllByTestId('narration-step').map((s) => (s.dataset.reached === 'true' ? 1 : 0)).join('');

describe('guided narration: Next and Back', () => {
  it('Next runs to the next anchor and makes it current; Back returns to the previous one', async () => {
    renderStory(GuidedStart);
    expect(progress()).toMatch(/^Step 1 of 5/);
    expect(reached()).toBe('10000');
    expect((screen.getByTestId('narration-back') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(screen.getByTestId('narration-next'));
    await waitFor(() => expect(reached()).toBe('11000'));
    expect(progress()).toMatch(/^Step 2 of 5/);
    // The current step shows its interview sentence and its term.
    expect(screen.getByTestId('narration-say').textContent).toContain('A candidate bumps the term');
    expect(screen.getByTestId('narration-term').textContent).toContain('Term');
    await fireEvent.click(screen.getByTestId('narration-next'));
    await waitFor(() => expect(reached()).toBe('11100'));
    await fireEvent.click(screen.getByTestId('narration-back'));
    await waitFor(() => expect(reached()).toBe('11000'));
    expect(progress()).toMatch(/^Step 2 of 5/);
  });

  it('Next is off once every step is reached', () => {
    const lab = new Lab();
    lab.load('raft-cold-start', { seed: '1' });
    const session = new LabSession(localPort(lab), { snapshot: lab.seek(1_000_000) });
    render(Narration, { props: { narration: [], scenario: null, guide: new NarrationGuide(session) } });
    expect(reached()).toBe('11111');
    expect((screen.getByTestId('narration-next') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('narration-back') as HTMLButtonElement).disabled).toBe(false);
  });

  it('a panel without a guide only reads: no Next, Back or questions', () => {
    renderStory(ColdStart);
    expect(screen.queryByTestId('narration-guide')).toBeNull();
    expect(screen.queryByTestId('ask')).toBeNull();
  });

  it('current and previous steps follow reach times, not list order', () => {
    const s = (reachedAt: number | null) => ({ text: '', reachedAt, reachedSeq: null });
    expect(currentStep([s(5), s(2), s(null)])).toBe(0);
    expect(previousStep([s(5), s(2), s(null)])).toBe(1);
    expect(currentStep([s(null)])).toBe(-1);
    expect(previousStep([s(3)])).toBeNull();
  });
});

describe('predict, then reveal', () => {
  it('Reveal waits for an answer, then runs to the answering event: a right prediction', async () => {
    const { onshowevent, session } = guided();
    const reveal = screen.getByTestId('ask-reveal') as HTMLButtonElement;
    expect(reveal.disabled).toBe(true);
    const win = winner();
    const choice = screen.getAllByTestId('ask-choice').find((c) => (c as HTMLInputElement).value === win)!;
    await fireEvent.click(choice);
    expect(reveal.disabled).toBe(false);
    await fireEvent.click(reveal);
    await waitFor(() => expect(screen.getByTestId('ask-verdict').dataset.verdict).toBe('right'));
    expect(screen.getByTestId('ask-actual').textContent).toBe(win);
    expect(screen.getByTestId('ask-verdict').textContent).toContain('✓ Right');
    // The run stands at the answering event, which the evidence link opens in the log.
    const seq = session.snapshot!.narration[0].reveal!.evidenceSeq!;
    expect(session.snapshot!.t).toBe(session.snapshot!.narration[0].reveal!.t);
    await fireEvent.click(screen.getByTestId('ask-evidence'));
    expect(onshowevent).toHaveBeenCalledWith(seq);
    // Answers lock once revealed.
    expect(screen.getAllByTestId('ask-choice').every((c) => (c as HTMLInputElement).disabled)).toBe(true);
  });

  it('a wrong prediction says so and still shows the actual answer and why', async () => {
    guided();
    const win = winner();
    const other = screen.getAllByTestId('ask-choice').find((c) => (c as HTMLInputElement).value !== win)!;
    await fireEvent.click(other);
    await fireEvent.click(screen.getByTestId('ask-reveal'));
    await waitFor(() => expect(screen.getByTestId('ask-verdict').dataset.verdict).toBe('wrong'));
    expect(screen.getByTestId('ask-actual').textContent).toBe(win);
    expect(screen.getByTestId('ask').textContent).toContain('random timer fires first');
  });

  it('a number question takes a typed answer and judges it within its tolerance', async () => {
    guided('mq-exactly-once');
    await fireEvent.click(screen.getByTestId('narration-next')); // to 1 s, where the question is posed
    const input = (await screen.findByTestId('ask-number')) as HTMLInputElement;
    await fireEvent.input(input, { target: { value: '0' } });
    await fireEvent.click(screen.getByTestId('ask-reveal'));
    await waitFor(() => expect(screen.getByTestId('ask-verdict').dataset.verdict).toBe('right'), { timeout: 10_000 });
    expect(screen.getByTestId('ask-actual').textContent).toBe('0');
  });

  it('the revealed stories show both verdicts', () => {
    renderStory(RevealedRight);
    expect(screen.getByTestId('ask-verdict').dataset.verdict).toBe('right');
    document.body.innerHTML = '';
    renderStory(RevealedWrong);
    expect(screen.getByTestId('ask-verdict').dataset.verdict).toBe('wrong');
  });

  it('the midway story shows the current step’s sentence and term', () => {
    renderStory(GuidedMidway);
    expect(screen.getByTestId('narration-say')).toBeTruthy();
    expect(screen.getByTestId('narration-term')).toBeTruthy();
  });
});

describe('guided mode toggle', () => {
  it('is on by default and tells the Lab when it changes', async () => {
    const calls: boolean[] = [];
    guided('raft-cold-start', (lab) => ({ ...localPort(lab), setGuided: async (on: boolean) => void calls.push(on) }));
    const box = screen.getByTestId('narration-guided') as HTMLInputElement;
    expect(box.checked).toBe(true);
    await waitFor(() => expect(calls).toEqual([true]));
    await fireEvent.click(box);
    await waitFor(() => expect(calls).toEqual([true, false]));
  });
});

describe('narration is text, never HTML', () => {
  const HOSTILE = '<img src=x onerror=alert(1)>';
  const SCRIPT = '<script>window.hacked = 1</script>';

  it('text, say, term and questions with markup render literally', async () => {
    const s = structuredClone(SCENARIOS.find((x) => x.id === 'raft-cold-start')!) as any;
    s.title = `Title ${HOSTILE}`;
    s.narration = [
      {
        at: '0',
        text: `Step ${HOSTILE}`,
        say: `Say ${SCRIPT}`,
        term: { name: `Term ${HOSTILE}`, meaning: `Meaning ${SCRIPT}` },
        ask: { question: `Ask ${HOSTILE}`, answer: { from: 'checker' }, explain: `Why ${SCRIPT}` },
      },
    ];
    const { container } = guided(s).view;
    const text = container.textContent ?? '';
    for (const literal of [`Step ${HOSTILE}`, `Say ${SCRIPT}`, `Term ${HOSTILE}`, `Meaning ${SCRIPT}`, `Ask ${HOSTILE}`, `Title ${HOSTILE}`]) expect(text).toContain(literal);
    expect(container.querySelector('img, script')).toBeNull();
    await fireEvent.click(screen.getAllByTestId('ask-choice')[1]);
    await fireEvent.click(screen.getByTestId('ask-reveal'));
    await waitFor(() => expect(screen.getByTestId('ask-verdict')).toBeTruthy());
    expect(container.textContent).toContain(`Why ${SCRIPT}`);
    expect(container.querySelector('img, script')).toBeNull();
    expect((window as unknown as { hacked?: number }).hacked).toBeUndefined();
  });
});
