import type { Meta, StoryObj } from '@storybook/svelte';
import Transport from './Transport.svelte';
import { labMomentLab, portAt, scenarioList, snapshotAt } from './fixtures.ts';
import { localPort } from './port.ts';
import { LabSession } from './session.svelte.ts';

function session(moment: Parameters<typeof snapshotAt>[0]): LabSession {
  return new LabSession(portAt(moment), { snapshot: snapshotAt(moment), scenarios: scenarioList() });
}

/**
 * Playback controls: play/pause, step, run until the next election, commit, fault, state change or delivery of a chosen
 * message kind, speed, and the seek slider.
 */
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

function raftSession(): LabSession {
  const lab = labMomentLab('laggingFollower');
  return new LabSession(localPort(lab), { snapshot: lab.snapshot(), scenarios: scenarioList() });
}

/** A Raft run: "next election" and "next commit" apply; the delivery list holds the Raft message kinds seen. */
export const RaftRun: Story = { args: { session: raftSession() } };
