import type { StepArg, Snapshot } from '../sim/lab.ts';

/**
 * The transport's "run until the next …" targets, as Lab step arguments (plain data: they cross to the worker).
 * Each stops at the first step that records a matching event, or at the end of the run when none comes.
 */

/** A replica stands for election (becomes candidate) or wins one (becomes leader) — Raft §5.2. */
export const STEP_ELECTION: StepArg = { untilKind: 'node.state', match: { key: 'role', values: ['candidate', 'leader'] } };

/** Some replica's commit index goes up: it learned that more entries are stored on a majority — Raft §5.3. */
export const STEP_COMMIT: StepArg = { untilKind: 'node.state', match: { key: 'wal', rises: 'commit' } };

export const STEP_FAULT: StepArg = { untilKind: 'fault' };

export const STEP_STATE: StepArg = { untilKind: 'node.state' };

/** The next delivery of a message of this kind (not its send: the moment the receiver handles it). */
export function stepToDelivery(kind: string): StepArg {
  return { untilKind: 'msg.deliver', match: { msg: kind } };
}

/** True when some running node has a role in its headline (a Raft replica, a queue partition): elections happen. */
export function hasRoles(s: Snapshot | null): boolean {
  return s?.nodes.some((n) => 'role' in n.headline) ?? false;
}

/** True when some running node has a commit index in its headline. */
export function hasCommits(s: Snapshot | null): boolean {
  return s?.nodes.some((n) => 'commit' in n.headline) ?? false;
}

export const STEP_HELP = {
  election: 'Run until the next election event: a replica’s election timer fires and it becomes a candidate, or a candidate wins a majority and becomes leader (Raft §5.2).',
  commit: 'Run until some replica’s commit index advances: the entries up to it are known to be on a majority and can no longer be lost (Raft §5.3). Kafka calls it the high watermark moving.',
  fault: 'Run until the next fault (a crash, partition, heal, link change…) is applied, whether the scenario scheduled it or it was drawn at random.',
  state: 'Run until some node announces a state change (role, term, WAL positions, epoch, suspicion…).',
  deliver: 'Run until the next delivery of a message of the chosen kind: the moment its receiver handles it (not when it was sent). The list holds the kinds sent so far.',
} as const;
