import type { Meta, StoryObj } from '@storybook/svelte';
import ScenarioPicker from './ScenarioPicker.svelte';
import { scenarioList } from './fixtures.ts';

/** The scenario picker, open: search, tag filters, difficulty and minutes per scenario, the current one marked. */
const meta = {
  title: 'Views/ScenarioPicker',
  component: ScenarioPicker,
  args: { scenarios: scenarioList(), current: 'raft-cold-start', open: true, onpick: () => {} },
  parameters: { layout: 'fullscreen', controls: { exclude: ['scenarios'] } },
} satisfies Meta<typeof ScenarioPicker>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Open: Story = {};
/** Opened from a message-queue run: the keyboard starts on it. */
export const FromMqRun: Story = { args: { current: 'mq-acks-leader' } };
