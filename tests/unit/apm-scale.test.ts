/**
 * What the APM pipeline's speed at the notes' scale rests on, checked at small sizes:
 * - the trace hash memoises only large frozen containers (a WeakMap insert per small one cost more than hashing it
 *   again, and at ten thousand agents the map grew without bound): frozen or not, memoised or not, a value hashes
 *   the same — a differential property over random JSON;
 * - the scale preset (direct server return, quiet agents, one block per topic) stays deterministic, checkpoint and
 *   all, and its books check every point;
 * - the topic layouts: which topics the aggregators subscribe to, and the read counters the topic scenarios compare
 *   (samples read = kept + discarded, exactly three in five discarded when every block carries all five metrics).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamHash } from '../../src/sim/kernel/hash.ts';
import type { TraceEvent } from '../../src/sim/kernel/trace.ts';
import { Lab } from '../../src/sim/lab.ts';
import { APM_QUERIES } from '../../src/scenarios/apm-baseline.ts';
import { APM_METRICS, apmReadTopics, apmScaleShape, apmTopics, apmTopology, type ApmShape } from '../../src/scenarios/apm-common.ts';
import { apmTopicsOne } from '../../src/scenarios/apm-topics.ts';
import type { ScenarioInput } from '../../src/scenarios/schema.ts';

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v as object)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

function hashOf(v: unknown): string {
  const h = new StreamHash();
  h.updateValue(v);
  return h.hex();
}

describe('trace hash memo', () => {
  it('a frozen value hashes like its unfrozen copy, the first time and again (memoised or not)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.integer({ min: 0, max: 300 }), (v, n) => {
        // Wrap the random value with a long array too, so both sides of the memo's size threshold are exercised.
        const value = { v, long: Array.from({ length: n }, (_, i) => `item-${i}`) };
        const plain = JSON.parse(JSON.stringify(value));
        const frozen = deepFreeze(JSON.parse(JSON.stringify(value)));
        const want = hashOf(plain);
        expect(hashOf(frozen)).toBe(want);
        expect(hashOf(frozen)).toBe(want); // served from the memo when it was large enough
        expect(hashOf({ again: frozen })).toBe(hashOf({ again: plain }));
      }),
      { numRuns: 200 },
    );
  });

  it('a shared frozen container inside many events changes no event hash', () => {
    const names = Object.freeze(Array.from({ length: 40 }, (_, i) => `metric.${i}`));
    const a = new StreamHash();
    const b = new StreamHash();
    for (let i = 0; i < 50; i++) {
      a.updateEvent({ t: i, seq: i, kind: 'msg.send', body: { metrics: names, values: [i, i + 0.5] } });
      b.updateEvent({ t: i, seq: i, kind: 'msg.send', body: { metrics: [...names], values: [i, i + 0.5] } });
    }
    expect(a.hex()).toBe(b.hex());
  });
});

function scenario(shape: ApmShape, duration: string): ScenarioInput {
  return {
    id: 'apm-scale-test', title: 'test', summary: '', tags: [], difficulty: 'core', minutes: 1, goals: [], seed: 'apm-scale', duration,
    topology: apmTopology(shape), faults: [], narration: [], expect: [], metrics: [...APM_METRICS, 'pointsChecked'],
  };
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

describe('the scale preset', () => {
  const shape = apmScaleShape({ servers: 80, metricsEmitted: 400, queries: 4, ingest: 2, aggregators: 2 });

  it('answers agents directly, notes no sampled batch, checks every point, and replays to the same hash', () => {
    const input = scenario(shape, '22s');
    const lab = new Lab();
    lab.load(input, { keepEvents: true });
    const mid = lab.step({ until: 9_000_000 });
    expect(mid.t).toBe(9_000_000);
    const end = lab.runToEnd();
    const s = lab.summary();
    expect(s.violations).toEqual([]);
    expect((s.metrics.pointsChecked as number) > 0).toBe(true);
    const events = allEvents(lab);
    expect(events.some((e) => e.kind === 'node.note' && e.name === 'sampled')).toBe(false);
    expect(events.some((e) => e.kind === 'msg.send' && e.msg === 'published' && e.from === 'lb')).toBe(false);
    expect(events.filter((e) => e.kind === 'msg.send' && e.msg === 'published').length).toBeGreaterThan(80 * 20);
    // Seeking back restores a checkpoint and re-runs: the same hash at the end.
    lab.seek(5_000_000);
    expect(lab.runToEnd().traceHash).toBe(end.traceHash);
    // A fresh run of the same input, without kept events, hashes the same.
    const again = new Lab();
    again.load(input, { keepEvents: false });
    expect(again.runToEnd().traceHash).toBe(end.traceHash);
  });
});

describe('topic layouts', () => {
  const base: ApmShape = { servers: 6, queries: APM_QUERIES, dropUnused: false, ingest: 1, aggregators: 1 };

  it('aggregators subscribe to the topics that can hold a queried metric', () => {
    expect(apmTopics({ ...base, topics: 'per-metric' })).toEqual(['metric.cpu', 'metric.rpc.latency', 'metric.rpc.count', 'metric.carts', 'metric.mq.unacked']);
    expect(apmReadTopics({ ...base, topics: 'per-metric' })).toEqual(['metric.cpu', 'metric.rpc.latency']);
    expect(apmReadTopics({ ...base, topics: 'one-topic' })).toEqual(['metrics']);
    expect(apmReadTopics({ ...base, topics: 'per-server' })).toEqual(apmTopics({ ...base, topics: 'per-server' }));
    expect(apmReadTopics({ ...base, topics: 'per-server' }).length).toBe(6);
    // Dropping unused metrics in ingestion leaves only wanted topics: every one is read.
    expect(apmReadTopics({ ...base, dropUnused: true })).toEqual(apmTopics({ ...base, dropUnused: true }));
  });

  it('the read counters add up: with one topic every block carries all five metrics, and three in five are discarded', () => {
    const lab = new Lab();
    lab.load({ ...apmTopicsOne, duration: '12s', expect: [], narration: [] }, { keepEvents: false });
    lab.runToEnd();
    const m = lab.summary().metrics as Record<string, number>;
    expect(m['apm.samplesRead']).toBeGreaterThan(500);
    expect(m['apm.samplesDiscarded'] * 5).toBe(m['apm.samplesRead'] * 3);
    expect(m['apm.bytesRead.agg-1'] + m['apm.bytesRead.agg-2']).toBe(m['apm.bytesRead']);
    expect(m['apm.partitionsRead.agg-1'] + m['apm.partitionsRead.agg-2']).toBe(4);
    expect(lab.summary().violations).toEqual([]);
  });
});
