/**
 * Guided narration and predict-then-reveal, below the views: the narration step schema (good steps compile, bad ones
 * are refused with the path of the problem), the tracker (anchors, time caps, kept and forgotten answers, judging),
 * and the Lab — a guided run stops exactly at a time anchor and right after an event anchor's event, the same stops
 * as a naive one-event-at-a-time reference, with the same trace hash; Next and Back put the run at anchors; Reveal
 * computes each kind of answer from the run.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../src/scenarios/index.ts';
import { compileScenario } from '../../src/scenarios/schema.ts';
import { judgeAnswer, NarrationTracker, type AskView, type Reveal } from '../../src/sim/expect.ts';
import { Lab, LabError, type Snapshot } from '../../src/sim/lab.ts';
import { BEHAVIORS, bugsFor } from '../../src/sim/nodes.ts';

const LEADER = { kind: 'node.state', key: 'role', value: 'leader' };
const coldStart = () => structuredClone(SCENARIOS.find((s) => s.id === 'raft-cold-start')!) as any;
const compile = (raw: unknown) => compileScenario(raw, { knownKinds: Object.keys(BEHAVIORS), knownBugs: bugsFor });

/** raft-cold-start with a narration of our own: a time anchor, an event anchor and a late time anchor. */
function scenario(narration: unknown[]) {
  const s = coldStart();
  s.narration = narration;
  return s;
}

const reachedMask = (s: Snapshot) => s.narration.map((n) => (n.reachedAt === null ? 0 : 1)).join('');

describe('narration step schema', () => {
  it('accepts say, term and each kind of question', () => {
    const s = scenario([
      { at: '0', text: 'start', say: 'we choose pull because…', term: { name: 'Offset', meaning: 'a position in the log' } },
      { onEvent: LEADER, text: 'elected', ask: { question: 'who?', answer: { from: 'next-event', match: LEADER, choices: ['r1', 'r2'] } } },
      { at: '1s', text: 'count', ask: { question: 'how many?', answer: { from: 'metric', metric: 'writesAcked', at: '2s', tolerance: 5, unit: 'writes' } } },
      { at: '1s', text: 'any?', ask: { question: 'any?', answer: { from: 'metric-above', metric: 'terms', above: 1, evidence: LEADER }, explain: 'because' } },
      { at: '1s', text: 'safe?', ask: { question: 'broken?', answer: { from: 'checker', checker: 'raft.safety', at: '3s' } } },
    ]);
    const { scenario: out } = compile(s);
    expect(out.narration[2].ask?.answer).toEqual({ from: 'metric', metric: 'writesAcked', at: 2_000_000, tolerance: 5, unit: 'writes' });
    expect(out.narration[0].term).toEqual({ name: 'Offset', meaning: 'a position in the log' });
  });

  const bad: [string, unknown, RegExp][] = [
    ['no anchor', { text: 'x' }, /narration\[0\]\.at: a step needs an anchor/],
    ['two anchors', { at: '1s', onEvent: LEADER, text: 'x' }, /narration\[0\]\.onEvent: a step has one anchor/],
    ['after on a time anchor', { at: '1s', after: '2s', text: 'x' }, /narration\[0\]\.after: "after" narrows an event anchor/],
    ['empty say', { at: '1s', text: 'x', say: '' }, /narration\[0\]\.say: /],
    ['term without meaning', { at: '1s', text: 'x', term: { name: 'ISR' } }, /narration\[0\]\.term\.meaning: /],
    ['unknown answer source', { at: '1s', text: 'x', ask: { question: 'q', answer: { from: 'vibes' } } }, /narration\[0\]\.ask\.answer(\.from)?: /],
    ['metric answer without metric', { at: '1s', text: 'x', ask: { question: 'q', answer: { from: 'metric' } } }, /narration\[0\]\.ask\.answer\.metric: /],
    ['unknown field in a question', { at: '1s', text: 'x', ask: { question: 'q', answer: { from: 'checker' }, hint: 'h' } }, /narration\[0\]\.ask: .*hint/],
    ['revealed before asked', { at: '2s', text: 'x', ask: { question: 'q', answer: { from: 'checker', at: '1s' } } }, /narration\[0\]\.ask\.answer\.at: the answer is revealed before the question is asked/],
    ['a choice that is no node', { onEvent: LEADER, text: 'x', ask: { question: 'q', answer: { from: 'next-event', match: LEADER, choices: ['r1', 'r9'] } } }, /narration\[0\]\.ask\.answer\.choices\[1\]: unknown node "r9"/],
    ['a bad event kind', { onEvent: { kind: 'nope' }, text: 'x' }, /narration\[0\]\.onEvent\.kind: /],
    ['an anchor after the end', { at: '1m', text: 'x' }, /narration\[0\]\.at: after the end of the run/],
    ['a reveal after the end', { at: '1s', text: 'x', ask: { question: 'q', answer: { from: 'checker', at: '1m' } } }, /narration\[0\]\.ask\.answer\.at: after the end of the run/],
    ['a metric the scenario does not report', { at: '1s', text: 'x', ask: { question: 'q', answer: { from: 'metric', metric: 'nope' } } }, /narration\[0\]\.ask\.answer\.metric: "nope" is not among the scenario's metrics/],
  ];
  it.each(bad)('refuses %s, naming where', (_name, step, message) => {
    expect(() => compile(scenario([step]))).toThrow(message);
    // The Lab refuses it the same way, and the current run stays.
    const lab = new Lab();
    lab.load('raft-cold-start');
    const before = lab.snapshot().traceHash;
    expect(() => lab.load(scenario([step]))).toThrow(message);
    expect(lab.snapshot().traceHash).toBe(before);
  });

  it('a checker answer must name a checker this run has (known only at load)', () => {
    const s = scenario([{ at: '1s', text: 'x', ask: { question: 'q', answer: { from: 'checker', checker: 'mq.ledger' } } }]);
    expect(() => compile(s)).not.toThrow();
    expect(() => new Lab().load(s)).toThrow(/narration\[0\]\.ask\.answer\.checker: unknown checker "mq\.ledger" \(known: .*raft\.safety/);
  });

  it('a metric field (rttMs.p99) counts as the metric it belongs to', () => {
    const s = scenario([{ at: '1s', text: 'x', ask: { question: 'q', answer: { from: 'metric', metric: 'commitLatencyMs.p99' } } }]);
    expect(() => compile(s)).not.toThrow();
  });
});

describe('NarrationTracker', () => {
  const steps = compile(
    scenario([
      { at: '0', text: 'a' },
      { onEvent: LEADER, after: '10ms', text: 'b', ask: { question: 'who?', answer: { from: 'next-event', match: LEADER } } },
      { at: '1s', text: 'c', ask: { question: 'n?', answer: { from: 'metric', metric: 'writesAcked', tolerance: 2 } } },
    ]),
  ).scenario.narration;
  const ev = (t: number, seq: number, extra: Record<string, unknown>) => ({ t, seq, ...extra }) as any;

  it('reaches event steps by matching events after `after`, time steps by the clock', () => {
    const tr = new NarrationTracker(steps, ['r1', 'r2', 'r3']);
    expect(tr.eventStepsOpen()).toBe(1);
    tr.feed(ev(5_000, 0, { kind: 'node.state', node: 'r1', key: 'role', value: 'leader' }));
    expect(tr.steps[1].reachedAt).toBeNull(); // before `after`
    tr.feed(ev(20_000, 1, { kind: 'node.state', node: 'r2', key: 'role', value: 'leader' }));
    expect(tr.steps[1]).toMatchObject({ reachedAt: 20_000, reachedSeq: 1 });
    expect(tr.eventStepsReached).toBe(1);
    expect(tr.eventStepsOpen()).toBe(0);
    expect(tr.reached(2, 999_999)).toBe(false);
    expect(tr.reached(2, 1_000_000)).toBe(true);
    expect(tr.nextTimeAnchor(0)).toBe(1_000_000);
    expect(tr.nextTimeAnchor(1_000_000)).toBeNull();
  });

  it('shows questions with their choices: the given ones, or every node', () => {
    const tr = new NarrationTracker(steps, ['r1', 'r2', 'r3', 'c1']);
    expect(tr.steps[1].ask).toEqual({ question: 'who?', kind: 'node', choices: ['r1', 'r2', 'r3', 'c1'], tolerance: 0, revealAt: 'event' });
    expect(tr.steps[2].ask).toMatchObject({ kind: 'number', choices: [], tolerance: 2, revealAt: 'end' });
    expect(tr.steps[0].ask).toBeUndefined();
    expect(tr.steps[1].reveal).toBeNull();
  });

  it('keeps revealed answers for a replacement tracker, and forgets those a fork makes stale', () => {
    const tr = new NarrationTracker(steps, []);
    tr.setReveal(1, { value: 'r2', t: 20_000, evidenceSeq: 1, detail: '' });
    tr.setReveal(2, { value: 7, t: 3_000_000, evidenceSeq: null, detail: '' });
    const next = new NarrationTracker(steps, [], tr.reveals);
    expect(next.steps[2].reveal?.value).toBe(7);
    next.forgetReveals(1_000_000);
    expect(next.steps[1].reveal?.value).toBe('r2');
    expect(next.steps[2].reveal).toBeNull();
    expect(() => next.setReveal(0, { value: 1, t: 0, evidenceSeq: null, detail: '' })).toThrow(/asks no question/);
  });

  it('judges answers: node ids exactly, numbers within the tolerance, yes / no against a boolean', () => {
    const node: AskView = { question: '', kind: 'node', choices: ['r1', 'r2'], tolerance: 0, revealAt: 'event' };
    const num: AskView = { question: '', kind: 'number', choices: [], tolerance: 2, revealAt: 'end' };
    const yn: AskView = { question: '', kind: 'yes-no', choices: ['yes', 'no'], tolerance: 0, revealAt: 'end' };
    const r = (value: Reveal['value']): Reveal => ({ value, t: 0, evidenceSeq: null, detail: '' });
    expect(judgeAnswer(node, 'r1', r('r1'))).toBe(true);
    expect(judgeAnswer(node, 'r2', r('r1'))).toBe(false);
    expect(judgeAnswer(node, 'r1', r(null))).toBe(false);
    expect(judgeAnswer(num, '52', r(54))).toBe(true);
    expect(judgeAnswer(num, '51', r(54))).toBe(false);
    expect(judgeAnswer(num, '', r(0))).toBe(false);
    expect(judgeAnswer(num, 'abc', r(0))).toBe(false);
    expect(judgeAnswer(yn, 'yes', r(true))).toBe(true);
    expect(judgeAnswer(yn, 'no', r(true))).toBe(false);
    expect(judgeAnswer(yn, 'no', r(false))).toBe(true);
  });
});

/** A time anchor at 100 ms, the first candidate, the first leader, the first acked write, a time anchor at 1 s. */
const GUIDED = scenario([
  { at: '0', text: 'boot' },
  { at: '100ms', text: 'waiting' },
  { onEvent: { kind: 'node.state', key: 'role', value: 'candidate' }, text: 'candidate', ask: { question: 'who wins?', answer: { from: 'next-event', match: LEADER, choices: ['r1', 'r2', 'r3'] } } },
  { onEvent: LEADER, text: 'leader' },
  { onEvent: { kind: 'node.note', name: 'write-acked' }, text: 'acked' },
  { at: '1s', text: 'steady', ask: { question: 'how many writes by 2 s?', answer: { from: 'metric', metric: 'writesAcked', at: '2s', tolerance: 5 } } },
  { at: '1s', text: 'safe?', ask: { question: 'any violation?', answer: { from: 'checker', checker: 'raft.safety' } } },
]);

/** Plays a guided run at 1× in 16 ms frames to the end, collecting where each pause left it. */
function guidedStops(seed: string): { t: number; events: number; hash: string; mask: string }[] {
  const lab = new Lab();
  lab.load(GUIDED, { seed });
  lab.setGuided(true);
  lab.play(1);
  const stops = [];
  for (let i = 0; i < 10_000; i++) {
    const s = lab.advance(16);
    if (s.done) break;
    if (!s.playing) {
      stops.push({ t: s.t, events: s.eventCount, hash: s.traceHash, mask: reachedMask(s) });
      lab.play(1);
    }
  }
  return stops;
}

describe('guided play stops at the narration anchors', () => {
  const stops = guidedStops('1');

  it('stops once per anchor, in time order, each stop reaching one more step (or two sharing a time)', () => {
    expect(stops.map((s) => s.mask)).toEqual(['1100000', '1110000', '1111000', '1111100', '1111111']);
  });

  it('stops exactly at a time anchor', () => {
    expect(stops[0].t).toBe(100_000);
    expect(stops[4].t).toBe(1_000_000);
  });

  it('stops right after the step that recorded an event anchor’s event: the same place as stepping one event at a time', () => {
    const lab = new Lab();
    lab.load(GUIDED, { seed: '1' });
    const eventSteps = (s: Snapshot) => reachedMask(s).slice(2, 5);
    const naive: typeof stops = [];
    for (let s = lab.snapshot(); !s.done && naive.length < 3; ) {
      const before = eventSteps(s);
      s = lab.step(1);
      if (eventSteps(s) !== before) naive.push({ t: s.t, events: s.eventCount, hash: s.traceHash, mask: reachedMask(s) });
    }
    expect(stops.slice(1, 4)).toEqual(naive);
    // Nothing happened after the matching event but the rest of its own step, all at the same instant.
    const at = new Lab();
    at.load(GUIDED, { seed: '1' });
    const s = at.step({ narration: 3 });
    const seq = s.narration[3].reachedSeq!;
    const [match, ...rest] = at.events(seq);
    expect(match).toMatchObject({ kind: 'node.state', key: 'role', value: 'leader', t: s.t });
    expect(rest.every((e) => e.t === s.t)).toBe(true);
  });

  it('replaying the same seed gives the same stops and hashes; a direct seek to a stop gives its hash too', () => {
    expect(guidedStops('1')).toEqual(stops);
    const lab = new Lab();
    lab.load(GUIDED, { seed: '1' });
    expect(lab.seek(1_000_000).traceHash).toBe(stops[4].hash);
    const stepped = new Lab();
    stepped.load(GUIDED, { seed: '1' });
    let s = stepped.snapshot();
    while (s.eventCount < stops[2].events) s = stepped.step(1);
    expect(s.traceHash).toBe(stops[2].hash);
  });

  it('without guided mode, playing runs through the anchors', () => {
    const lab = new Lab();
    lab.load(GUIDED, { seed: '1' });
    lab.play(100);
    const s = lab.advance(16); // 1.6 s of virtual time in one frame
    expect(s.playing).toBe(true);
    expect(s.t).toBe(1_600_000);
    expect(() => lab.setGuided('yes' as unknown as boolean)).toThrow(LabError);
  });
});

describe('Next, Back and Reveal', () => {
  function lab(seed = '1') {
    const l = new Lab();
    l.load(GUIDED, { seed });
    return l;
  }

  it('Next goes anchor by anchor; Back to a step puts the run at its anchor again, with the same hash', () => {
    const l = lab();
    const hops = [1, 2, 3, 4, 5].map(() => l.step({ narration: 'next' }));
    expect(hops.map(reachedMask)).toEqual(['1100000', '1110000', '1111000', '1111100', '1111111']);
    const back = l.step({ narration: 3 });
    expect(reachedMask(back)).toBe('1111000');
    expect(back.traceHash).toBe(hops[2].traceHash);
    expect(back.eventCount).toBe(hops[2].eventCount);
    expect(l.step({ narration: 1 }).t).toBe(100_000);
    expect(reachedMask(l.snapshot())).toBe('1100000');
  });

  it('refuses steps and questions that do not exist', () => {
    const l = lab();
    expect(() => l.step({ narration: 7 })).toThrow(/narration step 7 does not exist \(the scenario has 7 narration steps\)/);
    expect(() => l.step({ reveal: 3 })).toThrow(/narration step 3 asks no question/);
    expect(() => l.step({ reveal: -1 })).toThrow(LabError);
  });

  it('a node question: the node of the next matching event after the step, read from the trace', () => {
    const l = lab();
    const s = l.step({ reveal: 2 });
    const r = s.narration[2].reveal!;
    const [leader] = l.events(0, 1, { kinds: ['node.state'], text: '"value":"leader"' });
    expect(r).toMatchObject({ value: leader.kind === 'node.state' ? leader.node : null, evidenceSeq: leader.seq, t: leader.t });
    // The step itself was reached on the way (its question is posed when it is).
    expect(s.narration[2].reachedAt).not.toBeNull();
    expect(s.t).toBe(leader.t);
  });

  it('a metric question at a time: seeks there (back, if the run is past it) and reads the metric', () => {
    const l = lab();
    l.seek(2_500_000);
    const s = l.step({ reveal: 5 });
    expect(s.t).toBe(2_000_000);
    const direct = lab().seek(2_000_000).metrics.writesAcked;
    expect(s.narration[5].reveal).toMatchObject({ value: direct, t: 2_000_000, evidenceSeq: null });
  });

  it('a checker question at the end: runs to the end; no violation is a "no"', () => {
    const s = lab().step({ reveal: 6 });
    expect(s.done).toBe(true);
    expect(s.narration[6].reveal).toMatchObject({ value: false, detail: 'raft.safety reported no violation' });
  });

  it('a checker question with a teaching bug: "yes", with the first violation as evidence', () => {
    const s = structuredClone(SCENARIOS.find((x) => x.id === 'raft-vote-persistence-bug')!) as any;
    s.narration = [{ at: '0', text: 'boot', ask: { question: 'two leaders?', answer: { from: 'checker' } } }];
    const l = new Lab();
    l.load(s);
    const r = l.step({ reveal: 0 }).narration[0].reveal!;
    expect(r.value).toBe(true);
    expect(l.events(r.evidenceSeq!, 1)[0].kind).toBe('check.violation');
  });

  it('answers survive a seek back; a fault injected before their reveal point forgets them', () => {
    const l = lab();
    l.step({ reveal: 5 });
    expect(l.seek(1_500_000).narration[5].reveal?.value).toBeGreaterThan(0);
    l.inject({ kind: 'crash', node: 'r1' });
    expect(l.snapshot().narration[5].reveal).toBeNull();
  });
});
