/**
 * The interview panel's pure parts: the 45-minute timer's phase arithmetic driven by an injected clock (plain
 * numbers in milliseconds: start, pause, resume, skip, overtime, the end, a clock stepping back), the countdown's
 * rounding, and the checklist's data — every scenario it links to must exist in src/scenarios/index.ts.
 */
import { describe, expect, it } from 'vitest';
import { findScenario, SCENARIOS } from '../../src/scenarios/index.ts';
import { CHECKLIST, linkedScenarios } from '../../src/views/interview-checklist.ts';
import {
  describeCountdown,
  formatCountdown,
  INTERVIEW_MINUTES,
  pauseTimer,
  PHASES,
  resetTimer,
  skipPhase,
  startTimer,
  TIMER_START,
  timerView,
} from '../../src/views/interview-timer.ts';

const MIN = 60_000;

describe('phases', () => {
  it('are the notes’ four 10-minute chunks plus the remainder of 45 minutes for questions', () => {
    expect(PHASES.map((p) => [p.title, p.minutes])).toEqual([
      ['Requirements', 10],
      ['High-level design', 10],
      ['Detailed design', 10],
      ['Depth or breadth', 10],
      ['Questions', 5],
    ]);
    expect(PHASES.reduce((t, p) => t + p.minutes, 0)).toBe(INTERVIEW_MINUTES);
  });
});

describe('timer arithmetic', () => {
  it('counts down only while running: start, pause, resume', () => {
    let s = TIMER_START;
    expect(timerView(s, 5_000)).toMatchObject({ index: 0, running: false, started: false, phaseLeftMs: 10 * MIN, totalLeftMs: 45 * MIN });
    s = startTimer(s, 1_000);
    expect(timerView(s, 61_000)).toMatchObject({ running: true, started: true, phaseElapsedMs: MIN, phaseLeftMs: 9 * MIN, totalLeftMs: 44 * MIN });
    s = pauseTimer(s, 121_000);
    // Paused: the clock moving on changes nothing.
    expect(timerView(s, 999_000)).toMatchObject({ running: false, started: true, phaseElapsedMs: 2 * MIN, phaseLeftMs: 8 * MIN });
    s = startTimer(s, 1_000_000);
    expect(timerView(s, 1_030_000).phaseElapsedMs).toBe(2 * MIN + 30_000);
    // Starting a running timer changes nothing.
    expect(startTimer(s, 1_020_000)).toBe(s);
  });

  it('runs past a phase’s budget instead of moving on: time left goes negative', () => {
    const s = startTimer(TIMER_START, 0);
    const v = timerView(s, 10 * MIN + 65_000);
    expect(v).toMatchObject({ index: 0, phaseLeftMs: -65_000, phaseFraction: 1, totalLeftMs: 45 * MIN - 10 * MIN - 65_000 });
    expect(formatCountdown(v.phaseLeftMs)).toBe('+1:05');
  });

  it('skipping starts the next phase with its full budget; the total keeps every second spent', () => {
    let s = startTimer(TIMER_START, 0);
    s = skipPhase(s, 3 * MIN);
    expect(timerView(s, 3 * MIN)).toMatchObject({ index: 1, running: true, phaseElapsedMs: 0, phaseLeftMs: 10 * MIN, totalLeftMs: 42 * MIN });
    expect(timerView(s, 4 * MIN)).toMatchObject({ phaseLeftMs: 9 * MIN, totalLeftMs: 41 * MIN });
    // A paused timer skips and stays paused.
    s = pauseTimer(s, 4 * MIN);
    s = skipPhase(s, 50 * MIN);
    expect(timerView(s, 60 * MIN)).toMatchObject({ index: 2, running: false, phaseElapsedMs: 0, totalLeftMs: 41 * MIN });
  });

  it('skipping the last phase ends the interview and stops the clock; start begins a new one', () => {
    let s = startTimer(TIMER_START, 0);
    for (let i = 0; i < PHASES.length; i++) s = skipPhase(s, (i + 1) * MIN);
    const v = timerView(s, 100 * MIN);
    expect(v).toMatchObject({ phase: null, over: true, running: false, started: true, totalLeftMs: 40 * MIN });
    expect(skipPhase(s, 200 * MIN)).toBe(s);
    expect(timerView(startTimer(s, 300 * MIN), 301 * MIN)).toMatchObject({ index: 0, running: true, phaseElapsedMs: MIN, totalLeftMs: 44 * MIN });
  });

  it('reset goes back to 45:00, the first phase, stopped', () => {
    const s = skipPhase(startTimer(TIMER_START, 0), 5 * MIN);
    expect(resetTimer()).toEqual(TIMER_START);
    expect(timerView(resetTimer(), 9 * MIN)).toMatchObject({ index: 0, started: false, totalLeftMs: 45 * MIN });
    expect(timerView(s, 5 * MIN).index).toBe(1);
  });

  it('a clock that steps back counts as no time, never as negative elapsed time', () => {
    const s = startTimer(TIMER_START, 10_000);
    expect(timerView(s, 4_000)).toMatchObject({ phaseElapsedMs: 0, phaseLeftMs: 10 * MIN });
    expect(timerView(pauseTimer(s, 4_000), 4_000).phaseElapsedMs).toBe(0);
  });
});

describe('countdown text', () => {
  it('rounds time left up and time over down, as m:ss', () => {
    expect(formatCountdown(10 * MIN)).toBe('10:00');
    expect(formatCountdown(10 * MIN - 1)).toBe('10:00');
    expect(formatCountdown(9 * MIN + 59_000)).toBe('9:59');
    expect(formatCountdown(1)).toBe('0:01');
    expect(formatCountdown(0)).toBe('0:00');
    expect(formatCountdown(-999)).toBe('+0:00');
    expect(formatCountdown(-61_000)).toBe('+1:01');
  });

  it('reads out for screen readers', () => {
    expect(describeCountdown(9 * MIN + 5_000)).toBe('9 minutes 5 seconds left');
    expect(describeCountdown(MIN)).toBe('1 minute left');
    expect(describeCountdown(-65_000)).toBe('1 minute 5 seconds over');
    expect(describeCountdown(0)).toBe('0 seconds left');
  });
});

describe('checklist', () => {
  it('covers the notes’ trade-offs, each with the sentence to say and a tooltip that teaches the term', () => {
    const ids = CHECKLIST.map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ['ap-cp', 'push-pull', 'delivery', 'acks', 'partitions', 'load-balancer', 'backoff', 'windows', 'percentiles', 'autoscaling', 'capacity']) {
      expect(ids).toContain(id);
    }
    for (const item of CHECKLIST) {
      expect(item.say.length, item.id).toBeGreaterThan(40);
      expect(item.term.length, item.id).toBeGreaterThan(40);
      expect(item.links.length, item.id).toBeGreaterThan(0);
    }
  });

  it('links only to built-in scenarios', () => {
    const known = SCENARIOS.map((s) => s.id);
    const missing = linkedScenarios().filter((id) => findScenario(id) === undefined);
    expect(missing, `known: ${known.join(', ')}`).toEqual([]);
  });

  it('linkedScenarios reports every link, so a typo in an id fails the test above', () => {
    const typo = [{ ...CHECKLIST[0], links: [{ scenario: 'apm-baseline', label: 'ok' }, { scenario: 'apm-basline', label: 'typo' }] }];
    expect(linkedScenarios(typo).filter((id) => findScenario(id) === undefined)).toEqual(['apm-basline']);
  });
});
