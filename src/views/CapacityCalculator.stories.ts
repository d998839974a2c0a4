import type { Meta, StoryObj } from '@storybook/svelte';
import CapacityCalculator from './CapacityCalculator.svelte';
import { CapacityModel } from './capacity-calculator.svelte.ts';
import type { CapacityForm } from './capacity-form.ts';

/**
 * The capacity calculator over src/sim/apm/capacity.ts: servers × metrics × bytes → MB/s → partitions → brokers,
 * each step of the arithmetic written out, and the button that opens the sized queue as a run.
 */

function filled(patch: Partial<CapacityForm>): CapacityModel {
  const m = new CapacityModel();
  for (const [k, v] of Object.entries(patch)) m.set(k as keyof CapacityForm, v);
  return m;
}

const meta = {
  title: 'Views/CapacityCalculator',
  component: CapacityCalculator,
  args: { onpreset: () => {}, model: new CapacityModel() },
  parameters: { controls: { exclude: ['model', 'onpreset'] } },
} satisfies Meta<typeof CapacityCalculator>;

export default meta;
type Story = StoryObj<typeof meta>;

/** The notes' numbers: 10,000 × 2,000 × 16 B = 320 MB/s; ÷ 100 MB/s → 4 partitions; × 3 = 12 brokers. */
export const NotesDefault: Story = {};

/** 25% headroom: 75 MB/s usable per broker → 5 partitions, 15 brokers; the preset keeps the notes' topology. */
export const WithHeadroom: Story = { args: { model: filled({ headroomPercent: '25' }) } };

/** Wrong entries, each explained under its field; the last valid numbers stay, marked stale. */
export const InvalidInput: Story = { args: { model: filled({ servers: '10k', replicationFactor: '2', headroomPercent: '95' }) } };

/** Inputs each fine on their own but needing more partitions than a back-of-envelope answer allows. */
export const TooManyPartitions: Story = { args: { model: filled({ servers: '10,000,000', metricsPerServer: '1,000,000', brokerMBps: '0.001' }) } };
