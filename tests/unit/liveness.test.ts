/**
 * Sweeps under random faults hold a run to safety while faulty and to liveness once healed (VOPR's two phases): the
 * scenario's own expectations are replaced by "no violation" and "progress within the liveness bound after the last
 * fault", and a run that fails either is a failing seed with its reason.
 */
import { describe, expect, it } from 'vitest';
import { withRandomFaults } from '../../src/cli/faults.ts';
import { runSeed } from '../../src/cli/sweep-run.ts';
import { findScenario } from '../../src/scenarios/index.ts';

const scenario = () => structuredClone(findScenario('raft-leader-crash')!) as any;

describe('liveness under random faults', () => {
  it('replaces the expectations with safety and a liveness window after the last fault', () => {
    const s = withRandomFaults(scenario(), '5');
    expect(s.expect.map((e) => e.check)).toEqual(['no-violations', 'count']);
    const live = s.expect[1] as { from: string; to: string; match: unknown };
    expect(live.match).toEqual({ kind: 'node.note', name: 'write-acked' });
    expect(Number.parseInt(live.from)).toBeGreaterThanOrEqual(4_000_000); // after the scenario's own restart at 4 s
  });

  it('a healthy group passes; progress that never comes fails the seed with the reason', () => {
    expect(runSeed({ input: scenario(), bugs: [], randomFaults: true }, '5').violations).toBe(0);
    const s = scenario();
    s.liveness = { match: { kind: 'node.note', name: 'no-such-note' }, within: '2s', text: 'impossible progress' };
    const r = runSeed({ input: s, bugs: [], randomFaults: true }, '5');
    expect(r.violations).toBe(1);
    expect(r.first).toMatchObject({ checker: 'expectation', message: expect.stringMatching(/^Liveness: impossible progress — 0 × node\.note/) });
  });

  it('without random faults a sweep checks the scenario’s own expectations', () => {
    const s = scenario();
    s.expect = [{ check: 'metric', metric: 'terms', max: 0, text: 'no term ever' }];
    const r = runSeed({ input: s, bugs: [], randomFaults: false }, '1');
    expect(r.violations).toBe(1);
    expect(r.first!.message).toMatch(/^no term ever — terms = \d+ \(want ≤ 0\)$/);
  });
});
