/**
 * The VOPR-style random fault schedule (src/sim/kernel/random-faults.ts). Property tests over seeds, node counts and
 * durations replay each schedule against a small model of node and network state and check that it is deterministic,
 * sorted, only ever applies faults that can apply (no restart of an up node, no resume of a running one, a minority
 * down at most), stays inside the fault phase and ends healed. Coverage tests check the schedule really draws every
 * fault shape — in particular the crash-soon-after-restart pattern the ping-pong `unsynced-epoch` bug needs — and a
 * run in the real world applies every drawn fault.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withRandomFaults } from '../../src/cli/faults.ts';
import { findScenario } from '../../src/scenarios/index.ts';
import { DEFAULT_LINK } from '../../src/scenarios/schema.ts';
import { randomFaults, type TimedFault } from '../../src/sim/kernel/random-faults.ts';
import { RngStreams } from '../../src/sim/kernel/rng.ts';
import type { LinkSpec } from '../../src/sim/kernel/types.ts';
import { Lab } from '../../src/sim/lab.ts';

const LINK: LinkSpec = { ...DEFAULT_LINK, latencyUs: 5_000, jitterUs: 3_000, loss: 0.01 };

function ids(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `n${i + 1}`);
}

function draw(seed: string, n: number, durationUs: number, opts: { noLinkDefaults?: boolean } = {}): TimedFault[] {
  return randomFaults(ids(n), durationUs, new RngStreams(seed).stream('faults:random'), { defaultLink: opts.noLinkDefaults ? undefined : LINK });
}

/** Replays a schedule against a model; throws on the first fault that could not apply. Returns the end state. */
function replay(schedule: TimedFault[], nodes: string[], durationUs: number) {
  const healAt = Math.round(durationUs * 0.6);
  const status = new Map(nodes.map((n) => [n, 'up']));
  const downMax = Math.max(1, Math.floor((nodes.length - 1) / 2));
  let partitioned = false;
  let linkDirty = false;
  let prev = 0;
  for (const { at, fault: f } of schedule) {
    if (!Number.isInteger(at) || at < prev || at > healAt) throw new Error(`bad time ${at} after ${prev}`);
    prev = at;
    const need = (node: string, s: string) => {
      if (status.get(node) !== s) throw new Error(`${f.kind} ${node} at ${at}: node is ${status.get(node)}, not ${s}`);
    };
    switch (f.kind) {
      case 'crash': need(f.node, 'up'); status.set(f.node, 'crashed'); break;
      case 'restart': need(f.node, 'crashed'); status.set(f.node, 'up'); break;
      case 'pause': need(f.node, 'up'); status.set(f.node, 'paused'); break;
      case 'resume': need(f.node, 'paused'); status.set(f.node, 'up'); break;
      case 'partition':
        if ((f.shape === 'bridge' || f.shape === 'ring') && nodes.length < 3) throw new Error(`${f.shape} with ${nodes.length} nodes`);
        partitioned = true;
        break;
      case 'heal': partitioned = false; break;
      case 'link': {
        const restoresAll = f.from === '*' && f.to === '*' && JSON.stringify(f.set) === JSON.stringify(LINK);
        linkDirty = !restoresAll;
        break;
      }
    }
    const down = [...status.values()].filter((s) => s !== 'up').length;
    if (at < healAt && down > downMax) throw new Error(`${down} nodes down at ${at}, more than ${downMax}`);
  }
  return { status, partitioned, linkDirty };
}

describe('randomFaults', () => {
  it('is deterministic for a seed, and seeds differ', () => {
    expect(draw('42', 5, 8_000_000)).toEqual(draw('42', 5, 8_000_000));
    expect(draw('42', 5, 8_000_000)).not.toEqual(draw('43', 5, 8_000_000));
  });

  it('is sorted, only applies faults that can apply, and ends healed (property over seeds, sizes, durations)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 10_000, max: 120_000_000 }), (seed, n, durationUs) => {
        const schedule = draw(seed, n, durationUs);
        const end = replay(schedule, ids(n), durationUs);
        expect([...end.status.values()].every((s) => s === 'up')).toBe(true);
        expect(end.partitioned).toBe(false);
        expect(end.linkDirty).toBe(false);
        // The heal phase always begins with a heal at 60% of the run.
        expect(schedule.some((f) => f.fault.kind === 'heal' && f.at === Math.round(durationUs * 0.6))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('draws no link faults when it has no defaults to restore them to', () => {
    for (let s = 0; s < 50; s++) expect(draw(String(s), 5, 8_000_000, { noLinkDefaults: true }).some((f) => f.fault.kind === 'link')).toBe(false);
  });

  it('draws every kind and shape over 200 seeds, including crashes with lost writes soon after a restart', () => {
    const seen = new Set<string>();
    let flaps = 0;
    for (let s = 0; s < 200; s++) {
      const schedule = draw(String(s), 5, 8_000_000);
      const restartedAt = new Map<string, number>();
      for (const { at, fault: f } of schedule) {
        seen.add(f.kind);
        if (f.kind === 'partition') seen.add(`partition:${f.shape}${f.oneWay ? ':oneWay' : ''}`);
        if (f.kind === 'link') for (const k of Object.keys(f.set)) seen.add(`link:${k}`);
        if (f.kind === 'crash' && f.loseUnsynced) seen.add('crash:loseUnsynced');
        if (f.kind === 'restart') restartedAt.set(f.node, at);
        if (f.kind === 'crash' && f.loseUnsynced && at - (restartedAt.get(f.node) ?? -Infinity) < 1_000_000) flaps++;
      }
    }
    for (const k of ['crash', 'crash:loseUnsynced', 'restart', 'pause', 'resume', 'heal', 'partition:isolate', 'partition:halves', 'partition:ring', 'partition:bridge', 'link:loss', 'link:dup', 'link:reorder', 'link:latencyUs']) {
      expect(seen, k).toContain(k);
    }
    expect([...seen].some((k) => k.endsWith(':oneWay'))).toBe(true);
    expect(flaps).toBeGreaterThan(20);
  });

  it('every drawn fault takes effect in a real run of ping-pong without its own faults', () => {
    const base = { ...structuredClone(findScenario('ping-pong')!), faults: [] };
    for (const seed of ['1', '2', '3', '4', '5']) {
      const input = withRandomFaults(base, seed);
      const lab = new Lab();
      lab.load(input, { seed });
      lab.runToEnd();
      const events = lab.events(0, 10_000, { kinds: ['node.crash', 'node.pause', 'node.resume', 'node.boot', 'fault'] });
      const count = (kind: string) => events.filter((e) => e.kind === kind).length;
      const faults = input.faults.map((f) => f.kind);
      const drawn = (kind: string) => faults.filter((k) => k === kind).length;
      expect(count('fault')).toBe(faults.length);
      expect(count('node.crash')).toBe(drawn('crash'));
      expect(count('node.pause')).toBe(drawn('pause'));
      expect(count('node.resume')).toBe(drawn('resume'));
      expect(count('node.boot')).toBe(5 + drawn('restart'));
      expect(lab.snapshot().nodes.every((n) => n.status === 'up')).toBe(true);
      expect(lab.summary().violations).toEqual([]);
    }
  });
});

describe('role-targeted crashes', () => {
  it('crash @leader and restart @crashed come in pairs, and the heal restarts whatever is still down', () => {
    let found = false;
    for (let seed = 1; seed <= 40 && !found; seed++) {
      const faults = randomFaults(['r1', 'r2', 'r3'], 5_000_000, new RngStreams(String(seed)).stream('f'), { roles: ['leader'] });
      const roleCrashes = faults.filter((f) => f.fault.kind === 'crash' && f.fault.node === '@leader');
      if (roleCrashes.length === 0) continue;
      found = true;
      const restarts = faults.filter((f) => f.fault.kind === 'restart' && f.fault.node === '@crashed');
      const heal = Math.max(...faults.map((f) => f.at));
      // One restart per role crash in the fault phase (some may fall into the heal phase), plus the heal's sweep.
      expect(restarts.filter((f) => f.at < heal).length).toBeLessThanOrEqual(roleCrashes.length);
      expect(restarts.filter((f) => f.at === heal).length).toBe(Math.min(roleCrashes.length, 3));
    }
    expect(found).toBe(true);
  });

  it('draws no role faults without roles', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const faults = randomFaults(['a', 'b', 'c'], 5_000_000, new RngStreams(String(seed)).stream('f'));
      expect(faults.some((f) => 'node' in f.fault && f.fault.node?.startsWith('@'))).toBe(false);
    }
  });
});
