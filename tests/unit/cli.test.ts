/**
 * The CLI end to end: each test spawns `node --import tsx src/cli/main.ts …` as a child process, exactly as
 * `npm run --silent sim -- …` does, and checks stdout (one JSON line), stderr (one clear message) and the exit code
 * (0 ok · 1 violation or divergence · 2 bad usage or input). Files are written to a temporary directory. A few pure
 * helpers (seed lists, aggregation, the random-fault round trip through scenario data) are tested in-process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toScenarioFault, withRandomFaults } from '../../src/cli/faults.ts';
import { flattenMetrics } from '../../src/cli/sweep-run.ts';
import { aggregate, compareSeeds, parseSeeds } from '../../src/cli/sweep.ts';
import { findScenario } from '../../src/scenarios/index.ts';
import { compileScenario } from '../../src/scenarios/schema.ts';
import { hashEvents } from '../../src/sim/kernel/trace.ts';
import { BEHAVIORS, bugsFor } from '../../src/sim/nodes.ts';

const ROOT = join(import.meta.dirname, '../..');
let dir = '';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sim(...args: string[]): Result {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The one JSON line a command prints on stdout. */
function json(r: Result): any {
  const lines = r.stdout.trim().split('\n');
  expect(lines, `stdout should be one line; stderr: ${r.stderr}`).toHaveLength(1);
  return JSON.parse(lines[0]);
}

function file(name: string, content: string | object): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

const pingPong = () => structuredClone(findScenario('ping-pong')!) as any;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'streamlab-cli-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('sim list', () => {
  it('--json lists ping-pong with id, title and tags', () => {
    const r = sim('list', '--json');
    expect(r.code).toBe(0);
    const rows = json(r);
    expect(rows.find((s: any) => s.id === 'ping-pong')).toMatchObject({ id: 'ping-pong', title: expect.any(String), tags: expect.arrayContaining(['kernel']) });
    expect(Object.keys(rows[0]).sort()).toEqual(['id', 'tags', 'title']);
  });

  it('prints a table for people', () => {
    const r = sim('list');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ID\s+TITLE\s+TAGS/);
    expect(r.stdout).toContain('ping-pong');
  });
});

describe('sim run', () => {
  it('prints one summary with the documented keys, and the same hash every time', () => {
    const a = sim('run', 'ping-pong', '--seed', '7');
    const b = sim('run', 'ping-pong', '--seed', '7');
    expect(a.code).toBe(0);
    const sa = json(a);
    expect(Object.keys(sa).sort()).toEqual(['events', 'metrics', 'scenario', 'seed', 'traceHash', 'violations', 'virtualMs']);
    expect(sa).toMatchObject({ scenario: 'ping-pong', seed: '7', virtualMs: 8000, violations: [] });
    expect(sa.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(json(b).traceHash).toBe(sa.traceHash);
  });

  it('--until stops early; a scenario file runs like a built-in', () => {
    const r = sim('run', file('pp.json', pingPong()), '--seed', '7', '--until', '2s');
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ scenario: 'ping-pong', virtualMs: 2000 });
  });

  it('rejects bad flags, unknown bugs and formats that do not exist yet with exit 2', () => {
    for (const [args, text] of [
      [['run', 'ping-pong', '--bogus'], 'Unknown option'],
      [['run', 'ping-pong', '--bug', 'nope'], 'unknown bug "nope"'],
      [['run', 'ping-pong', '--until', 'soon'], '--until'],
      [['run', 'ping-pong', '--out', join(dir, 'x.json'), '--format', 'svg'], 'unknown format "svg"'],
      [['run', 'no-such-scenario'], 'unknown scenario'],
      [['frobnicate'], 'usage:'],
    ] as const) {
      const r = sim(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(text);
      expect(r.stdout).toBe('');
    }
  });
});

describe('sim replay and validate', () => {
  let trace = '';
  let hash = '';

  beforeAll(() => {
    trace = join(dir, 'trace.json');
    const r = sim('run', 'ping-pong', '--seed', '11', '--out', trace);
    expect(r.code).toBe(0);
    hash = json(r).traceHash;
  });

  it('replays an exported trace to the same hash (json and jsonl)', () => {
    const r = sim('replay', trace);
    expect(r.code).toBe(0);
    expect(json(r)).toEqual({ ok: true, hash, events: expect.any(Number) });
    const lines = join(dir, 'trace.jsonl');
    expect(sim('run', 'ping-pong', '--seed', '11', '--out', lines).code).toBe(0);
    expect(json(sim('replay', lines))).toMatchObject({ ok: true, hash });
    expect(json(sim('validate', lines))).toMatchObject({ ok: true, kind: 'trace', hash });
  });

  it('a run with --faults random exports a trace that replays without the flag (the schedule is in its scenario data)', () => {
    const out = join(dir, 'random.json');
    const r = sim('run', 'ping-pong', '--seed', '3', '--faults', 'random', '--out', out);
    expect(r.code).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.config.scenario.faults.length).toBeGreaterThan(pingPong().faults.length);
    expect(json(sim('replay', out))).toEqual({ ok: true, hash: json(r).traceHash, events: json(r).events });
  });

  it('a tampered event fails replay and validate, naming the hash check', () => {
    const doc = JSON.parse(readFileSync(trace, 'utf8'));
    const i = doc.events.findIndex((e: any) => e.kind === 'msg.send');
    doc.events[i].size += 1;
    const tampered = file('tampered.json', doc);
    for (const cmd of ['replay', 'validate']) {
      const r = sim(cmd, tampered);
      expect(r.code, cmd).toBe(2);
      expect(r.stderr).toContain('hash');
      expect(r.stderr).toContain('edited or corrupted');
      expect(json(r)).toMatchObject({ ok: false });
    }
  });

  it('a tampered event with its hash recomputed is a valid file whose replay diverges (exit 1) at that event', () => {
    const doc = JSON.parse(readFileSync(trace, 'utf8'));
    const i = doc.events.findIndex((e: any) => e.kind === 'msg.send');
    doc.events[i].size += 1;
    doc.hash = hashEvents(doc.events);
    const forged = file('forged.json', doc);
    expect(sim('validate', forged).code).toBe(0);
    const r = sim('replay', forged);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`first difference at event #${i}`);
    expect(json(r)).toMatchObject({ ok: false, error: expect.stringContaining('diverged') });
  });

  it('validate accepts a scenario file', () => {
    const r = sim('validate', file('scenario.json', pingPong()));
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ ok: true, kind: 'scenario', id: 'ping-pong', nodes: 5 });
  });

  const bad: [string, () => string, string][] = [
    ['malformed JSON', () => file('malformed.json', '{"format":"streamlab-trace","version":1,'), 'not valid JSON'],
    ['wrong version', () => file('v2.json', { ...JSON.parse(readFileSync(trace, 'utf8')), version: 2 }), 'version'],
    ['wrong type', () => file('seed5.json', { ...JSON.parse(readFileSync(trace, 'utf8')), seed: 5 }), 'seed'],
    ['unknown node kind', () => file('kind.json', (() => { const s = pingPong(); s.topology.nodes[0].kind = 'no-such-kind'; return s; })()), 'topology.nodes[0].kind'],
    ['fault on an unknown node', () => file('node.json', (() => { const s = pingPong(); s.faults[2].node = 'n9'; return s; })()), 'faults[2].node'],
    ['scenario that is not JSON', () => file('broken.json', '{ "id": "x", '), 'not valid JSON'],
    ['oversized file', () => {
      const p = file('huge.json', '{');
      truncateSync(p, 65 * 1024 * 1024); // sparse: 65 MiB on paper, instant to make
      return p;
    }, 'limit is 64 MiB'],
  ];

  it.each(bad)('validate rejects a %s with exit 2 and names the first problem', (_what, make, text) => {
    const p = make();
    const r = sim('validate', p);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(text);
    expect(r.stderr).toContain(p);
    expect(json(r)).toMatchObject({ ok: false, error: expect.stringContaining(text) });
  });
});

describe('sim sweep', () => {
  it('runs 40 seeds of ping-pong on 2 workers without a violation', () => {
    const r = sim('sweep', 'ping-pong', '--seeds', '1..40', '--jobs', '2');
    expect(r.code).toBe(0);
    const out = json(r);
    expect(Object.keys(out).sort()).toEqual(['failingSeeds', 'metrics', 'runs', 'violations']);
    expect(out).toMatchObject({ runs: 40, violations: 0, failingSeeds: [] });
    expect(out.metrics['rttMs.p99']).toEqual({ p50: expect.any(Number), p90: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) });
  });

  it('random faults alone do not break the correct pinger', () => {
    const r = sim('sweep', 'ping-pong', '--seeds', '1..30', '--faults', 'random', '--jobs', '2');
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ runs: 30, violations: 0 });
  });

  it('random faults find the unsynced-epoch bug, and `run` reproduces a failing seed alone', () => {
    const r = sim('sweep', 'ping-pong', '--seeds', '1..300', '--faults', 'random', '--bug', 'unsynced-epoch');
    expect(r.code).toBe(1);
    const out = json(r);
    expect(out.runs).toBe(300);
    expect(out.failingSeeds.length).toBeGreaterThan(0);
    expect(out.violations).toBe(out.failingSeeds.length);
    expect([...out.failingSeeds].sort(compareSeeds)).toEqual(out.failingSeeds);
    expect(r.stderr).toContain('re-run one:');
    const seed = out.failingSeeds[0];
    const one = sim('run', 'ping-pong', '--seed', seed, '--faults', 'random', '--bug', 'unsynced-epoch');
    expect(one.code).toBe(0);
    expect(json(one).violations[0]).toMatchObject({ checker: 'ping.epochs-increase' });
  });

  it('rejects a missing or malformed --seeds with exit 2', () => {
    expect(sim('sweep', 'ping-pong').code).toBe(2);
    const r = sim('sweep', 'ping-pong', '--seeds', '9..1');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--seeds');
  });
});

describe('CLI helpers', () => {
  it('parseSeeds takes ranges, lists and both, without duplicates', () => {
    expect(parseSeeds('1..3')).toEqual(['1', '2', '3']);
    expect(parseSeeds('1..3,abc,2,10')).toEqual(['1', '2', '3', 'abc', '10']);
    expect(() => parseSeeds('3..1')).toThrow('bad range');
    expect(() => parseSeeds('1,,2')).toThrow('empty item');
  });

  it('aggregate sorts failing seeds numerically and takes percentiles across runs', () => {
    const run = (seed: string, violations: number, rtt: number) => ({ seed, violations, metrics: flattenMetrics({ n: 1, rttMs: { count: 1, mean: rtt, p50: rtt, p90: rtt, p99: rtt, max: rtt, min: rtt } }) });
    const out = aggregate([run('10', 1, 3), run('9', 2, 1), run('2', 0, 2)]);
    expect(out).toMatchObject({ runs: 3, violations: 2, failingSeeds: ['9', '10'] });
    expect(out.metrics['rttMs.p99']).toEqual({ p50: 2, p90: 3, p99: 3, max: 3 });
    expect(out.metrics.n).toEqual({ p50: 1, p90: 1, p99: 1, max: 1 });
  });

  it('withRandomFaults round-trips the kernel schedule exactly through scenario units', () => {
    const compile = (input: unknown) => compileScenario(input, { knownKinds: Object.keys(BEHAVIORS), knownBugs: bugsFor }).world;
    const base = { ...pingPong(), faults: [] };
    let linkFaults = 0;
    for (const seed of ['1', '2', '3', '4', '5', '6', '7', '8']) {
      const input = withRandomFaults(base, seed);
      const world = compile(input);
      const back = world.faults.map((f) => toScenarioFault({ at: f.at, fault: f.fault }));
      expect(back).toEqual(input.faults);
      linkFaults += world.faults.filter((f) => f.fault.kind === 'link').length;
      expect(withRandomFaults(base, seed)).toEqual(input);
    }
    expect(linkFaults).toBeGreaterThan(0);
  });
});
