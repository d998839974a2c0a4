import type { Meta, StoryObj } from '@storybook/svelte';
import { Lab } from '../sim/lab.ts';
import App from './App.svelte';
import { FIXTURE_SEED } from './fixtures.ts';
import { localPort } from './port.ts';

/**
 * The whole lab on a Lab running on this thread (no worker), loading ping-pong with the fixture seed. The URL hash is
 * left alone: Storybook owns the page's address.
 */
const meta = {
  title: 'App/Lab',
  component: App,
  args: { port: localPort(new Lab()), syncHash: false, initial: { scenario: 'ping-pong', seed: FIXTURE_SEED } },
  parameters: { layout: 'fullscreen', controls: { exclude: ['port', 'initial'] } },
} satisfies Meta<typeof App>;

export default meta;
type Story = StoryObj<typeof meta>;

export const ColdStart: Story = {};

/** A Raft run: the replica logs, elections and space-time panels appear below the topology. */
export const RaftLeaderCrash: Story = { args: { port: localPort(new Lab()), initial: { scenario: 'raft-leader-crash', seed: '1' } } };
