import type { Meta, StoryObj } from '@storybook/svelte';
import Inspector from './Inspector.svelte';
import { snapshotAt } from './fixtures.ts';

function node(moment: Parameters<typeof snapshotAt>[0], id: string) {
  const n = snapshotAt(moment).nodes.find((x) => x.id === id);
  if (!n) throw new Error(`fixture has no node ${id}`);
  return n;
}

/** The node inspector: memory, disk (synced keys, pending writes) and timers of one node. */
const meta = {
  title: 'Views/Inspector',
  component: Inspector,
  args: { node: null },
  parameters: { controls: { exclude: ['node'] } },
} satisfies Meta<typeof Inspector>;

export default meta;
type Story = StoryObj<typeof meta>;

export const NothingSelected: Story = {};
/** n1 during the partition: it suspects the isolated n5. */
export const RunningNode: Story = { args: { node: node('partition', 'n1') } };
/** n2 after its power cut: no memory, no timers, the synced disk kept. */
export const CrashedNode: Story = { args: { node: node('crashed', 'n2') } };
/** n2 at the end of the run: restarted with epoch 2 read back from disk. */
export const Recovered: Story = { args: { node: node('end', 'n2') } };
