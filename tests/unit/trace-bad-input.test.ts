/**
 * Bad trace files, one per way a file goes wrong in the wild (truncated downloads, files from another version,
 * hand edits, huge drops, hostile JSON): import and open each refuse it with a LabError whose message names the first
 * problem and where it is, and the Lab's current run (and any trace open for viewing) stays exactly as it was.
 * tests/unit/tracefile.test.ts covers the basic cases; this file adds JSON Lines variants, the 200 MB file, absurd
 * nesting, prototype keys in every position, and the CLI's size check.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab, LabError } from '../../src/sim/lab.ts';

function source() {
  const lab = new Lab();
  lab.load('ping-pong', { seed: 'bad' });
  lab.seek(1_500_000);
  lab.inject({ kind: 'pause', node: 'n3' });
  lab.seek(1_700_000);
  return { json: lab.exportTrace('json'), jsonl: lab.exportTrace('jsonl') };
}

const { json, jsonl } = source();
const lines = jsonl.trimEnd().split('\n');

/** A Lab mid-run with a trace open for viewing: neither may change when a bad file is refused. */
function bystander() {
  const lab = new Lab();
  lab.load('raft-cold-start', { seed: 'keep' });
  lab.seek(700_000);
  lab.openTrace(jsonl);
  return { lab, before: lab.snapshot(), view: lab.openedView() };
}

function refused(text: string, message: RegExp) {
  const { lab, before, view } = bystander();
  for (const [verb, call] of [
    ['import', () => lab.importTrace(text)],
    ['open', () => lab.openTrace(text)],
  ] as const) {
    let err: unknown;
    try {
      call();
    } catch (e) {
      err = e;
    }
    expect(err, `${verb} should refuse`).toBeInstanceOf(LabError);
    expect((err as Error).message).toMatch(new RegExp(`^${verb} failed: ${message.source}`));
  }
  expect(lab.snapshot()).toEqual(before);
  expect(lab.openedView()).toEqual(view);
}

describe('truncated files', () => {
  it('JSON cut anywhere is not valid JSON', () => {
    for (const at of [1, 100, json.length / 3, json.length - 5]) refused(json.slice(0, Math.floor(at)), /trace: not valid JSON/);
  });

  it('JSON Lines cut mid-line names the line', () => {
    const text = lines.join('\n');
    const cut = text.slice(0, text.length - 20);
    refused(cut, new RegExp(`line ${lines.length}: not valid JSON`));
  });

  it('JSON Lines cut at a line end is caught by the event count', () => {
    refused(lines.slice(0, 40).join('\n'), /eventCount: header says \d+ events, file has 39 \(truncated\?\)/);
  });

  it('a header line alone is a trace with no events', () => {
    refused(lines[0] + '\n', /eventCount: header says \d+ events, file has 0/);
  });
});

describe('wrong version or format', () => {
  const header = JSON.parse(lines[0]);
  const withHeader = (h: unknown) => [JSON.stringify(h), ...lines.slice(1)].join('\n');
  it('a later version', () => refused(withHeader({ ...header, version: 2 }), /version: this lab reads version 1 traces/));
  it('a version as text', () => refused(withHeader({ ...header, version: '1' }), /version: /));
  it('no version at all', () => refused(withHeader({ ...header, version: undefined }), /version: /));
  it('another tool’s JSON', () => refused(JSON.stringify({ traceEvents: [] }), /format: expected "streamlab-trace"/));
  it('an unknown header field', () => refused(withHeader({ ...header, extra: 1 }), /Unrecognized key: "extra"|extra/));
});

describe('unknown event kinds and bad events', () => {
  it('an unknown kind in JSON Lines names the event', () => {
    const ev = JSON.parse(lines[8]);
    const text = [...lines.slice(0, 8), JSON.stringify({ ...ev, kind: 'msg.teleport' }), ...lines.slice(9)].join('\n');
    refused(text, /events\[7\]\.kind: /);
  });

  it('an event that is not an object', () => {
    refused([...lines.slice(0, 5), '42', ...lines.slice(6)].join('\n'), /events\[4\]: /);
  });

  it('events out of order', () => {
    const text = [lines[0], lines[1], lines[3], lines[2], ...lines.slice(4)].join('\n');
    refused(text, /events\[1\]\.seq: expected 1, got 2/);
  });
});

describe('size', () => {
  it('a 200 MB file is refused by its size, before parsing', () => {
    const huge = ' '.repeat(200 * 1024 * 1024);
    const t0 = performance.now();
    refused(huge, /trace: file is 209\.7 MB; the limit is 64 MB/);
    // Parsing 200 MB would take seconds; the size check is immediate.
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('deep nesting', () => {
  const doc = JSON.parse(json);
  it('nesting in the header', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 80; i++) deep = { a: deep };
    refused(JSON.stringify({ ...doc, config: { ...doc.config, scenario: { ...doc.config.scenario, deep } } }), /trace: nested deeper than 64 levels/);
  });

  it('absurd nesting (a million levels) is refused, not a stack overflow', () => {
    const n = 1_000_000;
    refused(json.replace('"events":[', `"junk":${'['.repeat(n)}${']'.repeat(n)},"events":[`), /trace: nested deeper than 64 levels/);
    refused([...lines.slice(0, 3), '['.repeat(n) + ']'.repeat(n), ...lines.slice(4)].join('\n'), /line 4: nested deeper than 64 levels/);
  });
});

describe('prototype-pollution keys', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('"%s" anywhere is refused and pollutes nothing', (key) => {
    const k = JSON.stringify(key);
    refused(json.replace('"seed":', `${k}:{"polluted":true},"seed":`), new RegExp(`trace: forbidden key ${k.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}`));
    const ev = lines[10].replace('{"t":', `{${k}:{"polluted":true},"t":`);
    refused([...lines.slice(0, 10), ev, ...lines.slice(11)].join('\n'), /line 11: forbidden key/);
    refused(lines[0].replace('"topology":{', `"topology":{${k}:{"polluted":true},`) + '\n' + lines.slice(1).join('\n'), /line 1: forbidden key/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});

describe('the CLI refuses a 200 MB file by its size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'streamlab-bad-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['replay', 'validate', 'export'])('%s', (command) => {
    const file = join(dir, 'huge.json');
    writeFileSync(file, '');
    truncateSync(file, 200 * 1024 * 1024); // sparse: no 200 MB written
    const args = command === 'export' ? [file, '--format', 'perfetto'] : [file];
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', command, ...args], { cwd: join(import.meta.dirname, '../..'), encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('file is 200.0 MiB; the limit is 64 MiB');
  });
});
