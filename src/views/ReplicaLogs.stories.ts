import type { Meta, StoryObj } from '@storybook/svelte';
import ReplicaLogs from './ReplicaLogs.svelte';
import { raftPortAt, raftSnapshotAt } from './fixtures.ts';

/**
 * Replica logs at fixed moments of the Raft scenarios (seed "1"). The port lets the view page back through long logs
 * and read a crashed replica's disk; `explain` opens the "why isn't this committed?" card on one entry.
 */
const meta = {
  title: 'Raft/ReplicaLogs',
  component: ReplicaLogs,
  args: { snapshot: raftSnapshotAt('steady'), port: raftPortAt('steady'), explain: null },
  parameters: { controls: { exclude: ['snapshot', 'port'] } },
} satisfies Meta<typeof ReplicaLogs>;

export default meta;
type Story = StoryObj<typeof meta>;

/** raft-cold-start mid-election: no entries yet, r1 is a candidate. */
export const ColdStartElection: Story = { args: { snapshot: raftSnapshotAt('coldStart'), port: raftPortAt('coldStart') } };

/** raft-cold-start at 1 s: r1 leads term 1; followers' commit index trails the leader's by a round trip. */
export const SteadyState: Story = { args: { explain: { node: 'r2', index: raftSnapshotAt('steady').nodes[1].headline.last as number } } };

/** raft-leader-crash just after failover: r1's no-op (term 2) has not committed, so neither has entry 200 (term 1). */
export const LeaderCrashed: Story = {
  args: { snapshot: raftSnapshotAt('leaderCrashed'), port: raftPortAt('leaderCrashed'), explain: { node: 'r1', index: 200 } },
};

/** raft-follower-catchup at 3.2 s: r2 caught up its log, but its applier is far behind its commit index. */
export const LaggingFollower: Story = { args: { snapshot: raftSnapshotAt('lagging'), port: raftPortAt('lagging') } };

/** raft-minority-partition at 2.5 s: r5 still leads term 1 in a minority; its entries above 100 will be replaced. */
export const StaleLeaderPartition: Story = {
  args: { snapshot: raftSnapshotAt('stalePartition'), port: raftPortAt('stalePartition'), explain: { node: 'r5', index: 240 } },
};
