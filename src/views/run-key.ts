import type { Snapshot } from '../sim/lab.ts';
import type { Micros } from '../sim/kernel/time.ts';

/**
 * What identifies the run a trace view has ingested: its scenario, seed and bugs (another of these means start over)
 * and its actions (a changed one means a fork). Shared by the views that fold the trace incrementally.
 */
export interface RunKey {
  key: string;
  actions: string[];
}

export function runKey(s: Snapshot): RunKey {
  return { key: `${s.scenario.id}\u0000${s.seed}\u0000${s.bugs.join(',')}`, actions: s.actions.map((a) => JSON.stringify(a)) };
}

/**
 * A fork (or a reset dropping actions): the virtual time of the first action that differs between the ingested run
 * and the snapshot's — the earlier of the two, since events before it are shared — or null when none differs.
 */
export function forkTime(run: RunKey, next: RunKey, s: Snapshot): Micros | null {
  const n = Math.max(run.actions.length, next.actions.length);
  let first = -1;
  for (let i = 0; i < n && first < 0; i++) if (run.actions[i] !== next.actions[i]) first = i;
  if (first < 0) return null;
  const old = run.actions[first];
  const ats = [s.actions[first]?.at, old === undefined ? undefined : (JSON.parse(old) as { at: Micros }).at];
  return Math.min(...ats.filter((t): t is Micros => t !== undefined));
}
