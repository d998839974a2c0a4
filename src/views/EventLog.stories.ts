import type { Meta, StoryObj } from '@storybook/svelte';
import EventLog from './EventLog.svelte';
import { portAt, snapshotAt } from './fixtures.ts';

/** The event log over a real Lab (on this thread) at fixed moments; filters fetch pages with `events()`. */
const meta = {
  title: 'Views/EventLog',
  component: EventLog,
  args: {
    port: portAt('partition'),
    eventCount: snapshotAt('partition').eventCount,
    traceHash: snapshotAt('partition').traceHash,
    nodes: snapshotAt('partition').nodes.map((n) => n.id),
  },
  parameters: { controls: { exclude: ['port', 'traceHash'] } },
} satisfies Meta<typeof EventLog>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Partition: Story = {};
export const ColdStart: Story = {
  args: { port: portAt('coldStart'), eventCount: snapshotAt('coldStart').eventCount, traceHash: snapshotAt('coldStart').traceHash },
};
export const EndOfRun: Story = {
  args: { port: portAt('end'), eventCount: snapshotAt('end').eventCount, traceHash: snapshotAt('end').traceHash },
};
