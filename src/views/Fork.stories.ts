import type { Meta, StoryObj } from '@storybook/svelte';
import { Lab, type Snapshot } from '../sim/lab.ts';
import Fork from './Fork.svelte';
import { ForkModel, type Spawn } from './fork.svelte.ts';
import { localPort } from './port.ts';

/**
 * The what-if comparison on Labs running on this thread (no workers), each branching a real run at a fixed moment:
 * the form before a run, then finished comparisons — a leader crash on raft-cold-start (two leader timelines), acks
 * leader against quorum on mq-acks-quorum (the ledger loses messages), a control run (same hash), a teaching bug (the
 * checker catches it) and a setting the node refuses (B's error). The finished ones run when the story opens.
 */

const spawn: Spawn = () => ({ port: localPort(new Lab()), terminate: () => {} });

function originAt(scenario: string, seed: string, t: number): Snapshot {
  const lab = new Lab();
  lab.load(scenario, { seed });
  return lab.seek(t);
}

function fork(scenario: string, seed: string, t: number, set: (m: ForkModel) => void = () => {}): ForkModel {
  const m = new ForkModel(originAt(scenario, seed, t), spawn);
  set(m);
  return m;
}

const meta = {
  title: 'Views/Fork',
  component: Fork,
  args: { model: fork('raft-cold-start', '1', 1_000_000), onclose: () => {} },
  parameters: { layout: 'fullscreen', controls: { exclude: ['model', 'session', 'onclose'] } },
} satisfies Meta<typeof Fork>;

export default meta;
type Story = StoryObj<typeof meta>;

/** raft-cold-start at 1 s, before a run: the fault panel targets r1, the leader at the fork. */
export const PickAFault: Story = {};

/** The leader crashes at 1 s in B: A keeps r1 in term 1; B elects a new leader in term 2. */
export const LeaderCrash: Story = {
  args: {
    autorun: true,
    model: fork('raft-cold-start', '1', 1_000_000, (m) => m.chooseFault({ kind: 'crash', node: m.leadersAtFork[0] })),
  },
};

/** mq-acks-quorum with acks=leader in B (from 0): the old leader's acknowledged writes are lost in B only. */
export const AcksLeader: Story = {
  args: {
    autorun: true,
    model: fork('mq-acks-quorum', 'acks', 500_000, (m) => {
      m.mode = 'setting';
      m.settingKind = 'mq-producer';
      m.settingField = 'acks';
      m.settingValue = 'leader';
    }),
  },
};

/** A control: nothing changed, so B's trace hash is A's. */
export const Control: Story = {
  args: {
    autorun: true,
    model: fork('raft-leader-crash', '1', 3_000_000, (m) => {
      m.mode = 'none';
      m.spanUs = 2_000_000;
    }),
  },
};

/** raft-figure-8 with commit-old-term switched on in B: raft.safety reports the lost commit. */
export const TeachingBug: Story = {
  args: {
    autorun: true,
    model: fork('raft-figure-8', '1', 0, (m) => {
      m.mode = 'bug';
      m.bug = 'commit-old-term';
      void m.loadBugs();
    }),
  },
};

/** A setting the node refuses at boot (elections faster than heartbeats): B fails with the reason. */
export const RefusedSetting: Story = {
  args: {
    autorun: true,
    model: fork('raft-cold-start', '1', 1_000_000, (m) => {
      m.mode = 'setting';
      m.settingKind = 'raft';
      m.settingField = 'electionMinMs';
      m.settingValue = '10';
    }),
  },
};
