import { z } from 'zod';
import { addQuery, QUERY_ID_LENGTH_MAX, QUERY_NAME_LENGTH_MAX, QUERY_TEXT_LENGTH_MAX, STORED_QUERIES_MAX, type QueryStore } from '../sim/apm/query.ts';
import { apmTopology, type ApmShape } from './apm-common.ts';
import { DEFAULT_METRICS } from '../sim/apm/types.ts';
import { firstIssue, ScenarioError, type ScenarioInput } from './schema.ts';

/**
 * Settings: what a user may change about a scenario without writing a new one, carried by shared links and what-if
 * forks next to the seed and the recorded actions.
 * - `config`: per node kind, fields merged over the config of every node of that kind (`{"mq-producer": {"acks":
 *   "leader"}}`). The node kind checks the merged config when it is built, as it checks a scenario's own.
 * - `queries`: the APM dashboard's stored queries, in the query language. The pipeline's shape depends on them (which
 *   metrics ingestion keeps, one topic per kept metric), so an APM scenario carries its shape in `workload.apm` and
 *   the topology is rebuilt from it with the new queries.
 * Applying settings yields plain scenario data: a trace records that data, so its replay needs no settings.
 */

/** The JSON text of one settings object may not exceed this (a link carries it). */
export const SETTINGS_JSON_MAX = 32_000;
export const SETTINGS_KINDS_MAX = 16;
export const SETTINGS_FIELDS_MAX = 32;

const kindName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a node kind is lower-case letters, digits and dashes');
const fieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a config field is a letter, then letters, digits or "_"');

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
const json: z.ZodType<Json> = z.lazy(() =>
  z.union([z.string().max(QUERY_TEXT_LENGTH_MAX), z.number().refine(Number.isFinite, 'numbers must be finite'), z.boolean(), z.null(), z.array(json).max(1000), z.record(z.string().max(64), json)]),
);

export const settingsSchema = z.strictObject({
  config: z
    .record(kindName, z.record(fieldName, json).refine((r) => Object.keys(r).length <= SETTINGS_FIELDS_MAX, `at most ${SETTINGS_FIELDS_MAX} fields per kind`))
    .refine((r) => Object.keys(r).length <= SETTINGS_KINDS_MAX, `at most ${SETTINGS_KINDS_MAX} node kinds`)
    .optional(),
  queries: z
    .array(
      z.strictObject({
        id: z.string().min(1).max(QUERY_ID_LENGTH_MAX),
        name: z.string().min(1).max(QUERY_NAME_LENGTH_MAX),
        text: z.string().min(1).max(QUERY_TEXT_LENGTH_MAX),
      }),
    )
    .min(1)
    .max(STORED_QUERIES_MAX)
    .optional(),
});
export type Settings = z.infer<typeof settingsSchema>;

/** Validates raw settings (from a link, a fork form, the worker boundary); throws a ScenarioError naming the field. */
export function parseSettings(raw: unknown): Settings {
  let size: number;
  try {
    size = JSON.stringify(raw ?? {}).length;
  } catch {
    throw new ScenarioError('settings: not plain JSON data');
  }
  if (size > SETTINGS_JSON_MAX) throw new ScenarioError(`settings: ${size} characters of JSON; at most ${SETTINGS_JSON_MAX}`);
  const parsed = settingsSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ScenarioError(`settings.${firstIssue(parsed.error)}`);
  return parsed.data;
}

export function isEmptySettings(s: Settings): boolean {
  return s.config === undefined && s.queries === undefined;
}

/** The stored queries as the query store has them, or a ScenarioError naming the query and the parse error. */
export function storeOf(queries: NonNullable<Settings['queries']>): QueryStore {
  let store: QueryStore = { queries: [] };
  queries.forEach((q, i) => {
    const r = addQuery(store, q);
    if (!r.ok) throw new ScenarioError(`settings.queries[${i}] (${JSON.stringify(q.id)}): ${r.error.message}`);
    store = r.store;
  });
  return store;
}

/** Scenario data with the settings applied. The input is not changed. */
export function applySettings(input: ScenarioInput, settings: Settings): ScenarioInput {
  let out: ScenarioInput = structuredClone(input);
  if (settings.queries !== undefined) {
    const shape = (out.workload as { apm?: ApmShape } | undefined)?.apm;
    if (shape === undefined) throw new ScenarioError(`settings.queries: scenario ${JSON.stringify(input.id)} has no stored queries to edit`);
    const store = storeOf(settings.queries);
    const emitted = (shape.metrics ?? DEFAULT_METRICS).map((m) => m.name);
    store.queries.forEach((q, i) => {
      if (!emitted.includes(q.query.metric)) {
        throw new ScenarioError(`settings.queries[${i}] (${JSON.stringify(q.id)}): no agent emits metric ${JSON.stringify(q.query.metric)} (metrics: ${emitted.join(', ')})`);
      }
    });
    const next: ApmShape = { ...shape, queries: settings.queries };
    let topology: ScenarioInput['topology'];
    try {
      topology = apmTopology(next);
    } catch (e) {
      throw new ScenarioError(`settings.queries: ${e instanceof Error ? e.message : String(e)}`);
    }
    out = { ...out, topology, workload: { ...out.workload, apm: next } };
  }
  for (const [kind, fields] of Object.entries(settings.config ?? {})) {
    const nodes = out.topology.nodes.filter((n) => n.kind === kind);
    if (nodes.length === 0) {
      const kinds = [...new Set(out.topology.nodes.map((n) => n.kind))].join(', ');
      throw new ScenarioError(`settings.config.${kind}: no node of that kind in ${JSON.stringify(input.id)} (kinds: ${kinds})`);
    }
    for (const n of nodes) n.config = { ...(n.config ?? {}), ...structuredClone(fields) };
  }
  return out;
}
