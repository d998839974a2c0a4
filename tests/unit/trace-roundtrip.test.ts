/**
 * Native traces as artefacts: for every built-in scenario, run → export (JSON and JSON Lines) → import → replay gives
 * the same hash; the streamed chunks join to exactly the text `exportTrace` returns (and the JSON layout is the one
 * earlier versions wrote); the header carries format, version, app version, scenario, seed, settings, actions and
 * hash. Opening a trace for viewing validates it, shows its recorded events and summary without re-running, and
 * leaves the current run alone.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../src/scenarios/index.ts';
import { EXPORT_FORMAT_NAMES, joinChunks } from '../../src/sim/export/index.ts';
import { Lab, LabError } from '../../src/sim/lab.ts';
import { APP_VERSION, headerOf, parseTrace, traceChunks } from '../../src/sim/tracefile.ts';
import { allEvents } from './export-fixtures.ts';

describe('round trip for every built-in scenario', () => {
  it.each(SCENARIOS.map((s) => s.id))('%s: run → export → import → replay gives the same hash', (id) => {
    const lab = new Lab();
    lab.load(id, { seed: 'rt-1' });
    const end = lab.snapshot().durationUs;
    lab.seek(Math.round(end * 0.4));
    const nodes = lab.snapshot().nodes.filter((n) => n.status === 'up');
    // A user action, so the replay also has to honour the recorded actions.
    if (nodes.length > 1) lab.inject({ kind: 'pause', node: nodes[nodes.length - 1].id });
    lab.seek(Math.round(end * 0.6));
    // Mid-run: the imported run stands exactly where the original stood (clock and steps) and continues the same way.
    const mid = new Lab();
    mid.importTrace(lab.exportTrace('jsonl'));
    expect({ t: mid.snapshot().t, steps: mid.snapshot().steps }).toEqual({ t: lab.snapshot().t, steps: lab.snapshot().steps });
    lab.runToEnd();
    mid.runToEnd();
    const hash = lab.summary().traceHash;
    expect(mid.summary().traceHash).toBe(hash);
    for (const format of ['json', 'jsonl'] as const) {
      const text = lab.exportTrace(format);
      const other = new Lab();
      const res = other.importTrace(text);
      expect(res.hash).toBe(hash);
      expect(res.events).toBe(lab.summary().events);
      expect(other.summary().traceHash).toBe(hash);
      expect(other.snapshot().actions).toEqual(lab.snapshot().actions);
      // Re-exporting the replayed run gives the same file, byte for byte.
      expect(other.exportTrace(format)).toBe(text);
    }
  });
});

describe('native format', () => {
  const lab = new Lab();
  lab.load('raft-leader-crash', { seed: 'hdr', bugs: ['commit-old-term'] });
  lab.seek(1_000_000);
  lab.inject({ kind: 'crash', node: 'r3' });
  lab.seek(1_500_000);

  it('the header carries format, version, app version, scenario, seed, settings, actions and hash', () => {
    const header = JSON.parse(lab.exportTrace('jsonl').split('\n')[0]);
    expect(Object.keys(header)).toEqual(['format', 'version', 'app', 'scenario', 'seed', 'config', 'actions', 'eventCount', 'steps', 'virtualUs', 'hash']);
    expect(header).toMatchObject({ format: 'streamlab-trace', version: 1, app: APP_VERSION, scenario: 'raft-leader-crash', seed: 'hdr', virtualUs: 1_500_000 });
    expect(header.config.bugs).toEqual(['commit-old-term']);
    expect(header.config.scenario.topology.nodes).toHaveLength(6);
    expect(header.actions).toEqual([expect.objectContaining({ kind: 'crash', node: 'r3', at: 1_000_000 })]);
    expect(header.hash).toBe(lab.summary().traceHash);
  });

  it('JSON keeps the layout earlier versions wrote: header fields, then one event a line', () => {
    const json = lab.exportTrace('json');
    const lines = json.split('\n');
    const events = allEvents(lab);
    expect(lines[0].endsWith(',"events":[')).toBe(true);
    expect(lines.slice(1, -3)).toEqual(events.slice(0, -1).map((e) => JSON.stringify(e) + ','));
    expect(lines.slice(-3)).toEqual([JSON.stringify(events.at(-1)), ']}', '']);
  });

  it.each(['json', 'jsonl'] as const)('%s streams in chunks that join to the exported text', (format) => {
    const chunks = [...lab.exportChunks(format)];
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join('')).toBe(lab.exportTrace(format));
    for (const c of chunks.slice(0, -1)) expect(c.length).toBeGreaterThanOrEqual(64 * 1024);
    expect(joinChunks(traceChunks(lab.header(), allEvents(lab), format))).toBe(lab.exportTrace(format));
  });

  it('every export format is available from the Lab, and unknown ones are refused', () => {
    for (const f of EXPORT_FORMAT_NAMES) expect(lab.exportTrace(f).length).toBeGreaterThan(100);
    expect(() => lab.exportTrace('xml' as never)).toThrow(LabError);
    expect(() => lab.exportTrace('xml' as never)).toThrow(/unknown format "xml"/);
  });

  it('a run loaded without events cannot export', () => {
    const bare = new Lab();
    bare.load('ping-pong', { keepEvents: false });
    bare.runToEnd();
    expect(() => bare.exportTrace('perfetto')).toThrow(/without keeping events/);
  });
});

describe('compatibility', () => {
  it('a trace written before headers carried `steps` still imports and replays to the same hash', () => {
    const lab = new Lab();
    lab.load('ping-pong', { seed: 'old' });
    lab.seek(3_000_000);
    const lines = lab.exportTrace('jsonl').split('\n');
    const { steps: _steps, ...old } = JSON.parse(lines[0]);
    const res = new Lab().importTrace([JSON.stringify(old), ...lines.slice(1)].join('\n'));
    expect(res.hash).toBe(lab.summary().traceHash);
    expect(res.virtualUs).toBe(3_000_000);
  });
});

describe('open a trace for viewing (no re-run)', () => {
  function source() {
    const lab = new Lab();
    lab.load('ping-pong', { seed: 'view' });
    lab.seek(5_500_000);
    return lab;
  }

  it('shows the recorded events and a summary, and exports the same bytes as the run', () => {
    const src = source();
    const viewer = new Lab();
    const view = viewer.openTrace(src.exportTrace('jsonl'));
    const s = src.summary();
    expect(view).toMatchObject({ scenario: 'ping-pong', seed: 'view', hash: s.traceHash, events: s.events, virtualUs: 5_500_000, nodes: ['n1', 'n2', 'n3', 'n4', 'n5'] });
    expect(view.kinds['net.partition']).toBe(1);
    expect(view.nodeState.n2.status).toBe('crashed');
    expect(view.faults.map((f) => f.kind)).toEqual(['partition', 'heal', 'crash']);
    expect(view.messages.sent).toBe(allEvents(src).filter((e) => e.kind === 'msg.send').length);
    expect(viewer.openedEvents(0, 50)).toEqual(src.events(0, 50));
    expect(viewer.openedEvents(100, 20, { kinds: ['msg.drop'], node: 'n5' })).toEqual(src.events(100, 20, { kinds: ['msg.drop'], node: 'n5' }));
    for (const f of EXPORT_FORMAT_NAMES) expect(viewer.exportOpenedTrace(f)).toBe(src.exportTrace(f));
    expect(viewer.openedView()).toEqual(view);
  });

  it('is a separate document: the current run keeps working and is untouched', () => {
    const lab = new Lab();
    lab.load('raft-cold-start', { seed: 'mine' });
    lab.seek(400_000);
    const before = lab.snapshot();
    lab.openTrace(source().exportTrace('json'));
    expect(lab.snapshot()).toEqual(before);
    expect(lab.step(3).steps).toBe(before.steps + 3);
    expect(lab.seek(100_000).t).toBe(100_000);
    expect(lab.summary().scenario).toBe('raft-cold-start');
    lab.closeTrace();
    expect(() => lab.openedEvents()).toThrow(/no trace is open/);
    expect(() => lab.exportOpenedTrace('json')).toThrow(LabError);
  });

  it('a lab with no run can still open and browse a trace; run methods say there is no run', () => {
    const lab = new Lab();
    lab.openTrace(source().exportTrace('json'));
    expect(lab.openedEvents(0, 1)[0].kind).toBe('run.start');
    expect(() => lab.step(1)).toThrow(/no scenario loaded/);
    expect(() => lab.seek(0)).toThrow(LabError);
  });

  it('validates like import; a bad file leaves the open trace as it was', () => {
    const lab = new Lab();
    const good = source().exportTrace('jsonl');
    const view = lab.openTrace(good);
    const doc = parseTrace(good);
    const bad = JSON.stringify({ ...headerOf(doc), hash: '0000000000000000', events: doc.events });
    expect(() => lab.openTrace(bad)).toThrow(/^open failed: hash: header says 0000000000000000/);
    expect(() => lab.openTrace('{')).toThrow(LabError);
    expect(lab.openedView()).toEqual(view);
  });
});
