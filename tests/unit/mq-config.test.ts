/**
 * The message queue's node configs at the edge: each kind's zod schema accepts every built-in scenario's config and
 * good hand-written ones, and refuses bad ones naming the field and what was expected — at compile time with the
 * node's place in the topology (`topology.nodes[i].config.<field>`), at boot with the node's id.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS, findScenario } from '../../src/scenarios/index.ts';
import { mqTopology } from '../../src/scenarios/mq-common.ts';
import type { ScenarioInput } from '../../src/scenarios/schema.ts';
import { RngStreams } from '../../src/sim/kernel/rng.ts';
import type { NodeContext } from '../../src/sim/kernel/types.ts';
import { Lab } from '../../src/sim/lab.ts';
import { MQ_CONFIG_SCHEMAS, mqConfigProblem } from '../../src/sim/mq/config.ts';
import { mqConsumer } from '../../src/sim/mq/consumer.ts';
import { mqCoordinator } from '../../src/sim/mq/coordinator.ts';
import { mqPartition } from '../../src/sim/mq/partition.ts';
import { mqProducer } from '../../src/sim/mq/producer.ts';
import { mqSink } from '../../src/sim/mq/sink.ts';

const machine = { topic: 'orders', partition: 'orders-0' };

describe('MQ node config schemas', () => {
  it('cover every node kind in src/sim/mq', () => {
    expect(Object.keys(MQ_CONFIG_SCHEMAS).sort()).toEqual(['mq-consumer', 'mq-coordinator', 'mq-partition', 'mq-producer', 'mq-sink']);
  });

  it('accept the config of every MQ node of every built-in scenario (kind defaults merged under the node’s own)', () => {
    let checked = 0;
    for (const s of SCENARIOS) {
      for (const n of s.topology.nodes) {
        if (!(n.kind in MQ_CONFIG_SCHEMAS)) continue;
        checked++;
        expect(mqConfigProblem(n.kind, { ...(s.topology.config?.[n.kind] ?? {}), ...(n.config ?? {}) }), `${s.id} ${n.id}`).toBeNull();
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  const good: [string, unknown][] = [
    ['mq-partition', { machine }],
    ['mq-partition', { group: ['a', 'b'], name: 'orders-0', electionMinMs: 150, snapshotEntries: 64, snapshotKeepEntries: 8, snapshotChunkBytes: 4096, machine: { ...machine, lanes: 3, ttlMs: 500, ttlAction: 'drop', dropFields: ['debug'] } }],
    ['mq-producer', { topic: 'orders' }],
    ['mq-producer', { topic: 'orders', acks: 'leader', partitioner: 'key-hash', laneWeights: [3, 1], spikes: [{ fromMs: 1000, toMs: 2000, ratePerS: 900 }], fields: { debug: 'x' }, backoffBaseMs: 10, backoffMaxMs: 10 }],
    ['mq-consumer', { topic: 'orders', group: 'g1', mode: 'push', semantics: 'exactly-once', laneFilter: -1, pushWindow: 0 }],
    ['mq-coordinator', { partitions: { 'orders-0': { topic: 'orders', replicas: ['b1.orders-0'] } }, pollMs: 100 }],
    ['mq-sink', {}],
    ['mq-sink', { dedupe: true }],
  ];
  it.each(good)('accept a good %s config', (kind, config) => {
    expect(mqConfigProblem(kind, config)).toBeNull();
  });

  const bad: [string, unknown, string][] = [
    ['mq-producer', { topic: 'orders', acks: 'all' }, 'config.acks: expected "none" | "leader" | "quorum"'],
    ['mq-producer', { acks: 'leader' }, 'config.topic: expected text of 1..64 characters'],
    ['mq-producer', { topic: 'orders', batchMax: 2000 }, 'config.batchMax: expected a whole number within 1..1024'],
    ['mq-producer', { topic: 'orders', lingerMs: 0 }, 'config.lingerMs: expected a number above 0 and at most 60000'],
    ['mq-producer', { topic: 'orders', hotKeyShare: 1.5 }, 'config.hotKeyShare: expected a number within 0..1'],
    ['mq-producer', { topic: 'orders', laneWeights: [0, 0] }, 'config.laneWeights: expected at least one weight above 0'],
    ['mq-producer', { topic: 'orders', spikes: [{ fromMs: 500, toMs: 100, ratePerS: 1 }] }, 'config.spikes[0].toMs: expected a time after fromMs (500)'],
    ['mq-producer', { topic: 'orders', topics: ['metrics'] }, 'config.topics: expected a list that includes topic "orders"'],
    ['mq-producer', { topic: 'orders', backoffBaseMs: 50, backoffMaxMs: 10 }, 'config.backoffMaxMs: expected at least backoffBaseMs (50)'],
    ['mq-producer', { topic: 'orders', lingr: 5 }, 'config.lingr: unknown field (known: topic, source, topics'],
    ['mq-consumer', { topic: 'orders', group: 'g1', semantics: 'once' }, 'config.semantics: expected "at-most-once" | "at-least-once" | "exactly-once"'],
    ['mq-consumer', { topic: 'orders', group: 'g1', laneFilter: 16 }, 'config.laneFilter: expected a whole number within -1..15'],
    ['mq-consumer', { topic: 'orders' }, 'config.group: expected text of 1..64 characters'],
    ['mq-consumer', { topic: 'orders', group: 'g1', sink: '9lives' }, 'config.sink: expected a node id'],
    ['mq-partition', {}, 'config.machine: expected an object of settings'],
    ['mq-partition', { machine: 'orders-0' }, 'config.machine: expected an object of settings'],
    ['mq-partition', { machine: { ...machine, ttlAction: 'keep' } }, 'config.machine.ttlAction: expected "dead-letter" | "drop"'],
    ['mq-partition', { machine: { ...machine, lanes: 17 } }, 'config.machine.lanes: expected a whole number within 1..16'],
    ['mq-partition', { machine: { ...machine, colour: 'red' } }, 'config.machine.colour: unknown field (known: topic, partition, lanes'],
    ['mq-partition', { machine, snapshotEntries: 1.5 }, 'config.snapshotEntries: expected a whole number within 0..1000000'],
    ['mq-partition', { machine, snapshotChunkBytes: 10 }, 'config.snapshotChunkBytes: expected a whole number within 256..8388608'],
    ['mq-partition', { machine, preVote: 'yes' }, 'config.preVote: expected true or false'],
    ['mq-coordinator', { partitions: {} }, 'config.partitions: expected at least one partition'],
    ['mq-coordinator', { partitions: { p: { topic: 'orders', replicas: [] } } }, 'config.partitions.p.replicas: expected a list of 1..99 items'],
    ['mq-coordinator', { partitions: { p: { topic: 'orders', replicas: ['b1'] } }, leaseMs: -5 }, 'config.leaseMs: expected a number above 0'],
    ['mq-sink', { dedupe: 'yes' }, 'config.dedupe: expected true or false'],
    ['mq-sink', { dedup: true }, 'config.dedup: unknown field (known: dedupe)'],
  ];
  it.each(bad)('refuse a bad %s config, naming the field: %j', (kind, config, message) => {
    expect(mqConfigProblem(kind, config)).toContain(message);
  });
});

function scenarioWith(patch: (s: ScenarioInput) => void): ScenarioInput {
  const s: ScenarioInput = {
    id: 'cfg', title: 'cfg', summary: '', tags: [], difficulty: 'intro', minutes: 1, goals: [], seed: 'cfg', duration: '1s',
    topology: mqTopology({ brokers: 3, partitions: 1, replicas: 3, producers: [{ ratePerS: 10 }], consumers: [{}] }),
    faults: [], narration: [], expect: [], metrics: [],
  };
  patch(s);
  return s;
}

describe('config errors at the edges', () => {
  it('a scenario with a bad node config does not compile; the error names the node’s place, the field and the node', () => {
    const s = scenarioWith((x) => {
      const i = x.topology.nodes.findIndex((n) => n.kind === 'mq-producer');
      x.topology.nodes[i].config = { ...x.topology.nodes[i].config, acks: 'all' };
    });
    const i = s.topology.nodes.findIndex((n) => n.kind === 'mq-producer');
    expect(() => new Lab().load(s)).toThrow(`invalid scenario: topology.nodes[${i}].config.acks: expected "none" | "leader" | "quorum" (node prod1, mq-producer)`);
  });

  it('a bad default in topology.config is reported on the first node of that kind', () => {
    const s = scenarioWith((x) => void (x.topology.config = { ...x.topology.config, 'mq-partition': { heartbeatMs: 'fast' } }));
    expect(() => new Lab().load(s)).toThrow(/topology\.nodes\[0\]\.config\.heartbeatMs: expected a number above 0 and at most 600000 \(node b1\.orders-0, mq-partition\)/);
  });

  it('settings that break a kind’s config are refused by name, and the current run stays', () => {
    const lab = new Lab();
    lab.load('mq-baseline');
    expect(() => lab.load('mq-baseline', { settings: { config: { 'mq-consumer': { fetchMax: 0 } } } })).toThrow(/config\.fetchMax: expected a whole number within 1\.\.100000 \(node c1, mq-consumer\)/);
    expect(lab.snapshot().scenario.id).toBe('mq-baseline');
    expect(findScenario('mq-baseline')).toBeDefined();
  });

  const ctx = (id: string): NodeContext => {
    const rng = new RngStreams('cfg');
    return {
      id, now: 0, peers: ['ctl'], knows: () => true, rng: (n) => rng.stream(n), send: () => {}, persist: () => {}, setTimer: () => {}, cancelTimer: () => {},
      state: () => {}, note: () => {}, count: () => {}, observe: () => {}, bug: () => false,
    };
  };
  it.each([
    ['mq-producer', () => mqProducer.boot({ topic: 'orders', retries: -1 }, {}, ctx('prod9')), 'mq-producer prod9: config.retries: expected a whole number within 0..1000'],
    ['mq-consumer', () => mqConsumer.boot({ topic: 'orders', group: 'g', processMs: 0 }, {}, ctx('c9')), 'mq-consumer c9: config.processMs: expected a number above 0'],
    ['mq-coordinator', () => mqCoordinator.boot({ partitions: { p: { topic: 'orders', replicas: ['b1'] } }, sessionMs: 'long' } as never, {}, ctx('ctl')), 'mq-coordinator ctl: config.sessionMs'],
    ['mq-sink', () => mqSink.boot({ dedupe: 1 } as never, {}, ctx('sink')), 'mq-sink sink: config.dedupe: expected true or false'],
    ['mq-partition', () => mqPartition.boot({ group: ['p9'], machine: { topic: 'orders', partition: 'orders-0', maxDeliveries: -1 } } as never, {}, ctx('p9')), 'mq-partition p9: config.machine.maxDeliveries'],
  ])('a %s built with a bad config refuses to boot, naming the node and the field', (_kind, boot, message) => {
    expect(boot).toThrow(message);
  });
});
