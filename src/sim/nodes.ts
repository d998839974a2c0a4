import { apmAgent } from './apm/agent.ts';
import { apmAggregator } from './apm/aggregator.ts';
import { apmAutoscaler } from './apm/autoscaler.ts';
import { APM_CHECKERS } from './apm/checkers.ts';
import { apmDashboard } from './apm/dashboard.ts';
import { apmIngest } from './apm/ingest.ts';
import { apmLb } from './apm/lb.ts';
import { apmSupervisor } from './apm/supervisor.ts';
import { apmTsdb } from './apm/tsdb.ts';
import { KERNEL_CHECKERS } from './check/kernel.ts';
import { MQ_CHECKERS } from './mq/checkers.ts';
import { mqConsumer } from './mq/consumer.ts';
import { mqCoordinator } from './mq/coordinator.ts';
import { mqPartition } from './mq/partition.ts';
import { mqProducer } from './mq/producer.ts';
import { mqSink } from './mq/sink.ts';
import type { Checker } from './kernel/checker.ts';
import type { NodeBehavior } from './kernel/types.ts';
import { epochsIncrease, pinger } from './ping/pinger.ts';
import { RAFT_CHECKERS } from './raft/checkers.ts';
import { raftClient } from './raft/client.ts';
import { raftReplica } from './raft/replica.ts';
import { lessonBroker } from './lessons/broker.ts';
import { LESSON_CONSUMER_CHECKERS, LESSON_DASHBOARD_CHECKERS, LESSON_READ_CHECKERS } from './lessons/checkers.ts';
import { lessonConsumer } from './lessons/consumer.ts';
import { lessonDashboard } from './lessons/dashboard.ts';
import { lessonDb } from './lessons/db.ts';
import { lessonLog } from './lessons/log.ts';
import { lessonReader, lessonWriter } from './lessons/register.ts';
import { lessonSource } from './lessons/source.ts';

/**
 * Every node kind the simulator knows, and the checkers each kind brings. A scenario names kinds; the world runs
 * the kernel checkers always, plus the checkers of the kinds present.
 */
export const BEHAVIORS: Readonly<Record<string, NodeBehavior<any, any>>> = {
  pinger,
  raft: raftReplica,
  'raft-client': raftClient,
  'mq-partition': mqPartition,
  'mq-coordinator': mqCoordinator,
  'mq-producer': mqProducer,
  'mq-consumer': mqConsumer,
  'mq-sink': mqSink,
  'apm-agent': apmAgent,
  'apm-supervisor': apmSupervisor,
  'apm-lb': apmLb,
  'apm-ingest': apmIngest,
  'apm-aggregator': apmAggregator,
  'apm-autoscaler': apmAutoscaler,
  'apm-tsdb': apmTsdb,
  'apm-dashboard': apmDashboard,
  'lesson-source': lessonSource,
  'lesson-db': lessonDb,
  'lesson-log': lessonLog,
  'lesson-broker': lessonBroker,
  'lesson-consumer': lessonConsumer,
  'lesson-dashboard': lessonDashboard,
  'lesson-writer': lessonWriter,
  'lesson-reader': lessonReader,
};

const KIND_CHECKERS: Readonly<Record<string, readonly Checker[]>> = {
  pinger: [epochsIncrease as Checker],
  raft: RAFT_CHECKERS,
  'mq-partition': [...RAFT_CHECKERS, ...MQ_CHECKERS],
  'apm-aggregator': APM_CHECKERS,
  'lesson-reader': LESSON_READ_CHECKERS,
  'lesson-dashboard': LESSON_DASHBOARD_CHECKERS,
  'lesson-consumer': LESSON_CONSUMER_CHECKERS,
};

export function checkersFor(kinds: Iterable<string>): Checker[] {
  const out: Checker[] = [...KERNEL_CHECKERS];
  for (const k of new Set(kinds)) for (const c of KIND_CHECKERS[k] ?? []) if (!out.includes(c)) out.push(c);
  return out;
}

/** Teaching bugs understood by the given kinds: name → what it removes. */
export function bugsFor(kinds: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of new Set(kinds)) Object.assign(out, BEHAVIORS[k]?.bugs ?? {});
  return out;
}
