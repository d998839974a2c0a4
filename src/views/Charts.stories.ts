import type { Meta, StoryObj } from '@storybook/svelte';
import Charts from './Charts.svelte';
import { apmAutoscaleFixture, apmPercentilesFixture, mqFixture } from './charts-fixtures.ts';
import { chartsTraceOf, labMomentLab } from './fixtures.ts';

/**
 * The Charts panel from fixed data (src/views/charts-fixtures.ts): a message queue through a broker crash and a
 * partition, the dashboard's percentile query with the average-of-partials gap, the autoscaler reacting to lag, and
 * the empty start of a run.
 */
const meta = {
  title: 'Views/Charts',
  component: Charts,
  args: { snapshot: mqFixture(5_000_000).snapshot, trace: mqFixture(5_000_000).trace },
  parameters: { controls: { exclude: ['snapshot', 'trace'] } },
} satisfies Meta<typeof Charts>;

export default meta;
type Story = StoryObj<typeof meta>;

const crashed = mqFixture(2_200_000);
const end = mqFixture(5_000_000);
const start = mqFixture(0);
const percentiles = apmPercentilesFixture();
const autoscale = apmAutoscaleFixture();
const dlqLab = labMomentLab('dlqFilling');

/** 2.2 s: broker b2 is down (the shaded band is still open), orders-1's new leader b3 drains the backlog. */
export const MqLeaderCrash: Story = { args: { snapshot: crashed.snapshot, trace: crashed.trace } };

/** The whole run: the crash window closed at b2's restart, a partition of c1, and the final ledger. */
export const MqEndOfRun: Story = { args: { snapshot: end.snapshot, trace: end.trace } };

/** The dashboard's percentile query: merged p99 (solid) far above the average of the partitions' p99s (dashed). */
export const ApmPercentiles: Story = { args: { snapshot: percentiles.snapshot, trace: percentiles.trace } };

/** Lag climbs until the autoscaler adds an aggregator; a sliding-window query with late samples. */
export const ApmAutoscale: Story = { args: { snapshot: autoscale.snapshot, trace: autoscale.trace } };

/** The start of a queue run: nothing polled or produced yet. */
export const Empty: Story = { args: { snapshot: start.snapshot, trace: start.trace } };

/** A live run of mq-poison-dlq at 2.3 s: poison messages redelivered until the broker dead-letters them; the DLQ fills. */
export const DlqFilling: Story = { args: { snapshot: dlqLab.snapshot(), trace: chartsTraceOf(dlqLab) } };
