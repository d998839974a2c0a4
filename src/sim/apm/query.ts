import type { AggregateFn } from './window.ts';
import { z } from 'zod';
import { firstIssue } from '../../scenarios/schema.ts';
import { assert, assertNever, fail } from '../kernel/assert.ts';
import { US_PER_MS, US_PER_S, type Micros } from '../kernel/time.ts';

/**
 * The APM dashboard's stored-query language (the lecture notes' "Case Study: APM"):
 *
 *     FROM servers(web-*) SELECT cpu WINDOW 10s COMPUTE min, max, avg, p99
 *
 * A stored query is a standing order to the aggregation tier: forever, for every window, take the points of one metric
 * from the matching servers and write one row of aggregates. There is no notion of "done"; that is what makes it a
 * stream query rather than a batch one.
 *
 * Grammar (keywords, function names and TIME values are case-insensitive; whitespace between tokens is free; server
 * patterns, metric names and duration units are case-sensitive):
 *
 *     query    := FROM sources SELECT metric WINDOW duration extra* COMPUTE function ("," function)*
 *     sources  := "*" | servers "(" pattern ("," pattern)* ")" | server "(" pattern ")"
 *     extra    := SLIDE duration | LATENESS duration | TIME (event | processing)     -- each at most once, any order
 *     duration := digits ["." digits] unit        unit := ms | s | m | h               -- "10s", "1.5 m", "250ms"
 *     function := min | max | avg | sum | count | p<number> | percentile "(" number ")"
 *
 * `parseQuery` never throws on any input: it returns the first problem with its position, what would have been
 * accepted there, and a message for people. `formatQuery` writes the canonical text; the two round-trip exactly.
 *
 * Durations share the kernel's meaning of "10s" and "2m" (time.ts `parseDuration`) but are stricter: a unit is required
 * (a bare "10" is refused instead of read as milliseconds), hours are allowed, and a duration must be a whole number of
 * microseconds (refused, not rounded), so that parse ∘ format is the identity.
 */

// ---------------------------------------------------------------------------------------------------------------------
// Limits (STYLE rule 7). Each bounds work or memory in the parser, the aggregator or the dashboard.

/**
 * Longest query text accepted, in UTF-16 code units. It is not a round 1,000 because every query the parser accepts
 * must also format to a canonical text it accepts: 32 patterns of 64 characters alone take 2,112 (asserted below).
 */
export const QUERY_TEXT_LENGTH_MAX = 4_000;
export const SERVER_PATTERNS_MAX = 32;
export const SERVER_PATTERN_LENGTH_MAX = 64;
export const METRIC_NAME_LENGTH_MAX = 128;
/** Functions per COMPUTE clause: each is one column of the query's output table. */
export const FUNCTIONS_MAX = 16;
/** Windows last from 1 ms (below that a window rarely holds more than one point) to 1 h (state held per window). */
export const WINDOW_US_MIN: Micros = US_PER_MS;
export const WINDOW_US_MAX: Micros = 3_600 * US_PER_S;
/** How long a window stays open past its end for late points: each open window is state the aggregator keeps. */
export const LATENESS_US_MAX: Micros = 3_600 * US_PER_S;
/**
 * A sliding window puts each point into ceil(window / slide) windows, so a 1 h window sliding by 1 ms would update
 * 3.6 million windows per point. The slide must be at least window / WINDOWS_PER_POINT_MAX.
 */
export const WINDOWS_PER_POINT_MAX = 100;
/** p99.999 is allowed, p99.9999 is not: sketches answer percentiles to about 1% anyway. */
export const PERCENTILE_DECIMALS_MAX = 3;
export const STORED_QUERIES_MAX = 256;
export const QUERY_NAME_LENGTH_MAX = 80;
export const QUERY_ID_LENGTH_MAX = 64;

const SIMPLE_FUNCTIONS = ['min', 'max', 'avg', 'sum', 'count'] as const;
const UNIT_US = new Map<string, Micros>([
  ['ms', US_PER_MS],
  ['s', US_PER_S],
  ['m', 60 * US_PER_S],
  ['h', 3_600 * US_PER_S],
]);

/** The longest duration text `formatDuration` writes: the maximum in milliseconds with three decimals, e.g. "3599999.999ms". */
const DURATION_TEXT_LENGTH_MAX = String(Math.floor(Math.max(WINDOW_US_MAX, LATENESS_US_MAX) / US_PER_MS)).length + '.999ms'.length;
const FUNCTION_LABEL_LENGTH_MAX = Math.max(...SIMPLE_FUNCTIONS.map((f) => f.length), 'p100'.length, 'p99.'.length + PERCENTILE_DECIMALS_MAX);
/** The longest canonical text of a valid query: every clause present, every list full, every name at its limit. */
const CANONICAL_TEXT_LENGTH_MAX =
  'FROM servers() SELECT  WINDOW  SLIDE  LATENESS  TIME processing COMPUTE '.length +
  SERVER_PATTERNS_MAX * (SERVER_PATTERN_LENGTH_MAX + ', '.length) +
  METRIC_NAME_LENGTH_MAX +
  3 * DURATION_TEXT_LENGTH_MAX +
  FUNCTIONS_MAX * (FUNCTION_LABEL_LENGTH_MAX + ', '.length);

assert(WINDOW_US_MIN > 0 && WINDOW_US_MIN <= WINDOW_US_MAX, 'window bounds must be positive and ordered');
assert(Number.isSafeInteger(WINDOW_US_MAX) && Number.isSafeInteger(LATENESS_US_MAX), 'duration bounds must be exact integers');
assert(WINDOWS_PER_POINT_MAX >= 1 && WINDOW_US_MAX / WINDOWS_PER_POINT_MAX >= 1, 'the smallest slide must be at least 1µs');
assert(FUNCTIONS_MAX >= SIMPLE_FUNCTIONS.length, 'COMPUTE must be able to list every plain function');
assert(CANONICAL_TEXT_LENGTH_MAX <= QUERY_TEXT_LENGTH_MAX, `canonical text (${CANONICAL_TEXT_LENGTH_MAX}) must fit the text limit`);
assert(PERCENTILE_DECIMALS_MAX <= 6, 'percentile labels must not switch to exponent notation');

// ---------------------------------------------------------------------------------------------------------------------
// Types

/**
 * One aggregate computed over the points of a window; its `functionLabel` names the output column. A closed union:
 * the aggregator switches on `fn`, and a new function is a compile error everywhere it must be handled.
 * - `min`, `max`, `sum`, `count`: exact, and mergeable across partitions by the same function (count merges by sum).
 * - `avg`: kept as sum and count, so partial windows merge exactly.
 * - `percentile`: the value below which `p` percent of the window's points fall, 0 < p <= 100 (p100 is the max).
 *   Exact percentiles need every point; the pipeline answers from a sketch instead (a bounded-size summary).
 */
export type QueryFunction = AggregateFn;

/**
 * Which clock assigns a point to a window.
 * - `event`: the timestamp the agent stamped when the reading was taken. A point delayed in the queue, retried after a
 *   network failure or replayed after a crash still lands in the window it belongs to. The price: the aggregator cannot
 *   know from its own clock when a window is complete; it follows a watermark (see `Query.latenessUs`).
 * - `processing`: the aggregator's clock when the point arrives. Windows close on time and no point is ever late,
 *   but a backlog in the queue shifts points into later windows, so a burst of delay looks like a burst of load.
 */
export type TimeDomain = 'event' | 'processing';

/**
 * A parsed query: plain data (JSON- and structured-cloneable), the same for every text that means the same thing.
 * Invariants, enforced by `parseQuery` and checked again by `queryStoreSchema`:
 * WINDOW_US_MIN <= windowUs <= WINDOW_US_MAX; 0 < slideUs <= windowUs and windowUs <= slideUs × WINDOWS_PER_POINT_MAX;
 * 0 <= latenessUs <= LATENESS_US_MAX, and latenessUs = 0 when time = 'processing'; all durations are integers;
 * servers and compute are non-empty and free of duplicates; percentiles have at most PERCENTILE_DECIMALS_MAX decimals.
 */
export interface Query {
  /**
   * Server-name globs (`*` any run of characters, `?` one character); a point is in the query when its server matches
   * any of them. `FROM *` is `['*']`. Order is kept as written; it matters only to the canonical text.
   */
  servers: string[];
  /**
   * Exactly one metric, e.g. `cpu` or `rpc.latency`. One query reads one metric because the pipeline keeps one topic
   * per metric: a query subscribes to a single topic, and ingestion can drop every metric no stored query selects.
   */
  metric: string;
  /**
   * Window length. Windows are aligned to time 0: the window starting at `k × slideUs` covers
   * [k × slideUs, k × slideUs + windowUs).
   */
  windowUs: Micros;
  /**
   * Distance between window starts. `slideUs === windowUs` is a tumbling window: windows tile the timeline and each
   * point falls into exactly one (`WINDOW 10s`: one row every 10 s). `slideUs < windowUs` is a sliding (hopping)
   * window: windows overlap and each point falls into ceil(windowUs / slideUs) of them (`WINDOW 1m SLIDE 10s`: every
   * 10 s, a row about the last minute).
   */
  slideUs: Micros;
  /**
   * Allowed lateness, event time only. The watermark is the aggregator's running claim that no point stamped earlier
   * than it will still arrive. A window [start, end) first fires when the watermark passes `end`, then stays open
   * `latenessUs` longer: a late point within that time updates the row (the row is re-emitted), one after it is dropped
   * and counted as late. 0 means a window closes as soon as the watermark passes its end.
   */
  latenessUs: Micros;
  time: TimeDomain;
  /** One or more distinct functions, in the order written: the output table's columns. */
  compute: QueryFunction[];
}

/**
 * Why a query text was refused. `offset` (0-based) and `length` are in UTF-16 code units, the unit of JavaScript
 * strings and of an editor's selection; `line` and `column` are 1-based and count '\n' as the only line break.
 * `length` is 0 when the problem is the end of the text.
 */
export interface QueryError {
  message: string;
  offset: number;
  line: number;
  column: number;
  length: number;
  /**
   * What would have been accepted at `offset` (keywords as written in canonical text, e.g. "WINDOW", or a description
   * such as "a duration"). Empty when the text is well-formed but breaks a rule: a window too long, a duplicate.
   */
  expected: string[];
}

export type ParseResult = { ok: true; query: Query } | { ok: false; error: QueryError };

// ---------------------------------------------------------------------------------------------------------------------
// Scanner. Tokens are "(", ")", "," or a maximal run of other non-space characters; each clause then checks that its
// token has the right shape. Errors leave the parser by throwing a QueryFailure, caught only in parseQuery.

interface Cursor {
  readonly text: string;
  pos: number;
}

/** A token and where it starts; `text` is '' at the end of the query. */
interface Token {
  readonly text: string;
  readonly offset: number;
}

class QueryFailure extends Error {
  constructor(readonly error: QueryError) {
    super(error.message);
  }
}

const SPACE_RE = /\s/;
const PUNCTUATION = '(),';
const PATTERN_RE = /^[A-Za-z0-9_.*?-]+$/;
const METRIC_RE = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const NUMBER_RE = /^(\d+)(?:\.(\d+))?$/;
const DURATION_RE = /^(\d+)(?:\.(\d+))?([^\d.]*)$/;
const PERCENTILE_SHORT_RE = /^p(\d+(?:\.\d+)?)$/i;
const DISPLAY_LENGTH_MAX = 24;
const END = 'the end of the query';

function peek(c: Cursor): Token {
  const { text } = c;
  let i = c.pos;
  while (i < text.length && SPACE_RE.test(text[i])) i++;
  if (i >= text.length) return { text: '', offset: text.length };
  if (PUNCTUATION.includes(text[i])) return { text: text[i], offset: i };
  let j = i;
  while (j < text.length && !SPACE_RE.test(text[j]) && !PUNCTUATION.includes(text[j])) j++;
  assert(j > i, 'a word token is never empty');
  return { text: text.slice(i, j), offset: i };
}

function advance(c: Cursor, token: Token): void {
  assert(token.offset >= c.pos && token.offset + token.text.length <= c.text.length, 'tokens advance within the text');
  c.pos = token.offset + token.text.length;
}

/** A token as the messages show it: quoted and escaped (control characters, lone surrogates), cut at 24 characters. */
function describe(token: Token): string {
  if (token.text === '') return END;
  const shown = token.text.length > DISPLAY_LENGTH_MAX ? `${token.text.slice(0, DISPLAY_LENGTH_MAX)}…` : token.text;
  return JSON.stringify(shown);
}

/** Text the user wrote, shown unquoted in a rule message ("WINDOW 0s is out of range"), cut like `describe`. */
function shorten(text: string): string {
  return text.length > DISPLAY_LENGTH_MAX ? `${text.slice(0, DISPLAY_LENGTH_MAX)}…` : text;
}

function errorAt(text: string, offset: number, length: number, message: string, expected: string[]): QueryError {
  assert(offset >= 0 && offset <= text.length && length >= 0, 'an error points inside the text');
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { message, offset, line, column: offset - lineStart + 1, length, expected };
}

/** A rule broken by well-formed text: the span it covers and why. */
function refuse(c: Cursor, offset: number, length: number, message: string): never {
  throw new QueryFailure(errorAt(c.text, offset, length, message, []));
}

/** The token is not what the grammar allows here: "expected <what> <where>, found <token>". */
function unexpected(c: Cursor, token: Token, expected: string[], what: string, where: string): never {
  assert(expected.length > 0, 'a syntax error names what was expected');
  const message = `expected ${what} ${where}, found ${describe(token)}`;
  throw new QueryFailure(errorAt(c.text, token.offset, token.text.length, message, expected));
}

/**
 * Lower case for comparing with keywords, ASCII only: `toLowerCase` / `toUpperCase` alone would let "ſlide" (long s)
 * or "LATENEß" pass for SLIDE and LATENESS. Any other text comes back unchanged and so matches no keyword.
 */
function foldCase(text: string): string {
  return /^[\x21-\x7e]*$/.test(text) ? text.toLowerCase() : text;
}

function keyword(c: Cursor, word: string, where: string): Token {
  const token = peek(c);
  if (foldCase(token.text) !== foldCase(word)) unexpected(c, token, [word], word, where);
  advance(c, token);
  return token;
}

function punctuation(c: Cursor, mark: '(' | ')', where: string): void {
  const token = peek(c);
  if (token.text !== mark) unexpected(c, token, [mark], `"${mark}"`, where);
  advance(c, token);
}

// ---------------------------------------------------------------------------------------------------------------------
// Parser

/**
 * Parses a query text. Never throws, whatever the input (not even for a non-string from untyped callers); the error
 * names the first problem. See QueryError for positions and `formatQueryError` for a one-line rendering.
 */
export function parseQuery(text: string): ParseResult {
  if (typeof text !== 'string') {
    return { ok: false, error: errorAt('', 0, 0, `expected the query as text, found ${typeof text}`, ['a string']) };
  }
  if (text.length > QUERY_TEXT_LENGTH_MAX) {
    const message = `the query is ${text.length} characters long: at most ${QUERY_TEXT_LENGTH_MAX} are allowed`;
    return { ok: false, error: errorAt(text, QUERY_TEXT_LENGTH_MAX, text.length - QUERY_TEXT_LENGTH_MAX, message, []) };
  }
  try {
    return { ok: true, query: parseClauses({ text, pos: 0 }) };
  } catch (e) {
    if (e instanceof QueryFailure) return { ok: false, error: e.error };
    throw e; // An AssertionError is a bug in the parser, not a bad query: let it be loud.
  }
}

function parseClauses(c: Cursor): Query {
  keyword(c, 'FROM', 'at the start of the query');
  const servers = parseServers(c);
  keyword(c, 'SELECT', 'after the servers');
  const metric = parseMetric(c);
  const windowing = parseWindow(c);
  const compute = parseCompute(c);
  assert(peek(c).text === '' && compute.length > 0, 'a query ends after its functions');
  return { servers, metric, ...windowing, compute };
}

function parseServers(c: Cursor): string[] {
  const head = peek(c);
  const form = foldCase(head.text);
  if (head.text === '*') {
    advance(c, head);
    return ['*'];
  }
  if (form !== 'servers' && form !== 'server') {
    unexpected(c, head, ['servers(', 'server(', '*'], 'servers(…), server(…) or *', 'after FROM');
  }
  advance(c, head);
  punctuation(c, '(', `after ${head.text}`);
  const patterns: string[] = [];
  let where = `after "${head.text}("`;
  for (let i = 0; i <= SERVER_PATTERNS_MAX; i++) {
    const token = peek(c);
    if (!PATTERN_RE.test(token.text)) {
      unexpected(c, token, ['a server pattern'], 'a server name or pattern (letters, digits, "_", ".", "-", "*", "?")', where);
    }
    if (token.text.length > SERVER_PATTERN_LENGTH_MAX) {
      refuse(c, token.offset, token.text.length, `server pattern ${describe(token)} is ${token.text.length} characters long: at most ${SERVER_PATTERN_LENGTH_MAX}`);
    }
    if (patterns.includes(token.text)) refuse(c, token.offset, token.text.length, `server pattern ${describe(token)} appears twice`);
    if (patterns.length === SERVER_PATTERNS_MAX) refuse(c, token.offset, token.text.length, `too many server patterns: at most ${SERVER_PATTERNS_MAX}`);
    advance(c, token);
    patterns.push(token.text);
    const separator = peek(c);
    if (separator.text === ')') {
      advance(c, separator);
      return patterns;
    }
    if (form === 'server') {
      unexpected(c, separator, [')'], '")"', `after the server name (server(…) names one server; servers(a, b) names several)`);
    }
    if (separator.text !== ',') unexpected(c, separator, [',', ')'], '"," or ")"', `after the server pattern ${token.text}`);
    advance(c, separator);
    where = 'after ","';
  }
  return fail('unreachable: the pattern limit ends the list');
}

function parseMetric(c: Cursor): string {
  const token = peek(c);
  if (!METRIC_RE.test(token.text)) unexpected(c, token, ['a metric name'], 'a metric name like cpu or rpc.latency', 'after SELECT');
  if (token.text.length > METRIC_NAME_LENGTH_MAX) {
    refuse(c, token.offset, token.text.length, `metric name ${describe(token)} is ${token.text.length} characters long: at most ${METRIC_NAME_LENGTH_MAX}`);
  }
  advance(c, token);
  const after = peek(c);
  if (after.text === ',') refuse(c, after.offset, 1, 'SELECT takes exactly one metric: each metric is its own topic, and a query reads one topic');
  return token.text;
}

/** A duration as written and where: `written` drops any space between number and unit ("10 s" → "10s"). */
interface DurationSpan {
  us: Micros;
  written: string;
  offset: number;
  length: number;
}

function parseDuration(c: Cursor, after: string): DurationSpan {
  const token = peek(c);
  const m = DURATION_RE.exec(token.text);
  if (!m) unexpected(c, token, ['a duration'], 'a duration like 10s', `after ${after}`);
  advance(c, token);
  const [, whole, fraction = '', attached] = m;
  const number = fraction === '' ? whole : `${whole}.${fraction}`;
  let unit: Token = { text: attached, offset: token.offset + number.length };
  if (unit.text === '') unit = peek(c); // "10 s": the unit is the next token.
  const unitUs = UNIT_US.get(unit.text);
  if (unitUs === undefined) unexpected(c, unit, [...UNIT_US.keys()], 'a unit (ms, s, m or h)', `after ${shorten(number)}`);
  if (unit.offset >= c.pos) advance(c, unit);
  const written = `${number}${unit.text}`;
  const span = { offset: token.offset, length: unit.offset + unit.text.length - token.offset };
  const us = exactMicros(whole, fraction, unitUs);
  if (us === null) refuse(c, span.offset, span.length, `${shorten(written)} is not a whole number of microseconds`);
  return { us, written, ...span };
}

/**
 * `whole.fraction` × `unitUs` computed exactly (BigInt), so "0.1s" is 100,000 µs and not 100,000.00000000001; null
 * when the result has a fraction of a microsecond. Values beyond 2^53 come back as Infinity, out of every range.
 */
function exactMicros(whole: string, fraction: string, unitUs: Micros): Micros | null {
  assert(/^\d+$/.test(whole) && /^\d*$/.test(fraction), 'durations are digits');
  assert(Number.isSafeInteger(unitUs) && unitUs > 0, 'units are whole microseconds');
  const digits = fraction.replace(/0+$/, '');
  const scaled = BigInt(whole + digits) * BigInt(unitUs);
  const denominator = 10n ** BigInt(digits.length);
  if (scaled % denominator !== 0n) return null;
  const us = scaled / denominator;
  return us > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(us);
}

type WindowClauses = Pick<Query, 'windowUs' | 'slideUs' | 'latenessUs' | 'time'>;
const EXTRA_CLAUSES = ['SLIDE', 'LATENESS', 'TIME'] as const;

/** WINDOW, then SLIDE / LATENESS / TIME in any order, each at most once, up to and including the COMPUTE keyword. */
function parseWindow(c: Cursor): WindowClauses {
  keyword(c, 'WINDOW', 'after the metric');
  const span = parseDuration(c, 'WINDOW');
  if (!(span.us >= WINDOW_US_MIN && span.us <= WINDOW_US_MAX)) {
    const range = `from ${formatDuration(WINDOW_US_MIN)} to ${formatDuration(WINDOW_US_MAX)}`;
    refuse(c, span.offset, span.length, `WINDOW ${shorten(span.written)} is out of range: a window lasts ${range}`);
  }
  let slide: DurationSpan | null = null;
  let lateness: DurationSpan | null = null;
  let time: TimeDomain | null = null;
  for (let i = 0; i <= EXTRA_CLAUSES.length; i++) {
    const token = peek(c);
    const word = foldCase(token.text);
    const clause = EXTRA_CLAUSES.find((name) => name.toLowerCase() === word);
    const seen = { SLIDE: slide !== null, LATENESS: lateness !== null, TIME: time !== null };
    if (word === 'compute') {
      advance(c, token);
      checkSlide(c, span, slide);
      checkLateness(c, lateness, time ?? 'event');
      return { windowUs: span.us, slideUs: slide?.us ?? span.us, latenessUs: lateness?.us ?? 0, time: time ?? 'event' };
    }
    if (clause !== undefined) {
      if (seen[clause]) refuse(c, token.offset, token.text.length, `${clause} is given twice`);
      advance(c, token);
      if (clause === 'SLIDE') slide = parseDuration(c, 'SLIDE');
      if (clause === 'LATENESS') lateness = parseDuration(c, 'LATENESS');
      if (clause === 'TIME') time = parseTimeDomain(c);
      continue;
    }
    const open = [...EXTRA_CLAUSES.filter((clause) => !seen[clause]), 'COMPUTE'];
    const what = open.length > 1 ? `${open.slice(0, -1).join(', ')} or COMPUTE` : 'COMPUTE';
    unexpected(c, token, open, what, 'after the window');
  }
  return fail('unreachable: each extra clause appears once, then COMPUTE');
}

function parseTimeDomain(c: Cursor): TimeDomain {
  const token = peek(c);
  const word = foldCase(token.text);
  if (word !== 'event' && word !== 'processing') unexpected(c, token, ['event', 'processing'], 'event or processing', 'after TIME');
  advance(c, token);
  return word;
}

function checkSlide(c: Cursor, span: DurationSpan, slide: DurationSpan | null): void {
  assert(span.us >= WINDOW_US_MIN && span.us <= WINDOW_US_MAX, 'the window was checked first');
  if (slide === null) return;
  const { offset, length } = slide;
  const shown = shorten(slide.written);
  if (slide.us === 0) refuse(c, offset, length, `SLIDE ${shown} is out of range: windows must move forward`);
  if (slide.us > span.us) {
    const why = 'a slide is at most the window, or points would fall between windows';
    refuse(c, offset, length, `SLIDE ${shown} is longer than the window (${formatDuration(span.us)}): ${why}`);
  }
  const slideUsMin = Math.ceil(span.us / WINDOWS_PER_POINT_MAX);
  if (slide.us < slideUsMin) {
    const windowsPerPoint = Math.ceil(span.us / slide.us);
    const why = `each point would fall into ${windowsPerPoint} windows, at most ${WINDOWS_PER_POINT_MAX} are allowed (slide at least ${formatDuration(slideUsMin)})`;
    refuse(c, offset, length, `SLIDE ${shown} is too small for a ${formatDuration(span.us)} window: ${why}`);
  }
}

function checkLateness(c: Cursor, lateness: DurationSpan | null, time: TimeDomain): void {
  if (lateness === null) return;
  const { offset, length } = lateness;
  const shown = shorten(lateness.written);
  if (lateness.us > LATENESS_US_MAX) {
    refuse(c, offset, length, `LATENESS ${shown} is out of range: allowed lateness is from 0 to ${formatDuration(LATENESS_US_MAX)}`);
  }
  if (lateness.us > 0 && time === 'processing') {
    refuse(c, offset, length, `LATENESS ${shown} needs TIME event: processing-time windows close by the clock, so no point is ever late`);
  }
}

function parseCompute(c: Cursor): QueryFunction[] {
  const functions: QueryFunction[] = [];
  const labels: string[] = [];
  let where = 'after COMPUTE';
  for (let i = 0; i <= FUNCTIONS_MAX; i++) {
    const start = peek(c).offset;
    const f = parseFunction(c, where);
    const label = functionLabel(f);
    const length = c.pos - start;
    if (labels.includes(label)) {
      const written = c.text.slice(start, c.pos);
      const alias = foldCase(written) === label ? '' : ` (${shorten(written)} is ${label})`;
      refuse(c, start, length, `${label} appears twice in COMPUTE${alias}: each function is computed once`);
    }
    if (functions.length === FUNCTIONS_MAX) refuse(c, start, length, `too many functions in COMPUTE: at most ${FUNCTIONS_MAX}`);
    functions.push(f);
    labels.push(label);
    const separator = peek(c);
    if (separator.text === '') return functions;
    if (separator.text !== ',') unexpected(c, separator, [',', END], `"," or ${END}`, `after ${label}`);
    advance(c, separator);
    where = 'after ","';
  }
  return fail('unreachable: the function limit ends the list');
}

function parseFunction(c: Cursor, where: string): QueryFunction {
  const token = peek(c);
  const word = foldCase(token.text);
  const simple = SIMPLE_FUNCTIONS.find((name) => name === word);
  if (simple !== undefined) {
    advance(c, token);
    return { fn: simple };
  }
  const short = PERCENTILE_SHORT_RE.exec(token.text);
  if (short) {
    advance(c, token);
    return percentile(c, short[1], token.offset, token.text);
  }
  if (word !== 'percentile') {
    const what = 'a function (min, max, avg, sum, count, pNN or percentile(p))';
    unexpected(c, token, [...SIMPLE_FUNCTIONS, 'pNN', 'percentile('], what, where);
  }
  advance(c, token);
  punctuation(c, '(', 'after percentile');
  const number = peek(c);
  if (!NUMBER_RE.test(number.text)) unexpected(c, number, ['a number'], 'a number like 99.9', 'in percentile(…)');
  advance(c, number);
  punctuation(c, ')', `after percentile(${shorten(number.text)}`);
  return percentile(c, number.text, token.offset, c.text.slice(token.offset, c.pos));
}

function percentile(c: Cursor, digits: string, offset: number, written: string): QueryFunction {
  assert(NUMBER_RE.test(digits), 'a percentile is written as digits');
  const length = c.pos - offset;
  const decimals = (digits.split('.')[1] ?? '').replace(/0+$/, '').length;
  if (decimals > PERCENTILE_DECIMALS_MAX) refuse(c, offset, length, `${shorten(written)} has more than ${PERCENTILE_DECIMALS_MAX} decimals`);
  const p = Number(digits);
  if (!(p > 0 && p <= 100)) refuse(c, offset, length, `${shorten(written)} is out of range: a percentile is above 0 and at most 100`);
  return { fn: 'percentile', p };
}

// ---------------------------------------------------------------------------------------------------------------------
// Formatting

/** The output column for a function: "min", "count", "p99", "p99.9". Distinct functions have distinct labels. */
export function functionLabel(f: QueryFunction): string {
  switch (f.fn) {
    case 'min':
    case 'max':
    case 'avg':
    case 'sum':
    case 'count':
      return f.fn;
    case 'percentile':
      assert(f.p > 0 && f.p <= 100, `percentile ${f.p} out of range`);
      assert(Number(f.p.toFixed(PERCENTILE_DECIMALS_MAX)) === f.p, `percentile ${f.p} has more than ${PERCENTILE_DECIMALS_MAX} decimals`);
      return `p${f.p}`;
    default:
      return assertNever(f, 'query function');
  }
}

/**
 * A duration in the largest unit that writes it with at most three decimals: 10s, 1.5m, 250ms, 0.001ms. Exact: the
 * unit divides the value in thousandths, so the division is correctly rounded and prints the same three decimals.
 */
function formatDuration(us: Micros): string {
  assert(Number.isSafeInteger(us) && us >= 0, `durations are whole microseconds, got ${us}`);
  for (const [unit, unitUs] of [...UNIT_US].reverse()) {
    if (us >= unitUs && us % (unitUs / 1_000) === 0) return `${us / unitUs}${unit}`;
  }
  return `${us / US_PER_MS}ms`;
}

/**
 * The canonical text: `servers(…)` even for `*`, single spaces, SLIDE only when sliding, LATENESS only when not 0,
 * TIME only for processing time, percentiles as pNN. `parseQuery(formatQuery(q))` gives back `q` for every valid query,
 * and the text always fits QUERY_TEXT_LENGTH_MAX (asserted at load from the limits).
 */
export function formatQuery(q: Query): string {
  assert(q.servers.length > 0 && q.compute.length > 0, 'a query has servers and functions');
  assert(q.slideUs > 0 && q.slideUs <= q.windowUs, `slide ${q.slideUs} must be in (0, window ${q.windowUs}]`);
  assert(q.time === 'event' || q.latenessUs === 0, 'lateness needs event time');
  const parts = [`FROM servers(${q.servers.join(', ')})`, `SELECT ${q.metric}`, `WINDOW ${formatDuration(q.windowUs)}`];
  if (q.slideUs !== q.windowUs) parts.push(`SLIDE ${formatDuration(q.slideUs)}`);
  if (q.latenessUs !== 0) parts.push(`LATENESS ${formatDuration(q.latenessUs)}`);
  if (q.time !== 'event') parts.push(`TIME ${q.time}`);
  parts.push(`COMPUTE ${q.compute.map(functionLabel).join(', ')}`);
  return parts.join(' ');
}

/** "line 1, column 27: expected a duration like 10s after WINDOW, found \"ten\"" — for logs and the CLI. */
export function formatQueryError(e: QueryError): string {
  return `line ${e.line}, column ${e.column}: ${e.message}`;
}

// ---------------------------------------------------------------------------------------------------------------------
// Server matching

/**
 * Glob match over UTF-16 code units: `*` any run (also empty), `?` exactly one, every other character itself. No
 * regular expression is built, so a pattern cannot inject one. Iterative, with one remembered star: on a mismatch
 * it retries from the last star one character further. That position only moves forward and each retry rescans at
 * most the pattern, so the work is at most (name + pattern + 1) × (pattern + 1) steps, never exponential
 * (`*a*a*a*a*a*a*a*b` against 10,000 a's is ~170,000 steps). The bound is asserted.
 */
export function globMatch(pattern: string, name: string): boolean {
  const stepsMax = (name.length + pattern.length + 1) * (pattern.length + 1);
  let p = 0;
  let n = 0;
  let starP = -1;
  let starN = 0;
  for (let steps = 0; n < name.length; steps++) {
    if (steps > stepsMax) fail(`glob match of ${pattern.length}×${name.length} exceeded ${stepsMax} steps`);
    const pc = p < pattern.length ? pattern[p] : '';
    if (pc === '*') {
      starP = p++;
      starN = n;
    } else if (pc !== '' && (pc === '?' || pc === name[n])) {
      p++;
      n++;
    } else if (starP >= 0) {
      p = starP + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  assert(n === name.length, 'the whole name was consumed');
  return p === pattern.length;
}

/** Whether the query reads points from `server`: its name matches any of the query's patterns. */
export function matchServers(q: Query, server: string): boolean {
  assert(q.servers.length > 0, 'a query names at least one server pattern');
  return q.servers.some((pattern) => globMatch(pattern, server));
}

/** Whether two queries are the same (field by field, functions by fn and p). */
export function sameQuery(a: Query, b: Query): boolean {
  return queryDifference(a, b) === null;
}

/** The first field where `stored` differs from `parsed`, as a path below the query and the two values. */
function queryDifference(parsed: Query, stored: Query): { path: (string | number)[]; parsed: unknown; stored: unknown } | null {
  if (parsed.servers.length !== stored.servers.length) return { path: ['servers'], parsed: parsed.servers, stored: stored.servers };
  for (let i = 0; i < parsed.servers.length; i++) {
    if (parsed.servers[i] !== stored.servers[i]) return { path: ['servers', i], parsed: parsed.servers[i], stored: stored.servers[i] };
  }
  for (const key of ['metric', 'windowUs', 'slideUs', 'latenessUs', 'time'] as const) {
    if (!Object.is(parsed[key], stored[key])) return { path: [key], parsed: parsed[key], stored: stored[key] };
  }
  if (parsed.compute.length !== stored.compute.length) return { path: ['compute'], parsed: parsed.compute, stored: stored.compute };
  for (let i = 0; i < parsed.compute.length; i++) {
    const [x, y] = [parsed.compute[i], stored.compute[i]];
    const same = x.fn === y.fn && (x.fn !== 'percentile' || (y.fn === 'percentile' && Object.is(x.p, y.p)));
    if (!same) return { path: ['compute', i], parsed: x, stored: y };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------------
// Stored queries

/**
 * A query the dashboard keeps: `text` exactly as the user wrote it (their spacing and case), `query` parsed from it.
 * The store keeps both so the editor shows the user's text while the aggregator reads plain data, and checks at the
 * edge (`queryStoreSchema`) that they agree.
 */
export interface StoredQuery {
  /** Unique within the store; a letter or digit, then letters, digits, "_" or "-", at most 64 characters. */
  id: string;
  /** For people: 1 to 80 characters, not blank. Not unique. */
  name: string;
  text: string;
  query: Query;
}

/** The dashboard's stored queries in display order; at most STORED_QUERIES_MAX, ids unique. */
export interface QueryStore {
  queries: StoredQuery[];
}

export type StoreError =
  | { kind: 'bad-id'; id: string; message: string }
  | { kind: 'duplicate-id'; id: string; message: string }
  | { kind: 'unknown-id'; id: string; message: string }
  | { kind: 'bad-name'; message: string }
  | { kind: 'bad-query'; error: QueryError; message: string }
  | { kind: 'store-full'; message: string };

/** Store operations return a new store and never change their input. */
export type StoreResult = { ok: true; store: QueryStore } | { ok: false; error: StoreError };

/** A query to add; without an id it gets the first free one of q1, q2, … */
export interface QueryDraft {
  id?: string;
  name: string;
  text: string;
}

const QUERY_ID_RE = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_-]{0,${QUERY_ID_LENGTH_MAX - 1}}$`);
const QUERY_ID_RULE = `a query id is a letter or digit, then up to ${QUERY_ID_LENGTH_MAX - 1} letters, digits, "_" or "-"`;
const QUERY_NAME_RULE = `a query name is 1 to ${QUERY_NAME_LENGTH_MAX} characters and not blank`;

function isQueryName(name: unknown): name is string {
  return typeof name === 'string' && name.trim() !== '' && name.length <= QUERY_NAME_LENGTH_MAX;
}

/** Name and text checked and parsed into an entry, or why not. */
function storedQuery(id: string, name: string, text: string): { ok: true; entry: StoredQuery } | { ok: false; error: StoreError } {
  if (!isQueryName(name)) return { ok: false, error: { kind: 'bad-name', message: QUERY_NAME_RULE } };
  const parsed = parseQuery(text);
  if (!parsed.ok) return { ok: false, error: { kind: 'bad-query', error: parsed.error, message: formatQueryError(parsed.error) } };
  return { ok: true, entry: { id, name, text, query: parsed.query } };
}

function checkStore(store: QueryStore): void {
  assert(store.queries.length <= STORED_QUERIES_MAX, `the store holds ${store.queries.length} queries, more than ${STORED_QUERIES_MAX}`);
  assert(new Set(store.queries.map((q) => q.id)).size === store.queries.length, 'stored query ids are unique');
}

function nextQueryId(store: QueryStore): string {
  const used = new Set(store.queries.map((q) => q.id));
  for (let n = 1; n <= STORED_QUERIES_MAX + 1; n++) if (!used.has(`q${n}`)) return `q${n}`;
  return fail('unreachable: a store of at most STORED_QUERIES_MAX queries leaves one of q1…q(max+1) free');
}

export function addQuery(store: QueryStore, draft: QueryDraft): StoreResult {
  checkStore(store);
  if (store.queries.length >= STORED_QUERIES_MAX) {
    return { ok: false, error: { kind: 'store-full', message: `the store already holds ${STORED_QUERIES_MAX} queries: remove one first` } };
  }
  const id = draft.id ?? nextQueryId(store);
  if (typeof id !== 'string' || !QUERY_ID_RE.test(id)) return { ok: false, error: { kind: 'bad-id', id: String(id), message: QUERY_ID_RULE } };
  if (store.queries.some((q) => q.id === id)) {
    return { ok: false, error: { kind: 'duplicate-id', id, message: `a query with id "${id}" already exists` } };
  }
  const built = storedQuery(id, draft.name, draft.text);
  if (!built.ok) return built;
  return { ok: true, store: { queries: [...store.queries, built.entry] } };
}

/** Changes a query's name and/or text in place (same position, same id); the text is parsed again. */
export function updateQuery(store: QueryStore, id: string, patch: { name?: string; text?: string }): StoreResult {
  checkStore(store);
  const index = store.queries.findIndex((q) => q.id === id);
  if (index < 0) return { ok: false, error: { kind: 'unknown-id', id: String(id), message: `no query with id ${JSON.stringify(id)}` } };
  const old = store.queries[index];
  const built = storedQuery(id, patch.name ?? old.name, patch.text ?? old.text);
  if (!built.ok) return built;
  return { ok: true, store: { queries: store.queries.map((q, i) => (i === index ? built.entry : q)) } };
}

export function removeQuery(store: QueryStore, id: string): StoreResult {
  checkStore(store);
  const queries = store.queries.filter((q) => q.id !== id);
  if (queries.length === store.queries.length) {
    return { ok: false, error: { kind: 'unknown-id', id: String(id), message: `no query with id ${JSON.stringify(id)}` } };
  }
  assert(queries.length === store.queries.length - 1, 'ids are unique, so one query goes');
  return { ok: true, store: { queries } };
}

/**
 * The metrics some stored query reads. Everything else can be dropped at ingestion, before it costs queue space
 * ("all the data that's not in a query, we dump").
 */
export function metricsUsed(store: QueryStore): Set<string> {
  return new Set(store.queries.map((q) => q.query.metric));
}

/** The stored queries a point of `metric` from `server` feeds, in store order. */
export function serversMatched(store: QueryStore, metric: string, server: string): StoredQuery[] {
  return store.queries.filter((q) => q.query.metric === metric && matchServers(q.query, server));
}

// ---------------------------------------------------------------------------------------------------------------------
// Schemas for stores that arrive from outside (URL, scenario file)

const queryFunctionSchema = z.discriminatedUnion('fn', [
  z.strictObject({ fn: z.enum(SIMPLE_FUNCTIONS) }),
  z.strictObject({ fn: z.literal('percentile'), p: z.number() }),
]);

/** Shapes only: the values are checked by parsing the text and comparing (storedQuerySchema). */
const querySchema = z.strictObject({
  servers: z.array(z.string()).min(1).max(SERVER_PATTERNS_MAX),
  metric: z.string(),
  windowUs: z.number(),
  slideUs: z.number(),
  latenessUs: z.number(),
  time: z.enum(['event', 'processing']),
  compute: z.array(queryFunctionSchema).min(1).max(FUNCTIONS_MAX),
});

/**
 * A stored query from outside. The text must parse, and the stored `query` must be exactly what it parses to: a
 * hand-edited `windowUs` is refused rather than trusted, with the field's path, e.g.
 * `queries[1].query.windowUs: does not match the text, which gives 10000000 (stored: 5000000)`.
 */
export const storedQuerySchema = z
  .strictObject({
    id: z.string().regex(QUERY_ID_RE, QUERY_ID_RULE),
    name: z.string().refine(isQueryName, QUERY_NAME_RULE),
    text: z.string().max(QUERY_TEXT_LENGTH_MAX),
    query: querySchema,
  })
  .superRefine((entry, ctx) => {
    const parsed = parseQuery(entry.text);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', path: ['text'], message: formatQueryError(parsed.error) });
      return;
    }
    const difference = queryDifference(parsed.query, entry.query as Query);
    if (difference !== null) {
      const message = `does not match the text, which gives ${JSON.stringify(difference.parsed)} (stored: ${JSON.stringify(difference.stored)})`;
      ctx.addIssue({ code: 'custom', path: ['query', ...difference.path], message });
    }
  });

export const queryStoreSchema = z
  .strictObject({ queries: z.array(storedQuerySchema).max(STORED_QUERIES_MAX) })
  .superRefine((store, ctx) => {
    const first = new Map<string, number>();
    store.queries.forEach((q, i) => {
      const earlier = first.get(q.id);
      if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: ['queries', i, 'id'], message: `id "${q.id}" is already used by queries[${earlier}]` });
      else first.set(q.id, i);
    });
  });

/** Validates a store from outside; the message names the first problem and its path. */
export function parseQueryStore(raw: unknown): { ok: true; store: QueryStore } | { ok: false; message: string } {
  const result = queryStoreSchema.safeParse(raw);
  if (!result.success) return { ok: false, message: `invalid query store: ${firstIssue(result.error)}` };
  const store = result.data as QueryStore;
  checkStore(store);
  return { ok: true, store };
}
