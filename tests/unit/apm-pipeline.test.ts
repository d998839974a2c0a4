/**
 * The APM pipeline end to end, driven through the Lab: the window books' checker at both scales (sample lists and
 * digests) and the rules it watches (duplicates counted once, acks only after the store, zombies fenced), ingestion's
 * sample blocks against one message per sample, the autoscaler's bound, and the agents' one-draw maximum.
 */
import { describe, expect, it } from 'vitest';
import { inverseNormal } from '../../src/sim/apm/agent.ts';
import { Lab } from '../../src/sim/lab.ts';
import { APM_QUERIES } from '../../src/scenarios/apm-baseline.ts';
import { APM_METRICS, apmScaleShape, apmTopology, type ApmShape } from '../../src/scenarios/apm-common.ts';
import { findScenario } from '../../src/scenarios/index.ts';
import type { ScenarioInput } from '../../src/scenarios/schema.ts';
import type { TraceEvent } from '../../src/sim/kernel/trace.ts';

function scenario(shape: ApmShape, duration: string, extra: Partial<ScenarioInput> = {}): ScenarioInput {
  return {
    id: 'apm-test', title: 'test', summary: '', tags: [], difficulty: 'core', minutes: 1, goals: [], seed: 'apm-test', duration,
    topology: apmTopology(shape), faults: [], narration: [], expect: [], metrics: [...APM_METRICS, 'pointsChecked'], ...extra,
  };
}

function run(input: ScenarioInput, opts: { bugs?: string[]; seed?: string } = {}) {
  const lab = new Lab();
  lab.load(input, { keepEvents: true, ...opts });
  lab.runToEnd();
  return { lab, s: lab.summary(), events: allEvents(lab) };
}

function allEvents(lab: Lab): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (let from = 0; ; ) {
    const page = lab.events(from, 10_000);
    if (page.length === 0) return out;
    out.push(...page);
    from = page[page.length - 1].seq + 1;
  }
}

const notes = (events: TraceEvent[], name: string) => events.filter((e): e is Extract<TraceEvent, { kind: 'node.note' }> => e.kind === 'node.note' && e.name === name);
const metric = (s: { metrics: Record<string, unknown> }, k: string) => s.metrics[k] as number;

describe('APM window books', () => {
  it('a crash with acks before the store loses acknowledged samples; with the rule, nothing is lost', () => {
    const input = findScenario('apm-aggregator-crash')!;
    expect(run(input).s.violations).toEqual([]);
    const buggy = run(input, { bugs: ['apm-ack-before-write'] }).s.violations;
    expect(buggy.length).toBeGreaterThan(0);
    expect(buggy[0].message).toMatch(/disagree with the samples the queue acknowledged/);
    expect(JSON.stringify(buggy[0].evidence)).toMatch(/was acknowledged, neither counted nor late nor still queued/);
  });

  it('a redelivered sample is counted once; without the duplicate check the books see it twice', () => {
    const input = findScenario('apm-lb-round-robin')!;
    const { s } = run(input);
    expect(s.violations).toEqual([]);
    const buggy = run(input, { bugs: ['apm-no-dedupe'] }).s.violations;
    expect(JSON.stringify(buggy[0]?.evidence)).toMatch(/counted web-\d+@\d+ twice/);
  });

  it('at scale the evidence is a digest, and the books still check every point and catch a double count', () => {
    const shape = { ...apmScaleShape({ servers: 60, metricsEmitted: 200, queries: 4, ingest: 2, aggregators: 2 }), link: { latencyMs: 1, jitterMs: 0.5 } };
    const clean = run(scenario(shape, '33s'));
    expect(clean.s.violations).toEqual([]);
    const windows = notes(clean.events, 'window');
    expect(windows.length).toBeGreaterThanOrEqual(6); // two metrics' 10 s windows: 0, 10 and 20 s
    // 60 servers × 10 s = 600 samples a point: too many to list, so only the digest goes in the trace.
    const big = windows.filter((e) => (e.data as { count: number }).count > 400);
    expect(big.length).toBeGreaterThan(0);
    for (const e of big) expect(e.data).not.toHaveProperty('samples');
    expect(metric(clean.s, 'pointsChecked')).toBeGreaterThan(0);
    // Duplicating links make copies; a pipeline that counts them is caught by digest alone.
    const dup = scenario(shape, '33s', { faults: [{ at: '3s', kind: 'link', from: '*', to: '*', set: { dup: 0.3 } }] });
    expect(run(dup).s.violations).toEqual([]);
    const buggy = run(dup, { bugs: ['apm-no-dedupe'] }).s.violations;
    expect(buggy.length).toBeGreaterThan(0);
    expect(JSON.stringify(buggy[0].evidence)).toMatch(/counted \d+ samples/);
  });

  it('a paused aggregator wakes as a zombie: the store fences its stale windows and the books stay whole', () => {
    const base = findScenario('apm-baseline')!;
    const { s, events } = run({ ...base, faults: [{ at: '5.5s', kind: 'pause', node: 'agg-1' }, { at: '14s', kind: 'resume', node: 'agg-1' }] });
    expect(s.violations).toEqual([]);
    expect(notes(events, 'fenced').length).toBeGreaterThan(0);
    expect(metric(s, 'windows')).toBeGreaterThanOrEqual(12);
  });
});

describe('APM ingestion blocks', () => {
  it('blocks of samples in columns give the same windows as one message per sample', () => {
    const shape: ApmShape = { servers: 8, queries: APM_QUERIES, ingest: 2, aggregators: 2, partitionsPerTopic: 2 };
    const merged = (events: TraceEvent[]) => {
      const out: Record<string, { count: number; min: number; max: number; sum: number }> = {};
      for (const e of notes(events, 'window')) {
        const d = e.data as { query: string; start: number; count: number; min: number; max: number; sum: number };
        const w = (out[`${d.query}@${d.start}`] ??= { count: 0, min: Infinity, max: -Infinity, sum: 0 });
        w.count += d.count;
        w.min = Math.min(w.min, d.min);
        w.max = Math.max(w.max, d.max);
        w.sum = Math.round((w.sum + d.sum) * 1e6) / 1e6;
      }
      return out;
    };
    const one = run(scenario(shape, '34s'));
    const blocks = run(scenario({ ...shape, ingestConfig: { blockMs: 100 } }, '34s'));
    expect(one.s.violations).toEqual([]);
    expect(blocks.s.violations).toEqual([]);
    const a = merged(one.events);
    expect(Object.keys(a).length).toBe(6);
    expect(merged(blocks.events)).toEqual(a);
    // …with fewer messages through the queue (eight servers fill small blocks; at scale one holds hundreds).
    expect(metric(blocks.s, 'produced')).toBeLessThan(metric(one.s, 'produced'));
  });
});

describe('APM autoscaler', () => {
  it('adds aggregators while lag grows, and stops at one per partition', () => {
    const input = findScenario('apm-autoscale')!;
    const slow = structuredClone(input);
    for (const n of slow.topology.nodes) if (n.kind === 'mq-consumer') n.config = { ...n.config, processMs: 400 };
    const { s, events } = run(slow);
    expect(s.violations).toEqual([]);
    const steps = notes(events, 'scale').map((e) => (e.data as { to: number }).to);
    expect(steps).toEqual([2, 3, 4]);
    expect(notes(events, 'scale-capped').length).toBeGreaterThan(0);
  });
});

describe('agent sampling', () => {
  it('inverseNormal matches the standard normal quantiles', () => {
    for (const [p, z] of [[0.5, 0], [0.975, 1.959963985], [0.025, -1.959963985], [0.999, 3.090232306], [1e-6, -4.753424309]] as const) {
      expect(inverseNormal(p)).toBeCloseTo(z, 6);
    }
  });
});
