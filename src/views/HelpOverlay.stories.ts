import type { Meta, StoryObj } from '@storybook/svelte';
import HelpOverlay from './HelpOverlay.svelte';

/** The `?` overlay listing keyboard shortcuts. */
const meta = {
  title: 'Views/HelpOverlay',
  component: HelpOverlay,
  args: { open: true, onclose: () => {} },
} satisfies Meta<typeof HelpOverlay>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Open: Story = {};
export const Closed: Story = { args: { open: false } };
