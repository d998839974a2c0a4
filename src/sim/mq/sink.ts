import { fail } from '../kernel/assert.ts';
import type { NodeBehavior } from '../kernel/types.ts';
import { checkNodeConfig } from './config.ts';
import { idSeq, type MqRpc, type SinkConfig } from './types.ts';

/**
 * Where consumers put their results (a database, the next service). Its `processed` notes are what "delivered" means
 * in the run's ledger: a message processed twice here is a duplicate the user would see. With `dedupe` it remembers
 * every id it wrote (on disk, synced, before it answers) and writes each once: the idempotent consumer that, with an
 * idempotent producer, makes delivery exactly-once.
 */
export interface SinkState {
  cfg: SinkConfig;
  /** Ids written, when deduplicating. */
  seen: Record<string, 1>;
  /**
   * Highest producer sequence written per partition, priority lane and producer (`partition|lane|producer`), then per
   * key, to spot reordering within a key.
   */
  lastSeq: Record<string, Record<string, number>>;
  counts: { writes: number; processed: number; deduped: number; reordered: number };
}

const LANE_METRIC = Array.from({ length: 16 }, (_, i) => `e2eLatencyMs.lane${i}`);

export const mqSink: NodeBehavior<SinkState, Partial<SinkConfig>> = {
  kind: 'mq-sink',
  boot(config, disk, ctx) {
    checkNodeConfig('mq-sink', ctx.id, config);
    const cfg: SinkConfig = { dedupe: false, ...config };
    const seen: Record<string, 1> = {};
    for (const id of (disk.seen as string[] | undefined) ?? []) seen[id] = 1;
    return { cfg, seen, lastSeq: {}, counts: { writes: 0, processed: 0, deduped: 0, reordered: 0 } };
  },
  view: (s) => ({ cfg: s.cfg, counts: s.counts, remembered: s.cfg.dedupe ? Object.keys(s.seen).length : 0 }),
  headline: (s) => ({ role: 'sink', processed: s.counts.processed, deduped: s.counts.deduped, reordered: s.counts.reordered }),
  step(s, input, ctx) {
    if (input.type === 'timer') fail(`mq sink has no timer ${input.name}`);
    const body = input.msg.body as MqRpc;
    if (body.kind !== 'write') fail(`mq sink got ${body.kind} from ${input.msg.from}`);
    s.counts.writes++;
    const ids: string[] = [];
    let deduped = 0;
    let reordered = 0;
    // The items of one write come in runs from one partition, lane and producer: their group is looked up once a run.
    let group: Record<string, number> = {};
    let groupOf: { partition: string; lane: number; pid: string } | null = null;
    for (const d of body.items) {
      if (s.cfg.dedupe) {
        if (s.seen[d.m.id] === 1) {
          deduped++;
          continue;
        }
        s.seen[d.m.id] = 1;
      }
      ids.push(d.m.id);
      const latencyMs = (ctx.now - d.m.at) / 1000;
      ctx.observe('e2eLatencyMs', latencyMs);
      ctx.observe(LANE_METRIC[d.m.lane] ?? `e2eLatencyMs.lane${d.m.lane}`, latencyMs);
      // Reordering within a key: a first delivery older than one already written from the same producer, partition,
      // priority lane and key — the order a queue promises (Kafka: within a partition; lanes overtake each other).
      const id = d.m.id;
      const dash = id.lastIndexOf('-');
      const seq = idSeq(id, dash);
      if (groupOf === null || groupOf.partition !== d.partition || groupOf.lane !== d.m.lane || dash !== groupOf.pid.length || !id.startsWith(groupOf.pid)) {
        groupOf = { partition: d.partition, lane: d.m.lane, pid: id.slice(0, dash) };
        group = s.lastSeq[`${d.partition}|${d.m.lane}|${groupOf.pid}`] ??= {};
      }
      if (d.m.key === '__proto__') continue; // the one key a plain object cannot hold
      const last = group[d.m.key];
      if (last === undefined || seq > last) group[d.m.key] = seq;
      else if (seq < last && d.deliveries === 1) reordered++;
    }
    s.counts.reordered += reordered;
    s.counts.processed += ids.length;
    s.counts.deduped += deduped;
    if (s.cfg.dedupe && ids.length > 0) ctx.persist({ op: 'append', key: 'seen', items: ids }, true);
    ctx.note('processed', { consumer: body.consumer, ids: Object.freeze(ids), ...(deduped > 0 ? { deduped } : {}), ...(reordered > 0 ? { reordered } : {}) });
    ctx.send(input.msg.from, 'written', { kind: 'written', wid: body.wid } satisfies MqRpc, 16);
  },
};
