import type { ScenarioInput } from './schema.ts';

/**
 * Shared shape of the message-queue scenarios: brokers b1..bN (hosts), a topic whose partitions are Raft groups of
 * `replicas` each, the control plane `ctl`, producers, a consumer group and the sink. Placement is Kafka's spread
 * (partition i's replicas on brokers i, i+1, … round the ring) or the lecture's dedicated groups (each partition on
 * brokers of its own: two partitions × three replicas = six brokers). Built by code only to avoid repeating the same
 * lines; what it returns is plain scenario data.
 */
export interface MqShape {
  brokers: number;
  partitions: number;
  replicas: number;
  placement?: 'spread' | 'dedicated';
  topic?: string;
  producers: Record<string, unknown>[];
  consumers: Record<string, unknown>[];
  /** Settings of every partition (visibility, TTL, lanes, acks replication…). */
  partition?: Record<string, unknown>;
  raft?: Record<string, unknown>;
  coordinator?: Record<string, unknown>;
  sink?: Record<string, unknown>;
  link?: ScenarioInput['topology']['link'];
}

export function mqTopology(o: MqShape): ScenarioInput['topology'] {
  const topic = o.topic ?? 'orders';
  const placement = o.placement ?? 'spread';
  if (placement === 'dedicated' && o.brokers < o.partitions * o.replicas) throw new Error(`dedicated placement needs ${o.partitions * o.replicas} brokers`);
  if (o.replicas > o.brokers) throw new Error('more replicas than brokers');
  const nodes: ScenarioInput['topology']['nodes'] = [];
  const partitions: Record<string, { topic: string; replicas: string[] }> = {};
  for (let p = 0; p < o.partitions; p++) {
    const name = `${topic}-${p}`;
    const hosts = Array.from({ length: o.replicas }, (_, r) => `b${(placement === 'spread' ? (p + r) % o.brokers : p * o.replicas + r) + 1}`);
    const group = hosts.map((h) => `${h}.${name}`);
    partitions[name] = { topic, replicas: group };
    for (let r = 0; r < o.replicas; r++) {
      nodes.push({ id: group[r], kind: 'mq-partition', host: hosts[r], config: { group, name, machine: { topic, partition: name, ...o.partition } } });
    }
  }
  // Brokers in name order, so views list b1, b2, … whatever the placement.
  nodes.sort((a, b) => (a.host ?? a.id).localeCompare(b.host ?? b.id, 'en', { numeric: true }) || a.id.localeCompare(b.id, 'en', { numeric: true }));
  nodes.push({ id: 'ctl', kind: 'mq-coordinator', config: { partitions, ...o.coordinator } });
  o.producers.forEach((cfg, i) => nodes.push({ id: `prod${i + 1}`, kind: 'mq-producer', config: { topic, ...cfg } }));
  o.consumers.forEach((cfg, i) => nodes.push({ id: `c${i + 1}`, kind: 'mq-consumer', config: { topic, group: 'g1', ...cfg } }));
  nodes.push({ id: 'sink', kind: 'mq-sink', config: { ...o.sink } });
  return {
    nodes,
    config: { 'mq-partition': { electionMinMs: 150, electionMaxMs: 300, heartbeatMs: 50, ...o.raft } },
    link: o.link ?? { latencyMs: 1, jitterMs: 0.5 },
  };
}

export const MQ_METRICS = [
  'produced', 'acked', 'delivered', 'duplicated', 'lost', 'pollSkip', 'expired', 'deadLettered', 'pending', 'reordered',
  'ackedAfterDead', 'overrun', 'redelivered', 'failoverMs', 'leaderChanges', 'commitLatencyMs',
] as const;

/** Progress for the queue under random faults: once healed, the sink writes messages again. */
export const MQ_LIVENESS = {
  match: { kind: 'node.note', name: 'processed' },
  within: '3s',
  text: 'once every fault is healed, the sink processes messages again within 3 s',
} as const;
