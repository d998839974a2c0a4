/**
 * The capacity calculator's form (src/views/capacity-form.ts): typed text → numbers, with thousands separators and
 * decimals; every wrong entry pinned to its field with a sentence saying what is wrong; the notes' defaults round-trip
 * to 320 MB/s → 4 partitions → 12 brokers. And the simulation preset the form opens: the `apm-capacity` scenario is
 * built from the calculator's defaults — the same partitions, replicas and brokers, each replica on its own broker.
 */
import { describe, expect, it } from 'vitest';
import { CAPACITY_PRESET } from '../../src/scenarios/apm-capacity.ts';
import { findScenario } from '../../src/scenarios/index.ts';
import { computeCapacity, NOTES_CAPACITY, NOTES_PRESET_SCALE } from '../../src/sim/apm/capacity.ts';
import { Lab } from '../../src/sim/lab.ts';
import { CAPACITY_FIELDS, formOf, parseCapacityForm, parseFormNumber, type CapacityForm } from '../../src/views/capacity-form.ts';

const NOTES_FORM = formOf(NOTES_CAPACITY);
const withField = (patch: Partial<CapacityForm>): CapacityForm => ({ ...NOTES_FORM, ...patch });

describe('numbers as typed', () => {
  it.each([
    ['10000', 10_000],
    ['10,000', 10_000],
    ['10 000', 10_000],
    ['10_000', 10_000],
    ['1,000,000', 1_000_000],
    ['  16 ', 16],
    ['0.5', 0.5],
    ['.25', 0.25],
    ['+3', 3],
    ['0', 0],
  ])('%j → %d', (text, value) => expect(parseFormNumber(text)).toBe(value));

  it.each([
    ['', 'is empty: enter a number'],
    ['   ', 'is empty: enter a number'],
    ['abc', '"abc" is not a number'],
    ['10k', '"10k" is not a number'],
    ['1,00', '"1,00" is not a number'],
    ['1e4', '"1e4" is not a number'],
    ['1.2.3', '"1.2.3" is not a number'],
    ['+', '"+" is not a number'],
    ['-5', '"-5" is negative'],
  ])('%j is refused: %s', (text, message) => {
    const r = parseFormNumber(text);
    expect(typeof r).toBe('object');
    expect((r as { error: string }).error).toContain(message);
  });

  it('cuts a very long entry in its message', () => {
    const r = parseFormNumber('9'.repeat(30) + 'x'.repeat(30)) as { error: string };
    expect(r.error).toMatch(/^"9{30}x{10}…" is not a number/);
  });
});

describe('the form', () => {
  it('the notes’ defaults parse to the notes’ input and size 320 MB/s → 4 partitions → 12 brokers', () => {
    const r = parseCapacityForm(NOTES_FORM);
    expect(r).toEqual({ ok: true, input: { ...NOTES_CAPACITY } });
    const c = computeCapacity((r as { input: typeof NOTES_CAPACITY }).input);
    expect([c.mbPerS, c.partitions, c.brokers]).toEqual([320, 4, 12]);
  });

  it('headroom is typed in percent: 25 → 0.25 → 5 partitions, 15 brokers', () => {
    const r = parseCapacityForm(withField({ headroomPercent: '25' }));
    expect(r.ok && r.input.headroom).toBe(0.25);
    const c = computeCapacity((r as { input: typeof NOTES_CAPACITY }).input);
    expect([c.partitions, c.brokers]).toEqual([5, 15]);
    expect(formOf(c.input).headroomPercent).toBe('25');
  });

  it('pins each problem to its field, in words, with capacity.ts’s own rules', () => {
    const r = parseCapacityForm(withField({ servers: '10.5', replicationFactor: '2', bytesPerMetric: 'sixteen', headroomPercent: '95', brokerMBps: '0' }));
    expect(r.ok).toBe(false);
    const errors = (r as { errors: Record<string, string> }).errors;
    expect(errors).toEqual({
      servers: 'must be a whole number, got 10.5',
      replicationFactor: 'must be one of 1, 3, 5, 7 (an odd count: 2f + 1 replicas keep a majority through f failures), got 2',
      bytesPerMetric: '"sixteen" is not a number: write digits, e.g. 10000 or 10,000 or 0.5',
      headroomPercent: 'must be within 0–90%, got 95%',
      brokerMBps: 'must be positive, got 0',
    });
  });

  it('a field that does not parse gets one message, not a second one from the range check', () => {
    const r = parseCapacityForm(withField({ metricsPerServer: '' }));
    expect((r as { errors: Record<string, string> }).errors).toEqual({ metricsPerServer: 'is empty: enter a number' });
  });

  it('every field has a label and a tooltip that teaches it', () => {
    expect(CAPACITY_FIELDS.map((f) => f.key).sort()).toEqual(Object.keys(NOTES_FORM).sort());
    for (const f of CAPACITY_FIELDS) expect(f.help.length, f.key).toBeGreaterThan(30);
  });
});

describe('the simulation preset (apm-capacity)', () => {
  it('is the calculator’s default sizing scaled 1:500 per axis: 20 servers × 4 metrics, 4 partitions × 3 = 12 brokers', () => {
    expect(NOTES_PRESET_SCALE).toBe(0.002);
    const real = computeCapacity(NOTES_CAPACITY);
    expect(CAPACITY_PRESET).toMatchObject({ servers: 20, metricsPerServer: 4, messagesPerS: 80, partitions: real.partitions, brokers: real.brokers, replicationFactor: 3 });
  });

  it('lays out exactly that topology: one topic of 4 partitions, 3 replicas each, every replica on a broker of its own', () => {
    const s = new Lab().load('apm-capacity', { seed: '1' });
    const replicas = s.nodes.filter((n) => n.kind === 'mq-partition');
    expect(replicas).toHaveLength(12);
    const hosts = s.hosts.filter((h) => h.nodes.some((id) => replicas.some((r) => r.id === id)));
    expect(hosts.map((h) => h.nodes.length)).toEqual(Array(12).fill(1));
    const partitions = new Set(replicas.map((r) => r.id.slice(r.id.indexOf('.') + 1)));
    expect([...partitions].sort()).toEqual(['metrics-0', 'metrics-1', 'metrics-2', 'metrics-3']);
    expect(s.nodes.filter((n) => n.kind === 'apm-agent')).toHaveLength(20);
    expect(findScenario('apm-capacity')?.title).toContain('scaled 1:500');
  });
});
