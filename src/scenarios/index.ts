import { pingPong } from './ping-pong.ts';
import { raftChaos } from './raft-chaos.ts';
import { raftColdStart } from './raft-cold-start.ts';
import { raftFollowerCatchup } from './raft-follower-catchup.ts';
import { raftLeaderCrash } from './raft-leader-crash.ts';
import { raftMinorityPartition } from './raft-minority-partition.ts';
import { raftFlappingNoPreVote, raftFlappingPreVote } from './raft-prevote.ts';
import { raftSplitVote } from './raft-split-vote.ts';
import type { ScenarioInput } from './schema.ts';

/** Every built-in scenario, in the order the picker lists them. Each is data only; `compileScenario` validates it. */
export const SCENARIOS: readonly ScenarioInput[] = [
  pingPong,
  raftColdStart,
  raftLeaderCrash,
  raftFollowerCatchup,
  raftSplitVote,
  raftMinorityPartition,
  raftFlappingNoPreVote,
  raftFlappingPreVote,
  raftChaos,
];

export function findScenario(id: string): ScenarioInput | undefined {
  return SCENARIOS.find((s) => s.id === id);
}
