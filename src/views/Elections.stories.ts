import type { Meta, StoryObj } from '@storybook/svelte';
import Elections from './Elections.svelte';
import { raftSnapshotAt, raftTraceAt } from './fixtures.ts';

/** The elections timeline at fixed moments of the Raft scenarios (seed "1"), from the trace up to that moment. */
const meta = {
  title: 'Raft/Elections',
  component: Elections,
  args: { snapshot: raftSnapshotAt('steady'), trace: raftTraceAt('steady'), zoom: 'run' },
  parameters: { controls: { exclude: ['snapshot', 'trace'] } },
} satisfies Meta<typeof Elections>;

export default meta;
type Story = StoryObj<typeof meta>;

/** r1's timer fired first; r2 and r3 granted their votes (zoomed to 20 ms to see them). */
export const ColdStartElection: Story = { args: { snapshot: raftSnapshotAt('coldStart'), trace: raftTraceAt('coldStart'), zoom: '20ms' } };

/** r1 leads term 1 with heartbeats every 50 ms; the followers' election timers keep being reset. */
export const SteadyState: Story = {};

/** r5 led term 1 until it crashed at 2 s; r1 won term 2. */
export const LeaderCrashed: Story = { args: { snapshot: raftSnapshotAt('leaderCrashed'), trace: raftTraceAt('leaderCrashed') } };

/** The same failover, zoomed to 500 ms around the cursor: the silence, the campaign and the votes. */
export const Failover: Story = { args: { snapshot: raftSnapshotAt('leaderCrashed'), trace: raftTraceAt('leaderCrashed'), zoom: '500ms' } };

/** A follower down from 1 s to 3 s: no election, because the leader kept a majority. */
export const LaggingFollower: Story = { args: { snapshot: raftSnapshotAt('lagging'), trace: raftTraceAt('lagging') } };

/** Two leaders at once, in different terms: r5 (term 1, minority) and r3 (term 2, majority). */
export const StaleLeaderPartition: Story = { args: { snapshot: raftSnapshotAt('stalePartition'), trace: raftTraceAt('stalePartition') } };
