import type { Micros } from '../kernel/time.ts';
import type { NodeId } from '../kernel/types.ts';

/**
 * The message queue of the lecture ("Message Queues", "Message Queue – High-Level Design"), in Kafka's words where
 * they fit. A topic has partitions; each partition is a Raft group across brokers (hosts), and its replicated state
 * machine is the broker's index: priority lanes in FIFO (log offset) order, the dead-letter store, and — on the leader
 * only — the in-flight min-heap ordered by redelivery deadline.
 */

/** Kafka's acks: 0 (the producer does not wait), 1 (the leader wrote it to its WAL), all (a quorum holds it). */
export type AckMode = 'none' | 'leader' | 'quorum';
export type Semantics = 'at-most-once' | 'at-least-once' | 'exactly-once';
export type Partitioner = 'round-robin' | 'key-hash' | 'region' | 'least-loaded';
export type DeliveryMode = 'pull' | 'push';

/**
 * One message as the broker stores it. The producer gives `key`, `lane`, `bytes`, `region` and `fields`; the id is the
 * producer id the coordinator handed out plus the producer's sequence number, unique in the run. `at` is the
 * producer's timestamp; the broker's own timestamp is the time of the log entry that carries the message.
 */
export interface MqMessage {
  id: string;
  key: string;
  /** Priority lane, 0 the highest. */
  lane: number;
  bytes: number;
  region: string;
  at: Micros;
  /** Extra fields; the broker's transformation may drop some (`dropFields`). */
  fields?: Readonly<Record<string, string>>;
  /** The payload, when a producer publishes what another node offered it (an APM metric sample); frozen. */
  data?: unknown;
}

/** Commands of the partition's replicated state machine (the `cmd` of a Raft entry). */
export type MqCommand =
  | { op: 'produce'; producer: NodeId; batch: string; msgs: readonly MqMessage[] }
  /** Consumers acknowledged these ids (ack as a separate RPC by id, replicated so failover remembers it). */
  | { op: 'ack'; ids: readonly string[] }
  /** A visibility timeout ran out: the ids go back to their lanes; their delivery counts are replicated. */
  | { op: 'requeue'; ids: readonly string[]; deliveries: readonly number[] }
  /** Moved to the dead-letter store: delivered too often, or past their TTL when TTL dead-letters. */
  | { op: 'dead'; ids: readonly string[]; reason: 'max-deliveries' | 'ttl' }
  /** Past their TTL and dropped. */
  | { op: 'expire'; ids: readonly string[] };

export interface PartitionConfig {
  topic: string;
  /** The partition's name (`orders-0`): also its Raft group's name. */
  partition: string;
  lanes: number;
  /** In-flight deadline: a delivered message not acked within it is delivered again. */
  visibilityMs: number;
  /** Deliveries after which a message goes to the dead-letter store instead (0 = never). */
  maxDeliveries: number;
  /** Time to live from the producer's timestamp (0 = forever). */
  ttlMs: number;
  ttlAction: 'dead-letter' | 'drop';
  /** Acks go through the log (true) or stay in the leader's memory, forgotten on failover (false). */
  replicatedAcks: boolean;
  /** Kafka's min.insync.replicas for acks=quorum: replicas that must hold a write; 0 = a Raft quorum. */
  minInsync: number;
  /** A pull that finds nothing waits this long for messages before answering empty (Kafka's fetch.max.wait.ms). */
  fetchWaitMs: number;
  /** Fields the broker drops from every message (the lecture's "transformations"). */
  dropFields: readonly string[];
}

export const PARTITION_DEFAULTS: Omit<PartitionConfig, 'topic' | 'partition'> = {
  lanes: 3,
  visibilityMs: 1000,
  maxDeliveries: 5,
  ttlMs: 0,
  ttlAction: 'dead-letter',
  replicatedAcks: true,
  minInsync: 0,
  fetchWaitMs: 100,
  dropFields: [],
};

export interface ProducerConfig {
  topic: string;
  /**
   * Where messages come from: `generate` makes `ratePerS` synthetic ones; `offer` publishes what a node on the same
   * host hands it in `offer` messages (an APM ingestion server), to any of `topics`.
   */
  source: 'generate' | 'offer';
  /** Every topic the producer may publish to (offer mode); default `[topic]`. */
  topics: readonly string[];
  /** Offer mode: messages held (open batches + batches awaiting an ack) beyond which an offer is dropped and counted. */
  offerMax: number;
  /** Messages per second this producer creates, spread evenly. */
  ratePerS: number;
  /** When the producer stops creating messages (ms; 0 = never), so a run can drain. */
  stopAtMs: number;
  acks: AckMode;
  partitioner: Partitioner;
  /** Distinct keys; `hotKeyShare` of the messages use key `k0`. */
  keys: number;
  hotKeyShare: number;
  /** Share of messages in each priority lane (lane 0 first); normalised. */
  laneWeights: readonly number[];
  bytes: number;
  regions: readonly string[];
  /** Extra fields on every message (a `debug` blob the broker may drop). */
  fields: Readonly<Record<string, string>>;
  /** Batching: a batch per partition leaves every `lingerMs` or when it holds `batchMax` messages. */
  lingerMs: number;
  batchMax: number;
  /** Batches outstanding per partition (Kafka's max.in.flight.requests.per.connection). */
  maxInFlight: number;
  /** A request with no reply within this is retried. */
  requestTimeoutMs: number;
  retries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Jitter: each backoff is drawn uniformly from [½, 1½] of its nominal value. */
  jitter: boolean;
  /** Idempotent producer: a retried batch keeps its id, so the broker writes it once. */
  idempotent: boolean;
  /** Share of messages with key `poison`, which a consumer with `failKey: "poison"` can never process. */
  poisonShare: number;
  /** Bursts: between `fromMs` and `toMs` the producer creates `ratePerS` instead. */
  spikes: readonly { fromMs: number; toMs: number; ratePerS: number }[];
}

export const PRODUCER_DEFAULTS: Omit<ProducerConfig, 'topic'> = {
  source: 'generate',
  topics: [],
  offerMax: 20_000,
  ratePerS: 100,
  stopAtMs: 0,
  acks: 'quorum',
  partitioner: 'round-robin',
  keys: 16,
  hotKeyShare: 0,
  laneWeights: [1],
  bytes: 200,
  regions: ['eu', 'us'],
  fields: {},
  lingerMs: 10,
  batchMax: 500,
  maxInFlight: 5,
  requestTimeoutMs: 500,
  retries: 10,
  backoffBaseMs: 20,
  backoffMaxMs: 1000,
  jitter: true,
  idempotent: true,
  poisonShare: 0,
  spikes: [],
};

export interface ConsumerConfig {
  topic: string;
  /** Every topic the group reads (an APM aggregator reads one topic per metric); default `[topic]`. */
  topics: readonly string[];
  group: string;
  /** Where processed messages are written; it answers `written`, and only then (at-least-once) are they acked. */
  sink: NodeId;
  /** Start outside the group, until the node on the same host sends `activate` (an autoscaler's standby). */
  startIdle: boolean;
  /** Tell the sink which partitions a rebalance took away (`revoked`), so it drops their unfinished work. */
  revokeNotice: boolean;
  mode: DeliveryMode;
  semantics: Semantics;
  /** Time to process one message. */
  processMs: number;
  /**
   * Work per chunk: the consumer processes its buffer in chunks of as many messages as this much processing takes (at
   * least one), and writes and acknowledges each chunk as one batch (a Kafka consumer processes a poll's records, then
   * commits).
   */
  chunkMs: number;
  /** Messages a pull asks for at most. */
  fetchMax: number;
  /** Messages the consumer can hold; a push beyond it is dropped on the floor (the consumer is overrun). */
  bufferMax: number;
  /** Push: unacknowledged messages the broker may have out to this consumer (0 = no limit, the classic overrun). */
  pushWindow: number;
  /** Only messages in lanes up to this one (a broker-side filter); -1 = all lanes. */
  laneFilter: number;
  /** Only keys with this prefix (a broker-side filter); '' = all keys. */
  keyPrefix: string;
  heartbeatMs: number;
  /** A write to the sink not confirmed within this is given up (its messages come back after their visibility timeout). */
  writeTimeoutMs: number;
  /** Messages with this key fail processing every time (a poison message): never written, never acked. '' = none. */
  failKey: string;
}

export const CONSUMER_DEFAULTS: Omit<ConsumerConfig, 'topic' | 'group'> = {
  topics: [],
  sink: 'sink',
  startIdle: false,
  revokeNotice: false,
  mode: 'pull',
  semantics: 'at-least-once',
  processMs: 1,
  chunkMs: 5,
  fetchMax: 100,
  bufferMax: 1000,
  pushWindow: 0,
  laneFilter: -1,
  keyPrefix: '',
  heartbeatMs: 200,
  writeTimeoutMs: 1000,
  failKey: '',
};

export interface CoordinatorConfig {
  /** Every partition of every topic and the replica nodes of each, in placement order. */
  partitions: Record<string, { topic: string; replicas: NodeId[] }>;
  pollMs: number;
  leaseMs: number;
  /** A consumer not heard from within this leaves its group, and the group rebalances. */
  sessionMs: number;
}

export const COORDINATOR_DEFAULTS: Omit<CoordinatorConfig, 'partitions'> = {
  pollMs: 100,
  leaseMs: 500,
  sessionMs: 1000,
};

export interface SinkConfig {
  /** Exactly-once: the sink writes each message id once (an idempotent, deduplicating consumer). */
  dedupe: boolean;
}

/** Messages between the MQ's parts. */
export type MqRpc =
  /**
   * `low`: the producer's low-water mark for this partition — every batch of its with a lower sequence number has had
   * its answer (acknowledged or given up), so the partition may forget their ids (idempotence without unbounded
   * memory; Kafka keeps the last five batches per producer for the same reason).
   */
  | { kind: 'produce'; producer: NodeId; batch: string; partition: string; acks: AckMode; msgs: readonly MqMessage[]; low: number }
  | { kind: 'produce-reply'; batch: string; partition: string; ok: boolean; reason: string; leaderHint: NodeId | null; index: number }
  | { kind: 'fetch'; consumer: NodeId; partition: string; max: number; laneFilter: number; keyPrefix: string }
  | { kind: 'subscribe'; consumer: NodeId; partition: string; window: number; laneFilter: number; keyPrefix: string }
  | { kind: 'deliver'; partition: string; msgs: readonly Delivered[]; ok: boolean; reason: string; leaderHint: NodeId | null }
  | { kind: 'ack'; consumer: NodeId; partition: string; ids: readonly string[] }
  | { kind: 'status?'; }
  | { kind: 'status'; partition: string; role: string; term: number; leader: NodeId | null; ready: number; inflight: number; lagMs: number }
  /** `producerId` null: a producer that just started (or restarted: memory lost) needs a fresh id. */
  | { kind: 'lease?'; producer: NodeId; producerId: string | null; nonce: number; topics: readonly string[]; reason: string }
  /** `nonce` echoes the request's: a restarted producer ignores answers meant for its earlier life. */
  | { kind: 'lease'; producerId: string; nonce: number; leaders: Record<string, NodeId | null>; topicOf: Record<string, string>; load: Record<string, number>; until: Micros }
  | { kind: 'join'; consumer: NodeId; group: string; topics: readonly string[] }
  | { kind: 'leave'; consumer: NodeId; group: string }
  | { kind: 'heartbeat'; consumer: NodeId; group: string; generation: number }
  | { kind: 'assignment'; group: string; generation: number; partitions: Record<string, NodeId | null> }
  | { kind: 'write'; consumer: NodeId; wid: number; items: readonly Delivered[] }
  | { kind: 'written'; wid: number }
  /** A node hands its local producer messages to publish (the producer stamps ids and timestamps). */
  | { kind: 'offer'; msgs: readonly { topic: string; key: string; bytes: number; data: unknown }[] }
  /** A node tells its local consumer to join its group, or to leave it (autoscaling). */
  | { kind: 'activate' }
  | { kind: 'deactivate' }
  /**
   * The control plane tells a partition's leader which consumers own the partition after a rebalance (every group's
   * owner). The leader puts back in their lanes, at once, the messages in flight to anyone else — as a Kafka consumer
   * taking over a partition re-reads from the last committed offset — so the new owner gets them first, in offset
   * order, instead of after their visibility timeout behind newer ones. `epoch` (the coordinator's boot count) and
   * `seq` order the notices.
   */
  | { kind: 'owners'; partition: string; owners: readonly NodeId[]; epoch: number; seq: number }
  /** Lag of the partitions of some topics, as the control plane last polled it (an autoscaler asks). */
  | { kind: 'lag?'; topics: readonly string[] }
  | { kind: 'lag'; partitions: Record<string, { ready: number; inflight: number; lagMs: number; leader: NodeId | null }> }
  /** A consumer tells its sink what it owns after a rebalance (Kafka's onPartitionsAssigned), with the generation. */
  | { kind: 'assigned'; generation: number; partitions: readonly string[] }
  /** A consumer tells its sink the partitions a rebalance took away (Kafka's onPartitionsRevoked). */
  | { kind: 'revoked'; partitions: readonly string[] };

/** A message as delivered to a consumer: with its partition offset and how often it was delivered. */
export interface Delivered {
  m: MqMessage;
  partition: string;
  offset: number;
  deliveries: number;
}

/** The message id's parts: the producer id (from the coordinator) and the producer's sequence number. */
export function splitId(id: string): [string, number] {
  const dash = id.lastIndexOf('-');
  return [id.slice(0, dash), idSeq(id, dash)];
}

/**
 * The producer's sequence number in a message id (the digits after its last dash, at `dash`), without building
 * strings: the ledger and the sink read one per message.
 */
export function idSeq(id: string, dash = id.lastIndexOf('-')): number {
  let n = 0;
  for (let i = dash + 1; i < id.length; i++) n = n * 10 + (id.charCodeAt(i) - 48);
  return n;
}
