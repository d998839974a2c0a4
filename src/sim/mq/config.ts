import { z } from 'zod';
import { checkKindConfig, fields, flag, kindConfigProblem, list, nodeRef, num, oneOf, positive, raftConfigShape, text } from '../raft/config.ts';
import { READY_LANES_MAX } from './index.ts';

/**
 * The configs of the message queue's node kinds, checked with zod when a node is built (`checkNodeConfig`, in each
 * kind's `boot`) and when a scenario is compiled (`mqConfigProblem`, so the error names the node's place in the
 * topology: `topology.nodes[3].config.acks: expected "none" | "leader" | "quorum"`). Every field is optional but those
 * a kind cannot do without (a topic, a group, the partition map); the defaults live next to the types (types.ts).
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const topicName = text(1, 64);

/** The broker's index for one partition (`PartitionConfig`). */
export const partitionConfigSchema = fields({
  topic: topicName,
  partition: text(1, 64),
  lanes: num(1, READY_LANES_MAX, true),
  visibilityMs: positive(HOUR_MS),
  maxDeliveries: num(0, 1000, true),
  ttlMs: num(0, DAY_MS),
  ttlAction: oneOf(['dead-letter', 'drop']),
  replicatedAcks: flag,
  minInsync: num(0, 99, true),
  fetchWaitMs: num(0, 60_000),
  dropFields: list(text(1, 64), 0, 64),
}, ['topic', 'partition']);

/** An `mq-partition` node: a Raft replica's settings plus its machine's (the partition). */
export const mqPartitionConfigSchema = fields({ ...raftConfigShape, machine: partitionConfigSchema }, ['machine']);

const spike = z.strictObject({ fromMs: num(0, DAY_MS), toMs: num(0, DAY_MS), ratePerS: num(0, 10_000_000) });

/** `ProducerConfig`. */
export const producerConfigSchema = fields(
  {
    topic: topicName,
    source: oneOf(['generate', 'offer']),
    topics: list(topicName, 0, 256),
    offerMax: num(1, 10_000_000, true),
    ratePerS: num(0, 10_000_000),
    stopAtMs: num(0, DAY_MS),
    acks: oneOf(['none', 'leader', 'quorum']),
    partitioner: oneOf(['round-robin', 'key-hash', 'region', 'least-loaded']),
    keys: num(1, 1_000_000, true),
    hotKeyShare: num(0, 1),
    laneWeights: list(num(0, 1_000_000), 1, READY_LANES_MAX),
    bytes: num(1, 1_000_000, true),
    regions: list(text(0, 32), 1, 64),
    fields: z.record(text(1, 64), text(0, 4096), { error: 'expected a map of field names to text' }),
    lingerMs: positive(60_000),
    batchMax: num(1, 1024, true),
    maxInFlight: num(1, 1000, true),
    requestTimeoutMs: positive(HOUR_MS),
    retries: num(0, 1000, true),
    backoffBaseMs: positive(HOUR_MS),
    backoffMaxMs: positive(HOUR_MS),
    jitter: flag,
    idempotent: flag,
    poisonShare: num(0, 1),
    spikes: list(spike, 0, 100),
  },
  ['topic'],
).superRefine((c, ctx) => {
    if (c.laneWeights !== undefined && !(c.laneWeights.reduce((a, b) => a + b, 0) > 0)) ctx.addIssue({ code: 'custom', path: ['laneWeights'], message: 'expected at least one weight above 0' });
    if (c.backoffMaxMs !== undefined && c.backoffBaseMs !== undefined && c.backoffMaxMs < c.backoffBaseMs) ctx.addIssue({ code: 'custom', path: ['backoffMaxMs'], message: `expected at least backoffBaseMs (${c.backoffBaseMs})` });
    c.spikes?.forEach((s, i) => {
      if (s.toMs <= s.fromMs) ctx.addIssue({ code: 'custom', path: ['spikes', i, 'toMs'], message: `expected a time after fromMs (${s.fromMs})` });
    });
    if (c.topics !== undefined && c.topics.length > 0 && !c.topics.includes(c.topic)) ctx.addIssue({ code: 'custom', path: ['topics'], message: `expected a list that includes topic ${JSON.stringify(c.topic)}` });
  });

/** `ConsumerConfig`. */
export const consumerConfigSchema = fields(
  {
    topic: topicName,
    topics: list(topicName, 0, 256),
    group: text(1, 64),
    sink: nodeRef,
    startIdle: flag,
    revokeNotice: flag,
    mode: oneOf(['pull', 'push']),
    semantics: oneOf(['at-most-once', 'at-least-once', 'exactly-once']),
    processMs: positive(60_000),
    chunkMs: positive(60_000),
    fetchMax: num(1, 100_000, true),
    bufferMax: num(1, 10_000_000, true),
    pushWindow: num(0, 10_000_000, true),
    laneFilter: num(-1, READY_LANES_MAX - 1, true),
    keyPrefix: text(0, 64),
    heartbeatMs: positive(HOUR_MS),
    writeTimeoutMs: positive(HOUR_MS),
    failKey: text(0, 64),
  },
  ['topic', 'group'],
);

/** `CoordinatorConfig`. */
export const coordinatorConfigSchema = fields(
  {
    partitions: z.record(text(1, 64), z.strictObject({ topic: topicName, replicas: list(nodeRef, 1, 99) }), { error: 'expected a map of partition names to {topic, replicas}' }),
    pollMs: positive(HOUR_MS),
    leaseMs: positive(HOUR_MS),
    sessionMs: positive(HOUR_MS),
  },
  ['partitions'],
).superRefine((c, ctx) => {
    if (Object.keys(c.partitions).length === 0) ctx.addIssue({ code: 'custom', path: ['partitions'], message: 'expected at least one partition' });
  });

/** `SinkConfig`. */
export const sinkConfigSchema = fields({ dedupe: flag });

/** The schema of each message-queue node kind's config. */
export const MQ_CONFIG_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  'mq-partition': mqPartitionConfigSchema,
  'mq-producer': producerConfigSchema,
  'mq-consumer': consumerConfigSchema,
  'mq-coordinator': coordinatorConfigSchema,
  'mq-sink': sinkConfigSchema,
};

export function mqConfigProblem(kind: string, config: unknown): string | null {
  return kindConfigProblem(MQ_CONFIG_SCHEMAS, kind, config);
}

export function checkNodeConfig(kind: string, node: string, config: unknown): void {
  checkKindConfig(MQ_CONFIG_SCHEMAS, kind, node, config);
}
