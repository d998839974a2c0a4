/**
 * The linearizable-reads checker as a property over seeds, in-process (`runSeed`, what `sim sweep` runs per seed):
 * under random fault schedules — crashes and power cuts of replicas, the writer and the readers' machines, pauses,
 * partitions of every shape, lossy, duplicating and reordering links, then a heal phase — reads through the leader
 * (lesson-cp-reads) are never stale and reads resume after the heal; the same schedules with the readers switched
 * to follower reads (still requiring linearizability) make the checker fire. The failing seed is printed.
 */
import { describe, expect, it } from 'vitest';
import { runSeed } from '../../src/cli/sweep-run.ts';
import { findScenario } from '../../src/scenarios/index.ts';
import { applySettings } from '../../src/scenarios/settings.ts';

const SEEDS = Array.from({ length: 24 }, (_, i) => String(i + 1));

describe('lesson-cp-reads under random faults', () => {
  const input = findScenario('lesson-cp-reads')!;

  it('reads through the leader: the checker stays silent and reads resume after the heal, on every seed', () => {
    const failing = SEEDS.map((seed) => runSeed({ input, bugs: [], randomFaults: true }, seed)).filter((r) => r.violations > 0);
    expect(failing.map((r) => `seed ${r.seed}: ${r.first?.checker ?? 'error'}: ${r.first?.message ?? r.error}`)).toEqual([]);
  }, 60_000);

  it('follower reads with linearizability still required: the checker fires', () => {
    const flipped = applySettings(input, { config: { 'lesson-reader': { readFrom: 'follower' } } });
    const results = SEEDS.slice(0, 6).map((seed) => runSeed({ input: flipped, bugs: [], randomFaults: true }, seed));
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(r.first?.checker, `seed ${r.seed}`).toBe('lesson.linearizable-reads');
    }
  }, 60_000);
});
