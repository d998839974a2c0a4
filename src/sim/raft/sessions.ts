import { fail } from '../kernel/assert.ts';
import { splitSession } from './log.ts';
import type { Session } from './types.ts';

/**
 * Client sessions, the Raft dissertation's §6.3: the dedupe table that lets a group answer a retried command without
 * applying it twice, once the entry that first carried it has been compacted into a snapshot. A command id is a
 * session and a sequence number (`splitSession`); the table remembers, per session, the sequence numbers it has seen
 * with their log indexes. Clients send a low-water mark with each command — every lower sequence number of theirs has
 * its answer — so the table forgets what can no longer be retried, and its size follows the clients' windows of
 * outstanding commands, not the length of the log (a client that sends no mark — a test script, a non-idempotent
 * producer's one-off retry ids — keeps its ids for good, as before compaction). Pure functions over plain data.
 */
export type SessionTable = Record<string, Session>;

/** What the table knows of command `id`: its log index, `'stale'` (below the session's low-water mark), or nothing. */
export function sessionLookup(table: SessionTable, id: string): number | 'stale' | undefined {
  const [name, seq] = splitSession(id);
  const s = table[name];
  if (s === undefined) return undefined;
  if (seq < s.low) return 'stale';
  return s.seqs[seq];
}

/** Records that command `id` sits at log index `index` (a sequence number below the low-water mark is not kept). */
export function sessionAdd(table: SessionTable, id: string, index: number): void {
  if (!(Number.isInteger(index) && index >= 1)) fail(`session entry ${id} needs a log index >= 1, got ${index}`);
  const [name, seq] = splitSession(id);
  const s = (table[name] ??= { low: 0, seqs: {} });
  if (seq < s.low) return;
  s.seqs[seq] = index;
}

/** Raises the session's low-water mark to `low` (never lowers it) and forgets the sequence numbers below it. */
export function sessionLearnLow(table: SessionTable, id: string, low: number): void {
  if (!(Number.isSafeInteger(low) && low >= 0)) fail(`session low-water mark of ${id} must be a non-negative integer, got ${low}`);
  const [name] = splitSession(id);
  const s = (table[name] ??= { low: 0, seqs: {} });
  if (low <= s.low) return;
  s.low = low;
  // Integer-like keys iterate in ascending order: the forgotten ones are a prefix.
  for (const k in s.seqs) {
    if (Number(k) >= low) break;
    delete s.seqs[k as unknown as number];
  }
}

/** Sequence numbers held over all sessions (for sizes and limits). */
export function sessionsHeld(table: Readonly<Record<string, Readonly<Session>>>): number {
  let n = 0;
  for (const name in table) for (const _ in table[name].seqs) n++;
  return n;
}

/** A mutable deep copy (restoring a frozen snapshot's table into a replica). */
export function sessionsCopy(table: Readonly<Record<string, Readonly<Session>>>): SessionTable {
  const out: SessionTable = {};
  for (const name in table) out[name] = { low: table[name].low, seqs: { ...table[name].seqs } };
  return out;
}

/** A deeply frozen copy, for a snapshot. */
export function sessionsFrozen(table: Readonly<Record<string, Readonly<Session>>>): Readonly<Record<string, Readonly<Session>>> {
  const out: Record<string, Session> = {};
  for (const name in table) out[name] = Object.freeze({ low: table[name].low, seqs: Object.freeze({ ...table[name].seqs }) });
  return Object.freeze(out);
}

/** Bytes the table takes in a snapshot: each session's name and mark, 12 per remembered sequence number. */
export function sessionsBytes(table: Readonly<Record<string, Readonly<Session>>>): number {
  let n = 0;
  for (const name in table) n += name.length + 8;
  return n + 12 * sessionsHeld(table);
}
