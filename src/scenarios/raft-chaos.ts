import { RAFT_LIVENESS, raftTopology } from './raft-common.ts';
import type { ScenarioInput } from './schema.ts';

/**
 * The Raft group that sweeps hammer: three replicas with short, tight election timeouts, small AppendEntries batches
 * and a busy client, so random faults produce many elections, partial replication and logs that diverge — the
 * ground on which each teaching bug breaks a safety property. Without a bug it must survive every seed.
 */
export const raftChaos: ScenarioInput = {
  id: 'raft-chaos',
  title: 'Raft under chaos: many elections, partial replication (for sweeps)',
  summary:
    'Three replicas with 60–90 ms election timeouts, heartbeats every 20 ms and at most 2 entries per AppendEntries, ' +
    'and a client writing every 5 ms. On its own it is quiet; run it with `sim sweep raft-chaos --seeds 1..1000 ' +
    '--faults random` and add `--bug NAME` to watch a checker catch a missing rule.',
  tags: ['raft', 'faults', 'sweep'],
  difficulty: 'deep',
  minutes: 5,
  goals: [
    'Run it under random faults: crashes, power cuts, pauses, partitions, lossy links — no safety property may break.',
    'Switch on a teaching bug and find a seed where it breaks one; open that seed and step through how.',
  ],
  seed: 'raft-chaos',
  duration: '5s',
  topology: raftTopology(3, {
    // A snapshot every 16 applied entries, 4 kept before it: sweeps exercise log compaction and InstallSnapshot (§7).
    raft: { electionMinMs: 60, electionMaxMs: 90, heartbeatMs: 20, appendEntriesMax: 2, snapshotEntries: 16, snapshotKeepEntries: 4 },
    client: { writeEveryMs: 5, timeoutMs: 100 },
  }),
  faults: [],
  narration: [
    { at: '0', text: 'Three replicas and a busy client. Add random faults from the CLI, or inject them here, and watch the invariants.' },
    {
      onEvent: { kind: 'node.state', key: 'role', value: 'leader' },
      text: 'A leader is elected within a couple of 60–90 ms timeouts. Now inject a crash or a partition and watch the checkers stay green.',
      term: { name: 'Invariant checker', meaning: 'Code outside the nodes that checks a safety property after every event.' },
    },
  ],
  expect: [
    { check: 'no-violations', text: 'No Raft safety property is violated.' },
    { check: 'metric', metric: 'writesAcked', min: 500, text: 'The client’s writes commit.' },
  ],
  metrics: ['elections', 'terms', 'leaderChanges', 'writesAcked', 'commitLatencyMs', 'failoverMs'],
  liveness: RAFT_LIVENESS,
};
