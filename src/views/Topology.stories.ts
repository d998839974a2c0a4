import type { Meta, StoryObj } from '@storybook/svelte';
import Topology from './Topology.svelte';
import { snapshotAt } from './fixtures.ts';

/** The topology at fixed moments of ping-pong with seed "story-1". */
const meta = {
  title: 'Views/Topology',
  component: Topology,
  args: { snapshot: snapshotAt('coldStart'), selected: null },
  parameters: { controls: { exclude: ['snapshot'] } },
} satisfies Meta<typeof Topology>;

export default meta;
type Story = StoryObj<typeof meta>;

export const ColdStart: Story = { args: { snapshot: snapshotAt('coldStart') } };
export const MessagesInFlight: Story = { args: { snapshot: snapshotAt('firstPings') } };
export const Partition: Story = { args: { snapshot: snapshotAt('partition') } };
export const CrashedNode: Story = { args: { snapshot: snapshotAt('crashed'), selected: 'n2' } };
export const EndOfRun: Story = { args: { snapshot: snapshotAt('end') } };
