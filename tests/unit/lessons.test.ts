/**
 * The lessons' node kinds (src/sim/lessons), each driven alone: build it with a config, feed it messages and timers
 * by hand, and assert the effects it returns — what it sends, persists, notes and counts, and which timers it sets.
 * No world and no network (etcd-raft's style of testing `Step`). Config errors must name the node and the field.
 */
import { describe, expect, it } from 'vitest';
import { RngStreams } from '../../src/sim/kernel/rng.ts';
import type { DiskOp, DiskView, Message, NodeBehavior, NodeContext, NodeId } from '../../src/sim/kernel/types.ts';
import { lessonBroker, type BrokerMemory } from '../../src/sim/lessons/broker.ts';
import { lessonConsumer, type ConsumerMemory } from '../../src/sim/lessons/consumer.ts';
import { lessonDashboard, type DashboardMemory } from '../../src/sim/lessons/dashboard.ts';
import { lessonDb, type DbMemory } from '../../src/sim/lessons/db.ts';
import { lessonLog, type LogMemory } from '../../src/sim/lessons/log.ts';
import { lessonReader, lessonWriter, type ReaderMemory, type WriterMemory } from '../../src/sim/lessons/register.ts';
import { lessonSource, type SourceMemory } from '../../src/sim/lessons/source.ts';
import { recentWindows, type LessonMessage, type Rec } from '../../src/sim/lessons/types.ts';
import type { RaftMessage } from '../../src/sim/raft/types.ts';

interface Effects {
  sent: { to: NodeId; kind: string; body: any }[];
  persisted: { op: DiskOp; sync: boolean }[];
  timers: Record<string, number | null>;
  states: Record<string, unknown>;
  notes: { name: string; data: any }[];
  counts: Record<string, number>;
  samples: Record<string, number[]>;
}

/** One node of a kind, with a fake context that records every effect of the last call. */
class Node<S> {
  m!: S;
  now = 0;
  fx: Effects = fresh();
  private msgId = 1;
  private readonly rng: RngStreams;

  constructor(
    private readonly behavior: NodeBehavior<S, any>,
    readonly id: NodeId,
    config: unknown,
    readonly peers: NodeId[] = [],
    disk: DiskView = {},
    at = 0,
  ) {
    this.rng = new RngStreams(`test:${id}`);
    this.now = at;
    this.m = behavior.boot(config, disk, this.ctx());
  }

  private ctx(): NodeContext {
    const fx = (this.fx = fresh());
    return {
      id: this.id,
      now: this.now,
      peers: this.peers,
      knows: (node) => node !== this.id && this.peers.includes(node),
      rng: (name) => this.rng.stream(`node:${this.id}:${name}`),
      send: (to, kind, body) => void fx.sent.push({ to, kind, body }),
      persist: (op, sync) => void fx.persisted.push({ op, sync }),
      setTimer: (name, after) => void (fx.timers[name] = after),
      cancelTimer: (name) => void (fx.timers[name] = null),
      state: (key, value) => void (fx.states[key] = value),
      note: (name, data) => void fx.notes.push({ name, data }),
      count: (metric, n = 1) => void (fx.counts[metric] = (fx.counts[metric] ?? 0) + n),
      observe: (metric, value) => void (fx.samples[metric] ??= []).push(value),
      bug: () => false,
    };
  }

  timer(name: string, at = this.now): Effects {
    this.now = at;
    this.behavior.step(this.m, { type: 'timer', name }, this.ctx());
    return this.fx;
  }

  recv(from: NodeId, body: LessonMessage | RaftMessage, at = this.now): Effects {
    this.now = at;
    const msg: Message = { id: this.msgId++, from, to: this.id, kind: body.kind, body, size: 64, sentAt: at, deliverAt: at };
    this.behavior.step(this.m, { type: 'message', msg }, this.ctx());
    return this.fx;
  }

  bodies(kind: string): any[] {
    return this.fx.sent.filter((s) => s.kind === kind).map((s) => s.body);
  }
}

function fresh(): Effects {
  return { sent: [], persisted: [], timers: {}, states: {}, notes: [], counts: {}, samples: {} };
}

function recs(ids: number[], t = (id: number) => id * 1000, key = (id: number) => id % 4): Rec[] {
  return ids.map((id) => Object.freeze({ id, t: t(id), key: key(id), value: id }));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('config validation names the node and the field', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['source without a target', () => new Node(lessonSource, 'src', {}), /lesson-source src: config\.target must name a node/],
    ['source with an unknown field', () => new Node(lessonSource, 'src', { target: 'db', rate: 5 }, ['db']), /config\.rate is not a setting/],
    ['source buffer smaller than a batch', () => new Node(lessonSource, 'src', { target: 'db', bufferMax: 5, batchMax: 10 }, ['db']), /bufferMax must be at least batchMax/],
    ['log with no partitions', () => new Node(lessonLog, 'log', { partitions: 0 }), /lesson-log log: config\.partitions must be an integer in 1\.\.64, got 0/],
    ['broker with an unknown overflow', () => new Node(lessonBroker, 'b', { overflow: 'drop-tail' }), /config\.overflow must be one of drop-head, reject-publish/],
    ['consumer reading an unknown node', () => new Node(lessonConsumer, 'c', { from: 'nowhere' }, ['log']), /lesson-consumer c: config\.from: unknown node "nowhere"/],
    ['a batch job that is pushed to', () => new Node(lessonConsumer, 'c', { from: 'b', mode: 'push', batchEveryMs: 1000 }, ['b']), /batch job .* mode must be pull/],
    ['dashboard in an unknown mode', () => new Node(lessonDashboard, 'd', { db: 'db', mode: 'live' }, ['db']), /config\.mode must be one of query, results/],
    ['reader whose local replica is not in its group', () => new Node(lessonReader, 'rd', { group: ['r1'], local: 'r2' }, ['r1', 'r2']), /local "r2" must be one of the group/],
    ['reader with too few reads in flight', () => new Node(lessonReader, 'rd', { group: ['r1'], readEveryMs: 10, timeoutMs: 1000, outstandingMax: 5 }, ['r1']), /outstandingMax must cover/],
    ['writer with an empty group', () => new Node(lessonWriter, 'w', { group: [] }), /group must list 1\.\.15 replicas/],
  ];
  it.each(cases)('%s', (_name, build, message) => {
    expect(build).toThrow(message);
  });
});

describe('lesson-source', () => {
  const cfg = { target: 'db', ratePerS: 1000, tickMs: 100, keys: 4 };

  it('makes a Poisson stream of frozen orders, notes their ids and sends them as one batch per tick', () => {
    const s = new Node<SourceMemory>(lessonSource, 'src', cfg, ['db']);
    expect(s.fx.timers.tick).toBe(100_000);
    const fx = s.timer('tick', 100_000);
    const [batch] = s.bodies('events');
    expect(batch.records.length).toBeGreaterThan(50);
    expect(batch.records.length).toBeLessThan(160);
    expect(batch.records.map((r: Rec) => r.id)).toEqual(range(1, batch.records.length));
    expect(batch.records.every((r: Rec) => Object.isFrozen(r) && r.t > 0 && r.t <= 100_000 && r.key < 4)).toBe(true);
    expect(fx.notes).toEqual([{ name: 'produced', data: { from: 1, to: batch.records.length } }]);
    expect(fx.timers.tick).toBe(100_000);
  });

  it('the same seed gives the same orders, whatever it sends them to', () => {
    const a = new Node<SourceMemory>(lessonSource, 'src', cfg, ['db']);
    const b = new Node<SourceMemory>(lessonSource, 'src', { ...cfg, target: 'log' }, ['log']);
    expect(a.timer('tick', 100_000).sent[0].body.records).toEqual(b.timer('tick', 100_000).sent[0].body.records);
  });

  it('waits for a batch’s answer; a refused tail stays at the head of the buffer and the source is blocked until accepted', () => {
    const s = new Node<SourceMemory>(lessonSource, 'src', { ...cfg, target: 'b', retryMs: 50 }, ['b']);
    s.timer('tick', 100_000);
    const first = s.bodies('events')[0];
    const n = first.records.length;
    expect(s.timer('tick', 200_000).sent).toEqual([]); // one batch in flight
    const fx = s.recv('b', { kind: 'events-reply', batch: first.batch, accepted: 10, rejected: n - 10 }, 201_000);
    expect(fx.notes).toEqual([{ name: 'blocked', data: { by: 'b', buffered: s.m.buffer.length } }]);
    expect(s.m.buffer[0].id).toBe(11);
    expect(fx.sent).toEqual([]); // waits out retryMs
    s.timer('tick', 300_000);
    const retry = s.bodies('events')[0];
    expect(retry.records[0].id).toBe(11);
    const done = s.recv('b', { kind: 'events-reply', batch: retry.batch, accepted: retry.records.length, rejected: 0 }, 310_000);
    expect(done.notes[0]).toEqual({ name: 'unblocked', data: { blockedMs: 109, buffered: s.m.buffer.length } });
    expect(done.counts.sourceBlockedMs).toBe(109);
  });

  it('syncs the next id before its batch leaves, so a restarted source never reuses an id', () => {
    const s = new Node<SourceMemory>(lessonSource, 'src', cfg, ['db']);
    const fx = s.timer('tick', 100_000);
    expect(fx.persisted).toEqual([{ op: { op: 'put', key: 'nextId', value: s.m.nextId }, sync: true }]);
    const again = new Node<SourceMemory>(lessonSource, 'src', cfg, ['db'], { nextId: s.m.nextId }, 150_000);
    expect(again.timer('tick', 250_000).sent[0].body.records[0].id).toBe(s.m.nextId);
  });

  it('drops what arrives to a full buffer, and counts it', () => {
    const s = new Node<SourceMemory>(lessonSource, 'src', { ...cfg, target: 'b', bufferMax: 20, batchMax: 20 }, ['b']);
    s.timer('tick', 100_000); // sends 20, keeps them in flight
    expect(s.fx.counts.sourceDropped).toBeGreaterThan(30);
    expect(s.m.buffer.length).toBe(20);
    expect(s.fx.notes[1]).toMatchObject({ name: 'source-dropped' });
  });

  it('resends a batch not answered in time and ignores the late answer to the first copy', () => {
    const s = new Node<SourceMemory>(lessonSource, 'src', { ...cfg, timeoutMs: 150 }, ['db']);
    s.timer('tick', 100_000);
    const first = s.bodies('events')[0];
    s.timer('tick', 300_000);
    const second = s.bodies('events')[0];
    expect(s.fx.counts.sourceResends).toBe(1);
    expect(second.records[0].id).toBe(1);
    expect(second.batch).toBe(first.batch + 1);
    s.recv('db', { kind: 'events-reply', batch: first.batch, accepted: first.records.length, rejected: 0 });
    expect(s.m.buffer[0].id).toBe(1); // the stale answer removed nothing
  });
});

describe('lesson-db', () => {
  it('serves one request at a time, charging CPU time, and syncs inserts before it answers', () => {
    const db = new Node<DbMemory>(lessonDb, 'db', { insertUsPerRow: 10 }, ['src', 'dash']);
    const fx = db.recv('src', { kind: 'events', batch: 1, records: recs([1, 2, 3]) }, 1_000);
    expect(fx.timers.serve).toBe(30);
    expect(fx.sent).toEqual([]);
    db.recv('dash', { kind: 'get-results', seq: 1 }, 1_010);
    expect(db.fx.timers).toEqual({}); // queued behind the insert
    const done = db.timer('serve', 1_030);
    expect(done.persisted).toHaveLength(1);
    expect(done.persisted[0].sync).toBe(true);
    expect(done.sent[0]).toEqual({ to: 'src', kind: 'events-reply', body: { kind: 'events-reply', batch: 1, accepted: 3, rejected: 0 } });
    expect(done.timers.serve).toBe(200); // the results read starts now
    expect(db.m.rows.map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it('answers an online query from the stored rows, now: windows, finality and the rows it had to read', () => {
    const db = new Node<DbMemory>(lessonDb, 'db', { insertUsPerRow: 0, scanUsPerRow: 2, queryUsFixed: 100, graceMs: 500 }, ['src', 'dash']);
    db.recv('src', { kind: 'events', batch: 1, records: recs(range(1, 30), (id) => id * 500_000) }, 15_000_000);
    db.timer('serve');
    const fx = db.recv('dash', { kind: 'query', seq: 7, windowUs: 10_000_000, windows: 2 }, 15_100_000);
    expect(fx.timers.serve).toBe(100 + 2 * 30);
    const done = db.timer('serve', 15_100_160);
    const [res] = db.bodies('results');
    expect(res).toMatchObject({ seq: 7, asOfUs: 15_100_160, computed: 'on-read', windowUs: 10_000_000 });
    // Orders 1..19 fall in [0, 10 s), 20..30 in [10 s, 20 s); the first window is final, the current one is not.
    expect(res.windows).toEqual([
      { startUs: 0, count: 19, sum: 190, final: true },
      { startUs: 10_000_000, count: 11, sum: 275, final: false },
    ]);
    expect(done.counts.rowsRead).toBe(30);
    expect(done.counts.computeMs).toBeCloseTo(0.16);
  });

  it('keeps the newest results a job or stream wrote and serves them as precomputed', () => {
    const db = new Node<DbMemory>(lessonDb, 'db', { resultsUsFixed: 10 }, ['job', 'dash']);
    const windows = [{ startUs: 0, count: 2, sum: 3, final: true }];
    db.recv('job', { kind: 'put-results', asOfUs: 5_000, windowUs: 1_000, windows });
    db.timer('serve', 10);
    db.recv('job', { kind: 'put-results', asOfUs: 4_000, windowUs: 1_000, windows: [] }); // older: ignored
    db.timer('serve', 20);
    db.recv('dash', { kind: 'get-results', seq: 2 });
    db.timer('serve', 30);
    expect(db.bodies('results')[0]).toEqual({ kind: 'results', seq: 2, asOfUs: 5_000, windowUs: 1_000, windows, computed: 'precomputed' });
  });

  it('refuses beyond its queue and its table: overload is answered, not buffered without bound', () => {
    const db = new Node<DbMemory>(lessonDb, 'db', { queueMax: 1, rowsMax: 2, insertUsPerRow: 1 }, ['src']);
    db.recv('src', { kind: 'events', batch: 1, records: recs([1, 2, 3]) });
    db.recv('src', { kind: 'events', batch: 2, records: recs([4]) }); // queued (1)
    const refused = db.recv('src', { kind: 'events', batch: 3, records: recs([5]) });
    expect(refused.sent[0].body).toEqual({ kind: 'events-reply', batch: 3, accepted: 0, rejected: 1 });
    const first = db.timer('serve');
    expect(first.sent[0].body).toEqual({ kind: 'events-reply', batch: 1, accepted: 2, rejected: 1 });
  });

  it('recovers its rows from disk after a restart', () => {
    const db = new Node<DbMemory>(lessonDb, 'db', { insertUsPerRow: 1 }, ['src']);
    db.recv('src', { kind: 'events', batch: 1, records: recs([1, 2]) });
    const op = db.timer('serve').persisted[0].op as Extract<DiskOp, { op: 'append' }>;
    const again = new Node<DbMemory>(lessonDb, 'db', {}, ['src'], { rows: op.items });
    expect(again.m.rows.map((r) => r.id)).toEqual([1, 2]);
  });
});

describe('lesson-log', () => {
  it('appends by key to partitions, synced per segment, and never refuses', () => {
    const log = new Node<LogMemory>(lessonLog, 'log', { partitions: 2, segmentRecords: 2, recordsMax: 100 }, ['src']);
    const fx = log.recv('src', { kind: 'events', batch: 1, records: recs([1, 2, 3, 4, 5, 6]) });
    expect(log.m.parts.map((p) => p.recs.map((r) => r.id))).toEqual([[2, 4, 6], [1, 3, 5]]);
    expect(fx.persisted.map((w) => [(w.op as { key: string }).key, w.sync])).toEqual([['p1.0', true], ['p0.0', true], ['p1.1', true], ['p0.1', true]]);
    expect(fx.sent[0].body).toEqual({ kind: 'events-reply', batch: 1, accepted: 6, rejected: 0 });
  });

  it('serves a fetch from the asked offset; the horizon is now at the end, else when the next record arrived', () => {
    const log = new Node<LogMemory>(lessonLog, 'log', {}, ['src', 'c']);
    log.recv('src', { kind: 'events', batch: 1, records: recs([1, 2, 3]) }, 1_000);
    log.recv('src', { kind: 'events', batch: 2, records: recs([4]) }, 2_000);
    log.recv('c', { kind: 'fetch', seq: 1, group: 'g', partition: 0, offset: 1, max: 2, commit: -1 }, 5_000);
    expect(log.bodies('fetch-reply')[0]).toEqual({ kind: 'fetch-reply', seq: 1, partition: 0, records: recs([2, 3]), from: 1, end: 4, start: 0, asOfUs: 2_000 });
    log.recv('c', { kind: 'fetch', seq: 2, group: 'g', partition: 0, offset: 3, max: 10, commit: 3 }, 6_000);
    expect(log.bodies('fetch-reply')[0]).toMatchObject({ records: recs([4]), from: 3, end: 4, asOfUs: 6_000 });
    expect(log.m.committed.g).toEqual([3]);
    log.recv('c', { kind: 'offsets', group: 'g' });
    expect(log.bodies('offsets-reply')[0]).toEqual({ kind: 'offsets-reply', committed: [3], start: [0], end: [4] });
  });

  it('deletes whole old segments at retention; a group behind them skips ahead, and that is counted', () => {
    const log = new Node<LogMemory>(lessonLog, 'log', { segmentRecords: 2, recordsMax: 100, retentionMs: 1_000, statusMs: 100 }, ['src', 'c']);
    log.recv('src', { kind: 'events', batch: 1, records: recs([1, 2, 3, 4, 5]) }, 0);
    const fx = log.timer('status', 1_500_000);
    expect(fx.persisted.map((w) => w.op)).toEqual([{ op: 'delete', key: 'p0.0' }, { op: 'delete', key: 'p0.1' }]);
    expect(log.m.parts[0].base).toBe(4);
    const skip = log.recv('c', { kind: 'fetch', seq: 1, group: 'g', partition: 0, offset: 0, max: 10, commit: -1 });
    expect(skip.counts.retentionSkipped).toBe(4);
    expect(log.bodies('fetch-reply')[0]).toMatchObject({ from: 4, records: recs([5]), start: 4 });
  });

  it('observes each group’s backlog and announces it when it changes', () => {
    const log = new Node<LogMemory>(lessonLog, 'log', {}, ['src', 'c']);
    log.recv('src', { kind: 'events', batch: 1, records: recs(range(1, 10)) });
    log.recv('c', { kind: 'fetch', seq: 1, group: 'g', partition: 0, offset: 0, max: 4, commit: 4 });
    const fx = log.timer('status', 500_000);
    expect(fx.states.backlog).toEqual({ g: 6 });
    expect(fx.samples['backlogRecords:g']).toEqual([6]);
    expect(log.timer('status', 1_000_000).states).toEqual({});
  });

  it('recovers its segments from disk, in offset order', () => {
    const log = new Node<LogMemory>(lessonLog, 'log', { segmentRecords: 2, recordsMax: 100 }, ['src']);
    const fx = log.recv('src', { kind: 'events', batch: 1, records: recs([1, 2, 3]) });
    const disk = Object.fromEntries(fx.persisted.map((w) => [(w.op as { key: string }).key, (w.op as { items: unknown[] }).items]));
    const again = new Node<LogMemory>(lessonLog, 'log', { segmentRecords: 2, recordsMax: 100 }, ['src'], disk);
    expect(again.m.parts[0].recs.map((r) => r.id)).toEqual([1, 2, 3]);
  });
});

describe('lesson-broker', () => {
  it('declares a queue on subscribe and pushes at most prefetch unacknowledged; an ack deletes and pushes more', () => {
    const b = new Node<BrokerMemory>(lessonBroker, 'b', {}, ['src', 'w']);
    b.recv('w', { kind: 'subscribe', prefetch: 2 });
    expect(b.fx.notes).toEqual([{ name: 'queue-declared', data: { consumer: 'w' } }]);
    const fx = b.recv('src', { kind: 'events', batch: 1, records: recs([1, 2, 3, 4]) });
    expect(fx.sent.map((s) => [s.to, s.kind, s.body.records?.map((r: Rec) => r.id) ?? s.body])).toEqual([
      ['w', 'deliver', [1, 2]],
      ['src', 'events-reply', { kind: 'events-reply', batch: 1, accepted: 4, rejected: 0 }],
    ]);
    const acked = b.recv('w', { kind: 'ack', ids: [1] });
    expect(acked.sent.map((s) => s.body.records.map((r: Rec) => r.id))).toEqual([[3]]);
    expect(Object.keys(b.m.queues[0].unacked)).toEqual(['2', '3']); // 1 is gone for good
  });

  it('drop-head: a full queue loses its oldest ready messages', () => {
    const b = new Node<BrokerMemory>(lessonBroker, 'b', { queueMax: 3 }, ['src', 'w']);
    b.recv('w', { kind: 'subscribe', prefetch: 1 });
    const fx = b.recv('src', { kind: 'events', batch: 1, records: recs(range(1, 6)) });
    expect(b.m.queues[0].ready.map((r) => r.id)).toEqual([4, 5, 6]);
    expect(fx.counts.brokerDropped).toBe(2);
    expect(fx.notes).toEqual([{ name: 'dropped', data: { queue: 'w', n: 2, from: 2, to: 3 } }]);
  });

  it('reject-publish: takes only what the fullest queue has room for and refuses the rest', () => {
    const b = new Node<BrokerMemory>(lessonBroker, 'b', { queueMax: 3, overflow: 'reject-publish' }, ['src', 'w']);
    b.recv('w', { kind: 'subscribe', prefetch: 1 });
    const fx = b.recv('src', { kind: 'events', batch: 1, records: recs(range(1, 6)) });
    expect(fx.sent.find((s) => s.kind === 'events-reply')!.body).toEqual({ kind: 'events-reply', batch: 1, accepted: 4, rejected: 2 });
    expect(b.m.queues[0].ready.map((r) => r.id)).toEqual([2, 3, 4]);
    expect(fx.counts.brokerDropped ?? 0).toBe(0);
  });

  it('a queue declared later gets only what is published after it: no history to replay', () => {
    const b = new Node<BrokerMemory>(lessonBroker, 'b', {}, ['src', 'w', 'late']);
    b.recv('w', { kind: 'subscribe', prefetch: 10 });
    b.recv('src', { kind: 'events', batch: 1, records: recs([1, 2]) });
    b.recv('late', { kind: 'subscribe', prefetch: 10 });
    const fx = b.recv('src', { kind: 'events', batch: 2, records: recs([3]) });
    expect(fx.sent.filter((s) => s.to === 'late').map((s) => s.body.records.map((r: Rec) => r.id))).toEqual([[3]]);
  });

  it('requeues at the head what stays unacknowledged too long, and what a re-subscribing consumer held', () => {
    const b = new Node<BrokerMemory>(lessonBroker, 'b', { redeliverAfterMs: 1_000, statusMs: 500 }, ['src', 'w']);
    b.recv('w', { kind: 'subscribe', prefetch: 2 });
    b.recv('src', { kind: 'events', batch: 1, records: recs([1, 2, 3]) });
    const fx = b.timer('status', 1_000_000);
    expect(fx.counts.brokerRedelivered).toBe(2);
    expect(fx.sent.map((s) => s.body.records.map((r: Rec) => r.id))).toEqual([[1, 2]]);
    expect(fx.samples.backlogRecords).toEqual([3]);
    const again = b.recv('w', { kind: 'subscribe', prefetch: 2 }, 1_100_000);
    expect(again.notes).toEqual([{ name: 'requeued', data: { queue: 'w', n: 2 } }]);
    expect(again.sent.map((s) => s.body.records.map((r: Rec) => r.id))).toEqual([[1, 2]]);
  });
});

describe('lesson-consumer', () => {
  it('pull: asks the log where its group left off, fetches, processes at its rate, and commits with the next fetch', () => {
    const c = new Node<ConsumerMemory>(lessonConsumer, 'c', { from: 'log', ratePerS: 1_000, fixedCostMs: 1, fetchMax: 10, bufferMax: 10 }, ['log']);
    expect(c.fx.sent).toEqual([{ to: 'log', kind: 'offsets', body: { kind: 'offsets', group: 'c' } }]);
    const st = c.recv('log', { kind: 'offsets-reply', committed: [-1], start: [0], end: [3] });
    expect(st.sent[0].body).toEqual({ kind: 'fetch', seq: 1, group: 'c', partition: 0, offset: 0, max: 10, commit: -1 });
    const got = c.recv('log', { kind: 'fetch-reply', seq: 1, partition: 0, records: recs([1, 2, 3]), from: 0, end: 3, start: 0, asOfUs: 500 }, 500);
    expect(got.timers.work).toBe(1_000 + 3_000); // 1 ms fixed + 3 orders at 1,000 a second
    expect(got.timers.poll).toBe(100_000); // the round found less than asked: wait for the next poll
    const done = c.timer('work', 4_500);
    expect(done.notes).toEqual([{ name: 'processed', data: { ids: [1, 2, 3], costMs: 4 } }]);
    expect(done.counts).toMatchObject({ processed: 3, rowsRead: 3, computeMs: 4 });
    c.timer('poll', 100_500);
    expect(c.bodies('fetch')[0]).toMatchObject({ offset: 3, commit: 3 });
  });

  it('pull: a full buffer holds the next fetch back until processing frees room', () => {
    const c = new Node<ConsumerMemory>(lessonConsumer, 'c', { from: 'log', fetchMax: 2, bufferMax: 2 }, ['log']);
    c.recv('log', { kind: 'offsets-reply', committed: [5], start: [0], end: [9] });
    expect(c.bodies('fetch')[0]).toMatchObject({ offset: 5, commit: 5 });
    const got = c.recv('log', { kind: 'fetch-reply', seq: 1, partition: 0, records: recs([6, 7]), from: 5, end: 9, start: 0, asOfUs: 10 });
    expect(got.sent).toEqual([]); // the round came back full, but there is no room
    c.timer('work', 10_000);
    expect(c.bodies('fetch')[0]).toMatchObject({ offset: 7, max: 2, commit: 7 });
  });

  it('batch: wakes every period, reads every partition to its end, processes the job as one unit with one start-up cost', () => {
    const c = new Node<ConsumerMemory>(lessonConsumer, 'c', { from: 'log', partitions: 2, batchEveryMs: 10_000, fixedCostMs: 100, ratePerS: 100_000, fetchMax: 2, bufferMax: 100 }, ['log']);
    const st = c.recv('log', { kind: 'offsets-reply', committed: [-1, -1], start: [0, 0], end: [0, 0] });
    expect(st.timers.job).toBe(10_000_000);
    expect(st.sent).toEqual([]);
    c.timer('job', 10_000_000);
    expect(c.fx.notes[0]).toEqual({ name: 'job-start', data: { offsets: [0, 0] } });
    c.recv('log', { kind: 'fetch-reply', seq: 1, partition: 0, records: recs([1, 2]), from: 0, end: 3, start: 0, asOfUs: 9_000_000 });
    c.recv('log', { kind: 'fetch-reply', seq: 2, partition: 1, records: recs([4]), from: 0, end: 1, start: 0, asOfUs: 10_000_000 });
    expect(c.bodies('fetch')[0]).toMatchObject({ partition: 0, offset: 2 }); // partition 1 is read to its end
    const last = c.recv('log', { kind: 'fetch-reply', seq: 3, partition: 0, records: recs([3]), from: 2, end: 3, start: 0, asOfUs: 10_000_000 }, 10_010_000);
    expect(last.notes[0]).toMatchObject({ name: 'job-read', data: { records: 4 } });
    expect(last.timers.work).toBe(100_000 + 40);
    expect(last.timers.job).toBe(9_990_000); // the schedule is fixed: one period after the job started
  });

  it('push: subscribes, processes what is pushed, acknowledges each id; slow phases lower the rate', () => {
    const c = new Node<ConsumerMemory>(lessonConsumer, 'c', { from: 'b', mode: 'push', prefetch: 5, ratePerS: 1_000, fixedCostMs: 0, slow: { fromMs: 1_000, toMs: 2_000, ratePerS: 100 } }, ['b']);
    expect(c.fx.sent[0].body).toEqual({ kind: 'subscribe', prefetch: 5 });
    expect(c.fx.timers).toMatchObject({ 'slow-start': 1_000_000, 'slow-end': 2_000_000 });
    expect(c.recv('b', { kind: 'deliver', records: recs([1, 2]) }).timers.work).toBe(2_000);
    c.timer('work', 2_000);
    expect(c.bodies('ack')[0]).toEqual({ kind: 'ack', ids: [1, 2] });
    expect(c.recv('b', { kind: 'deliver', records: recs([3, 4]) }, 1_500_000).timers.work).toBe(20_000);
  });

  it('push: idle with nothing pushed for its timeout, it subscribes again (a lost subscription, a restarted broker)', () => {
    const c = new Node<ConsumerMemory>(lessonConsumer, 'c', { from: 'b', mode: 'push', prefetch: 5, timeoutMs: 1_000 }, ['b']);
    expect(c.fx.timers['subscribe-check']).toBe(1_000_000);
    c.recv('b', { kind: 'deliver', records: recs([1]) }, 500_000);
    expect(c.timer('subscribe-check', 1_000_000).sent).toEqual([]); // busy, and pushed to recently
    c.timer('work', 1_001_000);
    const fx = c.timer('subscribe-check', 2_000_000);
    expect(fx.sent).toEqual([{ to: 'b', kind: 'subscribe', body: { kind: 'subscribe', prefetch: 5 } }]);
    expect(fx.counts.resubscribes).toBe(1);
  });

  it('with results: keeps window totals and writes them with the horizon of the data they reflect', () => {
    const c = new Node<ConsumerMemory>(lessonConsumer, 'c', { from: 'log', ratePerS: 1_000_000, fixedCostMs: 0, results: { db: 'db', windowMs: 2, windows: 2, graceMs: 0 } }, ['log', 'db']);
    c.recv('log', { kind: 'offsets-reply', committed: [-1], start: [0], end: [0] });
    c.recv('log', { kind: 'fetch-reply', seq: 1, partition: 0, records: recs([1, 2, 3]), from: 0, end: 3, start: 0, asOfUs: 4_500 });
    c.timer('work', 4_503);
    expect(c.bodies('put-results')[0]).toEqual({
      kind: 'put-results', asOfUs: 4_500, windowUs: 2_000,
      windows: [{ startUs: 2_000, count: 2, sum: 5, final: true }, { startUs: 4_000, count: 0, sum: 0, final: false }],
    });
    // Nothing new at a later horizon: the same totals are now complete up to it.
    c.timer('poll', 100_000);
    c.recv('log', { kind: 'fetch-reply', seq: 2, partition: 0, records: [], from: 3, end: 3, start: 0, asOfUs: 100_100 });
    expect(c.bodies('put-results')[0].asOfUs).toBe(100_100);
  });
});

describe('lesson-dashboard', () => {
  it('asks every refresh, one request at a time, and measures latency and staleness of what it shows', () => {
    const d = new Node<DashboardMemory>(lessonDashboard, 'd', { db: 'db', mode: 'query', refreshMs: 1_000, windowMs: 10_000, windows: 3 }, ['db']);
    d.timer('refresh', 1_000_000);
    expect(d.fx.sent[0].body).toEqual({ kind: 'query', seq: 1, windowUs: 10_000_000, windows: 3 });
    const fx = d.recv('db', { kind: 'results', seq: 1, asOfUs: 1_020_000, windowUs: 10_000_000, windows: [], computed: 'on-read' }, 1_025_000);
    expect(fx.samples).toEqual({ dashboardLatencyMs: [25], resultStalenessMs: [5] });
    expect(fx.states.stalenessMs).toBe(5);
  });

  it('counts a result never computed as stale since the start, and gives up on an unanswered request', () => {
    const d = new Node<DashboardMemory>(lessonDashboard, 'd', { db: 'db', refreshMs: 1_000, timeoutMs: 1_500 }, ['db']);
    d.timer('refresh', 1_000_000);
    expect(d.recv('db', { kind: 'results', seq: 1, asOfUs: null, windowUs: 0, windows: [], computed: 'precomputed' }, 1_002_000).samples.resultStalenessMs).toEqual([1_002]);
    d.timer('refresh', 2_000_000);
    expect(d.timer('refresh', 3_000_000).sent).toEqual([]); // still waiting, within the timeout
    const fx = d.timer('refresh', 4_000_000);
    expect(fx.counts.dashboardTimeouts).toBe(1);
    expect(fx.sent[0].body).toEqual({ kind: 'get-results', seq: 3 });
  });
});

describe('lesson-writer and lesson-reader (Raft clients)', () => {
  const G = ['r1', 'r2', 'r3'];

  it('the writer issues n+1 only once n is acknowledged, syncs what it issued first, and follows a leader hint', () => {
    const w = new Node<WriterMemory>(lessonWriter, 'w', { group: G, writeEveryMs: 10 }, G);
    const fx = w.timer('write', 10_000);
    expect(fx.persisted).toEqual([{ op: { op: 'put', key: 'issued', value: 1 }, sync: true }]);
    const to = fx.sent[0].to;
    expect(fx.sent[0].body).toEqual({ kind: 'propose', id: 'w-1', key: 'counter', value: '1' });
    const other = G.find((g) => g !== to)!;
    const redirected = w.recv(to, { kind: 'propose-reply', id: 'w-1', ok: false, index: 0, leaderHint: other, reason: 'not leader' });
    expect(redirected.sent).toEqual([{ to: other, kind: 'propose', body: { kind: 'propose', id: 'w-1', key: 'counter', value: '1' } }]);
    expect(w.timer('write', 20_000).sent).toEqual([]); // one write at a time
    w.recv(other, { kind: 'propose-reply', id: 'w-1', ok: true, index: 2, leaderHint: other, reason: '' }, 25_000);
    expect(w.fx.notes).toEqual([{ name: 'write-acked', data: { value: 1, index: 2 } }]);
    expect(w.timer('write', 30_000).sent[0]).toEqual({ to: other, kind: 'propose', body: { kind: 'propose', id: 'w-2', key: 'counter', value: '2' } });
  });

  it('a restarted writer continues after what it issued, so ids are never reused', () => {
    const w = new Node<WriterMemory>(lessonWriter, 'w', { group: G }, G, { issued: 41 });
    expect(w.timer('write', 20_000).sent[0].body.id).toBe('w-42');
  });

  it('a follower reader asks its local replica for an eventual read and records its history', () => {
    const r = new Node<ReaderMemory>(lessonReader, 'rd', { group: G, readFrom: 'follower', local: 'r3' }, G);
    expect(r.fx.persisted).toEqual([{ op: { op: 'put', key: 'epoch', value: 1 }, sync: true }]);
    const fx = r.timer('read', 50_000);
    expect(fx.notes).toEqual([{ name: 'read-invoke', data: { id: 'rd-1.1', readFrom: 'follower', linearizable: false } }]);
    expect(fx.sent).toEqual([{ to: 'r3', kind: 'read', body: { kind: 'read', id: 'rd-1.1', key: 'counter', mode: 'eventual' } }]);
    const ok = r.recv('r3', { kind: 'read-reply', id: 'rd-1.1', ok: true, value: '7', appliedIndex: 9, leaderHint: 'r1', reason: '' }, 50_040);
    expect(ok.notes).toEqual([{ name: 'read-ok', data: { id: 'rd-1.1', value: 7, appliedIndex: 9, from: 'r3', latencyMs: 0.04 } }]);
    expect(r.m.outstanding).toBe(0);
  });

  it('a leader reader sends strong reads, follows hints, retries the next replica, and gives up at the deadline', () => {
    const r = new Node<ReaderMemory>(lessonReader, 'rd', { group: G, readFrom: 'leader', attemptMs: 200, timeoutMs: 1_000 }, G);
    const to = r.timer('read', 50_000).sent[0].to;
    expect(r.fx.sent[0].body.mode).toBe('strong');
    const next = G[(G.indexOf(to) + 1) % 3];
    r.recv(to, { kind: 'read-reply', id: 'rd-1.1', ok: false, value: null, appliedIndex: 0, leaderHint: null, reason: 'not leader' });
    expect(r.fx.sent).toEqual([]); // no hint: wait for the attempt to time out
    const retry = r.timer('sweep', 260_000);
    expect(retry.sent).toEqual([{ to: next, kind: 'read', body: { kind: 'read', id: 'rd-1.1', key: 'counter', mode: 'strong' } }]);
    const gone = r.timer('sweep', 1_050_000);
    expect(gone.notes).toEqual([{ name: 'read-unavailable', data: { id: 'rd-1.1', tries: 2, lastTo: next } }]);
    expect(gone.counts.readsUnavailable).toBe(1);
    expect(r.recv(next, { kind: 'read-reply', id: 'rd-1.1', ok: true, value: '1', appliedIndex: 3, leaderHint: next, reason: '' }).notes).toEqual([]); // too late
  });

  it('read ids carry the boot epoch, so a late answer never lands on a restarted reader’s new read', () => {
    const r = new Node<ReaderMemory>(lessonReader, 'rd', { group: G }, G, { epoch: 4 });
    expect(r.m.epoch).toBe(5);
    expect(r.timer('read', 50_000).sent[0].body.id).toBe('rd-5.1');
  });
});

describe('window helpers', () => {
  it('shows the last windows up to the horizon, empty ones as zeros, final once past the grace', () => {
    const w = recentWindows({ '0': { count: 1, sum: 2 }, '20': { count: 3, sum: 4 } }, 34, 10, 3, 5);
    expect(w).toEqual([
      { startUs: 10, count: 0, sum: 0, final: true },
      { startUs: 20, count: 3, sum: 4, final: false },
      { startUs: 30, count: 0, sum: 0, final: false },
    ]);
  });
});
