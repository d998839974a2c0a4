/**
 * Data-driven interaction tests (etcd-raft's `testdata/*.txt` in spirit): every `tests/interaction/*.txt` script is
 * run command by command against `InteractionEnv`, and each command's output must equal the golden output recorded
 * under it. With `UPDATE=1` the runner rewrites the golden outputs instead and lists the files it changed — then
 * read the diff: a golden file that records a bug is worse than none.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScript, rewriteScript, runScript, type Case } from '../interaction/harness.ts';

const DIR = join(import.meta.dirname, '..', 'interaction');
const UPDATE = process.env.UPDATE === '1' || process.env.UPDATE === 'true';
const files = readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort();

/** A line diff (longest common subsequence), `-` expected, `+` actual. Outputs are short, so O(n·m) is fine. */
function lineDiff(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) out.push(`  ${a[i++]}`), j++;
    else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) out.push(`- ${a[i++]}`);
    else out.push(`+ ${b[j++]}`);
  }
  return out.join('\n');
}

function mismatches(rel: string, cases: readonly Case[], outputs: readonly string[]): string[] {
  const found: string[] = [];
  cases.forEach((c, k) => {
    if (c.expected === outputs[k]) return;
    found.push(`${rel}:${c.line}: output of '${c.cmd}' differs (- expected, + actual):\n${lineDiff(c.expected, outputs[k])}`);
  });
  return found;
}

describe('interaction scripts (tests/interaction/*.txt)', () => {
  it('has scripts to run', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });

  it('lineDiff marks removed and added lines', () => {
    expect(lineDiff('a\nb\nc', 'a\nx\nc')).toBe('  a\n- b\n+ x\n  c');
    expect(lineDiff('a', 'a\nb')).toBe('  a\n+ b');
  });

  it('parses cases and rewrites only the expected blocks', () => {
    const text = '# comment\ncmd n1 k=v k2=(a,b)\n----\nold\nlines\n\nnext\n----\n';
    const cases = parseScript('t.txt', text);
    expect(cases.map((c) => [c.line, c.cmd, c.expected])).toEqual([[2, 'cmd', 'old\nlines'], [7, 'next', '']]);
    expect(cases[0].args).toEqual([{ key: 'n1', vals: [] }, { key: 'k', vals: ['v'] }, { key: 'k2', vals: ['a', 'b'] }]);
    expect(rewriteScript(text, cases, ['old\nlines', ''])).toBe(text);
    expect(rewriteScript(text, cases, ['new', 'ok'])).toBe('# comment\ncmd n1 k=v k2=(a,b)\n----\nnew\n\nnext\n----\nok\n');
    expect(() => parseScript('t.txt', 'cmd\nno separator\n')).toThrow(/t.txt:1/);
  });

  for (const file of files) {
    it(file, () => {
      const path = join(DIR, file);
      const rel = relative(process.cwd(), path);
      const text = readFileSync(path, 'utf8');
      const cases = parseScript(rel, text);
      expect(cases.length).toBeGreaterThan(0);
      const outputs = runScript(rel, basename(file, '.txt'), cases);
      const diffs = mismatches(rel, cases, outputs);
      if (UPDATE) {
        if (diffs.length > 0) {
          writeFileSync(path, rewriteScript(text, cases, outputs));
          console.log(`rewrote ${rel} (${diffs.length} case(s) changed)`);
        }
        return;
      }
      if (diffs.length > 0) throw new Error(`${diffs.length} case(s) differ; rerun with UPDATE=1 to accept:\n\n${diffs.join('\n\n')}`);
    });
  }
});
