/**
 * Deep copy for checkpoints that shares frozen objects instead of copying them. Raft log entries (and anything else a
 * node freezes) are immutable, so a checkpoint of a world whose replicas, disks, in-flight messages and checkers all
 * hold the same ten thousand entries costs ten thousand pointers rather than fifty thousand copies.
 * Handles plain objects, arrays and primitives only — world state is plain data by contract (asserted in tests).
 */
export function cloneShared<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = cloneShared(value[i]);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const k in value) out[k] = cloneShared((value as Record<string, unknown>)[k]);
  return out as T;
}
