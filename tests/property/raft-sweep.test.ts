/**
 * Raft safety as a property over seeds, the way a user runs it: `sim sweep` over 1,000 seeds of raft-chaos with
 * random fault schedules (crashes, power cuts, kill-the-leader, pauses, partitions of every shape, lossy, duplicating
 * and reordering links, then a heal phase that must converge) finds no violation and no liveness failure. With each
 * teaching bug switched on, a sweep finds failing seeds and prints them with a command that re-runs one.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function sweep(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'sweep', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const out = JSON.parse(r.stdout) as { runs: number; violations: number; failingSeeds: string[] };
  return { code: r.status, out, stderr: r.stderr };
}

describe('raft sweeps', () => {
  it('1,000 seeds of raft-chaos under random faults: no violation, and every run converges after the heal', () => {
    const { code, out, stderr } = sweep(['raft-chaos', '--seeds', '1..1000', '--faults', 'random']);
    expect(stderr).toBe('');
    expect(out).toMatchObject({ runs: 1000, violations: 0, failingSeeds: [] });
    expect(code).toBe(0);
  }, 600_000);

  const bugs: [string, string, string[], RegExp][] = [
    ['no-uptodate-check', 'raft-chaos', ['--faults', 'random'], /Leader Completeness|State Machine Safety|Log Matching/],
    ['no-step-down', 'raft-chaos', ['--faults', 'random'], /Election Safety|Log Matching|State Machine Safety/],
    ['commit-old-term', 'raft-figure-8', [], /Leader Completeness|State Machine Safety/],
    ['no-persist-vote', 'raft-vote-persistence', [], /two leaders in term 1: r1 and r2 \(Election Safety\)/],
  ];
  it.each(bugs)('with the %s bug a sweep of %s finds failing seeds and prints them', (bug, scenario, extra, message) => {
    const { code, out, stderr } = sweep([scenario, '--seeds', '1..200', ...extra, '--bug', bug]);
    expect(code).toBe(1);
    expect(out.failingSeeds.length).toBeGreaterThan(0);
    expect(stderr).toMatch(message);
    expect(stderr).toContain(`re-run one: npm run --silent sim -- run ${scenario} --seed "${out.failingSeeds[0]}"`);
  }, 600_000);
});
