import { apmBaseline } from './apm-baseline.ts';
import { apmCapacity } from './apm-capacity.ts';
import { apmAggregatorCrash, apmLateData, apmOutageBackoff, apmOutageFixed } from './apm-faults.ts';
import { apmAutoscale, apmLbLeastBusy, apmLbRoundRobin, apmPercentiles } from './apm-flow.ts';
import { apmTopicsOne, apmTopicsPerMetric, apmTopicsPerServer } from './apm-topics.ts';
import { mqLoad, raftTenMinutes } from './load.ts';
import { mqAcksLeader, mqAcksQuorum } from './mq-acks.ts';
import { mqBaseline } from './mq-baseline.ts';
import { mqChaos } from './mq-chaos.ts';
import { mqPoison, mqTtl } from './mq-dlq-ttl.ts';
import { mqHotKey, mqPriority, mqPullSpike, mqPushSpike, mqRebalance } from './mq-flow.ts';
import { mqAtLeastOnce, mqAtMostOnce, mqExactlyOnce } from './mq-semantics.ts';
import { lessonBatch, lessonOnline, lessonStream } from './lesson-processing.ts';
import { lessonPartitionedLog, lessonSmartBroker } from './lesson-brokers.ts';
import { lessonApReads, lessonCpReads } from './lesson-reads.ts';
import { pingPong } from './ping-pong.ts';
import { raftChaos } from './raft-chaos.ts';
import { raftColdStart } from './raft-cold-start.ts';
import { raftFigure8, raftFigure8Bug } from './raft-figure-8.ts';
import { raftFollowerCatchup } from './raft-follower-catchup.ts';
import { raftLeaderCrash } from './raft-leader-crash.ts';
import { raftMinorityPartition } from './raft-minority-partition.ts';
import { raftFlappingNoPreVote, raftFlappingPreVote } from './raft-prevote.ts';
import { raftSplitVote } from './raft-split-vote.ts';
import { raftVotePersistence, raftVotePersistenceBug } from './raft-vote-persistence.ts';
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
  raftVotePersistence,
  raftVotePersistenceBug,
  raftFigure8,
  raftFigure8Bug,
  raftChaos,
  raftTenMinutes,
  mqBaseline,
  mqAcksLeader,
  mqAcksQuorum,
  mqAtMostOnce,
  mqAtLeastOnce,
  mqExactlyOnce,
  mqPoison,
  mqTtl,
  mqPriority,
  mqPushSpike,
  mqPullSpike,
  mqRebalance,
  mqHotKey,
  mqChaos,
  mqLoad,
  apmBaseline,
  apmOutageBackoff,
  apmOutageFixed,
  apmLbRoundRobin,
  apmLbLeastBusy,
  apmAutoscale,
  apmAggregatorCrash,
  apmLateData,
  apmPercentiles,
  apmCapacity,
  apmTopicsPerMetric,
  apmTopicsOne,
  apmTopicsPerServer,
  lessonOnline,
  lessonBatch,
  lessonStream,
  lessonSmartBroker,
  lessonPartitionedLog,
  lessonApReads,
  lessonCpReads,
];

export function findScenario(id: string): ScenarioInput | undefined {
  return SCENARIOS.find((s) => s.id === id);
}
