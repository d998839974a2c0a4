import type { Meta, StoryObj } from '@storybook/svelte';
import RunBar from './RunBar.svelte';
import { scenarioList, snapshotAt } from './fixtures.ts';

const noop = () => {};

/** The header: scenario picker, seed, trace hash and event count, export / import, theme and help. */
const meta = {
  title: 'Views/RunBar',
  component: RunBar,
  args: {
    snapshot: snapshotAt('partition'),
    scenarios: scenarioList(),
    theme: 'auto',
    large: false,
    onnavigate: noop,
    onexport: noop,
    onimport: noop,
    ontheme: noop,
    onlarge: noop,
    onhelp: noop,
  },
  parameters: { layout: 'fullscreen', controls: { exclude: ['snapshot', 'scenarios'] } },
} satisfies Meta<typeof RunBar>;

export default meta;
type Story = StoryObj<typeof meta>;

export const MidRun: Story = {};
export const Loading: Story = { args: { snapshot: null } };
export const PresenterMode: Story = { args: { large: true, theme: 'dark' } };
