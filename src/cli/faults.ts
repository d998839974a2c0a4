import { randomFaults, type TimedFault } from '../sim/kernel/random-faults.ts';
import { RngStreams } from '../sim/kernel/rng.ts';
import { hostIdsOf } from '../sim/kernel/world.ts';
import type { LinkSpec } from '../sim/kernel/types.ts';
import { BEHAVIORS, bugsFor } from '../sim/nodes.ts';
import { compileScenario, type LinkInput, type ScenarioInput } from '../scenarios/schema.ts';

/** The rng stream a random fault schedule is drawn from; a sibling of the world's own streams under the same seed. */
export const RANDOM_FAULTS_STREAM = 'faults:random';

/**
 * Returns a copy of `input` with a random fault schedule appended to its `faults`, drawn from stream
 * `faults:random` of `new RngStreams(seed)`. `seed` must be the seed the run will use, so `sim run <scenario>
 * --seed S --faults random` reproduces exactly what `sim sweep` ran for seed S, and a trace exported from it carries
 * the whole schedule as plain scenario data (replay needs nothing else).
 *
 * The input is compiled first, so a broken scenario fails here with the same path-naming message as `Lab.load`.
 */
export function withRandomFaults(input: ScenarioInput, seed: string): ScenarioInput {
  const { world } = compileScenario(input, { knownKinds: Object.keys(BEHAVIORS), knownBugs: bugsFor });
  const rng = new RngStreams(seed).stream(RANDOM_FAULTS_STREAM);
  const drawn = randomFaults(
    hostIdsOf(world.nodes),
    world.durationUs,
    rng,
    // Raft replicas announce roles, so some crashes may target whichever replica leads at the time (its whole host).
    { defaultLink: world.link, restoreLinks: world.links, roles: world.nodes.some((n) => n.kind === 'raft' || n.kind === 'mq-partition') ? ['leader'] : [] },
  );
  const copy = structuredClone(input);
  copy.faults = [...copy.faults, ...drawn.map(toScenarioFault)];
  // The scenario's own expectations assume only its own faults; under a random schedule what must hold is safety
  // (no violation) and, once everything is healed, liveness — when the scenario says what progress looks like.
  const settledAt = Math.max(0, ...drawn.map((f) => f.at), ...world.faults.map((f) => f.at));
  copy.expect = [{ check: 'no-violations', text: 'No invariant is violated under the random fault schedule.' }];
  if (input.liveness) {
    const within = compileScenario({ ...input, duration: input.liveness.within, faults: [], narration: [] }, { knownKinds: Object.keys(BEHAVIORS), knownBugs: bugsFor }).world.durationUs;
    copy.expect.push({ check: 'count', match: input.liveness.match, from: `${settledAt}us`, to: `${Math.min(settledAt + within, world.durationUs)}us`, min: 1, text: `Liveness: ${input.liveness.text}` });
  }
  return copy;
}

type ScenarioFault = ScenarioInput['faults'][number];

/** A kernel fault in the scenario file's units: `at` as an exact "…us" duration, link settings in milliseconds. */
export function toScenarioFault({ at, fault }: TimedFault): ScenarioFault {
  const when = `${at}us`;
  if (fault.kind === 'link') {
    const { set, ...rest } = fault;
    return { at: when, ...rest, set: linkToInput(set) };
  }
  return { at: when, ...fault } as ScenarioFault;
}

/** The inverse of the schema's `linkFromInput`; exact for integer microseconds and bytes per second. */
export function linkToInput(set: Partial<LinkSpec>): LinkInput {
  const out: LinkInput = {};
  if (set.latencyUs !== undefined) out.latencyMs = set.latencyUs / 1000;
  if (set.jitterUs !== undefined) out.jitterMs = set.jitterUs / 1000;
  if (set.loss !== undefined) out.loss = set.loss;
  if (set.dup !== undefined) out.dup = set.dup;
  if (set.reorder !== undefined) out.reorder = set.reorder;
  if (set.bandwidthBytesPerS !== undefined) out.bandwidthMBps = set.bandwidthBytesPerS / 1_000_000;
  return out;
}
