import { fail } from '../kernel/assert.ts';

/**
 * A table keyed by message id, as plain data: open addressing with linear probing over two arrays, the keys and the
 * values, with a power-of-two capacity. It replaces `Record<string, T>` on the broker's hot paths: V8 keeps an object
 * used as a dictionary, with ids added and deleted ten thousand times a second, in a slow hash-table mode where each
 * access costs three to four times a probe here (and every id gets interned in the engine's string table). Being two
 * arrays and a count, a table survives JSON, `structuredClone` and the checkpoint cloner, and keeps working.
 *
 * A delete shifts the rest of its probe run back into the hole (Knuth's algorithm R), so there are no tombstones and
 * no rebuilds to clear them: the table doubles when half full and, above 4,096 slots, halves when less than an eighth
 * full, so its size stays within a constant factor of its live ids (or small) without growing and shrinking in turn —
 * a broker's tables fill and drain twenty times a second, and rebuilding them from 16 slots each time would cost more
 * than every lookup. The hash is FNV-1a over the
 * id's UTF-16 code units; iteration is in slot order — the same in every run given the same operations, though not
 * the order of insertion.
 */
export interface IdTable<T> {
  keys: (string | null)[];
  vals: (T | null)[];
  size: number;
}

const CAPACITY_MIN = 16;
/** A table never shrinks below this many slots (two arrays of 4,096: 64 KB at most, idle). */
const SHRINK_FLOOR = 4096;
/** A bound on any one table (2^24 slots): a run holding more ids than this in one place is a bug. */
export const ID_TABLE_CAPACITY_MAX = 1 << 24;

export function idTableCreate<T>(): IdTable<T> {
  return { keys: new Array<string | null>(CAPACITY_MIN).fill(null), vals: new Array<T | null>(CAPACITY_MIN).fill(null), size: 0 };
}

function hashOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h ^ (h >>> 15);
}

/** The slot holding `id`, or -1. */
function slotOf<T>(t: IdTable<T>, id: string): number {
  const keys = t.keys;
  const mask = keys.length - 1;
  let i = hashOf(id) & mask;
  for (;;) {
    const k = keys[i];
    if (k === null) return -1;
    if (k === id) return i;
    i = (i + 1) & mask;
  }
}

export function idGet<T>(t: IdTable<T>, id: string): T | undefined {
  const i = slotOf(t, id);
  return i < 0 ? undefined : (t.vals[i] as T);
}

export function idHas<T>(t: IdTable<T>, id: string): boolean {
  return slotOf(t, id) >= 0;
}

/** Sets `id` to `v` (adding it, or replacing its value). */
export function idSet<T>(t: IdTable<T>, id: string, v: T): void {
  if (typeof id !== 'string') fail(`id table: keys are strings, got ${String(id)}`);
  if ((t.size + 1) * 2 > t.keys.length) rebuild(t, t.keys.length * 2);
  const keys = t.keys;
  const mask = keys.length - 1;
  let i = hashOf(id) & mask;
  for (;;) {
    const k = keys[i];
    if (k === null) break;
    if (k === id) {
      t.vals[i] = v;
      return;
    }
    i = (i + 1) & mask;
  }
  keys[i] = id;
  t.vals[i] = v;
  t.size++;
}

/** Removes `id` and returns its value, or undefined when it was not there. */
export function idDelete<T>(t: IdTable<T>, id: string): T | undefined {
  let i = slotOf(t, id);
  if (i < 0) return undefined;
  const keys = t.keys;
  const vals = t.vals;
  const v = vals[i] as T;
  const mask = keys.length - 1;
  keys[i] = null;
  vals[i] = null;
  t.size--;
  // Close the hole: an entry further along the run moves into it unless its home slot lies cyclically in (hole, j].
  for (let j = (i + 1) & mask; keys[j] !== null; j = (j + 1) & mask) {
    const home = hashOf(keys[j]!) & mask;
    const stays = i <= j ? i < home && home <= j : i < home || home <= j;
    if (stays) continue;
    keys[i] = keys[j];
    vals[i] = vals[j];
    keys[j] = null;
    vals[j] = null;
    i = j;
  }
  if (t.size * 8 < keys.length && keys.length > SHRINK_FLOOR) rebuild(t, keys.length / 2);
  return v;
}

export function idSize<T>(t: IdTable<T>): number {
  return t.size;
}

/** Calls `fn` for every id and value, in slot order. `fn` must not change the table. */
export function idForEach<T>(t: IdTable<T>, fn: (id: string, v: T) => void): void {
  const keys = t.keys;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k !== null) fn(k, t.vals[i] as T);
  }
  if (keys !== t.keys) fail('id table changed while being walked');
}

export function idKeys<T>(t: IdTable<T>): string[] {
  const out: string[] = [];
  idForEach(t, (k) => out.push(k));
  return out;
}

function rebuild<T>(t: IdTable<T>, capacity: number): void {
  if (!(capacity >= CAPACITY_MIN && capacity <= ID_TABLE_CAPACITY_MAX && (capacity & (capacity - 1)) === 0)) fail(`id table: capacity ${capacity} outside ${CAPACITY_MIN}..${ID_TABLE_CAPACITY_MAX} or not a power of two`);
  const keys = t.keys;
  const vals = t.vals;
  t.keys = new Array<string | null>(capacity).fill(null);
  t.vals = new Array<T | null>(capacity).fill(null);
  const mask = capacity - 1;
  let n = 0;
  for (let j = 0; j < keys.length; j++) {
    const k = keys[j];
    if (k === null) continue;
    let i = hashOf(k) & mask;
    while (t.keys[i] !== null) i = (i + 1) & mask;
    t.keys[i] = k;
    t.vals[i] = vals[j];
    n++;
  }
  if (n !== t.size) fail(`id table rebuilt ${n} ids but counted ${t.size}`);
}
