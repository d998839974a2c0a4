/**
 * The Perfetto / Chrome trace-event export against the format's rules, on a stress run (loss, duplicates, a pause, a
 * crash, a partition, a user crash, messages in flight at the end) and on synthetic events for the rarer kinds:
 * - the file is one JSON object with `displayTimeUnit` and a `traceEvents` array; every event has a known `ph`, a pid
 *   and a tid that metadata (`ph: 'M'`) names, and a whole-microsecond `ts`;
 * - every async `b` has exactly one later `e` with the same cat, id, name and pid, and ids are never reused;
 * - every flow start `s` has exactly one flow end `f` with the same id, not earlier, and each sits on a complete slice
 *   (`X`) of its own thread at its own ts (the slice it binds to), which for a message is sender then receiver;
 * - counters carry finite numbers; WAL counters follow the trace's `wal` announcements.
 */
import { describe, expect, it } from 'vitest';
import { joinChunks } from '../../src/sim/export/chunks.ts';
import { NETWORK_PID, perfettoChunks, perfettoEvents, type PerfettoEvent } from '../../src/sim/export/perfetto.ts';
import type { TraceEvent } from '../../src/sim/kernel/trace.ts';
import { pingRun, stressRun, type Run } from './export-fixtures.ts';

const stress = stressRun();

function checkRules(run: Run): PerfettoEvent[] {
  const text = joinChunks(perfettoChunks(run.header, run.events));
  const doc = JSON.parse(text) as { displayTimeUnit: string; otherData: Record<string, unknown>; traceEvents: PerfettoEvent[] };
  expect(doc.displayTimeUnit).toBe('ms');
  expect(doc.otherData).toMatchObject({ scenario: run.header.scenario, seed: run.header.seed, traceHash: run.header.hash });
  const evs = doc.traceEvents;
  expect(evs).toEqual([...perfettoEvents(run.header, run.events)].map((e) => JSON.parse(JSON.stringify(e))));

  const named = new Set<string>();
  for (const e of evs) if (e.ph === 'M' && e.name === 'thread_name') named.add(`${e.pid}/${e.tid}`);
  const openAsync = new Map<string, PerfettoEvent>();
  const usedAsync = new Set<string>();
  const flowStarts = new Map<number, PerfettoEvent>();
  const flowEnds = new Set<number>();
  // The complete slices at each (pid, tid, ts), to check what each flow event binds to.
  const slicesAt = new Set<string>();
  for (const e of evs) {
    expect(['X', 'i', 'b', 'e', 's', 'f', 'C', 'M']).toContain(e.ph);
    expect(named.has(`${e.pid}/${e.tid}`), `unnamed track ${e.pid}/${e.tid}`).toBe(true);
    if (e.ph === 'M') continue;
    expect(Number.isInteger(e.ts) && e.ts! >= 0, `ts of ${JSON.stringify(e)}`).toBe(true);
    const key = `${e.cat}/${e.id}/${e.pid}`;
    switch (e.ph) {
      case 'X':
        expect(e.dur).toBeGreaterThan(0);
        slicesAt.add(`${e.pid}/${e.tid}/${e.ts}`);
        break;
      case 'b':
        expect(usedAsync.has(key), `async id reused: ${key}`).toBe(false);
        usedAsync.add(key);
        openAsync.set(key, e);
        break;
      case 'e': {
        const b = openAsync.get(key);
        expect(b, `e without b: ${JSON.stringify(e)}`).toBeDefined();
        expect(e.name).toBe(b!.name);
        expect(e.ts!).toBeGreaterThanOrEqual(b!.ts!);
        openAsync.delete(key);
        break;
      }
      case 's':
        expect(flowStarts.has(e.id!), `flow id reused: ${e.id}`).toBe(false);
        expect(slicesAt.has(`${e.pid}/${e.tid}/${e.ts}`), 's must sit on a slice').toBe(true);
        flowStarts.set(e.id!, e);
        break;
      case 'f': {
        const s = flowStarts.get(e.id!);
        expect(s, `f without s: ${e.id}`).toBeDefined();
        expect(flowEnds.has(e.id!), `second f for ${e.id}`).toBe(false);
        expect(e.ts!).toBeGreaterThanOrEqual(s!.ts!);
        expect(e.bp).toBe('e');
        expect(e.cat).toBe(s!.cat);
        expect(e.name).toBe(s!.name);
        expect(slicesAt.has(`${e.pid}/${e.tid}/${e.ts}`), 'f must sit on a slice').toBe(true);
        flowEnds.add(e.id!);
        break;
      }
      case 'C':
        for (const v of Object.values(e.args ?? {})) expect(Number.isFinite(v)).toBe(true);
        break;
    }
  }
  expect([...openAsync.keys()], 'every b has its e').toEqual([]);
  expect(flowEnds.size, 'every s has its f').toBe(flowStarts.size);
  return evs;
}

describe('Perfetto export', () => {
  it('follows the trace-event rules on a stress run', () => {
    const evs = checkRules(stress);
    const sends = stress.events.filter((e) => e.kind === 'msg.send' || e.kind === 'msg.dup').length;
    expect(evs.filter((e) => e.ph === 's')).toHaveLength(sends);
    // Messages still on the wire when the trace stops end on an "in flight at end" slice.
    expect(evs.some((e) => e.ph === 'X' && e.name.endsWith('(in flight at end)'))).toBe(true);
  });

  it('follows the rules on ping-pong (partition, heal, power cut, restart)', () => {
    const evs = checkRules(pingRun());
    expect(evs.some((e) => e.ph === 'b' && e.name.startsWith('partition'))).toBe(true);
    expect(evs.some((e) => e.ph === 'b' && e.name === 'crashed')).toBe(true);
  });

  it('names one track per node plus the network, in run.start order', () => {
    const evs = [...perfettoEvents(stress.header, stress.events)];
    const names = evs.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.pid, e.args!.name]);
    expect(names).toEqual([[NETWORK_PID, 'network'], [2, 'r1'], [3, 'r2'], [4, 'r3'], [5, 'r4'], [6, 'r5'], [7, 'c1']]);
    expect(evs.filter((e) => e.ph === 'M' && e.name === 'process_name')).toHaveLength(7);
  });

  it('role spans follow the role announcements, and a crash ends the role', () => {
    const evs = [...perfettoEvents(stress.header, stress.events)];
    const roles = stress.events.filter((e) => e.kind === 'node.state' && e.key === 'role');
    const begins = evs.filter((e) => e.ph === 'b' && e.cat === 'role');
    expect(begins.map((e) => [e.ts, e.name])).toEqual(roles.map((e) => [e.t, (e as { value: string }).value]));
    const crash = stress.events.find((e) => e.kind === 'node.crash')!;
    const pid = evs.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args!.name === (crash as { node: string }).node)!.pid;
    expect(evs.some((e) => e.ph === 'e' && e.cat === 'role' && e.pid === pid && e.ts === crash.t)).toBe(true);
    expect(evs.some((e) => e.ph === 'b' && e.name === 'paused')).toBe(true);
  });

  it('flows go from the sender to the receiver of each message, duplicates included', () => {
    const evs = [...perfettoEvents(stress.header, stress.events)];
    const pidOf = new Map(evs.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.args!.name as string, e.pid]));
    const starts = new Map(evs.filter((e) => e.ph === 's').map((e) => [e.id!, e]));
    const ends = new Map(evs.filter((e) => e.ph === 'f').map((e) => [e.id!, e]));
    const dups = stress.events.filter((e): e is Extract<TraceEvent, { kind: 'msg.dup' }> => e.kind === 'msg.dup');
    expect(dups.length).toBeGreaterThan(0);
    for (const e of stress.events) {
      if (e.kind !== 'msg.send') continue;
      expect(starts.get(e.id * 2)!.pid).toBe(pidOf.get(e.from));
      expect(ends.get(e.id * 2)!.pid).toBe(pidOf.get(e.to));
    }
    for (const d of dups) expect(ends.get(d.id * 2 + 1)!.pid).toBe(pidOf.get(d.to));
  });

  it('WAL counters carry every wal announcement; the in-flight counter ends at the messages left on the wire', () => {
    const evs = [...perfettoEvents(stress.header, stress.events)];
    const wal = stress.events.filter((e) => e.kind === 'node.state' && e.key === 'wal');
    const counters = evs.filter((e) => e.ph === 'C' && e.name === 'wal');
    expect(counters.map((e) => [e.ts, e.args])).toEqual(wal.map((e) => [e.t, (e as { value: unknown }).value]));
    const inFlight = evs.filter((e) => e.ph === 'C' && e.name === 'in flight');
    const sent = stress.events.filter((e) => e.kind === 'msg.send' || e.kind === 'msg.dup').length;
    const landed = stress.events.filter((e) => e.kind === 'msg.deliver' || e.kind === 'msg.drop').length;
    expect(inFlight.at(-1)!.args!.messages).toBe(sent - landed);
    for (let i = 1; i < inFlight.length; i++) expect(inFlight[i].ts!).toBeGreaterThan(inFlight[i - 1].ts!);
  });

  it('violations are global instants; faults land on the node they name', () => {
    const extra: TraceEvent[] = [
      ...stress.events,
      { t: 3_000_000, seq: stress.events.length, kind: 'check.violation', checker: 'election-safety', message: 'two leaders in term 2', evidence: { term: 2 } },
    ];
    const evs = [...perfettoEvents({ ...stress.header, virtualUs: 3_000_000 }, extra)];
    const v = evs.find((e) => e.cat === 'check')!;
    expect(v).toMatchObject({ ph: 'i', s: 'g', name: 'violation: election-safety', ts: 3_000_000, args: { message: 'two leaders in term 2' } });
    const userCrash = evs.filter((e) => e.cat === 'fault' && e.name === 'fault: crash');
    expect(userCrash.at(-1)!.pid).toBe(3); // r2, crashed by the user action
  });

  it('an empty trace is still a valid file', () => {
    const doc = JSON.parse(joinChunks(perfettoChunks({ ...stress.header, virtualUs: 0, eventCount: 0 }, [])));
    expect(doc.traceEvents.every((e: PerfettoEvent) => e.ph === 'M')).toBe(true);
  });
});
