/**
 * Fuzzing the importer with fast-check over mutated traces: events deleted, duplicated, swapped, edited; fields of
 * the header or an event flipped to another JSON type; keys injected (prototype keys included); the text cut at a
 * random byte offset; in JSON and JSON Lines. Whatever the mutation:
 * - import and open never throw anything but a LabError (no TypeError, RangeError or assertion from deep inside);
 * - there is no silent partial import: either the file is refused and the current run is untouched, or the import
 *   succeeds and its hash is the hash of the re-run, which equals the hash recomputed over the file's own events.
 * fast-check prints the seed and the shrunk mutation of any failure; re-run with `{ seed, path }` to reproduce.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashEvents, type TraceEvent } from '../../src/sim/kernel/trace.ts';
import { Lab, LabError } from '../../src/sim/lab.ts';
import { parseTrace } from '../../src/sim/tracefile.ts';
import { findScenario } from '../../src/scenarios/index.ts';

/** A short run with a fault and a user action, so a replay is quick and the header has something in every field. */
function base() {
  const s = structuredClone(findScenario('ping-pong')) as unknown as Record<string, any>;
  s.id = 'fuzz';
  s.duration = '600ms';
  s.faults = [{ at: '200ms', kind: 'partition', shape: 'isolate', node: 'n5' }, { at: '400ms', kind: 'heal' }];
  // The scenario's own narration runs past 600 ms, which the schema refuses for a run this short.
  s.narration = [];
  const lab = new Lab();
  lab.load(s, { seed: 'fuzz' });
  lab.seek(300_000);
  lab.inject({ kind: 'crash', node: 'n2' });
  lab.runToEnd();
  const jsonl = lab.exportTrace('jsonl');
  const lines = jsonl.trimEnd().split('\n');
  return { header: JSON.parse(lines[0]) as Record<string, unknown>, events: lines.slice(1).map((l) => JSON.parse(l) as Record<string, unknown>), hash: lab.summary().traceHash };
}

const BASE = base();

type Doc = { header: Record<string, unknown>; events: Record<string, unknown>[] };

const jsonValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 1_000_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 8 }),
  fc.constant([]),
  fc.constant({}),
  fc.constant([1, 'x']),
  fc.constant({ kind: 'crash', node: 'n1' }),
);

const keyName = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 't', 'seq', 'kind', 'node', 'hash', 'x'), fc.string({ minLength: 1, maxLength: 6 }));

/** A mutation of the parsed document, or of its text. */
const mutation = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), i: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), i: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), i: fc.nat(), j: fc.nat() }),
  fc.record({ op: fc.constant('flip-event' as const), i: fc.nat(), k: fc.nat(), value: jsonValue }),
  fc.record({ op: fc.constant('flip-header' as const), k: fc.nat(), value: jsonValue }),
  fc.record({ op: fc.constant('inject-event' as const), i: fc.nat(), key: keyName, value: jsonValue }),
  fc.record({ op: fc.constant('inject-header' as const), key: keyName, value: jsonValue }),
  fc.record({ op: fc.constant('edit-time' as const), i: fc.nat(), delta: fc.integer({ min: -3, max: 3 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ op: fc.constant('none' as const) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutateDoc(doc: Doc, m: Mutation): void {
  const n = doc.events.length;
  const ev = (i: number) => doc.events[i % n];
  switch (m.op) {
    case 'delete':
      doc.events.splice(m.i % n, 1);
      return;
    case 'duplicate':
      doc.events.splice(m.i % n, 0, structuredClone(ev(m.i)));
      return;
    case 'swap': {
      const a = m.i % n;
      const b = m.j % n;
      [doc.events[a], doc.events[b]] = [doc.events[b], doc.events[a]];
      return;
    }
    case 'flip-event': {
      const e = ev(m.i);
      const keys = Object.keys(e);
      e[keys[m.k % keys.length]] = m.value;
      return;
    }
    case 'flip-header': {
      const keys = Object.keys(doc.header);
      doc.header[keys[m.k % keys.length]] = m.value;
      return;
    }
    case 'inject-event':
      Object.defineProperty(ev(m.i), m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      return;
    case 'inject-header':
      Object.defineProperty(doc.header, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      return;
    case 'edit-time': {
      const e = ev(m.i);
      e.t = (e.t as number) + m.delta;
      return;
    }
    case 'truncate':
    case 'none':
      return;
  }
}

function render(doc: Doc, format: 'json' | 'jsonl'): string {
  if (format === 'jsonl') return [JSON.stringify(doc.header), ...doc.events.map((e) => JSON.stringify(e))].join('\n') + '\n';
  return JSON.stringify({ ...doc.header, events: doc.events });
}

/**
 * With `rehash` the mutated events get a fresh count and hash, as a careful forger (or a buggy tool) would write
 * them: the file then passes the checksum and only the re-run can tell it from the real run.
 */
function mutated(ms: Mutation[], format: 'json' | 'jsonl', rehash = false): string {
  const doc: Doc = { header: structuredClone(BASE.header), events: structuredClone(BASE.events) };
  for (const m of ms) mutateDoc(doc, m);
  if (rehash) {
    doc.header.eventCount = doc.events.length;
    doc.header.hash = hashEvents(doc.events as unknown as TraceEvent[]);
  }
  let text = render(doc, format);
  for (const m of ms) if (m.op === 'truncate') text = text.slice(0, Math.floor(text.length * m.at));
  return text;
}

/** The Lab whose run must survive every refused file. */
const keeper = new Lab();
keeper.load('ping-pong', { seed: 'keeper' });
keeper.seek(250_000);
const keeperBefore = keeper.snapshot();

describe('importing mutated traces', () => {
  it('the unmutated trace imports to its hash (the fuzz starts from a good file)', () => {
    expect(new Lab().importTrace(mutated([], 'jsonl')).hash).toBe(BASE.hash);
    expect(new Lab().importTrace(mutated([], 'json')).hash).toBe(BASE.hash);
  });

  it('never crashes with anything but a LabError, and never imports part of a trace', () => {
    const outcomes = { refused: 0, diverged: 0, imported: 0 };
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.constantFrom('json' as const, 'jsonl' as const), fc.boolean(), (ms, format, rehash) => {
        const text = mutated(ms, format, rehash);
        let result;
        try {
          result = keeper.importTrace(text);
        } catch (e) {
          if (!(e instanceof LabError)) throw new Error(`not a LabError: ${e instanceof Error ? e.stack : String(e)}`);
          expect(e.message).toMatch(/^import failed: \S/);
          if (/replay diverged/.test(e.message)) outcomes.diverged++;
          else outcomes.refused++;
          expect(keeper.snapshot()).toEqual(keeperBefore);
          return;
        }
        outcomes.imported++;
        // Success: the file's own events hash to the claimed hash, and the re-run reproduced every one of them.
        const file = parseTrace(text);
        expect(hashEvents(file.events as TraceEvent[])).toBe(result.hash);
        expect(keeper.summary().traceHash).toBe(result.hash);
        expect(keeper.summary().events).toBe(file.events.length);
        keeper.load('ping-pong', { seed: 'keeper' });
        keeper.seek(250_000);
      }),
      { numRuns: 400 },
    );
    // The fuzz reaches every outcome: refused by validation, refused by the re-run, and imported.
    expect(outcomes.refused).toBeGreaterThan(100);
    expect(outcomes.diverged).toBeGreaterThan(10);
    expect(outcomes.imported).toBeGreaterThan(0);
  });

  it('open (view only) never crashes and never opens a file whose events do not match its hash', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.constantFrom('json' as const, 'jsonl' as const), fc.boolean(), (ms, format, rehash) => {
        const text = mutated(ms, format, rehash);
        const lab = new Lab();
        try {
          const view = lab.openTrace(text);
          expect(hashEvents(lab.openedEvents(0, 10_000))).toBe(view.hash);
          expect(view.events).toBe(lab.openedEvents(0, 10_000).length);
        } catch (e) {
          if (!(e instanceof LabError)) throw new Error(`not a LabError: ${e instanceof Error ? e.stack : String(e)}`);
          expect(e.message).toMatch(/^open failed: \S/);
        }
      }),
      { numRuns: 400 },
    );
  });
});
