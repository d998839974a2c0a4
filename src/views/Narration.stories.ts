import type { Meta, StoryObj } from '@storybook/svelte';
import Narration from './Narration.svelte';
import { snapshotAt } from './fixtures.ts';

/** The scenario's narration, with the steps the run has reached highlighted. */
const meta = {
  title: 'Views/Narration',
  component: Narration,
  args: { narration: snapshotAt('coldStart').narration, scenario: snapshotAt('coldStart').scenario },
  parameters: { controls: { exclude: ['narration', 'scenario'] } },
} satisfies Meta<typeof Narration>;

export default meta;
type Story = StoryObj<typeof meta>;

export const ColdStart: Story = {};
export const Partition: Story = { args: { narration: snapshotAt('partition').narration } };
export const EndOfRun: Story = { args: { narration: snapshotAt('end').narration } };
