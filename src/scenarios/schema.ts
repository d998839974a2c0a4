import { z } from 'zod';
import { FAULT_KINDS, type Action, type Fault, type LinkSpec } from '../sim/kernel/types.ts';
import { TRACE_KINDS } from '../sim/kernel/trace.ts';
import { parseDuration, type Micros } from '../sim/kernel/time.ts';
import { hostIdsOf, type HostSpec, type WorldSpec } from '../sim/kernel/world.ts';
import { mqConfigProblem } from '../sim/mq/config.ts';
import { raftConfigProblem } from '../sim/raft/config.ts';

/**
 * The scenario file format, validated at the edge. People write durations as "250ms" / "1.5s" / "2m" (a bare number is
 * milliseconds) and link latency in milliseconds; the schema turns them into the world's integer microseconds.
 * Every error names the first problem and where it is: `faults[2].node: unknown node "b9"`.
 */

const duration = z.union([z.string(), z.number()]).transform((v, ctx): Micros => {
  const us = typeof v === 'number' ? (Number.isFinite(v) && v >= 0 ? Math.round(v * 1000) : null) : parseDuration(v);
  if (us === null) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as "250ms", "1.5s" or "2m", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return us;
});

const probability = z.number().min(0).max(1);
const nodeId = z.string().regex(/^[A-Za-z][\w.-]{0,31}$/, 'a node id is a letter then up to 31 letters, digits, "_", "." or "-"');
const hostId = z.string().regex(/^[A-Za-z][\w.-]{0,31}$/, 'a host id is a letter then up to 31 letters, digits, "_", "." or "-"');

/** A host's resources in megabytes (1,000,000 bytes) per second; absent = unlimited. */
export const hostSchema = z.strictObject({
  diskMBps: z.number().positive().max(1_000_000).optional(),
  nicMBps: z.number().positive().max(1_000_000).optional(),
});
export type HostInput = z.infer<typeof hostSchema>;

export const linkSchema = z.strictObject({
  latencyMs: z.number().min(0).max(600_000).optional(),
  jitterMs: z.number().min(0).max(600_000).optional(),
  loss: probability.optional(),
  dup: probability.optional(),
  reorder: probability.optional(),
  /** Megabytes per second; 0 or absent = unlimited. */
  bandwidthMBps: z.number().min(0).max(1_000_000).optional(),
});
export type LinkInput = z.infer<typeof linkSchema>;

const eventMatch = z
  .looseObject({ kind: z.enum(TRACE_KINDS as [string, ...string[]]) })
  .refine((m) => Object.values(m).every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v)), 'event match fields must be plain values');
export type EventMatch = { kind: string } & Record<string, string | number | boolean | null>;

/**
 * A node id or host id, or a role reference resolved when the fault applies: `@leader`, `@follower`, `@candidate`,
 * or one within a replication group, `@leader/orders-0`. Whatever it names, the fault acts on the whole host.
 */
const nodeRef = z.union([
  nodeId,
  z.string().regex(/^@[a-z][a-z-]{0,31}(\/[A-Za-z0-9][\w.-]{0,63})?$/, 'a role reference is @ then a role, and optionally / and a group: @leader, @leader/orders-0'),
]);

const faultFields = {
  node: nodeRef.optional(),
  loseUnsynced: z.boolean().optional(),
  shape: z.enum(['isolate', 'halves', 'ring', 'bridge', 'groups']).optional(),
  groups: z.array(z.array(nodeRef).min(1)).min(2).optional(),
  oneWay: z.boolean().optional(),
  from: z.union([nodeId, z.literal('*')]).optional(),
  to: z.union([nodeId, z.literal('*')]).optional(),
  set: linkSchema.optional(),
  symmetric: z.boolean().optional(),
};

export const faultSchema = z.strictObject({ kind: z.enum(FAULT_KINDS as [string, ...string[]]), ...faultFields });
const scheduledFault = z.strictObject({ at: duration, kind: z.enum(FAULT_KINDS as [string, ...string[]]), ...faultFields });

const bound = { min: z.number().optional(), max: z.number().optional() };
export const expectationSchema = z.discriminatedUnion('check', [
  z.strictObject({ check: z.literal('no-violations'), text: z.string().max(300) }),
  z.strictObject({ check: z.literal('violation'), checker: z.string(), text: z.string().max(300) }),
  z.strictObject({ check: z.literal('count'), match: eventMatch, from: duration.optional(), to: duration.optional(), ...bound, text: z.string().max(300) }),
  z.strictObject({ check: z.literal('metric'), metric: z.string(), ...bound, text: z.string().max(300) }),
  z.strictObject({ check: z.literal('within'), after: eventMatch, then: eventMatch, within: duration, text: z.string().max(300) }),
]);
export type Expectation = z.infer<typeof expectationSchema>;

// ---- narration (issue 7: guided narration, predict-then-reveal) ------------------------------------------------------

export const NARRATION_STEPS_MAX = 500;
/** A question offers at most this many node ids to choose from. */
export const ASK_CHOICES_MAX = 20;

/** The Kafka / Raft / stream-processing term a step maps to, with its meaning in one line. */
const termSchema = z.strictObject({ name: z.string().min(1).max(80), meaning: z.string().min(1).max(300) });

/**
 * How the answer to a step's question is computed from the run — a closed union, so a scenario names where the
 * answer comes from and never writes the answer itself:
 * - `next-event`: the node of the first event matching `match` after the step's anchor (which replica wins?). The
 *   learner picks one of `choices` (default: every node).
 * - `metric`: a metric's value (a number) at `at`, or at the end of the run. A guess within `tolerance` is right.
 * - `metric-above`: yes when the metric is above `above` at `at` (or the end): "will any acknowledged write be lost?"
 * - `checker`: yes when `checker` (any checker when absent) has reported a violation by `at` (or the end).
 * The metric forms may name an `evidence` event: the first one matching it after the anchor is linked as evidence.
 */
export const answerSchema = z.discriminatedUnion('from', [
  z.strictObject({ from: z.literal('next-event'), match: eventMatch, choices: z.array(nodeId).min(2).max(ASK_CHOICES_MAX).optional() }),
  z.strictObject({
    from: z.literal('metric'),
    metric: z.string().min(1).max(100),
    at: duration.optional(),
    tolerance: z.number().min(0).max(1e12).optional(),
    unit: z.string().max(16).optional(),
    evidence: eventMatch.optional(),
  }),
  z.strictObject({ from: z.literal('metric-above'), metric: z.string().min(1).max(100), above: z.number(), at: duration.optional(), evidence: eventMatch.optional() }),
  z.strictObject({ from: z.literal('checker'), checker: z.string().min(1).max(64).optional(), at: duration.optional() }),
]);
export type AnswerSource = z.infer<typeof answerSchema>;

/** Predict, then reveal: a question posed when the step is reached; `explain` is shown with the answer. */
const askSchema = z.strictObject({ question: z.string().min(1).max(300), answer: answerSchema, explain: z.string().min(1).max(1000).optional() });

/**
 * A narration step, anchored to a time (`at`) or to the first event matching `onEvent` — at or after `after` when
 * given, so a step about the second election does not light up at the first. `text` explains; `say` is the sentence
 * to say in an interview; `term` names the concept; `ask` poses a question. All of it is shown as text, never HTML.
 */
export const narrationStepSchema = z
  .strictObject({
    at: duration.optional(),
    onEvent: eventMatch.optional(),
    after: duration.optional(),
    text: z.string().min(1).max(2000),
    say: z.string().min(1).max(600).optional(),
    term: termSchema.optional(),
    ask: askSchema.optional(),
  })
  .superRefine((step, ctx) => {
    if (step.at === undefined && step.onEvent === undefined) {
      ctx.addIssue({ code: 'custom', path: ['at'], message: 'a step needs an anchor: a time (at) or an event (onEvent)' });
    }
    if (step.at !== undefined && step.onEvent !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['onEvent'], message: 'a step has one anchor: a time (at) or an event (onEvent), not both' });
    }
    if (step.after !== undefined && step.onEvent === undefined) {
      ctx.addIssue({ code: 'custom', path: ['after'], message: '"after" narrows an event anchor (onEvent); a time anchor needs none' });
    }
    const a = step.ask?.answer;
    if (a && a.from !== 'next-event' && a.at !== undefined && step.at !== undefined && a.at < step.at) {
      ctx.addIssue({ code: 'custom', path: ['ask', 'answer', 'at'], message: 'the answer is revealed before the question is asked (at is before the step\'s own at)' });
    }
  });
export type NarrationInput = z.input<typeof narrationStepSchema>;

/**
 * What the schema alone cannot check about narration: node ids among the topology's, reveal times within the run,
 * metrics among those the scenario reports. `where` prefixes each error, so it names the step: `narration[2].ask…`.
 */
export function checkNarration(s: { narration: readonly z.output<typeof narrationStepSchema>[]; metrics: readonly string[] }, nodes: readonly string[], durationUs: Micros, where = 'invalid scenario: '): void {
  s.narration.forEach((step, i) => {
    const path = `${where}narration[${i}]`;
    if (step.at !== undefined && step.at > durationUs) throw new ScenarioError(`${path}.at: after the end of the run`);
    const a = step.ask?.answer;
    if (!a) return;
    if (a.from === 'next-event') {
      a.choices?.forEach((c, j) => {
        if (!nodes.includes(c)) throw new ScenarioError(`${path}.ask.answer.choices[${j}]: unknown node ${JSON.stringify(c)}`);
      });
      return;
    }
    if (a.at !== undefined && a.at > durationUs) throw new ScenarioError(`${path}.ask.answer.at: after the end of the run`);
    if ((a.from === 'metric' || a.from === 'metric-above') && s.metrics.length > 0) {
      const dot = a.metric.lastIndexOf('.');
      const known = s.metrics.includes(a.metric) || (dot > 0 && s.metrics.includes(a.metric.slice(0, dot)));
      if (!known) throw new ScenarioError(`${path}.ask.answer.metric: ${JSON.stringify(a.metric)} is not among the scenario's metrics (${s.metrics.join(', ')})`);
    }
  });
}

/** Checker answers must name a checker the run has (known only once the node kinds are): `where` as above. */
export function checkAskCheckers(narration: readonly z.output<typeof narrationStepSchema>[], checkers: readonly string[], where = 'invalid scenario: '): void {
  narration.forEach((step, i) => {
    const a = step.ask?.answer;
    if (a?.from === 'checker' && a.checker !== undefined && !checkers.includes(a.checker)) {
      throw new ScenarioError(`${where}narration[${i}].ask.answer.checker: unknown checker ${JSON.stringify(a.checker)} (known: ${checkers.join(', ')})`);
    }
  });
}

export const scenarioSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a scenario id is lower-case letters, digits and dashes'),
  title: z.string().min(1).max(120),
  summary: z.string().max(2000),
  tags: z.array(z.string().max(32)).max(16),
  difficulty: z.enum(['intro', 'core', 'deep']),
  minutes: z.number().int().min(1).max(120),
  goals: z.array(z.string().max(300)).max(12),
  seed: z.string().min(1).max(200),
  duration: duration,
  topology: z.strictObject({
    /**
     * `host` puts the node on a host (a broker machine), shared with the other nodes naming it; default: the node is
     * its own host. A host id may not be the id of a node on another host.
     */
    nodes: z.array(z.strictObject({ id: nodeId, kind: z.string(), host: hostId.optional(), config: z.record(z.string(), z.unknown()).optional() })).min(1).max(20_000),
    /** Default config per node kind, merged under each node's own config. */
    config: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    link: linkSchema.optional(),
    links: z.array(linkSchema.extend({ from: z.union([nodeId, z.literal('*')]), to: z.union([nodeId, z.literal('*')]), symmetric: z.boolean().optional() })).max(10_000).optional(),
    pauseMode: z.enum(['queue', 'drop']).optional(),
  }),
  /** Disk and NIC bandwidth per host id (a declared host, or a node that is its own host); absent = unlimited. */
  hosts: z.record(z.string(), hostSchema).optional(),
  workload: z.record(z.string(), z.unknown()).optional(),
  faults: z.array(scheduledFault).max(10_000),
  /** Narration steps: see `narrationStepSchema`. */
  narration: z.array(narrationStepSchema).max(NARRATION_STEPS_MAX),
  expect: z.array(expectationSchema).max(100),
  /** Metric names to report in summaries; empty = all. */
  metrics: z.array(z.string()).max(100),
  bugs: z.array(z.string()).max(20).optional(),
  /**
   * What progress looks like, for runs under a random fault schedule: after the heal phase an event matching `match`
   * must occur within `within`, or the run fails its liveness check (TigerBeetle's VOPR: safety while faulty,
   * convergence once healed).
   */
  liveness: z.strictObject({ match: eventMatch, within: duration, text: z.string().max(300) }).optional(),
});

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema>;
export type NarrationStep = Scenario['narration'][number];

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

/** `a.b[2].c` from a zod issue path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || '(top level)';
}

export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${formatPath(issue.path)}: ${issue.message}`;
}

export const DEFAULT_LINK: LinkSpec = { latencyUs: 2_000, jitterUs: 1_000, loss: 0, dup: 0, reorder: 0, bandwidthBytesPerS: 0 };

export function linkFromInput(l: LinkInput): Partial<LinkSpec> {
  const out: Partial<LinkSpec> = {};
  if (l.latencyMs !== undefined) out.latencyUs = Math.round(l.latencyMs * 1000);
  if (l.jitterMs !== undefined) out.jitterUs = Math.round(l.jitterMs * 1000);
  if (l.loss !== undefined) out.loss = l.loss;
  if (l.dup !== undefined) out.dup = l.dup;
  if (l.reorder !== undefined) out.reorder = l.reorder;
  if (l.bandwidthMBps !== undefined) out.bandwidthBytesPerS = Math.round(l.bandwidthMBps * 1_000_000);
  return out;
}

/**
 * Turns a validated fault (scenario or user input) into the kernel's closed union. Node references may name a node
 * or a host (`hosts`, default: the nodes, each its own host); the world maps nodes to their hosts when it applies.
 */
export function toFault(f: z.infer<typeof faultSchema>, where: string, nodes: readonly string[], hosts: readonly string[] = nodes): Fault {
  const need = <T>(v: T | undefined, field: string): T => {
    if (v === undefined) throw new ScenarioError(`${where}.${field}: required for a ${f.kind} fault`);
    return v;
  };
  const known = (id: string, field: string) => {
    if (!nodes.includes(id) && !hosts.includes(id) && !id.startsWith('@')) throw new ScenarioError(`${where}.${field}: unknown node ${JSON.stringify(id)}`);
    return id;
  };
  switch (f.kind) {
    case 'crash':
      return { kind: 'crash', node: known(need(f.node, 'node'), 'node'), ...(f.loseUnsynced ? { loseUnsynced: true } : {}) };
    case 'restart':
    case 'pause':
    case 'resume':
      return { kind: f.kind, node: known(need(f.node, 'node'), 'node') };
    case 'partition': {
      const shape = need(f.shape, 'shape');
      if (f.node !== undefined) known(f.node, 'node');
      if (shape === 'groups') need(f.groups, 'groups').forEach((g, i) => g.forEach((n, j) => known(n, `groups[${i}][${j}]`)));
      if (shape === 'bridge' && hosts.length < 3) throw new ScenarioError(`${where}.shape: a bridge needs at least three ${hosts.length < nodes.length ? 'hosts' : 'nodes'}`);
      return { kind: 'partition', shape, ...(f.node ? { node: f.node } : {}), ...(f.groups ? { groups: f.groups } : {}), ...(f.oneWay ? { oneWay: true } : {}) };
    }
    case 'heal':
      return { kind: 'heal' };
    case 'link': {
      const from = need(f.from, 'from');
      const to = need(f.to, 'to');
      if (from !== '*') known(from, 'from');
      if (to !== '*') known(to, 'to');
      return { kind: 'link', from, to, set: linkFromInput(need(f.set, 'set')), ...(f.symmetric ? { symmetric: true } : {}) };
    }
    default:
      throw new ScenarioError(`${where}.kind: unknown fault kind ${JSON.stringify(f.kind)}`);
  }
}

/**
 * Validates raw scenario data and builds the world it describes. `seed` overrides the scenario's own; `bugs` adds
 * teaching bugs. `knownKinds` and `knownBugs` come from the node registry, so a typo is caught here with its path.
 */
export function compileScenario(
  raw: unknown,
  opts: { seed?: string; bugs?: string[]; knownKinds: readonly string[]; knownBugs: (kinds: string[]) => Record<string, string> },
): { scenario: Scenario; world: WorldSpec } {
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) throw new ScenarioError(`invalid scenario: ${firstIssue(parsed.error)}`);
  const s = parsed.data;
  const ids = s.topology.nodes.map((n) => n.id);
  const seen = new Set<string>();
  const dup = ids.find((id) => seen.size === seen.add(id).size); // linear: the APM bench has 10,000 nodes
  if (dup !== undefined) throw new ScenarioError(`invalid scenario: topology.nodes: node id ${JSON.stringify(dup)} appears twice`);
  s.topology.nodes.forEach((n, i) => {
    if (!opts.knownKinds.includes(n.kind)) {
      throw new ScenarioError(`invalid scenario: topology.nodes[${i}].kind: unknown node kind ${JSON.stringify(n.kind)} (known: ${opts.knownKinds.join(', ')})`);
    }
    // The node's config (the kind's defaults from topology.config, then its own) against its kind's schema.
    const config = { ...(s.topology.config?.[n.kind] ?? {}), ...(n.config ?? {}) };
    const problem = mqConfigProblem(n.kind, config) ?? raftConfigProblem(n.kind, config);
    if (problem !== null) throw new ScenarioError(`invalid scenario: topology.nodes[${i}].${problem} (node ${n.id}, ${n.kind})`);
  });
  const hostIds = hostIdsOf(s.topology.nodes);
  const hostOf = new Map(s.topology.nodes.map((n) => [n.id, n.host ?? n.id]));
  s.topology.nodes.forEach((n, i) => {
    const other = n.host === undefined ? undefined : hostOf.get(n.host);
    if (other !== undefined && other !== n.host) {
      throw new ScenarioError(`invalid scenario: topology.nodes[${i}].host: host id ${JSON.stringify(n.host)} is the id of a node on host ${JSON.stringify(other)}`);
    }
  });
  const hosts = compileHosts(s.hosts, hostIds);
  const kinds = [...new Set(s.topology.nodes.map((n) => n.kind))];
  const bugs = [...new Set([...(s.bugs ?? []), ...(opts.bugs ?? [])])];
  const knownBugs = opts.knownBugs(kinds);
  for (const b of bugs) {
    if (!(b in knownBugs)) {
      const names = Object.keys(knownBugs);
      throw new ScenarioError(`unknown bug ${JSON.stringify(b)} for this scenario (known: ${names.length ? names.join(', ') : 'none'})`);
    }
  }
  const faults = s.faults.map((f, i) => {
    if (f.at > s.duration) throw new ScenarioError(`invalid scenario: faults[${i}].at: after the end of the run`);
    const { at, ...rest } = f;
    return { at, fault: toFault(rest, `invalid scenario: faults[${i}]`, ids, hostIds), source: 'scenario' as const };
  });
  checkNarration(s, ids, s.duration);
  const knownRef = (id: string) => ids.includes(id) || hostIds.includes(id);
  const links = (s.topology.links ?? []).map((l, i) => {
    const { from, to, symmetric, ...spec } = l;
    if (from !== '*' && !knownRef(from)) throw new ScenarioError(`invalid scenario: topology.links[${i}].from: unknown node ${JSON.stringify(from)}`);
    if (to !== '*' && !knownRef(to)) throw new ScenarioError(`invalid scenario: topology.links[${i}].to: unknown node ${JSON.stringify(to)}`);
    return { from, to, set: linkFromInput(spec), symmetric: symmetric === true };
  });
  const world: WorldSpec = {
    scenario: s.id,
    seed: opts.seed ?? s.seed,
    nodes: s.topology.nodes.map((n) => ({ id: n.id, kind: n.kind, ...(n.host !== undefined ? { host: n.host } : {}), config: { ...(s.topology.config?.[n.kind] ?? {}), ...(n.config ?? {}) } })),
    link: { ...DEFAULT_LINK, ...linkFromInput(s.topology.link ?? {}) },
    links,
    faults,
    bugs,
    durationUs: s.duration,
    pauseMode: s.topology.pauseMode ?? 'queue',
    ...(hosts !== undefined ? { hosts } : {}),
  };
  return { scenario: s, world };
}

/** The scenario's `hosts` in kernel units (bytes per second, 0 = unlimited), after checking every id is a host. */
function compileHosts(input: Record<string, HostInput> | undefined, hostIds: readonly string[]): Record<string, HostSpec> | undefined {
  if (input === undefined) return undefined;
  const out: Record<string, HostSpec> = {};
  for (const [id, h] of Object.entries(input)) {
    if (!hostIds.includes(id)) {
      throw new ScenarioError(`invalid scenario: hosts.${id}: unknown host ${JSON.stringify(id)} (hosts: ${hostIds.join(', ')})`);
    }
    out[id] = { diskBytesPerS: Math.round((h.diskMBps ?? 0) * 1_000_000), nicBytesPerS: Math.round((h.nicMBps ?? 0) * 1_000_000) };
  }
  return out;
}

/** Link settings in the kernel's own units, as user actions and trace files carry them. */
const micros = z.number().int().min(0).max(3_600_000_000);
export const kernelLinkSchema = z.strictObject({
  latencyUs: micros.optional(),
  jitterUs: micros.optional(),
  loss: probability.optional(),
  dup: probability.optional(),
  reorder: probability.optional(),
  bandwidthBytesPerS: z.number().int().min(0).max(1e12).optional(),
});

/** A fault in kernel units: what the fault panel sends to `Lab.inject`. */
export const kernelFaultSchema = z.strictObject({ kind: z.enum(FAULT_KINDS as [string, ...string[]]), ...faultFields, set: kernelLinkSchema.optional() });
export const actionSchema = kernelFaultSchema.extend({ at: z.number().int().min(0), step: z.number().int().min(0).optional() });

/** Validates a fault in kernel units against the topology's node ids and host ids (default: the node ids). */
export function toKernelFault(raw: unknown, where: string, nodes: readonly string[], hosts: readonly string[] = nodes): Fault {
  const parsed = kernelFaultSchema.safeParse(raw);
  if (!parsed.success) throw new ScenarioError(`${where}.${firstIssue(parsed.error)}`);
  const { set, ...rest } = parsed.data;
  const fault = toFault(rest.kind === 'link' ? { ...rest, set: {} } : rest, where, nodes, hosts);
  if (fault.kind === 'link') {
    if (set === undefined) throw new ScenarioError(`${where}.set: required for a link fault`);
    fault.set = set;
  }
  return fault;
}

export function toAction(raw: unknown, where: string, nodes: readonly string[], hosts: readonly string[] = nodes): Action {
  const parsed = actionSchema.safeParse(raw);
  if (!parsed.success) throw new ScenarioError(`${where}.${firstIssue(parsed.error)}`);
  const { at, step, ...f } = parsed.data;
  return { ...toKernelFault(f, where, nodes, hosts), at, ...(step !== undefined ? { step } : {}) };
}
