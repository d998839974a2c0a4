import type { Meta, StoryObj } from '@storybook/svelte';
import SpaceTime from './SpaceTime.svelte';
import { raftPortAt, raftSnapshotAt, raftTraceAt } from './fixtures.ts';

/** The space-time diagram of the replicas' messages around fixed moments of the Raft scenarios (seed "1"). */
const meta = {
  title: 'Raft/SpaceTime',
  component: SpaceTime,
  args: { snapshot: raftSnapshotAt('steady'), trace: raftTraceAt('steady'), port: null, window: '20ms', selected: null },
  parameters: { controls: { exclude: ['snapshot', 'trace', 'port'] } },
} satisfies Meta<typeof SpaceTime>;

export default meta;
type Story = StoryObj<typeof meta>;

/** RequestVote from r1 and the grants coming back. */
export const ColdStartElection: Story = { args: { snapshot: raftSnapshotAt('coldStart'), trace: raftTraceAt('coldStart'), window: '5ms' } };

/** AppendEntries to each follower and their replies, two writes in 20 ms. */
export const SteadyState: Story = {};

/** r1's campaign after the crash: votes to r5 are dropped (it is down); r1 then sends its first AppendEntries. */
export const LeaderCrashed: Story = { args: { snapshot: raftSnapshotAt('leaderCrashed'), trace: raftTraceAt('leaderCrashed'), port: raftPortAt('leaderCrashed') } };

/** The restarted r2 being caught up. */
export const LaggingFollower: Story = { args: { snapshot: raftSnapshotAt('lagging'), trace: raftTraceAt('lagging'), window: '50ms' } };

/** The stale leader r5's AppendEntries to the majority side are dropped at the partition. */
export const StaleLeaderPartition: Story = { args: { snapshot: raftSnapshotAt('stalePartition'), trace: raftTraceAt('stalePartition') } };

/** A whole second around the failover: over 500 arrows, so it is drawn on a canvas. */
export const DenseCanvas: Story = { args: { snapshot: raftSnapshotAt('leaderCrashed'), trace: raftTraceAt('leaderCrashed'), window: '1s' } };
