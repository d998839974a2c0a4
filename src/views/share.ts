import { deflateSync, Inflate } from 'fflate';
import { z } from 'zod';
import { actionSchema, firstIssue } from '../scenarios/schema.ts';
import { settingsSchema, type Settings } from '../scenarios/settings.ts';
import { formatHash, HASH_LENGTH_MAX, markupAt, parseHash } from './hash.ts';

/**
 * The compressed part of a shared link: `run=` holds what a seed alone does not reproduce — the settings and the
 * recorded actions — as base64url (RFC 4648 §5, no padding) of raw DEFLATE (RFC 1951) of the JSON
 * `{"v":1,"settings":{…},"actions":[…]}`.
 *
 * A link is untrusted input, so decoding refuses, in this order and with a message naming the problem and where:
 * a field longer than the hash allows, a character outside the base64url alphabet, a length base64url cannot have,
 * DEFLATE that is corrupt or cut short, output past `RUN_INFLATED_BYTES_MAX` (checked while inflating, a slice of
 * input at a time, so a zip bomb stops after at most one slice's worth of output), text that is not UTF-8 or JSON, a
 * version this lab does not read, nesting deeper than `RUN_DEPTH_MAX`, anything the schemas refuse (the settings'
 * own schema; the Lab's own action schema, so node ids are checked again by the Lab on load), and HTML markup in any
 * string. Decoding never throws.
 */

/** The inflated JSON of `run` may not exceed this many bytes. */
export const RUN_INFLATED_BYTES_MAX = 256 * 1024;
/** Recorded actions a link may carry. */
export const RUN_ACTIONS_MAX = 2_000;
/** JSON nesting (objects and arrays) a link may carry; settings need five or six levels. */
export const RUN_DEPTH_MAX = 32;
/** The format version written into `v`; a link with another version is refused by name. */
export const RUN_VERSION = 1;
/** Input fed to the inflater per push: DEFLATE expands at most ~1032×, so one push yields at most ~66 kB. */
const INFLATE_SLICE_BYTES = 64;

/** What a link carries beyond scenario, seed and bugs. Actions are in the Lab's own form (`Snapshot.actions`). */
export interface SharedRun {
  settings?: Settings;
  actions?: z.infer<typeof actionSchema>[];
}

export type RunDecode = { ok: true; run: SharedRun } | { ok: false; error: string };

const runSchema = z.strictObject({
  v: z.literal(RUN_VERSION),
  settings: settingsSchema.optional(),
  actions: z.array(actionSchema).max(RUN_ACTIONS_MAX, `at most ${RUN_ACTIONS_MAX} actions`).optional(),
});

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DIGIT = new Map([...ALPHABET].map((c, i) => [c, i]));

export function toBase64url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let k = 0; k < chars; k++) out += ALPHABET[(n >> (18 - 6 * k)) & 63];
  }
  return out;
}

/** The bytes, or where the text stops being base64url (1-based character positions, as a reader counts). */
export function fromBase64url(text: string): { ok: true; bytes: Uint8Array } | { ok: false; error: string } {
  for (let i = 0; i < text.length; i++) {
    if (!DIGIT.has(text[i])) {
      const shown = text[i] === ' ' ? 'a space (a "+" of standard base64?)' : JSON.stringify(text[i]);
      return { ok: false, error: `is not valid base64url at character ${i + 1}: ${shown}` };
    }
  }
  // Four characters carry three bytes; a lone trailing character carries fewer than eight bits, so no byte.
  if (text.length % 4 === 1) return { ok: false, error: `is cut short: ${text.length} characters is not a length base64url can have` };
  const bytes = new Uint8Array(Math.floor((text.length * 6) / 8));
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (const c of text) {
    acc = ((acc << 6) | DIGIT.get(c)!) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[j++] = (acc >> bits) & 0xff;
    }
  }
  return { ok: true, bytes };
}

/** Inflates raw DEFLATE, refusing corrupt or truncated input and output past `maxBytes` as soon as it is seen. */
export function inflateCapped(data: Uint8Array, maxBytes: number): { ok: true; bytes: Uint8Array } | { ok: false; error: string; inflatedBytes: number } {
  const parts: Uint8Array[] = [];
  let total = 0;
  let over = false;
  const inflater = new Inflate((chunk) => {
    total += chunk.length;
    if (total > maxBytes) over = true;
    else parts.push(chunk);
  });
  try {
    for (let at = 0; at < data.length && !over; at += INFLATE_SLICE_BYTES) {
      const end = Math.min(data.length, at + INFLATE_SLICE_BYTES);
      inflater.push(data.subarray(at, end), end === data.length);
    }
    if (data.length === 0) inflater.push(new Uint8Array(0), true);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { ok: false, error: /EOF/i.test(why) ? 'is cut short: its compressed data ends early' : `is not valid compressed data (${why})`, inflatedBytes: total };
  }
  // `inflatedBytes`: how much was inflated before refusing, at most `maxBytes` plus one slice's output.
  if (over) return { ok: false, error: `inflates past ${maxBytes / 1024} kB`, inflatedBytes: total };
  const out = new Uint8Array(total);
  let k = 0;
  for (const p of parts) {
    out.set(p, k);
    k += p.length;
  }
  return { ok: true, bytes: out };
}

/**
 * One pass over parsed JSON, without recursion (a hostile link may nest deeply): whether it nests past `maxDepth`,
 * and the path and text of the first string holding markup.
 */
function scan(value: unknown, maxDepth: number): { tooDeep: boolean; markup: { path: string; text: string } | null } {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: '', depth: 0 }];
  let markup: { path: string; text: string } | null = null;
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (markup === null && markupAt(v) >= 0) markup = { path, text: v };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) return { tooDeep: true, markup };
    // Pushed in reverse so the first markup found is the first in document order.
    const entries = Array.isArray(v) ? v.map((x, i) => [`${path}[${i}]`, x] as const) : Object.entries(v).map(([k, x]) => [path ? `${path}.${k}` : k, x] as const);
    for (let i = entries.length - 1; i >= 0; i--) stack.push({ v: entries[i][1], path: entries[i][0], depth: depth + 1 });
  }
  return { tooDeep: false, markup };
}

function snippet(text: string): string {
  const at = Math.max(0, markupAt(text));
  const cut = text.slice(at, at + 40);
  return JSON.stringify(cut.length < text.length - at ? `${cut}…` : cut);
}

/** Validates parsed JSON as a run payload; errors are reasons about the field. */
function checkRun(value: unknown): RunDecode {
  const fail = (error: string): RunDecode => ({ ok: false, error });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail(`holds ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}, not a JSON object`);
  const v = (value as { v?: unknown }).v;
  if (v === undefined) return fail('has no format version "v"');
  if (v !== RUN_VERSION) return fail(`is format version ${JSON.stringify(v)}; this lab reads version ${RUN_VERSION} (was the link made by another version of streamlab?)`);
  const { tooDeep, markup } = scan(value, RUN_DEPTH_MAX);
  if (tooDeep) return fail(`nests deeper than ${RUN_DEPTH_MAX} levels`);
  const parsed = runSchema.safeParse(value);
  if (!parsed.success) return fail(`: ${firstIssue(parsed.error)}`);
  if (markup !== null) return fail(`: ${markup.path} contains HTML markup (${snippet(markup.text)}); a link may not carry markup`);
  const { settings, actions } = parsed.data;
  return { ok: true, run: { ...(settings !== undefined ? { settings } : {}), ...(actions !== undefined ? { actions } : {}) } };
}

const FIELD = 'The link\'s "run" field';

/** A reason ("is cut short…", ": actions[0].kind: …") as a sentence about the field. */
function fieldError(reason: string): { ok: false; error: string } {
  return { ok: false, error: `${FIELD}${reason.startsWith(':') ? '' : ' '}${reason}.` };
}

/**
 * Decodes the `run` field of a link into settings and actions, or a sentence saying what is wrong:
 * `The link's "run" field is not valid base64url at character 17: "!".`
 */
export function decodeRun(text: string): RunDecode {
  const result = decodeReason(text);
  return result.ok ? result : fieldError(result.error);
}

function decodeReason(text: string): RunDecode {
  try {
    if (text.length > HASH_LENGTH_MAX) return { ok: false, error: `is ${text.length} characters long; a link holds at most ${HASH_LENGTH_MAX}` };
    if (text.length === 0) return { ok: false, error: 'is empty' };
    const raw = fromBase64url(text);
    if (!raw.ok) return raw;
    const inflated = inflateCapped(raw.bytes, RUN_INFLATED_BYTES_MAX);
    if (!inflated.ok) return { ok: false, error: inflated.error };
    let json: string;
    try {
      json = new TextDecoder('utf-8', { fatal: true }).decode(inflated.bytes);
    } catch {
      return { ok: false, error: 'does not hold UTF-8 text' };
    }
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (e) {
      return { ok: false, error: `does not hold valid JSON (${e instanceof Error ? e.message : String(e)})` };
    }
    return checkRun(value);
  } catch (e) {
    // A last resort: decoding is total by design, so this names an unexpected failure rather than hiding it.
    return { ok: false, error: `could not be read (${e instanceof Error ? e.message : String(e)})` };
  }
}

/** `run=` text for settings and actions; the empty string when there is nothing to carry. */
export function encodeRun(run: { settings?: Settings; actions?: readonly unknown[] }): string {
  const settings = run.settings !== undefined && Object.keys(run.settings).length > 0 ? run.settings : undefined;
  const actions = run.actions !== undefined && run.actions.length > 0 ? run.actions : undefined;
  if (settings === undefined && actions === undefined) return '';
  const json = JSON.stringify({ v: RUN_VERSION, ...(settings ? { settings } : {}), ...(actions ? { actions } : {}) });
  return toBase64url(deflateSync(new TextEncoder().encode(json), { level: 9 }));
}

/** A run as a link carries it: the readable fields and the decoded settings and actions. */
export interface LinkRun {
  scenario?: string;
  seed?: string;
  bugs?: string[];
  settings?: Settings;
  actions?: SharedRun['actions'];
}

export type LinkParse = { ok: true; link: LinkRun } | { ok: false; error: string };

/** Parses a whole `#…` link: readable fields first (cheap), then the compressed run. Never throws. */
export function parseLink(hash: string, knownScenarios: readonly string[]): LinkParse {
  const parsed = parseHash(hash, knownScenarios);
  if (!parsed.ok) return parsed;
  const { run, ...readable } = parsed;
  const link: LinkRun = {};
  if (readable.scenario !== undefined) link.scenario = readable.scenario;
  if (readable.seed !== undefined) link.seed = readable.seed;
  if (readable.bugs !== undefined) link.bugs = readable.bugs;
  if (run === undefined) return { ok: true, link };
  const decoded = decodeRun(run);
  if (!decoded.ok) return decoded;
  return { ok: true, link: { ...link, ...decoded.run } };
}

/** The parts of a snapshot a link carries (`Snapshot` fits). */
export interface LinkSource {
  scenario: { id: string };
  seed: string;
  bugs: readonly string[];
  settings: Settings;
  actions: readonly unknown[];
}

/**
 * The `#…` link of a run. When the run is too large for a link (`HASH_LENGTH_MAX`), `hash` names the run without its
 * settings and actions and `error` says why, so the address bar still names the scenario and seed.
 */
export function formatLink(s: LinkSource): { hash: string; error: string | null } {
  const ref = { scenario: s.scenario.id, seed: s.seed, bugs: s.bugs };
  const hash = formatHash({ ...ref, run: encodeRun({ settings: s.settings, actions: s.actions }) });
  if (hash.length <= HASH_LENGTH_MAX) return { hash, error: null };
  return {
    hash: formatHash(ref),
    error: `This run's link would be ${hash.length.toLocaleString('en')} characters (${s.actions.length} actions); a link holds at most ${HASH_LENGTH_MAX.toLocaleString('en')}. Export the trace to share it instead.`,
  };
}
