import { Lab, type ScenarioInfo, type Snapshot } from '../sim/lab.ts';
import { seconds, type Micros } from '../sim/kernel/time.ts';
import { localPort, type LabPort } from './port.ts';

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
