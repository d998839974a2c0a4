import type { Meta, StoryObj } from '@storybook/svelte';
import { CapacityModel } from './capacity-calculator.svelte.ts';
import { scenarioList } from './fixtures.ts';
import InterviewPanel from './InterviewPanel.svelte';
import type { TimerState } from './interview-timer.ts';
import { InterviewModel } from './interview.svelte.ts';

/**
 * The interview practice drawer: the notes' 45-minute timer, the trade-off checklist with its scenario links, and the
 * capacity calculator. Each story has its own model on a frozen clock (no storage), so the picture never moves.
 */

const MIN = 60_000;

/** A model stopped at a fixed moment of the interview, with some items ticked. */
function at(timer: TimerState, ticks: string[] = []): InterviewModel {
  const m = new InterviewModel(() => 0, null);
  m.timer = timer;
  for (const t of ticks) m.tick(t, true);
  return m;
}

const meta = {
  title: 'Views/InterviewPanel',
  component: InterviewPanel,
  args: { open: true, scenarios: scenarioList(), onopenscenario: () => {}, model: at({ phase: 0, phaseMs: 0, totalMs: 0, since: null }) },
  parameters: { layout: 'fullscreen', controls: { exclude: ['scenarios', 'model', 'capacity', 'onopenscenario'] } },
} satisfies Meta<typeof InterviewPanel>;

export default meta;
type Story = StoryObj<typeof meta>;

/** Before the interview: 10:00 of requirements, nothing ticked. */
export const Ready: Story = {};

/** Twelve minutes in, paused in the high-level design with 8:00 left; three topics covered. */
export const HighLevelDesign: Story = {
  args: { model: at({ phase: 1, phaseMs: 2 * MIN, totalMs: 12 * MIN, since: null }, ['requirements', 'ap-cp', 'load-balancer']) },
};

/** The detailed design ran 1:30 over its ten minutes: the clock turns red (move on). */
export const Overtime: Story = {
  args: { model: at({ phase: 2, phaseMs: 11.5 * 60_000, totalMs: 31.5 * MIN, since: null }, ['requirements', 'ap-cp', 'push-pull', 'delivery', 'acks']) },
};

/** The drawer closed while the timer is paused: the button keeps the phase and time on screen. */
export const ClosedWithTimer: Story = {
  args: { open: false, model: at({ phase: 3, phaseMs: 4 * MIN, totalMs: 34 * MIN, since: null }) },
};

/** The capacity tab: the notes' numbers, 320 MB/s → 4 partitions → 12 brokers. */
export const Capacity: Story = { args: { tab: 'capacity', capacity: new CapacityModel() } };

/** A checklist whose scenarios this lab does not have: the links are disabled. */
export const MissingScenarios: Story = { args: { scenarios: [] } };
