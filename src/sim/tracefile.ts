import { z } from 'zod';
import { actionSchema, firstIssue, formatPath } from '../scenarios/schema.ts';
import { canonicalJson } from './kernel/hash.ts';
import { hashEvents, TRACE_KINDS, type TraceEvent } from './kernel/trace.ts';
import type { Action } from './kernel/types.ts';
import { batched, joinChunks } from './export/chunks.ts';

/**
 * The native trace file (DESIGN.md): a header with everything needed to re-run (scenario data, seed, teaching bugs,
 * user actions) plus the events and their hash. JSON for short runs; JSON Lines (header line, then one event a line)
 * for long ones. Import validates before it touches anything and names the first problem with its path.
 */
export const TRACE_FORMAT = 'streamlab-trace';
export const TRACE_VERSION = 1;
export const APP_VERSION = '0.1.0';
/** Larger files are refused before parsing: a browser tab should not freeze on a stray multi-gigabyte drop. */
export const TRACE_TEXT_MAX = 64 * 1024 * 1024;
export const TRACE_DEPTH_MAX = 64;

export interface TraceHeader {
  format: typeof TRACE_FORMAT;
  version: typeof TRACE_VERSION;
  app: string;
  scenario: string;
  seed: string;
  /**
   * The scenario data as run (settings already applied), the teaching bugs, and the settings the user had changed
   * (for the record and for links made from the re-run; the data already holds them).
   */
  config: { scenario: unknown; bugs: string[]; settings?: Record<string, unknown> };
  actions: Action[];
  eventCount: number;
  /**
   * Units of work the run had taken (World.steps). Some steps record no event (a timer of a paused node), so the
   * event count alone cannot say where between two events the run stood; the replay takes exactly this many.
   * Optional: traces written before it existed still import, replayed up to their last event and clock.
   */
  steps?: number;
  virtualUs: number;
  hash: string;
}

export interface TraceFile extends TraceHeader {
  events: TraceEvent[];
}

export class TraceError extends Error {
  override name = 'TraceError';
}

const headerSchema = z.strictObject({
  format: z.literal(TRACE_FORMAT, { message: `expected "${TRACE_FORMAT}"` }),
  version: z.number().refine((v) => v === TRACE_VERSION, { message: `this lab reads version ${TRACE_VERSION} traces` }),
  app: z.string().max(40),
  scenario: z.string().max(64),
  seed: z.string().min(1).max(200),
  config: z.strictObject({ scenario: z.record(z.string(), z.unknown()), bugs: z.array(z.string()).max(20), settings: z.record(z.string(), z.unknown()).optional() }),
  actions: z.array(actionSchema).max(100_000),
  eventCount: z.number().int().min(0),
  steps: z.number().int().min(0).optional(),
  virtualUs: z.number().int().min(0),
  hash: z.string().regex(/^[0-9a-f]{16}$/, 'expected 16 hex digits'),
});

const eventSchema = z.looseObject({
  t: z.number().int().min(0),
  seq: z.number().int().min(0),
  kind: z.enum(TRACE_KINDS as [string, ...string[]]),
});

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text, (key, value) => {
      if (FORBIDDEN_KEYS.has(key)) throw new TraceError(`${where}: forbidden key ${JSON.stringify(key)}`);
      return value;
    });
  } catch (err) {
    if (err instanceof TraceError) throw err;
    // The reviver walks the parsed value recursively; only absurd nesting (hundreds of thousands of levels) gets here.
    if (err instanceof RangeError) throw new TraceError(`${where}: nested deeper than ${TRACE_DEPTH_MAX} levels (too deep to read)`);
    const msg = err instanceof Error ? err.message : String(err);
    throw new TraceError(`${where}: not valid JSON (${msg})`);
  }
}

function checkDepth(value: unknown, where: string): void {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > TRACE_DEPTH_MAX) throw new TraceError(`${where}: nested deeper than ${TRACE_DEPTH_MAX} levels`);
    for (const c of Object.values(v)) stack.push([c, d + 1]);
  }
}

export function parseTrace(text: string): TraceFile {
  if (typeof text !== 'string') throw new TraceError('trace: expected text');
  if (text.length > TRACE_TEXT_MAX) {
    throw new TraceError(`trace: file is ${(text.length / 1e6).toFixed(1)} MB; the limit is ${TRACE_TEXT_MAX / 1024 / 1024} MB`);
  }
  const trimmed = text.trimStart();
  if (trimmed === '') throw new TraceError('trace: file is empty');
  const firstLineEnd = trimmed.indexOf('\n');
  let raw: Record<string, unknown>;
  let events: unknown[];
  const whole = firstLineEnd < 0 ? null : parseMaybe(trimmed.slice(0, firstLineEnd));
  if (whole !== null && typeof whole === 'object' && !Array.isArray(whole) && !('events' in whole)) {
    // JSON Lines: header on the first line, then one event per line.
    raw = whole as Record<string, unknown>;
    events = [];
    const lines = trimmed.slice(firstLineEnd + 1).split('\n');
    lines.forEach((line, i) => {
      if (line.trim() !== '') events.push(parseJson(line, `line ${i + 2}`));
    });
  } else {
    const doc = parseJson(text, 'trace');
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new TraceError('trace: expected a JSON object');
    raw = doc as Record<string, unknown>;
    // Another tool's JSON is best named by its missing format marker, not by its missing events.
    if (raw.format !== TRACE_FORMAT) throw new TraceError(`format: expected "${TRACE_FORMAT}", got ${raw.format === undefined ? 'no format field' : JSON.stringify(raw.format).slice(0, 60)}`);
    if (!Array.isArray(raw.events)) throw new TraceError('events: expected an array of events');
    events = raw.events;
  }
  const { events: _ignored, ...headerRaw } = raw;
  checkDepth(headerRaw, 'trace');
  const header = headerSchema.safeParse(headerRaw);
  if (!header.success) throw new TraceError(firstIssue(header.error));
  const out: TraceEvent[] = [];
  for (let i = 0; i < events.length; i++) {
    checkDepth(events[i], `events[${i}]`);
    const ev = eventSchema.safeParse(events[i]);
    if (!ev.success) {
      const issue = ev.error.issues[0];
      throw new TraceError(`events[${i}]${issue.path.length ? '.' + formatPath(issue.path) : ''}: ${issue.message}`);
    }
    // Keep the parsed object itself, not zod's copy: the hash is over the text as recorded, key order included.
    const e = events[i] as TraceEvent;
    if (e.seq !== i) throw new TraceError(`events[${i}].seq: expected ${i}, got ${e.seq}`);
    if (i > 0 && e.t < out[i - 1].t) throw new TraceError(`events[${i}].t: time goes backwards (${e.t} after ${out[i - 1].t})`);
    out.push(e);
  }
  if (out.length !== header.data.eventCount) {
    throw new TraceError(`eventCount: header says ${header.data.eventCount} events, file has ${out.length} (truncated?)`);
  }
  const hash = hashEvents(out);
  if (hash !== header.data.hash) throw new TraceError(`hash: header says ${header.data.hash}, events hash to ${hash} (edited or corrupted)`);
  return { ...(header.data as unknown as TraceHeader), events: out };
}

/**
 * The first line as JSON, or null when it is not JSON by itself (the opening of a whole-document trace). A first line
 * that is JSON but hostile (a forbidden key, absurd nesting) is refused here, naming line 1.
 */
function parseMaybe(line: string): unknown {
  try {
    return parseJson(line, 'line 1');
  } catch (e) {
    if (e instanceof TraceError && !/: not valid JSON \(/.test(e.message)) throw e;
    return null;
  }
}

/** The native file as one string: the chunks of `traceChunks`, joined. */
export function formatTrace(header: TraceHeader, events: readonly TraceEvent[], format: 'json' | 'jsonl'): string {
  return joinChunks(traceChunks(header, events, format));
}

/**
 * The native file as a stream of chunks, in file order. JSON Lines: the header line, then one event a line. JSON: the
 * header's fields, then `"events":[` with one event a line, so even the JSON form can be read line by line. Only one
 * chunk of text exists at a time; the events themselves are the run's own (no copy).
 */
export function traceChunks(header: TraceHeader, events: readonly TraceEvent[], format: 'json' | 'jsonl'): Generator<string, void, undefined> {
  assertHeader(header);
  return batched(format === 'jsonl' ? jsonlPieces(header, events) : jsonPieces(header, events));
}

function* jsonlPieces(header: TraceHeader, events: readonly TraceEvent[]): Generator<string> {
  yield JSON.stringify(header) + '\n';
  for (const e of events) yield JSON.stringify(e) + '\n';
}

function* jsonPieces(header: TraceHeader, events: readonly TraceEvent[]): Generator<string> {
  const head = JSON.stringify(header);
  yield head.slice(0, -1) + ',"events":[\n';
  for (let i = 0; i < events.length; i++) yield (i ? ',\n' : '') + JSON.stringify(events[i]);
  yield '\n]}\n';
}

/** The header part of a parsed file, in the header's own field order (what an export of it writes first). */
export function headerOf(file: TraceHeader): TraceHeader {
  return {
    format: file.format,
    version: file.version,
    app: file.app,
    scenario: file.scenario,
    seed: file.seed,
    config: file.config,
    actions: file.actions,
    eventCount: file.eventCount,
    ...(file.steps === undefined ? {} : { steps: file.steps }),
    virtualUs: file.virtualUs,
    hash: file.hash,
  };
}

function assertHeader(header: TraceHeader): void {
  if (header.format !== TRACE_FORMAT || header.version !== TRACE_VERSION) throw new TraceError('export: not a streamlab trace header');
  if ('events' in header) throw new TraceError('export: the header must not carry the events (pass them separately)');
}

/** The first index where two event lists differ, with both sides, or null when one is a prefix of the other. */
export function firstDivergence(a: readonly TraceEvent[], b: readonly TraceEvent[]): { index: number; expected: string; actual: string } | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = canonicalJson(a[i]);
    const y = canonicalJson(b[i]);
    if (x !== y) return { index: i, expected: x, actual: y };
  }
  return null;
}
