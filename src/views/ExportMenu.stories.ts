import type { Meta, StoryObj } from '@storybook/svelte';
import type { ExportFormat } from '../sim/export/chunks.ts';
import type { Lab } from '../sim/lab.ts';
import ExportMenu from './ExportMenu.svelte';
import { labAt, MOMENTS, snapshotAt } from './fixtures.ts';

let lab: Lab | null = null;

/** Exports from the same seeded run the snapshot shows (built on first use, on this thread). */
async function exporter(format: ExportFormat): Promise<string> {
  lab ??= labAt(MOMENTS.partition);
  return lab.exportTrace(format);
}

const noop = () => {};

/**
 * The header's export control: the main button saves the trace as JSON; the menu offers JSON Lines, Perfetto, ShiViz,
 * the CSV tables, and the topology view as SVG or PNG.
 */
const meta = {
  title: 'Views/ExportMenu',
  component: ExportMenu,
  args: { snapshot: snapshotAt('partition'), exporter, onexportjson: noop, onerror: noop },
  parameters: { controls: { exclude: ['snapshot', 'exporter'] } },
} satisfies Meta<typeof ExportMenu>;

export default meta;
type Story = StoryObj<typeof meta>;

export const EveryFormat: Story = {};
/** Without an exporter (an app that passes only its JSON download): the other trace formats show as unavailable. */
export const JsonOnly: Story = { args: { exporter: undefined } };
export const Loading: Story = { args: { snapshot: null } };
