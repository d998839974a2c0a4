import type { ScenarioInput } from './schema.ts';

/**
 * Shared shape of the Raft scenarios: `n` replicas r1..rn in one group and one client c1 that writes every 10 ms.
 * Built by code only to avoid repeating the same lines; what it returns is plain scenario data.
 */
export function raftTopology(
  n: number,
  opts: { raft?: Record<string, unknown>; client?: Record<string, unknown>; link?: ScenarioInput['topology']['link'] } = {},
): ScenarioInput['topology'] {
  const group = Array.from({ length: n }, (_, i) => `r${i + 1}`);
  return {
    nodes: [...group.map((id) => ({ id, kind: 'raft' })), { id: 'c1', kind: 'raft-client' }],
    config: {
      raft: { group, ...opts.raft },
      'raft-client': { group, writeEveryMs: 10, ...opts.client },
    },
    link: opts.link ?? { latencyMs: 2, jitterMs: 1 },
  };
}

export const LEADER_ELECTED = { kind: 'node.state', key: 'role', value: 'leader' } as const;
export const CANDIDATE = { kind: 'node.state', key: 'role', value: 'candidate' } as const;

/** Progress for a Raft group under random faults: once healed, client writes commit again. */
export const RAFT_LIVENESS = {
  match: { kind: 'node.note', name: 'write-acked' },
  within: '2s',
  text: 'once every fault is healed, a client write commits within 2 s',
} as const;
