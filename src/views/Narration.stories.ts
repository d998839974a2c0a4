import type { Meta, StoryObj } from '@storybook/svelte';
import { Lab, type Snapshot } from '../sim/lab.ts';
import Narration from './Narration.svelte';
import { snapshotAt } from './fixtures.ts';
import { NarrationGuide } from './narration.svelte.ts';
import { localPort } from './port.ts';
import { LabSession } from './session.svelte.ts';

/**
 * The scenario's narration, with the steps the run has reached highlighted; the guided stories add Next / Back, the
 * guided toggle, the current step's interview sentence and term, and a question before and after its reveal — all
 * from a real run of raft-cold-start (seed "1"), where r1 wins the first election.
 */
const meta = {
  title: 'Views/Narration',
  component: Narration,
  args: { narration: snapshotAt('coldStart').narration, scenario: snapshotAt('coldStart').scenario },
  parameters: { controls: { exclude: ['narration', 'scenario', 'guide'] } },
} satisfies Meta<typeof Narration>;

export default meta;
type Story = StoryObj<typeof meta>;

export const ColdStart: Story = {};
export const Partition: Story = { args: { narration: snapshotAt('partition').narration } };
export const EndOfRun: Story = { args: { narration: snapshotAt('end').narration } };

const GUIDED_SCENARIO = 'raft-cold-start';
const GUIDED_SEED = '1';

/** A fresh Lab on the guided scenario, moved by `setup`. */
function guidedLab(setup: (lab: Lab) => void = () => {}): Lab {
  const lab = new Lab();
  lab.load(GUIDED_SCENARIO, { seed: GUIDED_SEED });
  setup(lab);
  return lab;
}

/**
 * Args for a guided panel over a fresh Lab: the learner answers step 0's question with `answer` (given the revealed
 * snapshot of another run of the same seed, so a story can be right or wrong on purpose), then `setup` moves the run.
 * The panel stays live: Next, Back and Reveal move the Lab behind it.
 */
function guidedArgs(setup: (lab: Lab) => void = () => {}, answer?: (revealed: Snapshot) => string) {
  const lab = guidedLab();
  const session = new LabSession(localPort(lab), { snapshot: lab.snapshot() });
  const guide = new NarrationGuide(session);
  if (answer) guide.setAnswer(0, answer(guidedLab((l) => void l.step({ reveal: 0 })).snapshot()));
  setup(lab);
  session.snapshot = lab.snapshot();
  return { narration: session.snapshot.narration, scenario: session.snapshot.scenario, guide };
}

const winner = (s: Snapshot) => String(s.narration[0].reveal?.value);
const loser = (s: Snapshot) => s.narration[0].ask!.choices.find((c) => c !== winner(s))!;

/** Start of the run: step 1 is current, its question is posed, nothing answered yet. */
export const GuidedStart: Story = { args: guidedArgs() };
/** The learner picked r2 and can reveal. */
export const GuidedAnswered: Story = { args: guidedArgs(() => {}, () => 'r2') };
/** Next once: the candidate's step is current, with its interview sentence and term. */
export const GuidedMidway: Story = { args: guidedArgs((lab) => void lab.step({ narration: 'next' })) };
/** Revealed, and the prediction was right. */
export const RevealedRight: Story = { args: guidedArgs((lab) => void lab.step({ reveal: 0 }), winner) };
/** Revealed, and the prediction was wrong. */
export const RevealedWrong: Story = { args: guidedArgs((lab) => void lab.step({ reveal: 0 }), loser) };
