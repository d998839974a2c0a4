import { fail } from '../kernel/assert.ts';
import type { Entry } from './types.ts';

/**
 * Pure helpers over a Raft log held as an array where `log[i]` is the entry at index i and `log[0]` is a sentinel
 * (index 0, term 0), so `prevLogIndex = 0` needs no special case.
 */
export const SENTINEL: Entry = Object.freeze({ index: 0, term: 0, kind: 'noop', at: 0 }) as Entry;

export function lastIndex(log: readonly Entry[]): number {
  return log.length - 1;
}

export function lastTerm(log: readonly Entry[]): number {
  return log[log.length - 1].term;
}

export function termAt(log: readonly Entry[], index: number): number | undefined {
  return index >= 0 && index < log.length ? log[index].term : undefined;
}

/** §5.4.1: a candidate's log is at least as up to date as ours if its last term is higher, or equal with an index ≥ ours. */
export function isUpToDate(log: readonly Entry[], candLastIndex: number, candLastTerm: number): boolean {
  const t = lastTerm(log);
  return candLastTerm > t || (candLastTerm === t && candLastIndex >= lastIndex(log));
}

/** Entries from `from` to at most `max` of them, for one AppendEntries. */
export function slice(log: readonly Entry[], from: number, max: number): Entry[] {
  if (!(from >= 1)) fail(`entries start at index 1, asked for ${from}`);
  return log.slice(from, Math.min(log.length, from + max));
}

/**
 * §5.3 optimisation: on a term mismatch at `index`, the first index of the conflicting term, so the leader can skip the
 * whole term in one round trip. Never goes below `floor` + 1 (entries at or below the commit index are known to match).
 */
export function firstIndexOfTerm(log: readonly Entry[], index: number, floor: number): number {
  const term = log[index].term;
  let i = index;
  while (i - 1 > floor && log[i - 1].term === term) i--;
  return i;
}

export function sameEntry(a: Entry, b: Entry): boolean {
  return a.index === b.index && a.term === b.term && a.kind === b.kind && a.id === b.id && a.key === b.key && a.value === b.value;
}
