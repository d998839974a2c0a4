/**
 * The teaching content of the built-in narration: the scenarios issue 7 names carry interview sentences, terms and
 * questions, and every question has an answer on every seed the scenario tests run — one answer that is right on all
 * of them for yes / no and number questions (the lesson does not depend on luck), and one of the offered choices for
 * "which node" questions. Answers are computed by the Lab from each run; none is written in a scenario.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../src/scenarios/index.ts';
import { judgeAnswer, type Reveal } from '../../src/sim/expect.ts';
import { Lab } from '../../src/sim/lab.ts';

/** The seeds of tests/scenario/scenarios.test.ts. */
const SEEDS = ['1', '2', '3', '17', 'classroom'];

const TEACHING = [
  'raft-cold-start', 'raft-leader-crash', 'raft-split-vote', 'raft-minority-partition', 'mq-acks-leader', 'mq-acks-quorum',
  'mq-at-least-once', 'mq-exactly-once', 'mq-push-spike', 'mq-pull-spike', 'mq-poison-dlq', 'apm-outage-backoff', 'apm-percentiles',
];

describe('teaching scenarios narrate with sentences, terms and questions', () => {
  it.each(TEACHING)('%s', (id) => {
    const s = SCENARIOS.find((x) => x.id === id)!;
    expect(s.narration.every((n) => n.term !== undefined)).toBe(true);
    expect(s.narration.filter((n) => n.say !== undefined).length).toBeGreaterThanOrEqual(s.narration.length - 1);
    expect(s.narration.some((n) => n.ask !== undefined)).toBe(true);
  });

  it('every built-in scenario has a step still ahead when it loads, so Next always has somewhere to go', () => {
    for (const s of SCENARIOS) {
      const lab = new Lab();
      lab.load(s.id);
      expect(lab.snapshot().narration.some((n) => n.reachedAt === null), s.id).toBe(true);
    }
  });
});

const WITH_ASKS = SCENARIOS.filter((s) => s.narration.some((n) => n.ask));

describe.each(WITH_ASKS.map((s) => [s.id]))('questions of %s', (id) => {
  it('have an answer on every seed, and one prediction is right on all of them', () => {
    const runs = SEEDS.map((seed) => {
      const lab = new Lab();
      lab.load(id, { seed });
      let snap = lab.snapshot();
      const reveals = new Map<number, Reveal>();
      snap.narration.forEach((n, i) => {
        if (!n.ask) return;
        snap = lab.step({ reveal: i });
        reveals.set(i, snap.narration[i].reveal!);
      });
      return { snap, reveals };
    });
    const steps = runs[0].snap.narration;
    steps.forEach((step, i) => {
      const ask = step.ask;
      if (!ask) return;
      const values = runs.map((r) => r.reveals.get(i)!);
      for (const v of values) expect(v.value, `${id} step ${i}: ${ask.question}`).not.toBeNull();
      if (ask.kind === 'node') {
        for (const v of values) expect(ask.choices).toContain(v.value);
        return;
      }
      // One guess — the first seed's answer — is judged right on every seed.
      const guess = ask.kind === 'yes-no' ? (values[0].value ? 'yes' : 'no') : String(values[0].value);
      for (const v of values) expect(judgeAnswer(ask, guess, v), `${id} step ${i}: ${ask.question} → ${JSON.stringify(values.map((x) => x.value))}`).toBe(true);
    });
  });
});
