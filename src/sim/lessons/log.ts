import { assert, fail } from '../kernel/assert.ts';
import { ms, type Micros } from '../kernel/time.ts';
import type { DiskView, Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { bytesOf, ConfigCheck, RECORDS_PER_MESSAGE_MAX, type LessonMessage, type Rec } from './types.ts';

/**
 * A partitioned, append-only log in Kafka's style — the "dumb broker, smart consumer" answer to the smart brokers of
 * before 2010. A source's orders are appended to partition `key mod partitions` (one customer's orders stay in order)
 * and synced to disk in segments. The log never pushes and never deletes on consumption: each consumer group keeps
 * its own position (offset) per partition, reads from it at its own pace, and commits it back with its next fetch.
 * A slow group only means a larger gap between its offset and the end; a new group can start from the oldest offset
 * and replay everything still kept. What is kept is bounded by retention — whole segments older than `retentionMs`,
 * or beyond `recordsMax` per partition, are deleted whether read or not; a group that fell behind that far skips
 * ahead (`retentionSkipped`), the log's way of losing data.
 *
 * Every `statusMs` it observes each group's backlog (`backlogRecords:<group>`) and the largest (`backlogRecords`), and
 * announces them all as state `backlog` ({group: records}) when one changes.
 */
export interface LogConfig {
  partitions: number;
  /** Segments whose newest record is older than this are deleted; 0 keeps them (within recordsMax). */
  retentionMs: number;
  segmentRecords: number;
  recordsMax: number;
  statusMs: number;
}

export const LOG_DEFAULTS: LogConfig = { partitions: 1, retentionMs: 0, segmentRecords: 1_000, recordsMax: 1_000_000, statusMs: 500 };
export const LOG_PARTITIONS_MAX = 64;
export const LOG_RECORDS_MAX = 2_000_000;
export const LOG_GROUPS_MAX = 64;

interface Partition {
  /** Offset of `recs[0]`; everything below it was deleted by retention. */
  base: number;
  recs: Rec[];
  /** When each record was appended. */
  at: Micros[];
}

export interface LogMemory {
  cfg: LogConfig;
  parts: Partition[];
  /** Per group, per partition: the offset the group has processed up to (−1: never committed). */
  committed: Record<string, number[]>;
  /** The last announced backlog per group, so the state is announced only when it changes. */
  announced: Record<string, number>;
  counts: { appended: number; fetches: number; deleted: number; skipped: number };
}

type Ctx = NodeContext;

export const lessonLog: NodeBehavior<LogMemory, Partial<LogConfig>> = {
  kind: 'lesson-log',
  headline: (m) => ({ records: m.parts.reduce((n, p) => n + p.recs.length, 0), groups: Object.keys(m.committed).length, backlog: Math.max(0, ...Object.values(m.announced)) }),
  view: (m) => ({
    cfg: m.cfg,
    partitions: m.parts.map((p) => ({ start: p.base, end: p.base + p.recs.length, tail: p.recs.slice(-10) })),
    committed: m.committed,
    backlog: m.announced,
    counts: m.counts,
  }),
  boot(config, disk, ctx) {
    const cfg = checkConfig(config, ctx);
    const m: LogMemory = { cfg, parts: recover(cfg, disk), committed: {}, announced: {}, counts: { appended: 0, fetches: 0, deleted: 0, skipped: 0 } };
    for (const [key, value] of Object.entries(disk)) if (key.startsWith('offsets.')) m.committed[key.slice('offsets.'.length)] = [...(value as number[])];
    ctx.count('retentionSkipped', 0);
    ctx.setTimer('status', ms(cfg.statusMs));
    return m;
  },
  step(m, input, ctx) {
    if (input.type === 'timer') {
      if (input.name !== 'status') fail(`lesson-log has no timer ${input.name}`);
      retain(m, ctx);
      status(m, ctx);
      ctx.setTimer('status', ms(m.cfg.statusMs));
      return;
    }
    return receive(m, input.msg, ctx);
  },
};

function checkConfig(config: Partial<LogConfig>, ctx: Ctx): LogConfig {
  const c = new ConfigCheck('lesson-log', ctx);
  const cfg = c.merge(LOG_DEFAULTS, config);
  c.int('partitions', cfg.partitions, 1, LOG_PARTITIONS_MAX);
  c.num('retentionMs', cfg.retentionMs, 0, 86_400_000 * 30);
  c.int('segmentRecords', cfg.segmentRecords, 1, 1_000_000);
  c.int('recordsMax', cfg.recordsMax, 1, LOG_RECORDS_MAX);
  c.num('statusMs', cfg.statusMs, 10, 600_000);
  c.holds(cfg.recordsMax >= 2 * cfg.segmentRecords, 'recordsMax must hold at least two segments (retention deletes whole segments)');
  return cfg;
}

function segmentKey(partition: number, segment: number): string {
  return `p${partition}.${segment}`;
}

/** Rebuilds the partitions from the synced segments on disk (the same path for a first boot and a restart). */
function recover(cfg: LogConfig, disk: DiskView): Partition[] {
  const parts: Partition[] = [];
  for (let p = 0; p < cfg.partitions; p++) {
    const segments = Object.keys(disk)
      .filter((k) => k.startsWith(`p${p}.`))
      .map((k) => Number(k.slice(`p${p}.`.length)))
      .sort((a, b) => a - b);
    const part: Partition = { base: segments.length > 0 ? segments[0] * cfg.segmentRecords : 0, recs: [], at: [] };
    for (const s of segments) {
      assert(s * cfg.segmentRecords === part.base + part.recs.length, `lesson-log: segment ${s} of partition ${p} is not contiguous`);
      for (const item of disk[segmentKey(p, s)] as { rec: Rec; at: Micros }[]) {
        part.recs.push(item.rec);
        part.at.push(item.at);
      }
    }
    parts.push(part);
  }
  return parts;
}

function receive(m: LogMemory, msg: Message, ctx: Ctx): void {
  const body = msg.body as LessonMessage;
  switch (body.kind) {
    case 'events':
      return append(m, msg.from, body, ctx);
    case 'fetch':
      return fetch(m, msg.from, body, ctx);
    case 'offsets': {
      const committed = groupOffsets(m, body.group, ctx);
      const reply: LessonMessage = { kind: 'offsets-reply', committed: [...committed], start: m.parts.map((p) => p.base), end: m.parts.map((p) => p.base + p.recs.length) };
      ctx.send(msg.from, 'offsets-reply', reply, 32 + 12 * m.parts.length);
      return;
    }
    default:
      fail(`lesson-log got ${body.kind} from ${msg.from}`);
  }
}

/** Appends a batch, partition by key, synced segment by segment before the answer leaves. A log never refuses. */
function append(m: LogMemory, from: NodeId, body: Extract<LessonMessage, { kind: 'events' }>, ctx: Ctx): void {
  const writes = new Map<string, { rec: Rec; at: Micros }[]>();
  for (const rec of body.records) {
    const p = rec.key % m.cfg.partitions;
    const part = m.parts[p];
    const offset = part.base + part.recs.length;
    part.recs.push(rec);
    part.at.push(ctx.now);
    const key = segmentKey(p, Math.floor(offset / m.cfg.segmentRecords));
    let list = writes.get(key);
    if (!list) writes.set(key, (list = []));
    list.push(Object.freeze({ rec, at: ctx.now }));
  }
  for (const [key, items] of writes) ctx.persist({ op: 'append', key, items, bytes: bytesOf(items.length) }, true);
  m.counts.appended += body.records.length;
  ctx.count('logAppended', body.records.length);
  for (const part of m.parts) if (part.recs.length > m.cfg.recordsMax) retain(m, ctx);
  ctx.send(from, 'events-reply', { kind: 'events-reply', batch: body.batch, accepted: body.records.length, rejected: 0 } satisfies LessonMessage, 32);
}

function groupOffsets(m: LogMemory, group: string, ctx: Ctx): number[] {
  let list = m.committed[group];
  if (!list) {
    if (!(Object.keys(m.committed).length < LOG_GROUPS_MAX)) fail(`lesson-log ${ctx.id}: more than ${LOG_GROUPS_MAX} consumer groups`);
    m.committed[group] = list = new Array<number>(m.cfg.partitions).fill(-1);
  }
  return list;
}

function fetch(m: LogMemory, from: NodeId, body: Extract<LessonMessage, { kind: 'fetch' }>, ctx: Ctx): void {
  if (!(Number.isInteger(body.partition) && body.partition >= 0 && body.partition < m.cfg.partitions)) fail(`lesson-log: fetch of partition ${body.partition} from ${from}`);
  const part = m.parts[body.partition];
  const end = part.base + part.recs.length;
  const committed = groupOffsets(m, body.group, ctx);
  if (body.commit >= 0 && body.commit !== committed[body.partition]) {
    committed[body.partition] = Math.min(body.commit, end);
    ctx.persist({ op: 'put', key: `offsets.${body.group}`, value: [...committed] }, false);
  }
  if (body.offset < part.base) {
    // Retention deleted what the group asked for: it skips to the oldest kept record. Those records are gone for it.
    m.counts.skipped += part.base - body.offset;
    ctx.count('retentionSkipped', part.base - body.offset);
    ctx.note('offset-out-of-range', { group: body.group, partition: body.partition, asked: body.offset, start: part.base });
  }
  const start = Math.min(Math.max(body.offset, part.base), end);
  const n = Math.min(end - start, body.max, RECORDS_PER_MESSAGE_MAX);
  const records = part.recs.slice(start - part.base, start - part.base + n);
  const next = start + n;
  const asOfUs = next === end ? ctx.now : part.at[next - part.base];
  m.counts.fetches++;
  const reply: LessonMessage = { kind: 'fetch-reply', seq: body.seq, partition: body.partition, records, from: start, end, start: part.base, asOfUs };
  ctx.send(from, 'fetch-reply', reply, bytesOf(n));
}

/** Deletes whole segments past retention (by age or by count), oldest first; never the active (last) segment. */
function retain(m: LogMemory, ctx: Ctx): void {
  const cutoff = m.cfg.retentionMs > 0 ? ctx.now - ms(m.cfg.retentionMs) : -Infinity;
  const S = m.cfg.segmentRecords;
  m.parts.forEach((part, p) => {
    for (;;) {
      const segment = Math.floor(part.base / S);
      const inFirst = (segment + 1) * S - part.base;
      if (part.recs.length <= inFirst) return; // only the active segment is left
      const tooOld = part.at[inFirst - 1] < cutoff;
      const tooMany = part.recs.length > m.cfg.recordsMax;
      if (!tooOld && !tooMany) return;
      part.recs.splice(0, inFirst);
      part.at.splice(0, inFirst);
      part.base += inFirst;
      m.counts.deleted += inFirst;
      ctx.persist({ op: 'delete', key: segmentKey(p, segment) }, true);
      ctx.note('segment-deleted', { partition: p, segment, records: inFirst, reason: tooOld ? 'age' : 'size' });
    }
  });
}

/** The largest backlog of any group: records appended and not yet committed by it, over all partitions. */
function status(m: LogMemory, ctx: Ctx): void {
  let worst = 0;
  let changed = false;
  for (const [group, committed] of Object.entries(m.committed)) {
    let backlog = 0;
    m.parts.forEach((part, p) => (backlog += part.base + part.recs.length - Math.max(committed[p], part.base)));
    assert(backlog >= 0, 'lesson-log: a group never commits past the end');
    worst = Math.max(worst, backlog);
    ctx.observe(`backlogRecords:${group}`, backlog);
    if (m.announced[group] !== backlog) {
      m.announced[group] = backlog;
      changed = true;
    }
  }
  if (changed) ctx.state('backlog', { ...m.announced });
  if (Object.keys(m.committed).length > 0) ctx.observe('backlogRecords', worst);
}
