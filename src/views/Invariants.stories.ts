import type { Meta, StoryObj } from '@storybook/svelte';
import Invariants from './Invariants.svelte';
import { labMomentSnapshot, snapshotAt } from './fixtures.ts';

/** Invariant checkers (after every event) and the scenario's expectations (pass / fail / pending). */
const meta = {
  title: 'Views/Invariants',
  component: Invariants,
  args: { checkers: snapshotAt('partition').checkers, expectations: snapshotAt('partition').expectations },
  parameters: { controls: { exclude: ['checkers', 'expectations', 'violations', 'onshowevent'] } },
} satisfies Meta<typeof Invariants>;

export default meta;
type Story = StoryObj<typeof meta>;

export const ColdStart: Story = { args: { checkers: snapshotAt('coldStart').checkers, expectations: snapshotAt('coldStart').expectations } };
export const MidRun: Story = {};
export const EndOfRun: Story = { args: { checkers: snapshotAt('end').checkers, expectations: snapshotAt('end').expectations } };
/** A hand-made broken state, so the red styles have a picture: one checker fired and one expectation failed. */
export const Violated: Story = {
  args: {
    checkers: snapshotAt('end').checkers.map((c, i) => (i === 2 ? { ...c, violations: 1, firstSeq: 4321 } : c)),
    expectations: snapshotAt('end').expectations.map((e, i) =>
      i === 0 ? { ...e, status: 'fail' as const, detail: 'ping.epochs-increase: n2 booted with epoch 1, but it already used epoch 1', evidenceSeq: 4321 } : e,
    ),
  },
};

/**
 * A real broken run (raft-vote-persistence-bug at 300 ms): Election Safety fired. The red checker names the first
 * violation and links to its event; in the app the link opens it in the event log.
 */
export const BrokenRun: Story = {
  args: {
    checkers: labMomentSnapshot('doubleVote').checkers,
    expectations: labMomentSnapshot('doubleVote').expectations,
    violations: labMomentSnapshot('doubleVote').violations,
    onshowevent: (_seq: number) => {},
  },
};
