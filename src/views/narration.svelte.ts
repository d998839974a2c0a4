import { judgeAnswer, type NarrationState } from '../sim/expect.ts';
import type { Snapshot } from '../sim/lab.ts';
import type { LabSession } from './session.svelte.ts';

/**
 * The view-model of guided narration: which step is current, where Next and Back go, the guided-mode toggle, and the
 * learner's answers to the steps' questions. Moving the run is the Lab's job (`step({ narration })`,
 * `step({ reveal })`); this class only decides which call to make and remembers what the learner predicted.
 *
 * Ordering duty: steps may be listed out of time order (an event anchor can fire before an earlier-listed time
 * anchor), so "current" and "back" follow the times the run reached them, ties broken by list order.
 */

/** The step to read now: the latest reached (by time, then by list order); -1 before any is reached. */
export function currentStep(steps: readonly NarrationState[]): number {
  let best = -1;
  steps.forEach((s, i) => {
    if (s.reachedAt !== null && (best < 0 || s.reachedAt >= (steps[best].reachedAt ?? 0))) best = i;
  });
  return best;
}

/** Back's target: the reached step just before the current one in (time, list order); null when there is none. */
export function previousStep(steps: readonly NarrationState[]): number | null {
  const order = steps
    .map((s, i) => ({ t: s.reachedAt, i }))
    .filter((s): s is { t: number; i: number } => s.t !== null)
    .sort((a, b) => a.t - b.t || a.i - b.i);
  return order.length >= 2 ? order[order.length - 2].i : null;
}

/** Whether Next has somewhere to go: a step not reached yet, in a run that is not over. */
export function hasNextStep(steps: readonly NarrationState[], done: boolean): boolean {
  return !done && steps.some((s) => s.reachedAt === null);
}

export type Verdict = 'right' | 'wrong' | 'unanswered';

/** A run's identity for the learner's answers: another scenario or seed starts with none. */
function runId(s: Snapshot | null): string {
  return s ? `${s.scenario.id}\u0000${s.seed}` : '';
}

export class NarrationGuide {
  /** Guided mode: playing pauses at each step's anchor. On by default; the Lab is told at construction. */
  guided = $state(true);
  /** The step whose answer is being revealed (the Lab is running to its reveal point), or null. */
  revealing = $state<number | null>(null);
  /** Answers by run and step index (`runId␀index`), so a reload of the same run keeps them. */
  private answers = $state<Record<string, string>>({});

  /** The run's steps, from the session's snapshot (the panel renders the same array). */
  readonly steps: NarrationState[];
  /** Whether the run is over (Next has nowhere to go). */
  readonly done: boolean;

  constructor(readonly session: LabSession) {
    this.steps = $derived(this.session.snapshot?.narration ?? []);
    this.done = $derived(this.session.snapshot?.done ?? true);
    void this.sendGuided();
  }

  private async sendGuided(): Promise<void> {
    try {
      await this.session.port.setGuided(this.guided);
    } catch (e) {
      this.session.error = `guided mode: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  async setGuided(on: boolean): Promise<void> {
    this.guided = on;
    await this.sendGuided();
  }

  /** Runs to the next step's anchor: its time, or just after the event it waits for. Nothing when none is left. */
  async next(): Promise<void> {
    if (hasNextStep(this.steps, this.done)) await this.session.step({ narration: 'next' });
  }

  /** Puts the run back at the previous step's anchor. Nothing at the first step. */
  async back(): Promise<void> {
    const j = previousStep(this.steps);
    if (j !== null) await this.session.step({ narration: j });
  }

  /** Puts the run at step `i`'s anchor, forward or back. */
  goTo(i: number): Promise<void> {
    return this.session.step({ narration: i });
  }

  private key(i: number): string {
    return `${runId(this.session.snapshot)}\u0000${i}`;
  }

  answerOf(i: number): string {
    return this.answers[this.key(i)] ?? '';
  }

  setAnswer(i: number, value: string): void {
    if (this.steps[i]?.reveal) return; // locked once revealed: the verdict must stay honest
    this.answers = { ...this.answers, [this.key(i)]: value };
  }

  /** Runs the simulation to step `i`'s reveal point; the Lab records the answer in the snapshot. */
  async reveal(i: number): Promise<void> {
    if (this.revealing !== null) return;
    this.revealing = i;
    try {
      await this.session.step({ reveal: i });
    } finally {
      this.revealing = null;
    }
  }

  /** Right or wrong once revealed; null before. */
  verdict(i: number): Verdict | null {
    const s = this.steps[i];
    if (!s?.ask || !s.reveal) return null;
    const given = this.answerOf(i);
    if (given === '') return 'unanswered';
    return judgeAnswer(s.ask, given, s.reveal) ? 'right' : 'wrong';
  }
}
