import type { Meta, StoryObj } from '@storybook/svelte';
import type { Fault } from '../sim/kernel/types.ts';
import FaultPanel from './FaultPanel.svelte';
import { labMomentSnapshot, snapshotAt } from './fixtures.ts';

/**
 * The fault panel: node faults, partitions by Jepsen shape or by picking groups, and per-link loss, latency and
 * duplication. Buttons that cannot apply to the target's state are disabled.
 */
const meta = {
  title: 'Views/FaultPanel',
  component: FaultPanel,
  args: {
    nodes: snapshotAt('coldStart').nodes,
    partition: null,
    selected: null,
    over: false,
    oninject: async (_fault: Fault) => null,
  },
  parameters: { controls: { exclude: ['nodes', 'hosts', 'partition', 'oninject'] } },
} satisfies Meta<typeof FaultPanel>;

export default meta;
type Story = StoryObj<typeof meta>;

export const AllUp: Story = {};
export const DuringPartition: Story = { args: { nodes: snapshotAt('partition').nodes, partition: snapshotAt('partition').network.partition, selected: 'n5' } };
export const CrashedSelected: Story = { args: { nodes: snapshotAt('crashed').nodes, selected: 'n2' } };
/** The Lab refused the fault: the panel shows why. */
export const Refused: Story = { args: { oninject: async (f: Fault) => `cannot ${f.kind}: the run is over; seek back to inject a fault` } };
export const RunOver: Story = { args: { nodes: snapshotAt('end').nodes, over: true } };

/** The group picker open: two groups to start with; each host's colour is its group. */
export const PickGroups: Story = { args: { expand: 'groups' } };

/** The link form open: from, to, loss %, latency ms, duplication %, both ways. */
export const LinkForm: Story = { args: { expand: 'link' } };

/** A queue run: groups and links are between hosts (brokers), each holding its partitions' replicas. */
export const BrokerHosts: Story = { args: { nodes: labMomentSnapshot('dlqFilling').nodes, hosts: labMomentSnapshot('dlqFilling').hosts, expand: 'groups' } };
