import { fail } from '../kernel/assert.ts';
import type { Entry } from './types.ts';

/**
 * Pure helpers over a Raft log held as an array whose first element is its base: `log[0]` stands for the entry at
 * index `log[0].index` — the last entry compacted away into a snapshot (§7), or the sentinel (index 0, term 0) of a log
 * never compacted — and `log[k]` is the entry at index `log[0].index + k`. Only the base's index and term are ever
 * read, so `prevLogIndex = base` needs no special case, and a log compacted up to index C answers for C + 1 onwards.
 */
export const SENTINEL: Entry = Object.freeze({ index: 0, term: 0, kind: 'noop', at: 0 }) as Entry;

/** The base of a log compacted up to `index`, whose entry there had `term`. */
export function baseEntry(index: number, term: number): Entry {
  if (!(Number.isInteger(index) && index >= 0 && Number.isInteger(term) && term >= 0)) fail(`a log base needs index, term >= 0, got ${index}/${term}`);
  return index === 0 ? SENTINEL : (Object.freeze({ index, term, kind: 'noop', at: 0 }) as Entry);
}

/** The index of the base: entries at or below it are compacted (0 for a log never compacted). */
export function firstIndex(log: readonly Entry[]): number {
  return log[0].index;
}

export function lastIndex(log: readonly Entry[]): number {
  return log[0].index + log.length - 1;
}

export function lastTerm(log: readonly Entry[]): number {
  return log[log.length - 1].term;
}

/** The entry at `index`, which must lie in (base, last]. */
export function entryAt(log: readonly Entry[], index: number): Entry {
  const k = index - log[0].index;
  if (!(k >= 1 && k < log.length)) fail(`log entry ${index} is outside ${log[0].index + 1}..${log[0].index + log.length - 1}`);
  return log[k];
}

/** The term at `index`: known for the base and the entries after it, undefined below the base and past the end. */
export function termAt(log: readonly Entry[], index: number): number | undefined {
  const k = index - log[0].index;
  return k >= 0 && k < log.length ? log[k].term : undefined;
}

/** §5.4.1: a candidate's log is at least as up to date as ours if its last term is higher, or equal with an index ≥ ours. */
export function isUpToDate(log: readonly Entry[], candLastIndex: number, candLastTerm: number): boolean {
  const t = lastTerm(log);
  return candLastTerm > t || (candLastTerm === t && candLastIndex >= lastIndex(log));
}

/** Entries from `from` (above the base) to at most `max` of them, for one AppendEntries. */
export function slice(log: readonly Entry[], from: number, max: number): Entry[] {
  const base = log[0].index;
  if (!(from > base)) fail(`entries start above the log's base ${base}, asked for ${from}`);
  return log.slice(from - base, Math.min(log.length, from - base + max));
}

/**
 * §5.3 optimisation: on a term mismatch at `index`, the first index of the conflicting term, so the leader can skip the
 * whole term in one round trip. Never goes below `floor` + 1 (entries at or below the commit index are known to match),
 * nor below the base + 1.
 */
export function firstIndexOfTerm(log: readonly Entry[], index: number, floor: number): number {
  const base = log[0].index;
  const low = Math.max(floor, base);
  const term = log[index - base].term;
  let i = index;
  while (i - 1 > low && log[i - 1 - base].term === term) i--;
  return i;
}

export function sameEntry(a: Entry, b: Entry): boolean {
  return a.index === b.index && a.term === b.term && a.kind === b.kind && a.id === b.id && a.key === b.key && a.value === b.value;
}

/**
 * A client session and sequence number from a command id (the Raft dissertation §6.3): the trailing decimal digits are
 * the sequence, the rest names the session — `c1-17` is session `c1-`, sequence 17; `P3:orders-0:42` is session
 * `P3:orders-0:`, sequence 42. An id without trailing digits is a session of its own with sequence 0.
 */
export function splitSession(id: string): [string, number] {
  let i = id.length;
  while (i > 0) {
    const c = id.charCodeAt(i - 1);
    if (c < 48 || c > 57) break;
    i--;
  }
  if (i === id.length || id.length - i > 15) return [id, 0];
  return [id.slice(0, i), Number(id.slice(i))];
}
