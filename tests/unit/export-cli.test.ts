/**
 * The CLI's exports write the same bytes as the Lab (and so the UI's export menu): `sim run --format F --out FILE`
 * and `sim export TRACE --format F [--out FILE]` against `Lab.exportTrace(F)` for the same scenario and seed, for
 * every format, from JSON and JSON Lines inputs; `csv` writes the three tables; bad inputs exit 2 with the problem.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliFormat, plannedFiles } from '../../src/cli/export.ts';
import { EXPORT_FORMAT_NAMES } from '../../src/sim/export/index.ts';
import { Lab } from '../../src/sim/lab.ts';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'streamlab-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sim(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lab = new Lab();
lab.load('raft-leader-crash', { seed: '5' });
lab.runToEnd(2_500_000);
const expected = Object.fromEntries(EXPORT_FORMAT_NAMES.map((f) => [f, lab.exportTrace(f)]));

describe('sim run --format', () => {
  it.each(['perfetto', 'shiviz', 'jsonl'] as const)('%s writes what the Lab exports', (format) => {
    const out = join(dir, `run-${format}.out`);
    const r = sim('run', 'raft-leader-crash', '--seed', '5', '--until', '2.5s', '--format', format, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).traceHash).toBe(lab.summary().traceHash);
    expect(readFileSync(out, 'utf8')).toBe(expected[format]);
  });

  it('--out run.csv writes the three CSV tables', () => {
    const r = sim('run', 'raft-leader-crash', '--seed', '5', '--until', '2.5s', '--out', join(dir, 'run.csv'));
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'run.wal.csv'), 'utf8')).toBe(expected['csv-wal']);
    expect(readFileSync(join(dir, 'run.ledger.csv'), 'utf8')).toBe(expected['csv-ledger']);
    expect(readFileSync(join(dir, 'run.series.csv'), 'utf8')).toBe(expected['csv-series']);
    expect(existsSync(join(dir, 'run.csv'))).toBe(false);
  });
});

describe('sim export', () => {
  const json = join(dir, 'trace.json');
  const jsonl = join(dir, 'trace.jsonl');
  writeFileSync(json, expected.json);
  writeFileSync(jsonl, expected.jsonl);

  it.each(EXPORT_FORMAT_NAMES)('%s to stdout, from JSON Lines, without re-running', (format) => {
    const r = sim('export', jsonl, '--format', format);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(expected[format]);
  });

  it('--out prints a summary and writes the file; the file name picks the format', () => {
    const out = join(dir, 'x.perfetto.json');
    const r = sim('export', json, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ ok: true, scenario: 'raft-leader-crash', seed: '5', hash: lab.summary().traceHash, files: [{ path: out, format: 'perfetto' }] });
    expect(readFileSync(out, 'utf8')).toBe(expected.perfetto);
    expect(summary.files[0].bytes).toBe(Buffer.byteLength(expected.perfetto));
  });

  it('json → jsonl → json is the identity', () => {
    const back = join(dir, 'back.json');
    expect(sim('export', jsonl, '--format', 'json', '--out', back).code).toBe(0);
    expect(readFileSync(back, 'utf8')).toBe(expected.json);
  });

  it('refuses bad input with exit 2 and the first problem', () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, expected.jsonl.split('\n').slice(0, 30).join('\n'));
    for (const [args, text] of [
      [['export', bad, '--format', 'perfetto'], 'eventCount: header says'],
      [['export', jsonl, '--format', 'csv'], '--format csv writes three files'],
      [['export', jsonl, '--format', 'xml'], 'unknown format "xml"'],
      [['export', jsonl], 'give --format F, --out FILE, or both'],
      [['export', join(dir, 'missing.json'), '--format', 'json'], 'cannot read (ENOENT)'],
    ] as const) {
      const r = sim(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(text);
    }
  });
});

describe('format names', () => {
  it('the --out name implies the format when --format is absent', () => {
    expect(cliFormat(undefined, 'a.jsonl')).toBe('jsonl');
    expect(cliFormat(undefined, 'a.perfetto.json')).toBe('perfetto');
    expect(cliFormat(undefined, 'a.json')).toBe('json');
    expect(cliFormat(undefined, 'a.shiviz.log')).toBe('shiviz');
    expect(cliFormat(undefined, 'a.ledger.csv')).toBe('csv-ledger');
    expect(cliFormat(undefined, 'a.csv')).toBe('csv');
    expect(cliFormat(undefined, 'a.txt')).toBe('json');
    expect(plannedFiles('csv', 'out/run').map((f) => f.path)).toEqual(['out/run.wal.csv', 'out/run.ledger.csv', 'out/run.series.csv']);
  });
});
