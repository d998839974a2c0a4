import { z } from 'zod';
import { fail } from '../kernel/assert.ts';
import { SNAPSHOT_CHUNK_BYTES_MAX, SNAPSHOT_CHUNK_BYTES_MIN, SNAPSHOT_ENTRIES_MAX } from './types.ts';

/**
 * Schema helpers for node configs, and the Raft replica's own config schema. A node kind's schema describes what a
 * scenario may write (every field optional unless the kind needs it; unknown fields refused, so a typo is an error,
 * not a silently ignored setting) and each message says what was expected, so `configProblem` can name the field:
 * `config.acks: expected "none" | "leader" | "quorum"`.
 */

/** A number within [min, max] (`int`: whole). */
export function num(min: number, max: number, int = false): z.ZodNumber {
  const what = `expected a ${int ? 'whole number' : 'number'} within ${min}..${max}`;
  const n = z.number({ error: what }).min(min, { error: what }).max(max, { error: what });
  return int ? n.int({ error: what }) : n;
}

/** A number above 0 and at most `max`. */
export function positive(max: number): z.ZodNumber {
  const what = `expected a number above 0 and at most ${max}`;
  return z.number({ error: what }).gt(0, { error: what }).max(max, { error: what });
}

/** One of the given strings; the message lists them. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T): z.ZodEnum<{ [K in T[number]]: K }> {
  return z.enum(values, { error: `expected ${values.map((v) => JSON.stringify(v)).join(' | ')}` });
}

export function text(min: number, max: number): z.ZodString {
  const what = min > 0 ? `expected text of ${min}..${max} characters` : `expected text of at most ${max} characters`;
  return z.string({ error: what }).min(min, { error: what }).max(max, { error: what });
}

export const flag = z.boolean({ error: 'expected true or false' });

/**
 * A strict object schema whose fields are all optional except `required` (each keeps its own message when missing,
 * where `.partial().required()` would say "expected nonoptional").
 */
export function fields<S extends Record<string, z.ZodType>, R extends keyof S = never>(
  shape: S,
  required: readonly R[] = [],
): z.ZodObject<{ [K in keyof S]: K extends R ? S[K] : z.ZodOptional<S[K]> }, z.core.$strict> {
  const out: Record<string, z.ZodType> = {};
  for (const k of Object.keys(shape)) out[k] = (required as readonly string[]).includes(k) ? shape[k] : shape[k].optional();
  return z.strictObject(out, { error: 'expected an object of settings' }) as never;
}

/** A node id as the scenario schema allows it. */
export const nodeRef = z.string({ error: 'expected a node id' }).regex(/^[A-Za-z][\w.-]{0,31}$/, { error: 'expected a node id (a letter, then up to 31 letters, digits, "_", "." or "-")' });

export function list<T extends z.ZodType>(item: T, min: number, max: number): z.ZodArray<T> {
  const what = `expected a list of ${min}..${max} items`;
  return z.array(item, { error: what }).min(min, { error: what }).max(max, { error: what });
}

/**
 * The first problem of a config against its schema, as `config.<path>: <message>`, or null. An unknown field is named
 * with the fields the kind knows.
 */
export function configProblem(schema: z.ZodType, config: unknown): string | null {
  const r = schema.safeParse(config ?? {});
  if (r.success) return null;
  const issue = r.error.issues[0];
  let path = 'config';
  for (const p of issue.path) path += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(schema, issue.path);
    return `${path}.${issue.keys[0]}: unknown field${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`;
  }
  return `${path}: ${issue.message}`;
}

/** The keys of the object schema at `path` inside `schema` (best effort: objects, records' values, arrays' items). */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = schema;
  for (const p of path) {
    const def = (s as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown; valueType?: unknown; innerType?: unknown } }).def;
    if (!def) return [];
    if (def.type === 'optional' || def.type === 'nonoptional' || def.type === 'default') s = def.innerType;
    const d = (s as { def: typeof def }).def;
    if (d.type === 'object') s = d.shape?.[String(p)];
    else if (d.type === 'array') s = d.element;
    else if (d.type === 'record') s = d.valueType;
    else return [];
  }
  let def = (s as { def?: { type?: string; shape?: Record<string, unknown>; innerType?: unknown } }).def;
  if (def && (def.type === 'optional' || def.type === 'nonoptional' || def.type === 'default')) def = (def.innerType as { def?: typeof def }).def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/**
 * The Raft replica's settings (`RaftConfig`), plus the group it belongs to and the group's name: the fields a node kind
 * built on the replica (`raftReplicaOf`) accepts next to its machine's settings. Their relations (heartbeat below the
 * election timeouts, linger below the heartbeat…) are asserted when the replica boots.
 */
export const raftConfigShape = {
  group: list(nodeRef, 1, 99),
  name: text(1, 64),
  electionMinMs: positive(600_000),
  electionMaxMs: positive(600_000),
  heartbeatMs: positive(600_000),
  applyRatePerS: num(0, 10_000_000),
  appendEntriesMax: num(1, 100_000, true),
  preVote: flag,
  checkQuorum: flag,
  conflictHint: flag,
  snapshotEntries: num(0, SNAPSHOT_ENTRIES_MAX, true),
  snapshotKeepEntries: num(0, SNAPSHOT_ENTRIES_MAX, true),
  snapshotChunkBytes: num(SNAPSHOT_CHUNK_BYTES_MIN, SNAPSHOT_CHUNK_BYTES_MAX, true),
  replicateLingerMs: num(0, 1000),
  heartbeatWhenIdle: flag,
};

const HOUR_MS = 3_600_000;

/** The `raft` kind's config: a replica of the key-value machine, Raft settings only. */
export const raftReplicaConfigSchema = fields(raftConfigShape);

/** `RaftClientConfig`: a client writing (and reading) keys through the group it names. */
export const raftClientConfigSchema = fields(
  {
    group: list(nodeRef, 1, 99),
    writeEveryMs: num(0, HOUR_MS),
    readEveryMs: num(0, HOUR_MS),
    readMode: oneOf(['strong', 'eventual']),
    timeoutMs: positive(HOUR_MS),
    keys: num(1, 1_000_000, true),
    outstandingMax: num(1, 1_000_000, true),
    stopAtMs: num(0, 720 * HOUR_MS),
  },
  ['group'],
);

/** The schema of each Raft node kind's config. */
export const RAFT_CONFIG_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  raft: raftReplicaConfigSchema,
  'raft-client': raftClientConfigSchema,
};

/** What is wrong with a node's config for its kind among `schemas` (`config.<field>: <what was expected>`), or null. */
export function kindConfigProblem(schemas: Readonly<Record<string, z.ZodType>>, kind: string, config: unknown): string | null {
  const schema = schemas[kind];
  return schema === undefined ? null : configProblem(schema, config);
}

/** Throws, naming the node and the field, when a node's config does not fit its kind (called from `boot`). */
export function checkKindConfig(schemas: Readonly<Record<string, z.ZodType>>, kind: string, node: string, config: unknown): void {
  const problem = kindConfigProblem(schemas, kind, config);
  if (problem !== null) fail(`${kind} ${node}: ${problem}`);
}

export function raftConfigProblem(kind: string, config: unknown): string | null {
  return kindConfigProblem(RAFT_CONFIG_SCHEMAS, kind, config);
}

export function checkRaftConfig(kind: string, node: string, config: unknown): void {
  checkKindConfig(RAFT_CONFIG_SCHEMAS, kind, node, config);
}
