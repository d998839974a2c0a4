/**
 * The scenario schema at the edge: every built-in scenario compiles; malformed scenarios are refused with the first
 * problem and its path; durations and link units are converted to the kernel's microseconds.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../src/scenarios/index.ts';
import { compileScenario } from '../../src/scenarios/schema.ts';
import { BEHAVIORS, bugsFor } from '../../src/sim/nodes.ts';

const compile = (raw: unknown, opts: { seed?: string; bugs?: string[] } = {}) =>
  compileScenario(raw, { ...opts, knownKinds: Object.keys(BEHAVIORS), knownBugs: bugsFor });

const base = () => structuredClone(SCENARIOS[0]) as any;

describe('scenario schema', () => {
  it.each(SCENARIOS.map((s) => [s.id, s]))('built-in %s compiles', (_id, s) => {
    const { world } = compile(s);
    expect(world.nodes.length).toBeGreaterThan(0);
    expect(world.durationUs).toBeGreaterThan(0);
  });

  it('converts units: durations to µs, link ms to µs, MB/s to bytes/s', () => {
    const s = base();
    s.duration = '1.5s';
    s.topology.link = { latencyMs: 2.5, jitterMs: 1, bandwidthMBps: 100 };
    s.faults = [{ at: '250ms', kind: 'link', from: 'n1', to: '*', set: { latencyMs: 40 } }];
    const { world } = compile(s);
    expect(world.durationUs).toBe(1_500_000);
    expect(world.link).toMatchObject({ latencyUs: 2_500, jitterUs: 1_000, bandwidthBytesPerS: 100_000_000 });
    expect(world.faults[0]).toEqual({ at: 250_000, source: 'scenario', fault: { kind: 'link', from: 'n1', to: '*', set: { latencyUs: 40_000 } } });
  });

  it('merges per-kind config under each node config', () => {
    const s = base();
    s.topology.nodes[1].config = { heartbeatMs: 50 };
    const { world } = compile(s);
    expect(world.nodes[0].config).toEqual({ heartbeatMs: 100, suspectAfterMs: 350, syncEvery: 10 });
    expect(world.nodes[1].config).toEqual({ heartbeatMs: 50, suspectAfterMs: 350, syncEvery: 10 });
  });

  const bad: [string, (s: any) => void, RegExp][] = [
    ['not an object', (s) => Object.assign(s, { topology: 5 }), /topology: /],
    ['missing title', (s) => delete s.title, /^invalid scenario: title: /],
    ['bad duration', (s) => (s.duration = 'soon'), /duration: expected a duration such as "250ms"/],
    ['unknown field', (s) => (s.colour = 'red'), /colour|Unrecognized key/],
    ['bad node id', (s) => (s.topology.nodes[2].id = '2bad'), /topology\.nodes\[2\]\.id: a node id is a letter/],
    ['duplicate node', (s) => (s.topology.nodes[1].id = 'n1'), /node id "n1" appears twice/],
    ['unknown kind', (s) => (s.topology.nodes[0].kind = 'paxos'), /topology\.nodes\[0\]\.kind: unknown node kind "paxos" \(known: pinger, raft, raft-client, mq-partition, .*, apm-dashboard, lesson-/],
    ['fault on unknown node', (s) => (s.faults[2].node = 'n9'), /faults\[2\]\.node: unknown node "n9"/],
    ['fault missing node', (s) => delete s.faults[2].node, /faults\[2\]\.node: required for a crash fault/],
    ['fault after the end', (s) => (s.faults[0].at = '1m'), /faults\[0\]\.at: after the end of the run/],
    ['loss out of range', (s) => (s.topology.link.loss = 1.5), /topology\.link\.loss: /],
    ['bad event match kind', (s) => (s.expect[1].match.kind = 'nope'), /expect\[1\]\.match\.kind: /],
    ['unknown expectation', (s) => (s.expect[0].check = 'vibes'), /expect\[0\]\.check: /],
  ];
  it.each(bad)('refuses %s with its path', (_name, mutate, message) => {
    const s = base();
    mutate(s);
    expect(() => compile(s)).toThrow(message);
  });

  it('refuses unknown bugs and takes known ones', () => {
    expect(() => compile(base(), { bugs: ['no-fsync'] })).toThrow('unknown bug "no-fsync"');
    expect(compile(base(), { bugs: ['unsynced-epoch'] }).world.bugs).toEqual(['unsynced-epoch']);
  });
});
