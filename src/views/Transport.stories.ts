import type { Meta, StoryObj } from '@storybook/svelte';
import Transport from './Transport.svelte';
import { portAt, scenarioList, snapshotAt } from './fixtures.ts';
import { LabSession } from './session.svelte.ts';

function session(moment: Parameters<typeof snapshotAt>[0]): LabSession {
  return new LabSession(portAt(moment), { snapshot: snapshotAt(moment), scenarios: scenarioList() });
}

/** Playback controls: play/pause, step, step to the next fault or state change, speed, and the seek slider. */
const meta = {
  title: 'Views/Transport',
  component: Transport,
  args: { session: session('partition') },
  parameters: { layout: 'fullscreen', controls: { exclude: ['session'] } },
} satisfies Meta<typeof Transport>;

export default meta;
type Story = StoryObj<typeof meta>;

export const MidRun: Story = {};
export const ColdStart: Story = { args: { session: session('coldStart') } };
export const EndOfRun: Story = { args: { session: session('end') } };
