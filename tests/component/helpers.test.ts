/**
 * Pure helpers of the views: the URL hash that names a run, keyboard shortcuts (and when they stay off), event
 * descriptions for every trace kind, and the speed steps.
 */
import { describe, expect, it } from 'vitest';
import { TRACE_KINDS, type TraceEvent } from '../../src/sim/kernel/trace.ts';
import { labAt, MOMENTS } from '../../src/views/fixtures.ts';
import { describeEvent, KIND_HELP, SPEEDS, speedIndex } from '../../src/views/format.ts';
import { formatHash, parseHash } from '../../src/views/hash.ts';
import { commandFor, type KeyLike } from '../../src/views/keys.ts';

describe('URL hash', () => {
  const known = ['ping-pong'];
  it('round-trips scenario and seed, with encoding', () => {
    const h = formatHash({ scenario: 'ping-pong', seed: 'a b&c=d' });
    expect(h).toBe('#scenario=ping-pong&seed=a%20b%26c%3Dd');
    expect(parseHash(h, known)).toEqual({ ok: true, scenario: 'ping-pong', seed: 'a b&c=d' });
  });
  it('accepts an empty hash and a partial one', () => {
    expect(parseHash('', known)).toEqual({ ok: true });
    expect(parseHash('#seed=abc', known)).toEqual({ ok: true, scenario: undefined, seed: 'abc' });
  });
  it('names what is wrong with a bad link', () => {
    expect(parseHash('#scenario=raft-9&seed=1', known)).toEqual({ ok: false, error: 'Unknown scenario "raft-9" in the link. Known scenarios: ping-pong.' });
    expect(parseHash('#scenario=ping-pong&seed=', known)).toMatchObject({ ok: false, error: expect.stringContaining('seed is empty') });
    expect(parseHash(`#seed=${'x'.repeat(201)}`, known)).toMatchObject({ ok: false, error: expect.stringContaining('longer than 200') });
    expect(parseHash('#seed=%E0%A4%A', known)).toMatchObject({ ok: false, error: expect.stringContaining('not valid URL encoding') });
    expect(parseHash('#scenari=ping-pong', known)).toMatchObject({ ok: false, error: expect.stringContaining('unknown field "scenari"') });
  });
});

describe('keyboard', () => {
  const key = (k: string, extra: Partial<KeyLike> = {}): KeyLike => ({ key: k, shiftKey: false, ctrlKey: false, metaKey: false, altKey: false, target: document.body, ...extra });
  it('maps the shortcuts', () => {
    expect(commandFor(key(' '))).toBe('toggle-play');
    expect(commandFor(key('ArrowRight'))).toBe('step');
    expect(commandFor(key('ArrowRight', { shiftKey: true }))).toBe('next-state');
    expect(commandFor(key('ArrowLeft'))).toBe('back-small');
    expect(commandFor(key('?', { shiftKey: true }))).toBe('help');
    expect(commandFor(key('x'))).toBeNull();
    expect(commandFor(key('ArrowRight', { ctrlKey: true }))).toBeNull();
  });
  it('stays off while typing, but Escape still works', () => {
    const input = document.createElement('input');
    const select = document.createElement('select');
    for (const target of [input, select]) {
      expect(commandFor(key(' ', { target }))).toBeNull();
      expect(commandFor(key('?', { target }))).toBeNull();
      expect(commandFor(key('Escape', { target }))).toBe('escape');
    }
    const range = document.createElement('input');
    range.type = 'range';
    expect(commandFor(key('ArrowLeft', { target: range }))).toBeNull();
    expect(commandFor(key(' ', { target: range }))).toBe('toggle-play');
    const box = document.createElement('input');
    box.type = 'checkbox';
    expect(commandFor(key(' ', { target: box }))).toBeNull();
    expect(commandFor(key(' ', { target: document.createElement('button') }))).toBe('toggle-play');
  });
});

describe('event descriptions', () => {
  it('describe every kind met in a full run, and every kind has help text', () => {
    const events = labAt(MOMENTS.end).events(0, 10_000);
    const seen = new Map<string, TraceEvent>();
    for (const e of events) if (!seen.has(e.kind)) seen.set(e.kind, e);
    expect(seen.size).toBeGreaterThanOrEqual(10);
    for (const e of seen.values()) {
      const d = describeEvent(e);
      expect(d.length).toBeGreaterThan(3);
      expect(d).not.toMatch(/undefined|\[object/);
    }
    for (const k of TRACE_KINDS) expect(KIND_HELP[k].length).toBeGreaterThan(10);
    expect(describeEvent(seen.get('net.partition')!)).toBe('partition (isolate): {n5} | {n1 n2 n3 n4}');
    expect(describeEvent(seen.get('node.crash')!)).toMatch(/^crashed; \d+ unsynced writes? lost|^crashed; no unsynced/);
  });
});

describe('speeds', () => {
  it('run from 0.01× to 1000× on a log scale', () => {
    expect(SPEEDS[0]).toBe(0.01);
    expect(SPEEDS[SPEEDS.length - 1]).toBe(1000);
    for (let i = 1; i < SPEEDS.length; i++) expect(SPEEDS[i] / SPEEDS[i - 1]).toBeLessThanOrEqual(2.5);
    expect(speedIndex(1)).toBe(SPEEDS.indexOf(1));
    expect(speedIndex(3)).toBe(SPEEDS.indexOf(2));
  });
});
