/**
 * Determinism guard: nothing under src/sim (worker.ts aside) may read wall time, unseeded randomness, timers, crypto
 * or the DOM, nor import the view layer. A run must depend only on scenario + seed + actions. The scan strips
 * comments first, so prose that names a forbidden API does not trip it, while code always does.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../src/sim');
const EXEMPT = new Set(['worker.ts']);

const FORBIDDEN: [RegExp, string][] = [
  [/\bMath\.random\b/, 'Math.random'],
  [/\bDate\.now\b/, 'Date.now'],
  [/\bnew Date\b/, 'new Date'],
  [/\bperformance\.now\b/, 'performance.now'],
  [/\bsetTimeout\b/, 'setTimeout'],
  [/\bsetInterval\b/, 'setInterval'],
  [/\bsetImmediate\b/, 'setImmediate'],
  [/\brequestAnimationFrame\b/, 'requestAnimationFrame'],
  [/\bcrypto\b/, 'crypto'],
  [/\bdocument\b/, 'document'],
  // The global `window`, not a field of that name (`sub.window`, `{ window: 10 }` — windowed aggregation uses the word).
  [/(?<![.\w$])window\b(?!\s*:)/, 'window'],
  [/\bprocess\.(hrtime|env)\b/, 'process.hrtime/env'],
  [/from\s+['"](svelte|comlink|node:[^'"]+)['"]/, 'svelte, comlink or node: imports'],
  [/from\s+['"][^'"]*\/views\//, 'imports from src/views'],
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** String text emptied, for the patterns that name identifiers; a template literal keeps its `${…}` code. */
function stripQuoted(code: string): string {
  return code
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, "''")
    .replace(/`(?:[^`\\]|\\.)*`/g, (t) => (t.match(/\$\{[^}]*\}/g) ?? []).join(' '));
}

export function scan(src: string): string[] {
  const code = stripComments(src);
  const bare = stripQuoted(code);
  return FORBIDDEN.filter(([re, name]) => re.test(name.includes('imports') ? code : bare)).map(([, name]) => name);
}

describe('src/sim determinism guard', () => {
  const all = files(ROOT).filter((p) => !EXEMPT.has(relative(ROOT, p)));

  it('finds the simulator sources', () => {
    expect(all.length).toBeGreaterThan(10);
  });

  it.each(all.map((p) => [relative(ROOT, p), p]))('%s uses no wall clock, unseeded randomness, timers or DOM', (_name, p) => {
    expect(scan(readFileSync(p, 'utf8'))).toEqual([]);
  });

  it('catches each forbidden use in code and ignores it in comments', () => {
    expect(scan('const x = Math.random();')).toEqual(['Math.random']);
    expect(scan('const t = performance.now();')).toEqual(['performance.now']);
    expect(scan('setTimeout(f, 1)')).toEqual(['setTimeout']);
    expect(scan('document.body')).toEqual(['document']);
    expect(scan('const w = window.location;')).toEqual(['window']);
    expect(scan('if (typeof window !== "undefined") f();')).toEqual(['window']);
    expect(scan('const n = sub.window + q.window; const o = { window: 10 };')).toEqual([]);
    expect(scan(`import type { W } from './window.ts'; fail("the window closed"); fail(\`window \${n}\`);`)).toEqual([]);
    expect(scan('const s = `${Date.now()}`;')).toEqual(['Date.now']);
    expect(scan("import x from 'comlink';")).toEqual(['svelte, comlink or node: imports']);
    expect(scan('// Math.random is banned\n/* Date.now too */ const a = 1;')).toEqual([]);
  });
});
