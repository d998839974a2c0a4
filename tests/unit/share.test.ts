/**
 * Shared links (src/views/hash.ts, src/views/share.ts): a link names scenario, seed and bugs readably and carries the
 * settings and recorded actions compressed in `run=`. Checked here in Node with the same Lab the worker runs:
 * - a link made from a run with injected faults and settings reloads to the same trace hash at the same virtual time;
 * - every hostile link — bad base64url, truncated or corrupt DEFLATE, a huge hash, a zip bomb, an unknown scenario,
 *   unknown fields, markup in the seed or in a settings string, a wrong version, actions that are not an array, deep
 *   nesting — gives a sentence naming the problem and where, and parsing never throws (a property over random text);
 * - the Lab's own checks on load name what the link could not know (`actions[0].node: unknown node "b9"`) and keep
 *   the current run.
 */
import fc from 'fast-check';
import { Deflate, deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/sim/lab.ts';
import { formatHash, HASH_LENGTH_MAX, parseHash } from '../../src/views/hash.ts';
import { decodeRun, encodeRun, formatLink, fromBase64url, inflateCapped, parseLink, RUN_INFLATED_BYTES_MAX, toBase64url, type LinkRun } from '../../src/views/share.ts';

const KNOWN = ['ping-pong', 'raft-leader-crash', 'mq-baseline', 'apm-baseline'];

/** `run=` text for any JSON value, bypassing encodeRun's own shaping: what a hand-made hostile link holds. */
function runOf(value: unknown): string {
  return toBase64url(deflateSync(new TextEncoder().encode(JSON.stringify(value))));
}

function errorOf(hash: string): string {
  const parsed = parseLink(hash, KNOWN);
  if (parsed.ok) throw new Error(`expected ${hash.slice(0, 80)} to be refused`);
  return parsed.error;
}

function loadLink(lab: Lab, link: LinkRun) {
  return lab.load(link.scenario!, { seed: link.seed, bugs: link.bugs, settings: link.settings, actions: link.actions });
}

describe('base64url', () => {
  it('round-trips every length and byte value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = toBase64url(bytes);
        expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
        const back = fromBase64url(text);
        expect(back.ok && [...back.bytes]).toEqual([...bytes]);
      }),
    );
    expect(toBase64url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
  });

  it('names the first character outside the alphabet, 1-based, and an impossible length', () => {
    expect(fromBase64url('abcd!fgh')).toEqual({ ok: false, error: 'is not valid base64url at character 5: "!"' });
    expect(fromBase64url('ab cd')).toMatchObject({ ok: false, error: expect.stringContaining('character 3: a space (a "+" of standard base64?)') });
    expect(fromBase64url('abcde')).toMatchObject({ ok: false, error: expect.stringContaining('5 characters is not a length base64url can have') });
  });
});

describe('a link reproduces the run', () => {
  it('faults injected from the panel and settings: the same trace hash at the same virtual time', () => {
    const lab = new Lab();
    lab.load('mq-baseline', { seed: 'class-7', settings: { config: { 'mq-producer': { acks: 'leader' } } } });
    const leader = lab.step({ until: 1_000_000 }).nodes.find((n) => n.headline.role === 'leader');
    expect(leader).toBeDefined();
    lab.inject({ kind: 'crash', node: leader!.id });
    lab.step({ until: 1_500_000 });
    lab.inject({ kind: 'partition', shape: 'halves' });
    lab.step({ until: 2_000_000 });
    lab.inject({ kind: 'heal' });
    const end = lab.step({ until: 3_000_000 });
    expect(end.actions).toHaveLength(3);

    const { hash, error } = formatLink(end);
    expect(error).toBeNull();
    expect(hash).toMatch(/^#scenario=mq-baseline&seed=class-7&run=[A-Za-z0-9_-]+$/);
    const parsed = parseLink(hash, KNOWN);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.link.actions).toEqual(end.actions);
    expect(parsed.link.settings).toEqual(end.settings);

    const other = new Lab();
    loadLink(other, parsed.link);
    const again = other.seek(end.t);
    expect(again.traceHash).toBe(end.traceHash);
    expect(again.eventCount).toBe(end.eventCount);
    // The reloaded run writes the same link back: the address bar is stable.
    expect(formatLink(again).hash).toBe(hash);
  });

  it('bugs and APM queries travel too', () => {
    const lab = new Lab();
    const queries = [{ id: 'carts', name: 'Carts by 5 s', text: 'FROM servers(web-*) SELECT carts WINDOW 5s COMPUTE min, max' }];
    lab.load('apm-baseline', { seed: '3', bugs: ['apm-no-dedupe'], settings: { queries } });
    const end = lab.step({ until: 4_000_000 });
    const { hash } = formatLink(end);
    expect(hash).toContain('&bugs=apm-no-dedupe&run=');
    const parsed = parseLink(hash, KNOWN);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.link).toMatchObject({ scenario: 'apm-baseline', seed: '3', bugs: ['apm-no-dedupe'], settings: { queries } });
    const other = new Lab();
    loadLink(other, parsed.link);
    expect(other.seek(end.t).traceHash).toBe(end.traceHash);
  });

  it('a plain run keeps its short readable link, and the old two-field links still open', () => {
    const snap = new Lab().load('ping-pong', { seed: 'ping-1' });
    expect(formatLink(snap)).toEqual({ hash: '#scenario=ping-pong&seed=ping-1', error: null });
    expect(encodeRun({ settings: {}, actions: [] })).toBe('');
    expect(parseLink('#scenario=ping-pong&seed=abc', KNOWN)).toEqual({ ok: true, link: { scenario: 'ping-pong', seed: 'abc' } });
    expect(parseLink('', KNOWN)).toEqual({ ok: true, link: {} });
  });

  it('a run too large for a link keeps scenario, seed and bugs in the hash and says why', () => {
    const snap = new Lab().load('ping-pong', { seed: 'x' });
    // Distinct times and steps defeat compression: about 12 bytes each once deflated.
    const actions = Array.from({ length: 1_800 }, (_, i) => ({ kind: 'pause', node: `n${(i % 3) + 1}`, at: i * 7919 + ((i * 104_729) % 997), step: i * 13 + (i % 7) }));
    const big = formatLink({ ...snap, actions });
    expect(big.hash).toBe('#scenario=ping-pong&seed=x');
    expect(big.error).toMatch(/^This run's link would be [\d,]+ characters \(1800 actions\); a link holds at most 16,384\. Export the trace/);
  });
});

describe('hostile and malformed links are refused with a sentence that says what and where', () => {
  const good = encodeRun({ actions: [{ kind: 'crash', node: 'n1', at: 1_000_000, step: 40 }] });

  it('bad base64url in run', () => {
    const bad = `${good.slice(0, 16)}*${good.slice(17)}`;
    expect(errorOf(`#scenario=ping-pong&seed=a&run=${bad}`)).toBe('The link\'s "run" field is not valid base64url at character 17: "*".');
    // Standard base64's "+" becomes a space in a URL's query syntax.
    expect(errorOf(`#scenario=ping-pong&seed=a&run=ab+c`)).toContain('at character 3: a space');
  });

  it('truncated and corrupt DEFLATE', () => {
    expect(errorOf(`#scenario=ping-pong&seed=a&run=${good.slice(0, good.length - 8)}`)).toBe('The link\'s "run" field is cut short: its compressed data ends early.');
    const corrupt = toBase64url(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x00, 0x12]));
    expect(errorOf(`#scenario=ping-pong&seed=a&run=${corrupt}`)).toMatch(/^The link's "run" field is not valid compressed data \(invalid block type\)\.$/);
  });

  it('a huge hash is refused before anything is decoded', () => {
    const huge = `#scenario=ping-pong&seed=a&run=${'A'.repeat(HASH_LENGTH_MAX)}`;
    expect(errorOf(huge)).toBe(`The link's #hash is ${huge.length.toLocaleString('en')} characters long; a link holds at most 16,384.`);
    expect(decodeRun('A'.repeat(HASH_LENGTH_MAX + 1))).toMatchObject({ ok: false, error: expect.stringContaining('characters long') });
  });

  it('a zip bomb inside the length limit stops at the inflated-size limit', () => {
    // 12 MB of one byte deflates to about 12 kB: a hash that fits, whose JSON would not.
    const bomb = deflateSync(new TextEncoder().encode(`{"v":1,"actions":[],"x":"${'a'.repeat(12_000_000)}"}`), { level: 9 });
    const text = toBase64url(bomb);
    expect(text.length).toBeLessThan(HASH_LENGTH_MAX - 40);
    expect(errorOf(`#scenario=ping-pong&seed=a&run=${text}`)).toBe('The link\'s "run" field inflates past 256 kB.');
  });

  it('the inflater stops within one slice of the limit, however large the bomb', () => {
    // 64 MB of zeros, deflated in pieces (never held whole): about 64 kB of input.
    const parts: Uint8Array[] = [];
    const deflater = new Deflate({ level: 6 }, (chunk) => parts.push(chunk));
    const zeros = new Uint8Array(1 << 20);
    for (let i = 0; i < 64; i++) deflater.push(zeros, i === 63);
    const bomb = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (bomb.set(p, at), at + p.length), 0);
    const result = inflateCapped(bomb, RUN_INFLATED_BYTES_MAX);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBe('inflates past 256 kB');
    // DEFLATE expands at most ~1032× and the inflater is fed 64 bytes at a time.
    expect(result.inflatedBytes).toBeGreaterThan(RUN_INFLATED_BYTES_MAX);
    expect(result.inflatedBytes).toBeLessThan(RUN_INFLATED_BYTES_MAX + 70_000);
  });

  it('an unknown scenario, an unknown or repeated field, bad bugs', () => {
    expect(errorOf('#scenario=no-such-lab&seed=1')).toBe(`Unknown scenario "no-such-lab" in the link. Known scenarios: ${KNOWN.join(', ')}.`);
    expect(errorOf('#scenario=ping-pong&seed=1&theme=dark')).toBe('The link\'s #hash has unknown field "theme"; expected #scenario=…&seed=…, optionally &bugs=…&run=….');
    expect(errorOf('#scenario=ping-pong&seed=1&seed=2')).toBe('The link\'s #hash names "seed" twice.');
    expect(errorOf('#scenario=ping-pong&seed=1&bugs=Commit_Old')).toBe('Bad bugs in the link: "Commit_Old" (bug 1) is not a bug name: lower-case letters, digits and dashes.');
    expect(errorOf('#scenario=ping-pong&seed=1&bugs=a,a')).toBe('Bad bugs in the link: "a" is named twice.');
    expect(errorOf(`#scenario=ping-pong&seed=1&bugs=${Array.from({ length: 17 }, (_, i) => `b${i}`).join(',')}`)).toContain('at most 16');
  });

  it('script or HTML in the seed or in a settings string', () => {
    const seed = encodeURIComponent('<img src=x onerror=alert(1)>');
    expect(errorOf(`#scenario=ping-pong&seed=${seed}`)).toBe('Bad seed in the link: the seed contains HTML markup at character 1.');
    expect(errorOf(`#scenario=ping-pong&seed=${encodeURIComponent('7</script><script>alert(1)')}`)).toContain('markup at character 2');
    // A comparison is not markup.
    expect(parseHash(`#seed=${encodeURIComponent('a < 5 > b')}`, KNOWN)).toMatchObject({ ok: true, seed: 'a < 5 > b' });

    const queries = [{ id: 'q', name: 'CPU <img src=x onerror=alert(1)>', text: 'FROM servers(web-*) SELECT cpu WINDOW 10s COMPUTE max' }];
    expect(errorOf(`#scenario=apm-baseline&seed=1&run=${runOf({ v: 1, settings: { queries } })}`)).toBe(
      'The link\'s "run" field: settings.queries[0].name contains HTML markup ("<img src=x onerror=alert(1)>"); a link may not carry markup.',
    );
    const config = { 'mq-producer': { note: '<script>alert(1)</script>' } };
    expect(errorOf(`#scenario=mq-baseline&seed=1&run=${runOf({ v: 1, settings: { config } })}`)).toContain('settings.config.mq-producer.note contains HTML markup ("<script>alert(1)</script>")');
  });

  it('a wrong or missing version, a payload that is not an object, unknown fields inside run', () => {
    expect(errorOf(`#seed=1&run=${runOf({ v: 2, actions: [] })}`)).toBe('The link\'s "run" field is format version 2; this lab reads version 1 (was the link made by another version of streamlab?).');
    expect(errorOf(`#seed=1&run=${runOf({ actions: [] })}`)).toBe('The link\'s "run" field has no format version "v".');
    expect(errorOf(`#seed=1&run=${runOf([1, 2])}`)).toBe('The link\'s "run" field holds an array, not a JSON object.');
    expect(errorOf(`#seed=1&run=${runOf('hello')}`)).toBe('The link\'s "run" field holds "hello", not a JSON object.');
    expect(errorOf(`#seed=1&run=${runOf({ v: 1, extra: true })}`)).toMatch(/^The link's "run" field: \(top level\): Unrecognized key: "extra"/);
    expect(errorOf(`#seed=1&run=${runOf({ v: 1, settings: { theme: 'dark' } })}`)).toMatch(/^The link's "run" field: settings: Unrecognized key: "theme"/);
  });

  it('actions that are not an array, or not actions', () => {
    expect(errorOf(`#seed=1&run=${runOf({ v: 1, actions: { kind: 'crash' } })}`)).toMatch(/^The link's "run" field: actions: Invalid input: expected array, received object\.$/);
    expect(errorOf(`#seed=1&run=${runOf({ v: 1, actions: [{ kind: 'crash', node: 'n1', at: 5 }, { kind: 'explode', at: 1 }] })}`)).toMatch(/^The link's "run" field: actions\[1\]\.kind: /);
    expect(errorOf(`#seed=1&run=${runOf({ v: 1, actions: [{ kind: 'crash', node: 'n1', at: -1 }] })}`)).toMatch(/actions\[0\]\.at: /);
  });

  it('text that is not UTF-8 or not JSON, and deep nesting', () => {
    expect(errorOf(`#seed=1&run=${toBase64url(deflateSync(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])))}`)).toBe('The link\'s "run" field does not hold UTF-8 text.');
    expect(errorOf(`#seed=1&run=${toBase64url(deflateSync(new TextEncoder().encode('{"v":1,')))}`)).toMatch(/^The link's "run" field does not hold valid JSON \(/);
    // Built as text: JSON.stringify itself would overflow the stack on this.
    const deep = `{"v":1,"settings":{"config":{"mq-producer":{"deep":${'['.repeat(5_000)}"x"${']'.repeat(5_000)}}}}}`;
    expect(errorOf(`#seed=1&run=${toBase64url(deflateSync(new TextEncoder().encode(deep)))}`)).toBe('The link\'s "run" field nests deeper than 32 levels.');
  });

  it('what only the Lab knows is checked on load, and the current run stays', () => {
    const lab = new Lab();
    lab.load('ping-pong', { seed: 'keep' });
    const before = lab.step({ until: 1_000_000 });
    const parsed = parseLink(`#scenario=ping-pong&seed=1&run=${runOf({ v: 1, actions: [{ kind: 'crash', node: 'b9', at: 5 }] })}`, KNOWN);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(() => loadLink(lab, parsed.link)).toThrow('actions[0].node: unknown node "b9"');
    const bug = parseLink('#scenario=ping-pong&seed=1&bugs=commit-old-term', KNOWN);
    if (!bug.ok) throw new Error(bug.error);
    expect(() => loadLink(lab, bug.link)).toThrow(/unknown bug "commit-old-term" for this scenario/);
    expect(lab.snapshot().traceHash).toBe(before.traceHash);
    expect(lab.snapshot().seed).toBe('keep');
  });

  it('parsing never throws, whatever the hash or the run field holds', () => {
    const sentence = /^(The link's|Unknown scenario|Bad seed|Bad bugs)[^]*\.$/;
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const r = parseLink(text, KNOWN);
        if (!r.ok) expect(r.error).toMatch(sentence);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), maxLength: 200 }), (run) => {
        const r = parseLink(`#seed=1&run=${run}`, KNOWN);
        if (!r.ok) expect(r.error).toMatch(sentence);
      }),
      { numRuns: 500 },
    );
    // Valid DEFLATE of random JSON values reaches the schemas; they refuse or accept, never throw.
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const r = parseLink(`#seed=1&run=${runOf(value)}`, KNOWN);
        if (!r.ok) expect(r.error).toMatch(sentence);
      }),
      { numRuns: 300 },
    );
  });

  it('formatHash keeps a seed with URL syntax in it intact', () => {
    const h = formatHash({ scenario: 'ping-pong', seed: 'a&run=b#c', bugs: ['x-1'] });
    expect(h).toBe('#scenario=ping-pong&seed=a%26run%3Db%23c&bugs=x-1');
    expect(parseHash(h, KNOWN)).toEqual({ ok: true, scenario: 'ping-pong', seed: 'a&run=b#c', bugs: ['x-1'] });
  });
});
