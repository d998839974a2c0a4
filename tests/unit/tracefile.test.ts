/**
 * Trace export/import as an edge: every malformed file is refused with a message that names what and where, and the
 * Lab's current run stays exactly as it was. A good trace (JSON or JSON Lines) replays to the same hash; a trace whose
 * actions were changed diverges and the error names the first differing event.
 */
import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/sim/lab.ts';
import { TRACE_TEXT_MAX } from '../../src/sim/tracefile.ts';
import { hashEvents } from '../../src/sim/kernel/trace.ts';
import { SCENARIOS } from '../../src/scenarios/index.ts';

function exported(seed = 'tf') {
  const lab = new Lab();
  lab.load('ping-pong', { seed });
  lab.seek(2_000_000);
  lab.inject({ kind: 'crash', node: 'n1' });
  lab.seek(2_400_000);
  return { lab, json: lab.exportTrace('json'), jsonl: lab.exportTrace('jsonl') };
}

/** A Lab at some other point, whose state must not change when an import fails. */
function bystander() {
  const lab = new Lab();
  lab.load('ping-pong', { seed: 'keep' });
  lab.seek(3_000_000);
  return { lab, before: lab.snapshot() };
}

function rejects(text: string, message: string | RegExp) {
  const { lab, before } = bystander();
  expect(() => lab.importTrace(text)).toThrow(message);
  expect(lab.snapshot()).toEqual(before);
}

describe('trace round trip', () => {
  it.each(['json', 'jsonl'] as const)('%s export imports and replays to the same hash', (format) => {
    const { lab, json, jsonl } = exported();
    const other = new Lab();
    const res = other.importTrace(format === 'json' ? json : jsonl);
    expect(res.hash).toBe(lab.summary().traceHash);
    expect(other.snapshot().t).toBe(2_400_000);
    expect(other.snapshot().actions).toEqual(lab.snapshot().actions);
    // The imported run continues exactly like the original.
    lab.runToEnd();
    other.runToEnd();
    expect(other.summary().traceHash).toBe(lab.summary().traceHash);
  });

  it('a trace of a custom scenario carries its data and replays without the registry', () => {
    const lab = new Lab();
    const custom = { ...structuredClone(SCENARIOS[0]), id: 'my-own', duration: '1s', faults: [] };
    lab.load(custom, { seed: 'c' });
    lab.runToEnd();
    const other = new Lab();
    expect(other.importTrace(lab.exportTrace()).scenario).toBe('my-own');
  });
});

describe('trace import rejects bad input and keeps the current run', () => {
  it('malformed JSON', () => rejects('{"format": "streamlab-trace", ', /not valid JSON/));
  it('empty file', () => rejects('   ', 'file is empty'));
  it('not an object', () => rejects('[1,2,3]', 'expected a JSON object'));

  it('wrong format and version', () => {
    const doc = JSON.parse(exported().json);
    rejects(JSON.stringify({ ...doc, format: 'other' }), /format: expected "streamlab-trace"/);
    rejects(JSON.stringify({ ...doc, version: 2 }), /version: this lab reads version 1 traces/);
  });

  it('wrong types, named by path', () => {
    const doc = JSON.parse(exported().json);
    rejects(JSON.stringify({ ...doc, seed: 5 }), /^import failed: seed: /);
    rejects(JSON.stringify({ ...doc, actions: [{ kind: 'crash', node: 'n1', at: 'soon' }] }), /actions\[0\]\.at/);
    const events = [...doc.events];
    events[3] = { ...events[3], t: 'x' };
    rejects(JSON.stringify({ ...doc, events }), /events\[3\]\.t/);
    events[3] = { ...doc.events[3], kind: 'msg.teleport' };
    rejects(JSON.stringify({ ...doc, events }), /events\[3\]\.kind/);
  });

  it('truncated files and edited events', () => {
    const { json, jsonl } = exported();
    rejects(json.slice(0, json.length / 2), /not valid JSON/);
    const lines = jsonl.trim().split('\n');
    rejects(lines.slice(0, -10).join('\n'), /eventCount: header says \d+ events, file has \d+ \(truncated\?\)/);
    const doc = JSON.parse(json);
    doc.events[10].t += 1;
    rejects(JSON.stringify(doc), /hash: header says [0-9a-f]{16}, events hash to/);
  });

  it('an oversized file is refused before parsing', () => {
    rejects(' '.repeat(TRACE_TEXT_MAX + 1), /file is 67\.1 MB; the limit is 64 MB/);
  });

  it('prototype-pollution keys and deep nesting', () => {
    const doc = JSON.parse(exported().json);
    const text = JSON.stringify(doc).replace('"format":', '"__proto__":{"polluted":true},"format":');
    rejects(text, 'forbidden key "__proto__"');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const deep = '['.repeat(100) + ']'.repeat(100);
    const events = [...doc.events];
    events[0] = { ...events[0], body: JSON.parse(deep) };
    rejects(JSON.stringify({ ...doc, events }), /events\[0\]: nested deeper than 64 levels/);
  });

  it('a trace whose actions differ from its events diverges, naming the first differing event', () => {
    const doc = JSON.parse(exported().json);
    doc.actions[0].node = 'n3';
    doc.hash = hashEvents(doc.events);
    rejects(JSON.stringify(doc), /replay diverged .* first difference at event #\d+: trace has \{.*"node":"n1".*\}, re-run has \{.*"node":"n3"/);
  });

  it('a trace naming an unknown node kind in its scenario is refused with the path', () => {
    const doc = JSON.parse(exported().json);
    doc.config.scenario.topology.nodes[0].kind = 'paxos';
    rejects(JSON.stringify(doc), /config\.invalid scenario: topology\.nodes\[0\]\.kind: unknown node kind "paxos"/);
  });
});
