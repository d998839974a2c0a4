import { Lab, type ScenarioInfo, type Snapshot } from '../sim/lab.ts';
import { seconds, type Micros } from '../sim/kernel/time.ts';
import { localPort, type LabPort } from './port.ts';
import { chartFilter, ChartsTrace } from './charts-trace.svelte.ts';
import { RaftTrace } from './raft-trace.svelte.ts';

/**
 * Fixed, seeded states of the ping-pong scenario for stories and component tests. The Lab is plain TypeScript, so a
 * story module runs it synchronously on the main thread; the same seed always gives the same snapshots, which makes
 * the stories reproducible pictures of real runs rather than hand-made data.
 */

export const FIXTURE_SCENARIO = 'ping-pong';
export const FIXTURE_SEED = 'story-1';

/** The moments the stories show. */
export const MOMENTS = {
  coldStart: seconds(0.05),
  /** A little after the first heartbeats, so messages are on the wire. */
  firstPings: seconds(0.12),
  /** n5 is cut off (2 s … 4 s). */
  partition: seconds(3),
  /** n2 crashed at 5 s, restarts at 6.5 s. */
  crashed: seconds(5.5),
  end: seconds(8),
} as const satisfies Record<string, Micros>;

export type Moment = keyof typeof MOMENTS;

/** A fresh Lab loaded with the fixture seed and moved to `t`. */
export function labAt(t: Micros, seed = FIXTURE_SEED): Lab {
  const lab = new Lab();
  lab.load(FIXTURE_SCENARIO, { seed });
  lab.seek(t);
  return lab;
}

/**
 * A Lab moved to the first moment at or after `t` when a message is in flight, so message marks have something to
 * show; stepping one event at a time keeps it deterministic.
 */
export function labWithMessagesAt(t: Micros, seed = FIXTURE_SEED): Lab {
  const lab = labAt(t, seed);
  for (let i = 0; i < 200 && lab.snapshot().inFlight.length === 0; i++) lab.step(1);
  return lab;
}

const cache = new Map<Moment, Snapshot>();

/** The snapshot at a named moment (computed once per module). */
export function snapshotAt(moment: Moment): Snapshot {
  let s = cache.get(moment);
  if (!s) {
    s = moment === 'firstPings' ? labWithMessagesAt(MOMENTS[moment]).snapshot() : labAt(MOMENTS[moment]).snapshot();
    cache.set(moment, s);
  }
  return s;
}

/** A port onto a fresh Lab at the given moment, for views that fetch (event log, app shell). */
export function portAt(moment: Moment): LabPort {
  return localPort(moment === 'firstPings' ? labWithMessagesAt(MOMENTS[moment]) : labAt(MOMENTS[moment]));
}

export function scenarioList(): ScenarioInfo[] {
  return new Lab().list();
}

/**
 * Fixed moments of the Raft scenarios (seed "1") for the Raft views' stories and tests. Each names the scenario and
 * the virtual time; what is on screen there is stated beside it and checked by the component tests.
 */
export const RAFT_MOMENTS = {
  /** raft-cold-start: r1's timer fired first (197 ms); r2 and r3 have granted their votes, the replies are in flight. */
  coldStart: { scenario: 'raft-cold-start', seed: '1', t: 200_500 },
  /** raft-cold-start: r1 leads term 1 and replicates a write every 10 ms. */
  steady: { scenario: 'raft-cold-start', seed: '1', t: 1_000_000 },
  /**
   * raft-leader-crash: the leader r5 crashed at 2 s; r1 won term 2 at 2.167 s and appended its no-op (201). Entry 200
   * (term 1) is on four replicas but not committed: the term rule waits for the no-op.
   */
  leaderCrashed: { scenario: 'raft-leader-crash', seed: '1', t: 2_168_000 },
  /** raft-follower-catchup: r2 restarted at 3 s and has caught up its log, but its applier is far behind (18 vs 319). */
  lagging: { scenario: 'raft-follower-catchup', seed: '1', t: 3_200_000 },
  /**
   * raft-minority-partition: r5 still leads term 1 with r1 in a minority and appends writes that cannot commit; r3
   * leads term 2 with r2 and r4.
   */
  stalePartition: { scenario: 'raft-minority-partition', seed: '1', t: 2_500_000 },
} as const satisfies Record<string, { scenario: string; seed: string; t: Micros }>;

export type RaftMoment = keyof typeof RAFT_MOMENTS;

/** A fresh Lab at a Raft moment. */
export function raftLabAt(moment: RaftMoment): Lab {
  const m = RAFT_MOMENTS[moment];
  const lab = new Lab();
  lab.load(m.scenario, { seed: m.seed });
  lab.seek(m.t);
  return lab;
}

const raftCache = new Map<RaftMoment, Snapshot>();

export function raftSnapshotAt(moment: RaftMoment): Snapshot {
  let s = raftCache.get(moment);
  if (!s) raftCache.set(moment, (s = raftLabAt(moment).snapshot()));
  return s;
}

/** A port onto a fresh Lab at a Raft moment (log paging, disk logs of crashed replicas). */
export function raftPortAt(moment: RaftMoment): LabPort {
  return localPort(raftLabAt(moment));
}

/** A Raft trace holding every event of a Lab so far, read synchronously (stories and tests need no worker). */
export function traceOf(lab: Lab): RaftTrace {
  const trace = new RaftTrace(null);
  for (let from = 0; ; ) {
    const page = lab.events(from, 10_000);
    if (page.length === 0) break;
    trace.ingestAll(page);
    from = page[page.length - 1].seq + 1;
  }
  return trace;
}

const traceCache = new Map<RaftMoment, RaftTrace>();

/** The Raft trace up to a moment (computed once per module; views only read it). */
export function raftTraceAt(moment: RaftMoment): RaftTrace {
  let t = traceCache.get(moment);
  if (!t) traceCache.set(moment, (t = traceOf(raftLabAt(moment))));
  return t;
}

/**
 * The states of the whole lab a story shows (issue 6): cold start, an election in progress, a partition, a lagging
 * follower, the dead-letter queue filling — plus a run with a teaching bug, so a red checker has real evidence. Each
 * is a scenario, its seed and a virtual time; what is on screen there is stated beside it.
 */
export const LAB_MOMENTS = {
  /** ping-pong just after boot: every node up, the first pings about to go out. */
  coldStart: { scenario: FIXTURE_SCENARIO, seed: FIXTURE_SEED, t: MOMENTS.coldStart },
  /** raft-cold-start: r1 campaigns for term 1; r2 and r3 have granted their votes, the replies are in flight. */
  electionInProgress: RAFT_MOMENTS.coldStart,
  /** raft-minority-partition: two leaders in two terms, r5 cut off with r1 in a minority. */
  partition: RAFT_MOMENTS.stalePartition,
  /** raft-follower-catchup: r2 is back and has caught up its log; its applier is far behind. */
  laggingFollower: RAFT_MOMENTS.lagging,
  /** mq-poison-dlq: three poison messages dead-lettered after three failed deliveries each; a fourth is retrying. */
  dlqFilling: { scenario: 'mq-poison-dlq', seed: 'poison', t: 2_300_000 },
  /** raft-vote-persistence-bug: r3 forgot its vote, so r1 and r2 both lead term 1; Election Safety fired at 220 ms. */
  doubleVote: { scenario: 'raft-vote-persistence-bug', seed: 'vote-persistence', t: 300_000 },
} as const satisfies Record<string, { scenario: string; seed: string; t: Micros }>;

export type LabMoment = keyof typeof LAB_MOMENTS;

/** A fresh Lab at a lab moment. */
export function labMomentLab(moment: LabMoment): Lab {
  const m = LAB_MOMENTS[moment];
  const lab = new Lab();
  lab.load(m.scenario, { seed: m.seed });
  lab.seek(m.t);
  return lab;
}

const labMomentCache = new Map<LabMoment, Snapshot>();

export function labMomentSnapshot(moment: LabMoment): Snapshot {
  let s = labMomentCache.get(moment);
  if (!s) labMomentCache.set(moment, (s = labMomentLab(moment).snapshot()));
  return s;
}

/** The charts' trace of a live run up to now, read synchronously (stories need no worker). */
export function chartsTraceOf(lab: Lab): ChartsTrace {
  const trace = new ChartsTrace(null);
  trace.setNodes(lab.snapshot().nodes);
  for (let from = 0; ; ) {
    const page = lab.events(from, 10_000, chartFilter());
    if (page.length === 0) break;
    trace.ingestAll(page);
    from = page[page.length - 1].seq + 1;
  }
  trace.ingestAll([], lab.snapshot().eventCount);
  return trace;
}
