/**
 * Every built-in scenario's checked expectations, over several seeds: a scenario teaches something only if what its
 * narration claims actually happens, whatever the seed.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../src/scenarios/index.ts';
import { Lab } from '../../src/sim/lab.ts';

const SEEDS = ['1', '2', '3', '17', 'classroom'];

describe.each(SCENARIOS.map((s) => [s.id]))('scenario %s', (id) => {
  it.each(SEEDS)('meets every expectation with seed %s', (seed) => {
    const lab = new Lab();
    lab.load(id, { seed });
    const s = lab.runToEnd();
    expect(s.done).toBe(true);
    const failed = s.expectations.filter((e) => e.status !== 'pass').map((e) => `${e.text} — ${e.detail}`);
    expect(failed).toEqual([]);
    expect(s.expectations.length).toBeGreaterThan(0);
    // A scenario that demonstrates a teaching bug expects its checker to fire; every other one must stay clean.
    const demonstratesBug = s.expectations.some((e) => e.check === 'violation');
    if (demonstratesBug) expect(s.violations.length).toBeGreaterThan(0);
    else expect(s.violations).toEqual([]);
  });

  it('reaches every narration step', () => {
    const lab = new Lab();
    lab.load(id);
    const s = lab.runToEnd();
    expect(s.narration.filter((n) => n.reachedAt === null).map((n) => n.text)).toEqual([]);
  });
});
