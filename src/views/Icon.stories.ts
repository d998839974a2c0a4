import type { Meta, StoryObj } from '@storybook/svelte';
import Icon from './Icon.svelte';

/** The inline line icons (no icon font). */
const meta = {
  title: 'Views/Icon',
  component: Icon,
  args: { name: 'download', size: 32 },
  argTypes: { name: { control: 'select', options: ['download', 'upload', 'dice', 'sun', 'moon', 'contrast', 'clock'] } },
} satisfies Meta<typeof Icon>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Download: Story = {};
export const Dice: Story = { args: { name: 'dice' } };
export const Clock: Story = { args: { name: 'clock' } };
