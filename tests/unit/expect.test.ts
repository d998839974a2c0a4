/**
 * Expectations and checkers can fail: a scenario changed so that its claims no longer hold must report each claim as
 * failed with evidence; the teaching bug `unsynced-epoch` must trip the epoch checker exactly when a power-cut crash
 * comes before the next fsync, and never without the bug.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../src/scenarios/index.ts';
import { Lab } from '../../src/sim/lab.ts';

const pingPong = () => structuredClone(SCENARIOS.find((s) => s.id === 'ping-pong')!) as any;

function results(scenario: unknown, opts: { bugs?: string[] } = {}) {
  const lab = new Lab();
  lab.load(scenario, opts);
  return lab.runToEnd();
}

describe('expectations fail when their claim does not hold', () => {
  it('without the partition, suspicion and partition-drop claims fail', () => {
    const s = pingPong();
    s.faults = s.faults.filter((f: any) => f.kind !== 'partition');
    const byText = Object.fromEntries(results(s).expectations.map((e) => [e.text, e]));
    expect(byText['All four peers suspect the isolated n5.'].status).toBe('fail');
    expect(byText['The partition drops messages in both directions.'].detail).toMatch(/^0 × msg\.drop/);
    expect(byText['Suspicion of n5 clears within 300 ms of the heal.'].status).toBe('fail');
    expect(byText['No kernel or epoch invariant is violated.'].status).toBe('pass');
  });

  it('a slow heal makes the within-claim fail with the event that started the clock', () => {
    const s = pingPong();
    s.topology.config.pinger.heartbeatMs = 200;
    s.topology.config.pinger.suspectAfterMs = 500;
    s.expect = [{ check: 'within', after: { kind: 'net.heal' }, then: { kind: 'node.state', key: 'suspects:n5', value: false }, within: '1ms', text: 'too fast' }];
    const [r] = results(s).expectations;
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/within 1 ms of event #\d+/);
    expect(r.evidenceSeq).toBeGreaterThan(0);
  });

  it('a metric bound that does not hold fails and shows the value', () => {
    const s = pingPong();
    s.expect = [{ check: 'metric', metric: 'rttMs.p50', max: 1, text: 'impossible' }];
    const [r] = results(s).expectations;
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/^rttMs\.p50 = \d+(\.\d+)? \(want ≤ 1\)$/);
  });
});

describe('teaching bug unsynced-epoch', () => {
  // n2 restarts at 6.5 s and loses power again at 6.8 s, before its first fsync of the new incarnation (~1 s later).
  const scenario = () => {
    const s = pingPong();
    s.faults.push({ at: '6.8s', kind: 'crash', node: 'n2', loseUnsynced: true }, { at: '7.2s', kind: 'restart', node: 'n2' });
    s.expect = [{ check: 'violation', checker: 'ping.epochs-increase', text: 'the epoch is reused' }];
    return s;
  };

  it('with the bug, the restarted node reuses an epoch and the checker says so', () => {
    const s = results(scenario(), { bugs: ['unsynced-epoch'] });
    expect(s.violations).toHaveLength(1);
    expect(s.violations[0]).toMatchObject({ checker: 'ping.epochs-increase', message: 'n2 booted with epoch 2, but it already used epoch 2' });
    expect(s.expectations[0].status).toBe('pass');
    expect(s.checkers.find((c) => c.name === 'ping.epochs-increase')!.violations).toBe(1);
  });

  it('without the bug, the same faults are safe', () => {
    const s = results(scenario());
    expect(s.violations).toEqual([]);
    expect(s.expectations[0].status).toBe('fail');
  });
});

describe('narration anchors', () => {
  it('an event anchor with `after` waits for a match at or after that time', () => {
    const s = pingPong();
    s.narration = [
      { onEvent: { kind: 'node.state', key: 'epoch' }, text: 'first epoch' },
      { onEvent: { kind: 'node.state', key: 'epoch' }, after: '6s', text: 'epoch after the restart' },
    ];
    const [first, later] = results(s).narration;
    expect(first.reachedAt).toBe(0);
    expect(later.reachedAt).toBe(6_500_000);
  });
});
