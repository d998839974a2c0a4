/**
 * The message queue's protocols over the simulated network, driven through the Lab as a user would: what each ack
 * mode promises, what replicated acks buy, dead-lettering, TTL, push overrun, idempotence and retries with backoff.
 */
import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/sim/lab.ts';
import { idForEach, type IdTable } from '../../src/sim/mq/idtable.ts';
import { backoffUs } from '../../src/sim/mq/producer.ts';
import { findScenario } from '../../src/scenarios/index.ts';
import { MQ_METRICS, mqTopology, type MqShape } from '../../src/scenarios/mq-common.ts';
import type { ScenarioInput } from '../../src/scenarios/schema.ts';

function scenario(shape: Partial<MqShape>, faults: ScenarioInput['faults'] = [], duration = '4s'): ScenarioInput {
  return {
    id: 'mq-test', title: 'test', summary: '', tags: [], difficulty: 'intro', minutes: 1, goals: [], seed: 'mq-test', duration,
    topology: mqTopology({ brokers: 3, partitions: 2, replicas: 3, producers: [{ ratePerS: 300, stopAtMs: 2500 }], consumers: [{}], ...shape }),
    faults, narration: [], expect: [], metrics: [...MQ_METRICS],
  };
}

function run(input: ScenarioInput, seed = '1') {
  const lab = new Lab();
  lab.load(input, { seed });
  lab.runToEnd();
  const s = lab.summary();
  return { lab, s, m: s.metrics as Record<string, number> };
}

describe('message queue protocols', () => {
  it('with no faults every message is produced, acknowledged and delivered exactly once, in order within a key', () => {
    const { s, m } = run(scenario({ producers: [{ ratePerS: 300, stopAtMs: 2500, partitioner: 'key-hash' }] }));
    expect(s.violations).toEqual([]);
    expect(m.produced).toBeGreaterThan(700);
    expect(m.acked).toBe(m.produced);
    expect(m.delivered).toBe(m.produced);
    expect(m.duplicated).toBe(0);
    expect(m.reordered).toBe(0);
    expect(m.pending).toBe(0);
  });

  it('consumers only see committed messages: every delivered id is in a committed produce entry of its partition', () => {
    // This test reads the whole committed log, so the partitions keep it (no compaction).
    const { lab } = run(scenario({ raft: { snapshotEntries: 0 } }));
    const committed = new Set<string>();
    for (const id of ['b1.orders-0', 'b1.orders-1']) {
      const v = (lab.inspect(id) as { memory: { commitIndex: number } }).memory;
      for (let from = 1; from <= v.commitIndex; from += 200) {
        for (const e of lab.logEntries(id, from, Math.min(200, v.commitIndex - from + 1)) as { cmd?: { op: string; msgs?: { id: string }[] } }[]) {
          if (e.cmd?.op === 'produce') for (const x of e.cmd.msgs!) committed.add(x.id);
        }
      }
    }
    const delivered = lab.events(0, 100_000, { kinds: ['node.note'], node: 'sink' }).flatMap((e) => ((e as { data: { ids: string[] } }).data.ids));
    expect(delivered.length).toBeGreaterThan(500);
    for (const id of delivered) expect(committed.has(id)).toBe(true);
  });

  it('acks kept in the leader’s memory are forgotten on failover: duplicates, where replicated acks give fewer', () => {
    const crash: ScenarioInput['faults'] = [{ at: '1.5s', kind: 'crash', node: '@leader/orders-0' }, { at: '2.5s', kind: 'restart', node: '@crashed' }];
    const consumer = [{ processMs: 0.5 }];
    const local = run(scenario({ partition: { replicatedAcks: false }, consumers: consumer }, crash));
    const replicated = run(scenario({ partition: { replicatedAcks: true }, consumers: consumer }, crash));
    expect(local.s.violations).toEqual([]);
    expect(replicated.s.violations).toEqual([]);
    expect(local.m.duplicated).toBeGreaterThan(50);
    expect(local.m.duplicated).toBeGreaterThan(2 * replicated.m.duplicated);
    expect(local.m.lost).toBe(0);
  });

  it('a poison message is delivered maxDeliveries times, then dead-lettered; the rest flows', () => {
    const { s, m, lab } = run(scenario({ producers: [{ ratePerS: 100, stopAtMs: 1000, poisonShare: 0.05 }], consumers: [{ failKey: 'poison' }], partition: { visibilityMs: 200, maxDeliveries: 3 } }));
    expect(s.violations).toEqual([]);
    expect(m.deadLettered).toBeGreaterThan(0);
    expect(m.delivered + m.deadLettered).toBe(m.produced);
    const fails = lab.events(0, 10_000, { kinds: ['node.note'], text: 'processing-failed' });
    const most = Math.max(...fails.flatMap((e) => (e as { data: { deliveries: number[] } }).data.deliveries));
    expect(most).toBe(3);
  });

  it('messages past their TTL while consumers are down expire instead of being delivered', () => {
    const { s, m } = run(scenario({ partition: { ttlMs: 500, ttlAction: 'drop' } }, [{ at: '0.5s', kind: 'crash', node: 'c1' }, { at: '2s', kind: 'restart', node: 'c1' }]));
    expect(s.violations).toEqual([]);
    expect(m.expired).toBeGreaterThan(100);
    expect(m.lost).toBe(0);
    // A message the sink wrote just before the consumer died was never acked: it may expire too (at-least-once).
    expect(m.delivered + m.expired + m.pending).toBeGreaterThanOrEqual(m.produced);
  });

  it('unbounded push overruns a slow consumer; pull with the same consumer never does', () => {
    const shape = (mode: 'push' | 'pull'): Partial<MqShape> => ({ producers: [{ ratePerS: 2000, stopAtMs: 1000 }], consumers: [{ mode, processMs: 2, bufferMax: 200 }] });
    const push = run(scenario(shape('push')));
    const pull = run(scenario(shape('pull')));
    expect(push.m.overrun).toBeGreaterThan(0);
    expect(push.m.redelivered).toBeGreaterThan(0);
    expect(pull.m.overrun).toBe(0);
    expect(pull.s.violations).toEqual([]);
  });

  it('without idempotence a retried batch whose ack was lost is written twice; with it, once', () => {
    const lossy: ScenarioInput['faults'] = [{ at: '0.5s', kind: 'link', from: 'b1', to: 'prod1', set: { loss: 0.5 } }, { at: '0.5s', kind: 'link', from: 'b2', to: 'prod1', set: { loss: 0.5 } }, { at: '0.5s', kind: 'link', from: 'b3', to: 'prod1', set: { loss: 0.5 } }];
    const plain = run(scenario({ producers: [{ ratePerS: 300, stopAtMs: 2000, idempotent: false, requestTimeoutMs: 100 }] }, lossy));
    const idem = run(scenario({ producers: [{ ratePerS: 300, stopAtMs: 2000, idempotent: true, requestTimeoutMs: 100 }] }, lossy));
    expect(plain.m.duplicated).toBeGreaterThan(0);
    expect(idem.m.duplicated).toBe(0);
    expect(plain.lab.events(0, 100_000, { kinds: ['node.note'], text: 'duplicate-batch' })).toHaveLength(0);
    expect(idem.lab.events(0, 100_000, { kinds: ['node.note'], text: 'duplicate-batch' }).length).toBeGreaterThan(0);
  });

  it('backoff doubles from its base up to its cap; jitter stays within half to one and a half of it', () => {
    const cfg = { backoffBaseMs: 10, backoffMaxMs: 80, jitter: false };
    expect([1, 2, 3, 4, 5, 9].map((a) => backoffUs(cfg, a, () => 0.5) / 1000)).toEqual([10, 20, 40, 80, 80, 80]);
    expect(backoffUs({ ...cfg, jitter: true }, 2, () => 0) / 1000).toBe(10);
    expect(backoffUs({ ...cfg, jitter: true }, 2, () => 0.999) / 1000).toBeCloseTo(29.98, 1);
  });

  it('the built-in acks pair shows the difference: acks=leader loses acknowledged writes, acks=quorum none', () => {
    const leader = run(findScenario('mq-acks-leader')!, 'acks');
    const quorum = run(findScenario('mq-acks-quorum')!, 'acks');
    expect(leader.m.lost).toBeGreaterThan(0);
    expect(quorum.m.lost).toBe(0);
    expect(leader.s.violations).toEqual([]);
  });
});

/** The replicas of each partition, by partition name, from the run's snapshot. */
function replicasByPartition(lab: Lab): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const n of lab.snapshot().nodes) {
    if (n.kind !== 'mq-partition') continue;
    const p = n.id.slice(n.id.indexOf('.') + 1);
    out.set(p, [...(out.get(p) ?? []), n.id]);
  }
  return out;
}

interface ReplicaMemory {
  role: string;
  commitIndex: number;
  lastApplied: number;
  log: { index: number }[];
  snapshot: { index: number } | null;
  sm: { msgs: IdTable<{ offset: number; m: { id: string } }>; counts: { produced: number; acked: number } };
}

describe('message queue with log compaction (§7)', () => {
  const compacting = { snapshotEntries: 16, snapshotKeepEntries: 4 };

  it('loses nothing across failovers and restarts while every replica snapshots and drops its log', () => {
    const faults: ScenarioInput['faults'] = [
      { at: '1s', kind: 'crash', node: 'b3' },
      { at: '2s', kind: 'restart', node: 'b3' },
      { at: '2.5s', kind: 'crash', node: '@leader/orders-0', loseUnsynced: true },
      { at: '3s', kind: 'restart', node: '@crashed' },
    ];
    const { lab, s, m } = run(scenario({ raft: compacting, producers: [{ ratePerS: 400, stopAtMs: 3500 }], consumers: [{}, {}] }, faults, '6s'));
    expect(s.violations).toEqual([]);
    expect(m.lost).toBe(0);
    expect(m.pollSkip).toBe(0);
    expect(m.delivered + m.pending).toBe(m.produced);
    const snapshots = lab.events(0, 1_000_000, { kinds: ['node.state'] }).filter((e) => (e as { key: string }).key === 'snapshot');
    expect(snapshots.length).toBeGreaterThan(50);
    // b3 was down for a second: its replicas came back behind the leaders' log bases and got snapshots.
    expect(lab.events(0, 1_000_000, { kinds: ['node.note'], text: 'snapshot-installed' }).length).toBeGreaterThan(0);
    expect(lab.events(0, 1_000_000, { kinds: ['msg.send'] }).some((e) => (e as { msg: string }).msg === 'install-snapshot')).toBe(true);
    for (const [, ids] of replicasByPartition(lab)) {
      for (const id of ids) {
        const mem = lab.inspect(id).memory as ReplicaMemory;
        expect(mem.log[0].index, id).toBeGreaterThan(0);
        expect(mem.log.length, id).toBeLessThanOrEqual(16 + 4 + 64);
      }
    }
  });

  it('a replica restored from its snapshot (restart) or sent one (InstallSnapshot) holds the same queue as the leader', () => {
    // No consumer: every message stays queued, so the partitions' state is large and exact.
    const faults: ScenarioInput['faults'] = [{ at: '0.8s', kind: 'crash', node: 'b2' }, { at: '1.6s', kind: 'restart', node: 'b2' }];
    const { lab, s } = run(scenario({ raft: compacting, producers: [{ ratePerS: 500, stopAtMs: 2000 }], consumers: [] }, faults, '3s'));
    expect(s.violations).toEqual([]);
    const restored = lab.events(0, 1_000_000, { kinds: ['node.boot'] }).filter((e) => (e as { recovered: boolean }).recovered);
    expect(restored.length).toBeGreaterThan(0);
    for (const [p, ids] of replicasByPartition(lab)) {
      const mems = ids.map((id) => lab.inspect(id).memory as ReplicaMemory);
      const queue = (x: ReplicaMemory) => {
        const out: string[] = [];
        idForEach(x.sm.msgs, (id, st) => void out.push(`${id}@${st.offset}`));
        return out.sort();
      };
      expect(mems.every((x) => x.commitIndex === mems[0].commitIndex && x.lastApplied === x.commitIndex), p).toBe(true);
      expect(mems.every((x) => x.snapshot !== null), p).toBe(true);
      const want = queue(mems[0]);
      expect(want.length, p).toBeGreaterThan(300);
      for (const x of mems) expect(queue(x), p).toEqual(want);
      for (const x of mems) expect(x.sm.counts.produced, p).toBe(want.length);
    }
  });

  it('keeps each replica’s log bounded under steady load: the compacted prefix grows, the kept log does not', () => {
    const { lab, s } = run(scenario({ raft: compacting, producers: [{ ratePerS: 1500, stopAtMs: 3500 }], consumers: [{ processMs: 0.2 }] }, [], '4s'));
    expect(s.violations).toEqual([]);
    for (const [, ids] of replicasByPartition(lab)) {
      for (const id of ids) {
        const mem = lab.inspect(id).memory as ReplicaMemory;
        expect(mem.log[0].index, id).toBeGreaterThan(100);
        expect(mem.log.length, id).toBeLessThanOrEqual(16 + 4 + 64);
      }
    }
  });
});


describe('checkpoints of a compacting queue', () => {
  it('seeking back to a checkpoint and forward again reproduces the run exactly (snapshots, in-flight, producer queues)', () => {
    const faults: ScenarioInput['faults'] = [{ at: '1s', kind: 'crash', node: 'b2' }, { at: '1.6s', kind: 'restart', node: 'b2' }];
    const input = scenario({ raft: { snapshotEntries: 16, snapshotKeepEntries: 4 }, producers: [{ ratePerS: 400, stopAtMs: 2500 }], consumers: [{ processMs: 0.5 }] }, faults, '3s');
    const lab = new Lab();
    lab.load(input, { seed: '3' });
    const end = lab.seek(3_000_000).traceHash;
    for (const back of [2_200_000, 1_300_000, 600_000]) {
      lab.seek(back);
      expect(lab.seek(3_000_000).traceHash).toBe(end);
    }
    expect(lab.summary().violations).toEqual([]);
  });
});
