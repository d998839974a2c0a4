/**
 * The ShiViz log: the file starts with ShiViz's default parser and an empty delimiter line, that default regex
 * (`(?<event>.*)\n(?<host>\S*) (?<clock>{.*})`) parses every event of the log in order, and the vector clocks are legal:
 * each host's own entry starts at 1 and grows by exactly 1 per event of that host, no entry ever goes down along a
 * host, a delivery's clock dominates its send's clock, and no entry names a host beyond what that host had done.
 */
import { describe, expect, it } from 'vitest';
import { joinChunks } from '../../src/sim/export/chunks.ts';
import { eventText, SHIVIZ_REGEX, shivizChunks, VectorClocks, type VectorClock } from '../../src/sim/export/shiviz.ts';
import type { TraceEvent } from '../../src/sim/kernel/trace.ts';
import { pingRun, stressRun, type Run } from './export-fixtures.ts';

interface Parsed {
  event: string;
  host: string;
  clock: VectorClock;
}

/** Splits the file as ShiViz does: regex line, delimiter line, then the log matched with the regex, globally. */
function parse(text: string): { regex: string; delimiter: string; events: Parsed[] } {
  const [regex, delimiter] = text.split('\n', 2);
  const log = text.slice(regex.length + 1 + delimiter.length + 1);
  // ShiViz's default, as ShiViz writes it; `{` without the u flag is a literal brace.
  const re = new RegExp(regex === '' ? SHIVIZ_REGEX : regex, 'g');
  const events = [...log.matchAll(re)].map((m) => ({ event: m.groups!.event, host: m.groups!.host, clock: JSON.parse(m.groups!.clock) as VectorClock }));
  return { regex, delimiter, events };
}

function checkLegal(run: Run) {
  const text = joinChunks(shivizChunks(run.header, run.events));
  const { regex, delimiter, events } = parse(text);
  expect(regex).toBe('(?<event>.*)\\n(?<host>\\S*) (?<clock>{.*})');
  expect(delimiter).toBe('');
  expect(events).toHaveLength(run.events.length);
  const last = new Map<string, VectorClock>();
  const sendClock = new Map<number, VectorClock>();
  events.forEach((p, i) => {
    const e = run.events[i];
    expect(p.event).toBe(eventText(e));
    expect(p.event.startsWith(`t=${e.t}us ${e.kind} `)).toBe(true);
    const own = p.clock[p.host];
    const prev = last.get(p.host);
    expect(own, `own entry of ${p.host} at event ${i}`).toBe((prev?.[p.host] ?? 0) + 1);
    for (const [h, n] of Object.entries(p.clock)) {
      expect(Number.isInteger(n) && n >= 1).toBe(true);
      if (prev) expect(n).toBeGreaterThanOrEqual(prev[h] ?? 0);
      // Nobody knows more of a host than that host has done.
      if (h !== p.host) expect(n).toBeLessThanOrEqual(last.get(h)?.[h] ?? 0);
    }
    if (prev) for (const h of Object.keys(prev)) expect(p.clock[h]).toBeDefined();
    if (e.kind === 'msg.send') {
      expect(p.host).toBe(e.from);
      sendClock.set(e.id, p.clock);
    }
    if (e.kind === 'msg.deliver') {
      expect(p.host).toBe(e.to);
      const sent = sendClock.get(e.id)!;
      for (const [h, n] of Object.entries(sent)) expect(p.clock[h], `receive ≥ send for #${e.id}`).toBeGreaterThanOrEqual(n);
    }
    last.set(p.host, p.clock);
  });
  return events;
}

describe('ShiViz export', () => {
  it('parses with the default regex and has legal clocks on a stress run (loss, duplicates, crash, partition)', () => {
    const events = checkLegal(stressRun());
    expect(new Set(events.map((e) => e.host))).toEqual(new Set(['world', 'r1', 'r2', 'r3', 'r4', 'r5', 'c1']));
  });

  it('parses with the default regex and has legal clocks on ping-pong', () => {
    checkLegal(pingRun());
  });

  it('every host starts at 1', () => {
    const { events } = parse(joinChunks(shivizChunks(pingRun().header, pingRun().events)));
    const first = new Map<string, VectorClock>();
    for (const e of events) if (!first.has(e.host)) first.set(e.host, e.clock);
    for (const [host, clock] of first) expect(clock[host]).toBe(1);
  });

  it('a receive merges the sender’s clock, then increments; a duplicate merges the same send', () => {
    const vc = new VectorClocks(['a', 'b']);
    const ev = (kind: string, rest: object) => ({ t: 0, seq: 0, kind, ...rest }) as TraceEvent;
    expect(vc.event(ev('timer.fire', { node: 'a', name: 'x' })).clock).toEqual({ a: 1 });
    expect(vc.event(ev('msg.send', { id: 1, from: 'a', to: 'b', msg: 'm', body: null, size: 1, deliverAt: 5 })).clock).toEqual({ a: 2 });
    expect(vc.event(ev('msg.dup', { id: 1, copy: 1, from: 'a', to: 'b', msg: 'm', deliverAt: 6 })).clock).toEqual({ a: 3 });
    expect(vc.event(ev('timer.fire', { node: 'b', name: 'y' })).clock).toEqual({ b: 1 });
    expect(vc.event(ev('msg.deliver', { id: 1, from: 'a', to: 'b', msg: 'm', sentAt: 0 })).clock).toEqual({ b: 2, a: 2 });
    expect(vc.event(ev('msg.deliver', { id: 1, from: 'a', to: 'b', msg: 'm', sentAt: 0 })).clock).toEqual({ b: 3, a: 2 });
    // A drop happens on the wire: the world's own event, merged into nobody.
    vc.event(ev('msg.send', { id: 2, from: 'b', to: 'a', msg: 'm', body: null, size: 1, deliverAt: 5 }));
    expect(vc.event(ev('msg.drop', { id: 2, from: 'b', to: 'a', msg: 'm', reason: 'loss' }))).toEqual({ host: 'world', clock: { world: 1 } });
  });

  it('a node called "world" keeps its name; the pseudo-host steps aside', () => {
    expect(new VectorClocks(['world', 'b']).world).toBe('world_');
  });

  it('event text never spans lines and never looks like a clock line', () => {
    const e = { t: 5, seq: 0, kind: 'node.note', node: 'a', name: 'x\ny', data: { s: 'line\r\nbreak' } } as TraceEvent;
    const text = eventText(e);
    expect(text).not.toMatch(/[\r\n]/);
    expect(text).not.toMatch(/^\S* \{/);
  });
});
