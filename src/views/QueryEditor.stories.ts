import type { Meta, StoryObj } from '@storybook/svelte';
import { APM_QUERIES } from '../scenarios/apm-baseline.ts';
import QueryEditor from './QueryEditor.svelte';
import type { QueryText } from './query-editor.svelte.ts';

/**
 * The stored-query editor of APM runs: each query's id, name and text, parsed as typed with the parser's position
 * and expectation, and Apply, which reloads the run with the queries as settings.
 */

const QUERIES: QueryText[] = APM_QUERIES.map((q) => ({ ...q }));

const meta = {
  title: 'Views/QueryEditor',
  component: QueryEditor,
  args: { queries: QUERIES, onapply: async () => null },
  parameters: { controls: { exclude: ['queries', 'onapply'] } },
} satisfies Meta<typeof QueryEditor>;

export default meta;
type Story = StoryObj<typeof meta>;

/** apm-baseline's two stored queries: CPU and RPC latency by 10 s window. */
export const Baseline: Story = {};

/** A misspelt keyword: the parser says where (line 1, column 32), what it expected, and the word is marked. */
export const ParseError: Story = {
  args: { queries: [QUERIES[0], { id: 'typo', name: 'CPU, misspelt', text: 'FROM servers(web-*) SELECT cpu WINDW 10s COMPUTE max' }] },
};

/** A query cut short: the error is at the end of the text, marked as an empty place. */
export const Unfinished: Story = { args: { queries: [{ id: 'cpu', name: 'CPU', text: 'FROM servers(web-*) SELECT cpu WINDOW 10s COMPUTE' }] } };

/** Names and text with markup in them are shown as text. */
export const MarkupAsText: Story = {
  args: { queries: [{ id: 'x1', name: '<img src=x onerror=alert(1)>', text: 'FROM servers(<b>web</b>) SELECT cpu WINDOW 10s COMPUTE max' }] },
};

/** The Lab refuses what is applied (here always): the error shows and the run stays. */
export const Refused: Story = { args: { onapply: async () => 'settings.queries[0] ("cpu"): no agent emits metric "disk" (metrics: cpu, rpc.latency)' } };

/** A run without a dashboard. */
export const NoDashboard: Story = { args: { queries: null } };
