import type { Meta, StoryObj } from '@storybook/svelte';
import { Lab } from '../sim/lab.ts';
import { seconds } from '../sim/kernel/time.ts';
import { FIXTURE_SCENARIO, FIXTURE_SEED } from './fixtures.ts';
import { localPort, type LabPort } from './port.ts';
import TraceViewer from './TraceViewer.svelte';

const noop = () => {};

/** The text of a fixed seeded ping-pong run, exported at `t` (after an optional crash the user injected at 1 s). */
export function fixtureTrace(t = seconds(3), withCrash = false): string {
  const lab = new Lab();
  lab.load(FIXTURE_SCENARIO, { seed: FIXTURE_SEED });
  if (withCrash) {
    lab.seek(seconds(1));
    lab.inject({ kind: 'crash', node: 'n3' });
  }
  lab.seek(t);
  return lab.exportTrace('json');
}

/** A second Lab (nothing loaded) with `text` open for viewing, as the app's worker holds it. */
export function openedPort(text: string): { port: LabPort; view: ReturnType<Lab['openTrace']> } {
  const lab = new Lab();
  const view = lab.openTrace(text);
  return { port: localPort(lab), view };
}

const partition = openedPort(fixtureTrace());
const crashed = openedPort(fixtureTrace(seconds(2), true));

/** A trace file opened for viewing: its summary and a paged, filterable list of its events, never re-run. */
const meta = {
  title: 'Views/TraceViewer',
  component: TraceViewer,
  args: { port: partition.port, view: partition.view, onclose: noop, onrerun: noop },
  parameters: { controls: { exclude: ['port', 'view'] } },
  // Helpers the trace viewer's tests import too; they are not stories.
  excludeStories: ['fixtureTrace', 'openedPort'],
} satisfies Meta<typeof TraceViewer>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Partition: Story = {};
/** A run where the user crashed n3 at 1 s: the trace records one action. */
export const WithUserCrash: Story = { args: { port: crashed.port, view: crashed.view } };
