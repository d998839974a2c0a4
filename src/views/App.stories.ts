import type { Meta, StoryObj } from '@storybook/svelte';
import { Lab } from '../sim/lab.ts';
import App from './App.svelte';
import { FIXTURE_SEED, LAB_MOMENTS, type LabMoment } from './fixtures.ts';
import { localPort } from './port.ts';

/**
 * The whole lab on a Lab running on this thread (no worker), loading ping-pong with the fixture seed. The URL hash is
 * left alone: Storybook owns the page's address. The other stories open a scenario at one of the fixed moments of
 * `LAB_MOMENTS` (a fresh Lab each, so they never share a run).
 */
const meta = {
  title: 'App/Lab',
  component: App,
  args: { port: localPort(new Lab()), syncHash: false, initial: { scenario: 'ping-pong', seed: FIXTURE_SEED } },
  parameters: { layout: 'fullscreen', controls: { exclude: ['port', 'initial'] } },
} satisfies Meta<typeof App>;

export default meta;
type Story = StoryObj<typeof meta>;

function at(moment: LabMoment): Story {
  const m = LAB_MOMENTS[moment];
  return { args: { port: localPort(new Lab()), initial: { scenario: m.scenario, seed: m.seed, t: m.t } } };
}

export const ColdStart: Story = {};

/** A Raft run: the replica logs, elections and space-time panels appear below the topology. */
export const RaftLeaderCrash: Story = { args: { port: localPort(new Lab()), initial: { scenario: 'raft-leader-crash', seed: '1' } } };

/** raft-cold-start at 200.5 ms: r1 campaigns for term 1 and its votes are on the way back. */
export const ElectionInProgress: Story = at('electionInProgress');

/** raft-minority-partition at 2.5 s: a cut-off leader in term 1 and a majority leader in term 2. */
export const Partition: Story = at('partition');

/** raft-follower-catchup at 3.2 s: r2 has its log back, but its applier trails far behind the commit index. */
export const LaggingFollower: Story = at('laggingFollower');

/** mq-poison-dlq at 2.3 s: poison messages retried three times each and moved to the dead-letter queue. */
export const DlqFilling: Story = at('dlqFilling');

/** raft-vote-persistence-bug at 300 ms: two leaders in term 1; the red checker links to its evidence. */
export const BrokenInvariant: Story = at('doubleVote');
