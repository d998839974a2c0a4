/**
 * The Raft node kinds' configs at the edge, as the message queue's are (mq-config.test.ts): each kind's zod schema
 * accepts every built-in scenario's config and good hand-written ones, and refuses bad ones naming the field and what
 * was expected — at compile time with the node's place in the topology, at boot with the node's id.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../src/scenarios/index.ts';
import { raftTopology } from '../../src/scenarios/raft-common.ts';
import type { ScenarioInput } from '../../src/scenarios/schema.ts';
import { RngStreams } from '../../src/sim/kernel/rng.ts';
import type { NodeContext } from '../../src/sim/kernel/types.ts';
import { Lab } from '../../src/sim/lab.ts';
import { raftClient } from '../../src/sim/raft/client.ts';
import { RAFT_CONFIG_SCHEMAS, raftConfigProblem } from '../../src/sim/raft/config.ts';
import { raftReplica } from '../../src/sim/raft/replica.ts';

describe('Raft node config schemas', () => {
  it('cover the raft and raft-client kinds', () => {
    expect(Object.keys(RAFT_CONFIG_SCHEMAS).sort()).toEqual(['raft', 'raft-client']);
  });

  it('accept the config of every Raft node of every built-in scenario (kind defaults merged under the node’s own)', () => {
    let checked = 0;
    for (const s of SCENARIOS) {
      for (const n of s.topology.nodes) {
        if (!(n.kind in RAFT_CONFIG_SCHEMAS)) continue;
        checked++;
        expect(raftConfigProblem(n.kind, { ...(s.topology.config?.[n.kind] ?? {}), ...(n.config ?? {}) }), `${s.id} ${n.id}`).toBeNull();
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  const good: [string, unknown][] = [
    ['raft', {}],
    ['raft', { group: ['r1', 'r2', 'r3'], name: 'kv', electionMinMs: 150, electionMaxMs: 300, heartbeatMs: 50, preVote: true, checkQuorum: true, snapshotEntries: 64 }],
    ['raft-client', { group: ['r1'] }],
    ['raft-client', { group: ['r1', 'r2'], writeEveryMs: 0, readEveryMs: 20, readMode: 'eventual', timeoutMs: 300, keys: 4, outstandingMax: 10, stopAtMs: 5000 }],
  ];
  it.each(good)('accept a good %s config', (kind, config) => {
    expect(raftConfigProblem(kind, config)).toBeNull();
  });

  const bad: [string, unknown, string][] = [
    ['raft', { heartbeatMs: 'fast' }, 'config.heartbeatMs: expected a number above 0 and at most 600000'],
    ['raft', { electionMinMs: -1 }, 'config.electionMinMs: expected a number above 0'],
    ['raft', { preVote: 'yes' }, 'config.preVote: expected true or false'],
    ['raft', { group: [] }, 'config.group: expected a list of 1..99 items'],
    ['raft', { group: ['9r'] }, 'config.group[0]: expected a node id'],
    ['raft', { appendEntriesMax: 0.5 }, 'config.appendEntriesMax: expected a whole number within 1..100000'],
    ['raft', { heartbeat: 50 }, 'config.heartbeat: unknown field (known: group, name, electionMinMs'],
    ['raft-client', {}, 'config.group: expected a list of 1..99 items'],
    ['raft-client', { group: ['r1'], readMode: 'linearizable' }, 'config.readMode: expected "strong" | "eventual"'],
    ['raft-client', { group: ['r1'], timeoutMs: 0 }, 'config.timeoutMs: expected a number above 0'],
    ['raft-client', { group: ['r1'], keys: 0 }, 'config.keys: expected a whole number within 1..1000000'],
    ['raft-client', { group: ['r1'], writeEvery: 10 }, 'config.writeEvery: unknown field (known: group, writeEveryMs'],
  ];
  it.each(bad)('refuse a bad %s config, naming the field: %j', (kind, config, message) => {
    expect(raftConfigProblem(kind, config)).toContain(message);
  });
});

function scenarioWith(patch: (s: ScenarioInput) => void): ScenarioInput {
  const s: ScenarioInput = {
    id: 'cfg', title: 'cfg', summary: '', tags: [], difficulty: 'intro', minutes: 1, goals: [], seed: 'cfg', duration: '1s',
    topology: raftTopology(3), faults: [], narration: [], expect: [], metrics: [],
  };
  patch(s);
  return s;
}

describe('Raft config errors at the edges', () => {
  it('a scenario with a bad replica config does not compile; the error names the node’s place, the field and the node', () => {
    const s = scenarioWith((x) => void (x.topology.nodes[1].config = { checkQuorum: 1 }));
    expect(() => new Lab().load(s)).toThrow('invalid scenario: topology.nodes[1].config.checkQuorum: expected true or false (node r2, raft)');
  });

  it('a bad default in topology.config is reported on the first node of that kind', () => {
    const s = scenarioWith((x) => void (x.topology.config = { ...x.topology.config, 'raft-client': { group: ['r1'], readMode: 'fast' } }));
    expect(() => new Lab().load(s)).toThrow(/topology\.nodes\[3\]\.config\.readMode: expected "strong" \| "eventual" \(node c1, raft-client\)/);
  });

  it('settings that break a kind’s config are refused by name, and the current run stays', () => {
    const lab = new Lab();
    lab.load('raft-cold-start');
    expect(() => lab.load('raft-cold-start', { settings: { config: { raft: { heartbeatMs: 0 } } } })).toThrow(/config\.heartbeatMs: expected a number above 0 and at most 600000 \(node r1, raft\)/);
    expect(lab.snapshot().scenario.id).toBe('raft-cold-start');
  });

  const ctx = (id: string): NodeContext => {
    const rng = new RngStreams('cfg');
    return {
      id, now: 0, peers: ['r2', 'r3'], knows: () => true, rng: (n) => rng.stream(n), send: () => {}, persist: () => {}, setTimer: () => {}, cancelTimer: () => {},
      state: () => {}, note: () => {}, count: () => {}, observe: () => {}, bug: () => false,
    };
  };
  it.each([
    ['raft', () => raftReplica.boot({ snapshotChunkBytes: 1 } as never, {}, ctx('r9')), 'raft r9: config.snapshotChunkBytes: expected a whole number within 256..8388608'],
    ['raft-client', () => raftClient.boot({ group: ['r1'], outstandingMax: -2 } as never, {}, ctx('c9')), 'raft-client c9: config.outstandingMax: expected a whole number within 1..1000000'],
  ])('a %s built with a bad config refuses to boot, naming the node and the field', (_kind, boot, message) => {
    expect(boot).toThrow(message);
  });
});
