import { fail } from '../kernel/assert.ts';
import type { Micros } from '../kernel/time.ts';
import { idDelete, idForEach, idGet, idHas, idSet, idSize, idTableCreate, type IdTable } from './idtable.ts';

/**
 * The broker's index per topic: priority lanes of ready messages, FIFO by log offset within a lane, and a min-heap of
 * in-flight messages ordered by redelivery deadline (the visibility timeout). Both hold ids and ordering keys only; the
 * broker keeps message bodies elsewhere, keyed by id.
 *
 * Everything here is plain data — arrays, numbers, strings and id tables (idtable.ts) — so a whole broker memory is
 * `structuredClone`d into a checkpoint and the clone keeps working. Every order is total: ready entries by
 * `(lane, offset, id)`, in-flight records by `(deadline, id)`, ids compared as strings, so two runs of one seed pop in
 * the same order however their pushes interleaved. Every operation is O(1) amortised or O(log n); the few that are not
 * (`readyCheck`, `inflightCheck`) are for checkers and tests and say so.
 *
 * Ids are record keys, so the one string a plain object cannot hold as a key, `__proto__`, is refused.
 */

/** Most priority lanes a ready index may have. It is also the radix of a ticket (see `ReadyIndex.where`). */
export const READY_LANES_MAX = 16;
/** How many queued messages one `readyPop` offers to its `accept` filter, by default, before giving up. */
export const READY_SCAN_MAX = 64;
/** A lane's FIFO array is shifted down once its consumed prefix is at least this long and at least half the array. */
const FIFO_COMPACT_MIN = 1024;
/** A lane is rebuilt without its tombstones once they are at least this many and outnumber its live entries. */
const TOMBSTONE_PURGE_MIN = 64;

// ---------------------------------------------------------------------------------------------------------------------
// Ready index
// ---------------------------------------------------------------------------------------------------------------------

/** A message waiting for delivery. `lane` 0 is the highest priority; `offset` is the message's log index. */
export interface ReadyItem {
  id: string;
  offset: number;
  lane: number;
}

/**
 * A queued entry as the index stores it. `ticket` names this one push of `id`: the entry is live while
 * `where[id] === ticket`, and a tombstone once the id was removed (or removed and pushed again, with a new ticket).
 */
export interface ReadyEntry {
  id: string;
  offset: number;
  ticket: number;
}

/**
 * One priority lane, in two halves that together hold its entries in `(offset, id)` order:
 * - `fifo[head..]` is sorted strictly ascending. A push whose key is above the tail's is appended (the normal case:
 *   new messages arrive in log order), and popping is `head++`, so the steady state is O(1) per message.
 * - `returned` is a binary min-heap by `(offset, id)` for pushes that would break the FIFO's order — a redelivered
 *   message re-queued at its original offset, which belongs at or near the front. It is usually small.
 * The lane's next entry is the smaller of `fifo[head]` and `returned[0]`.
 *
 * `live` counts live entries; `dead` counts tombstones still stored in either half (`fifo[..head)` is consumed space and
 * counts as neither). Tombstones leave from the front as pops reach them, and the whole lane is rebuilt once they
 * outnumber the live entries, so memory stays within a constant factor of `live`.
 */
export interface ReadyLane {
  fifo: ReadyEntry[];
  head: number;
  returned: ReadyEntry[];
  live: number;
  dead: number;
}

/**
 * Ready messages in priority lanes. `where[id]` is the ticket of the id's live entry, `seq * READY_LANES_MAX + lane`:
 * the sequence number makes each push distinct (so a stale tombstone of a re-pushed id never looks live), and the lane
 * in the low digits lets `readyRemove` find the lane to charge without searching. `size` is the exact number of live
 * entries, the sum of the lanes' `live`.
 */
export interface ReadyIndex {
  lanes: ReadyLane[];
  where: IdTable<number>;
  size: number;
  nextSeq: number;
}

export function readyCreate(lanes: number): ReadyIndex {
  if (!(Number.isInteger(lanes) && lanes >= 1 && lanes <= READY_LANES_MAX)) fail(`ready index needs 1..${READY_LANES_MAX} lanes, got ${lanes}`);
  const all: ReadyLane[] = [];
  for (let i = 0; i < lanes; i++) all.push({ fifo: [], head: 0, returned: [], live: 0, dead: 0 });
  return { lanes: all, where: idTableCreate<number>(), size: 0, nextSeq: 0 };
}

/** The order within a lane: offset, then id. Ids are unique among live entries, so this is total. */
function entryBefore(a: ReadyEntry, b: ReadyEntry): boolean {
  return a.offset < b.offset || (a.offset === b.offset && a.id < b.id);
}

function isLive(ix: ReadyIndex, e: ReadyEntry): boolean {
  return idGet(ix.where, e.id) === e.ticket;
}

function checkId(id: string, what: string): void {
  if (!(typeof id === 'string' && id !== '__proto__')) fail(`${what}: id must be a string other than __proto__, got ${String(id)}`);
}

/**
 * Queues `item`. A message re-queued after a failed delivery keeps its original offset and goes back to its place in
 * offset order, ahead of later messages of its lane. Pushing an id that is already queued is a bug in the caller.
 */
export function readyPush(ix: ReadyIndex, item: ReadyItem): void {
  const { id, offset, lane } = item;
  checkId(id, 'readyPush');
  if (!(Number.isSafeInteger(offset) && offset >= 0)) fail(`readyPush ${id}: offset must be a non-negative integer, got ${offset}`);
  if (!(Number.isInteger(lane) && lane >= 0 && lane < ix.lanes.length)) fail(`readyPush ${id}: lane ${lane} outside 0..${ix.lanes.length - 1}`);
  if (idHas(ix.where, id)) fail(`readyPush: message ${id} is already queued`);
  const ticket = ix.nextSeq++ * READY_LANES_MAX + lane;
  if (!Number.isSafeInteger(ticket)) fail(`readyPush: ticket sequence exhausted at ${ix.nextSeq}`);
  const entry: ReadyEntry = { id, offset, ticket };
  const l = ix.lanes[lane];
  const fifo = l.fifo;
  if (l.head === fifo.length) {
    fifo.length = 0;
    l.head = 0;
  }
  if (fifo.length === 0 || entryBefore(fifo[fifo.length - 1], entry)) fifo.push(entry);
  else returnedPush(l.returned, entry);
  idSet(ix.where, id, ticket);
  l.live++;
  ix.size++;
}

/**
 * Takes the first queued message in delivery order — the highest-priority non-empty lane, smallest offset first —
 * whose id `accept` takes, or null. Messages `accept` turns down stay queued in their places. At most `scanMax`
 * messages are offered to `accept` per call, over all lanes together, so a filter that turns down a long run costs a
 * bounded amount; the broker tries again on a later tick. Without `accept` the first message is taken. `accept` must
 * neither throw nor touch this index.
 */
export function readyPop(ix: ReadyIndex, accept?: (id: string) => boolean, scanMax: number = READY_SCAN_MAX): ReadyItem | null {
  if (!(Number.isInteger(scanMax) && scanMax >= 1)) fail(`readyPop: scanMax must be a positive integer, got ${scanMax}`);
  let budget = scanMax;
  for (let lane = 0; lane < ix.lanes.length && budget > 0; lane++) {
    const l = ix.lanes[lane];
    if (l.live === 0) continue;
    let entry: ReadyEntry | null;
    if (accept === undefined) {
      const from = laneFront(ix, l);
      if (from === null) fail(`readyPop: lane ${lane} counts ${l.live} live entries but holds none`);
      entry = laneTake(l, from);
    } else {
      entry = laneScan(ix, l, accept, budget);
      // A scan that finds nothing offered every live entry of the lane, or used up the budget first.
      if (entry === null) budget -= Math.min(budget, l.live);
    }
    if (entry !== null) {
      if (!isLive(ix, entry)) fail(`readyPop: took tombstone ${entry.id} from lane ${lane}`);
      idDelete(ix.where, entry.id);
      l.live--;
      ix.size--;
      laneCompact(ix, l);
      return { id: entry.id, offset: entry.offset, lane };
    }
    laneCompact(ix, l);
  }
  return null;
}

/**
 * Drops tombstones from the front of both halves of `l`, then says which half holds its smallest live entry, or null
 * when the lane has none.
 */
function laneFront(ix: ReadyIndex, l: ReadyLane): 'fifo' | 'returned' | null {
  const fifo = l.fifo;
  const returned = l.returned;
  while (l.head < fifo.length && !isLive(ix, fifo[l.head])) {
    l.head++;
    l.dead--;
  }
  while (returned.length > 0 && !isLive(ix, returned[0])) {
    returnedPop(returned);
    l.dead--;
  }
  if (!(l.dead >= 0)) fail(`ready lane dropped more tombstones than it counted (${l.dead})`);
  const inFifo = l.head < fifo.length;
  if (returned.length === 0) return inFifo ? 'fifo' : null;
  return inFifo && !entryBefore(returned[0], fifo[l.head]) ? 'fifo' : 'returned';
}

function laneTake(l: ReadyLane, from: 'fifo' | 'returned'): ReadyEntry {
  return from === 'fifo' ? l.fifo[l.head++] : returnedPop(l.returned);
}

/**
 * Offers the lane's live entries to `accept` in order, at most `budget` of them, and takes the first accepted. Entries
 * turned down are taken out while the scan moves past them and put back after: those from the FIFO into the slots just
 * before `head` (every entry taken from the FIFO freed one, so there is room, and they are smaller than everything
 * left, so the FIFO stays sorted), those from the heap by pushing them again. The accepted entry is thus removed from
 * the front for real — no tombstone — and the cost is O(budget · log n) whatever the filter does.
 */
function laneScan(ix: ReadyIndex, l: ReadyLane, accept: (id: string) => boolean, budget: number): ReadyEntry | null {
  const heldFifo: ReadyEntry[] = [];
  const heldReturned: ReadyEntry[] = [];
  let found: ReadyEntry | null = null;
  try {
    for (let offered = 0; offered < budget; offered++) {
      const from = laneFront(ix, l);
      if (from === null) break;
      const e = laneTake(l, from);
      const held = from === 'fifo' ? heldFifo : heldReturned;
      held.push(e);
      if (accept(e.id)) {
        held.pop();
        found = e;
        break;
      }
    }
  } finally {
    for (let i = heldFifo.length - 1; i >= 0; i--) l.fifo[--l.head] = heldFifo[i];
    for (const e of heldReturned) returnedPush(l.returned, e);
  }
  if (!(l.head >= 0)) fail(`ready lane put back more FIFO entries than it took (head ${l.head})`);
  return found;
}

/**
 * Keeps a lane's memory proportional to its live entries: rebuilds it once tombstones outnumber live entries, empties
 * a fully consumed FIFO, and shifts the FIFO down once its consumed prefix is long. Each is paid for by the pops or
 * removals that made the garbage, so it is O(1) amortised.
 */
function laneCompact(ix: ReadyIndex, l: ReadyLane): void {
  if (l.dead >= TOMBSTONE_PURGE_MIN && l.dead > l.live) laneRebuild(ix, l);
  const fifo = l.fifo;
  if (l.head === fifo.length) {
    fifo.length = 0;
    l.head = 0;
  } else if (l.head >= FIFO_COMPACT_MIN && l.head * 2 >= fifo.length) {
    fifo.copyWithin(0, l.head);
    fifo.length -= l.head;
    l.head = 0;
  }
}

/** Filters both halves of a lane down to live entries in place; filtering keeps the FIFO sorted, the heap is re-made. */
function laneRebuild(ix: ReadyIndex, l: ReadyLane): void {
  const fifo = l.fifo;
  let n = 0;
  for (let i = l.head; i < fifo.length; i++) if (isLive(ix, fifo[i])) fifo[n++] = fifo[i];
  fifo.length = n;
  l.head = 0;
  const returned = l.returned;
  let m = 0;
  for (let i = 0; i < returned.length; i++) if (isLive(ix, returned[i])) returned[m++] = returned[i];
  returned.length = m;
  for (let i = (m >> 1) - 1; i >= 0; i--) returnedSiftDown(returned, i, returned[i]);
  if (n + m !== l.live) fail(`ready lane rebuilt to ${n + m} live entries but counted ${l.live}`);
  l.dead = 0;
}

function returnedPush(a: ReadyEntry[], e: ReadyEntry): void {
  let i = a.length;
  a.push(e);
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!entryBefore(e, a[p])) break;
    a[i] = a[p];
    i = p;
  }
  a[i] = e;
}

function returnedPop(a: ReadyEntry[]): ReadyEntry {
  const top = a[0];
  const last = a.pop()!;
  if (a.length > 0) returnedSiftDown(a, 0, last);
  return top;
}

/** Places `e` at index `i` or below, moving smaller children up into the hole. */
function returnedSiftDown(a: ReadyEntry[], i: number, e: ReadyEntry): void {
  const n = a.length;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && entryBefore(a[c + 1], a[c])) c++;
    if (!entryBefore(a[c], e)) break;
    a[i] = a[c];
    i = c;
  }
  a[i] = e;
}

/**
 * Removes a queued message — it expired or was dead-lettered while waiting — and says whether it was queued. The entry
 * stays behind as a tombstone until a pop reaches it or the lane is rebuilt; `readySize` counts it out at once.
 */
export function readyRemove(ix: ReadyIndex, id: string): boolean {
  checkId(id, 'readyRemove');
  const ticket = idDelete(ix.where, id);
  if (ticket === undefined) return false;
  const l = ix.lanes[ticket % READY_LANES_MAX];
  l.live--;
  l.dead++;
  ix.size--;
  if (!(l.live >= 0 && ix.size >= 0)) fail(`readyRemove ${id}: counts went negative (lane ${l.live}, index ${ix.size})`);
  laneCompact(ix, l);
  return true;
}

export function readyHas(ix: ReadyIndex, id: string): boolean {
  return idHas(ix.where, id);
}

export function readySize(ix: ReadyIndex): number {
  return ix.size;
}

/** Live messages per lane, lane 0 first. */
export function readyLaneSizes(ix: ReadyIndex): number[] {
  return ix.lanes.map((l) => l.live);
}

/**
 * The queued message with the smallest `(offset, id)` over all lanes — the one that has waited longest in log terms —
 * for TTL expiry and consumer-lag age. Drops tombstones it finds at the lanes' fronts, which changes nothing visible.
 */
export function readyPeekOldest(ix: ReadyIndex): ReadyItem | null {
  let best: ReadyEntry | null = null;
  let bestLane = -1;
  for (let lane = 0; lane < ix.lanes.length; lane++) {
    const l = ix.lanes[lane];
    const from = laneFront(ix, l);
    if (from === null) continue;
    const e = from === 'fifo' ? l.fifo[l.head] : l.returned[0];
    if (best === null || entryBefore(e, best)) {
      best = e;
      bestLane = lane;
    }
  }
  return best === null ? null : { id: best.id, offset: best.offset, lane: bestLane };
}

/**
 * The ids of the first `limit` queued messages in pop order (as `readyPop` without a filter would take them), for a
 * bounded view. Does not mutate the index. Costs O(limit · log limit) plus the tombstones it steps over.
 */
export function readyIds(ix: ReadyIndex, limit: number): string[] {
  if (!(Number.isInteger(limit) && limit >= 0)) fail(`readyIds: limit must be a non-negative integer, got ${limit}`);
  const out: string[] = [];
  const live = (e: ReadyEntry): boolean => isLive(ix, e);
  for (const l of ix.lanes) {
    if (out.length >= limit) break;
    const back = heapSmallest(l.returned, entryBefore, live, limit - out.length);
    const fifo = l.fifo;
    let i = l.head;
    let j = 0;
    while (out.length < limit) {
      while (i < fifo.length && !live(fifo[i])) i++;
      const f = i < fifo.length ? fifo[i] : null;
      const r = j < back.length ? back[j] : null;
      if (r !== null && (f === null || entryBefore(r, f))) {
        out.push(r.id);
        j++;
      } else if (f !== null) {
        out.push(f.id);
        i++;
      } else break;
    }
  }
  return out;
}

/**
 * Checks every invariant of the index — sorted FIFOs, heap order, exact live and tombstone counts, one live entry per
 * id in the lane its ticket names. O(n): for checkers and tests, never for the hot path.
 */
export function readyCheck(ix: ReadyIndex): void {
  let total = 0;
  ix.lanes.forEach((l, lane) => {
    if (!(l.head >= 0 && l.head <= l.fifo.length)) fail(`ready lane ${lane}: head ${l.head} outside its FIFO of ${l.fifo.length}`);
    let live = 0;
    let stored = 0;
    const count = (e: ReadyEntry): void => {
      stored++;
      if (!isLive(ix, e)) return;
      live++;
      if (e.ticket % READY_LANES_MAX !== lane) fail(`ready entry ${e.id} sits in lane ${lane} but its ticket names another`);
    };
    for (let i = l.head; i < l.fifo.length; i++) {
      count(l.fifo[i]);
      if (i > l.head && !entryBefore(l.fifo[i - 1], l.fifo[i])) fail(`ready lane ${lane}: FIFO out of order at ${i}`);
    }
    for (let i = 0; i < l.returned.length; i++) {
      count(l.returned[i]);
      if (i > 0 && entryBefore(l.returned[i], l.returned[(i - 1) >> 1])) fail(`ready lane ${lane}: heap out of order at ${i}`);
    }
    if (live !== l.live || stored - live !== l.dead) fail(`ready lane ${lane}: holds ${live} live, ${stored - live} dead; counted ${l.live}, ${l.dead}`);
    total += live;
  });
  if (total !== ix.size) fail(`ready index: lanes hold ${total} live entries, size says ${ix.size}`);
  const keys = idSize(ix.where);
  if (keys !== ix.size) fail(`ready index: ${keys} ids located, ${ix.size} live`);
}

// ---------------------------------------------------------------------------------------------------------------------
// In-flight heap
// ---------------------------------------------------------------------------------------------------------------------

/**
 * A message delivered to `consumer` and not yet acked. At `deadline` (virtual µs) its visibility timeout runs out and
 * the broker redelivers it. `deliveries` counts deliveries so far, this one included (≥ 1), for the dead-letter limit.
 */
export interface InflightRecord {
  id: string;
  deadline: Micros;
  consumer: string;
  deliveries: number;
}

/**
 * In-flight messages, in `(deadline, id)` order: the id breaks ties between messages delivered in one microsecond, so
 * redeliveries happen in the same order in every run. Deliveries are added with deadlines that never go back (now plus
 * a fixed visibility timeout) and a broker adds one delivery's records in id order, so nearly every add extends a FIFO;
 * an add that would break its order goes to a min-heap instead (as in a ready lane). The records themselves live in
 * `recs`, by id; the FIFO and the heap hold entries `{id, deadline, ticket}`, live while `recs` holds the id with that
 * ticket — an ack deletes the record and leaves its entry behind as a tombstone, dropped when it reaches the front or
 * when tombstones outnumber live records. Nothing is shared between two places of the structure, so the checkpoint
 * cloner's copy (which copies each reference apart) keeps working, and every operation is O(1) amortised or O(log n).
 */
export interface InflightHeap {
  fifo: InflightEntry[];
  head: number;
  heap: InflightEntry[];
  recs: IdTable<TicketedRecord>;
  nextTicket: number;
  /** Tombstones stored in `fifo[head..]` and `heap`. */
  dead: number;
}

/** Where a record sits in the order: its id and deadline, and the ticket of the add that put it there. */
export interface InflightEntry {
  id: string;
  deadline: Micros;
  ticket: number;
}

interface TicketedRecord extends InflightRecord {
  ticket: number;
}

export function inflightCreate(): InflightHeap {
  return { fifo: [], head: 0, heap: [], recs: idTableCreate<TicketedRecord>(), nextTicket: 0, dead: 0 };
}

function recordBefore(a: { deadline: Micros; id: string }, b: { deadline: Micros; id: string }): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.id < b.id);
}

function liveEntry(h: InflightHeap, e: InflightEntry): boolean {
  return idGet(h.recs, e.id)?.ticket === e.ticket;
}

/** The caller's copy of a stored record. */
function plain(r: TicketedRecord): InflightRecord {
  return { id: r.id, deadline: r.deadline, consumer: r.consumer, deliveries: r.deliveries };
}

/** Tracks a delivery. The heap stores a copy, so the caller's object may change afterwards. An id already in flight is a bug. */
export function inflightAdd(h: InflightHeap, rec: InflightRecord): void {
  inflightTrack(h, rec.id, rec.deadline, rec.consumer, rec.deliveries);
}

/** `inflightAdd` with the record's fields as arguments (the broker's hot path: no record object to build). */
export function inflightTrack(h: InflightHeap, id: string, deadline: Micros, consumer: string, deliveries: number): void {
  checkId(id, 'inflightAdd');
  if (!(Number.isSafeInteger(deadline) && deadline >= 0)) fail(`inflightAdd ${id}: deadline must be a non-negative integer, got ${deadline}`);
  if (!(Number.isInteger(deliveries) && deliveries >= 1)) fail(`inflightAdd ${id}: deliveries must be a positive integer, got ${deliveries}`);
  if (typeof consumer !== 'string') fail(`inflightAdd ${id}: consumer must be a string`);
  if (idHas(h.recs, id)) fail(`inflightAdd: message ${id} is already in flight`);
  const ticket = h.nextTicket++;
  if (!Number.isSafeInteger(ticket)) fail(`inflightAdd: ticket sequence exhausted at ${ticket}`);
  const entry: InflightEntry = { id, deadline, ticket };
  const fifo = h.fifo;
  if (h.head === fifo.length) {
    fifo.length = 0;
    h.head = 0;
  }
  if (fifo.length === 0 || recordBefore(fifo[fifo.length - 1], entry)) fifo.push(entry);
  else entryPush(h.heap, entry);
  idSet(h.recs, id, { id, deadline, consumer, deliveries, ticket });
}

/** Stops tracking `id` (an ack, a nack, a consumer gone) and returns its record, or null if it was not in flight. */
export function inflightRemove(h: InflightHeap, id: string): InflightRecord | null {
  const r = drop(h, id);
  return r === undefined ? null : plain(r);
}

/** `inflightRemove` that returns only whom the message was out to, or null (the broker's hot path: no copy). */
export function inflightDrop(h: InflightHeap, id: string): string | null {
  return drop(h, id)?.consumer ?? null;
}

function drop(h: InflightHeap, id: string): TicketedRecord | undefined {
  checkId(id, 'inflightRemove');
  const r = idDelete(h.recs, id);
  if (r === undefined) return undefined;
  h.dead++;
  compact(h);
  return r;
}

/** The earliest live entry (dropping tombstones found at the fronts), or null. */
function front(h: InflightHeap): InflightEntry | null {
  const fifo = h.fifo;
  while (h.head < fifo.length && !liveEntry(h, fifo[h.head])) {
    h.head++;
    h.dead--;
  }
  while (h.heap.length > 0 && !liveEntry(h, h.heap[0])) {
    entryPop(h.heap);
    h.dead--;
  }
  if (!(h.dead >= 0)) fail(`in-flight: dropped more tombstones than it counted (${h.dead})`);
  const f = h.head < fifo.length ? fifo[h.head] : null;
  const r = h.heap.length > 0 ? h.heap[0] : null;
  return r !== null && (f === null || recordBefore(r, f)) ? r : f;
}

/** The record with the earliest deadline (a copy), or null. */
export function inflightPeek(h: InflightHeap): Readonly<InflightRecord> | null {
  const e = front(h);
  return e === null ? null : plain(idGet(h.recs, e.id)!);
}

/** The earliest deadline in flight, or null (no copy: the housekeeping tick asks on every arm). */
export function inflightNextDeadline(h: InflightHeap): Micros | null {
  return front(h)?.deadline ?? null;
}

/** Removes and returns the record with the earliest deadline if that deadline is at or before `now`, else null. */
export function inflightPopDue(h: InflightHeap, now: Micros): InflightRecord | null {
  if (!Number.isFinite(now)) fail(`inflightPopDue: now must be finite, got ${now}`);
  const e = front(h);
  if (e === null || e.deadline > now) return null;
  if (h.head < h.fifo.length && h.fifo[h.head] === e) h.head++;
  else entryPop(h.heap);
  const r = idDelete(h.recs, e.id)!;
  compact(h);
  return plain(r);
}

export function inflightHas(h: InflightHeap, id: string): boolean {
  return idHas(h.recs, id);
}

export function inflightSize(h: InflightHeap): number {
  return idSize(h.recs);
}

/** The ids of the first `limit` in-flight records in deadline order, for a bounded view; does not mutate the heap. */
export function inflightIds(h: InflightHeap, limit: number): string[] {
  if (!(Number.isInteger(limit) && limit >= 0)) fail(`inflightIds: limit must be a non-negative integer, got ${limit}`);
  const live = (e: InflightEntry): boolean => liveEntry(h, e);
  const back = heapSmallest(h.heap, recordBefore, live, limit);
  const out: string[] = [];
  let i = h.head;
  let j = 0;
  while (out.length < limit) {
    while (i < h.fifo.length && !live(h.fifo[i])) i++;
    const f = i < h.fifo.length ? h.fifo[i] : null;
    const r = j < back.length ? back[j] : null;
    if (r !== null && (f === null || recordBefore(r, f))) {
      out.push(r.id);
      j++;
    } else if (f !== null) {
      out.push(f.id);
      i++;
    } else break;
  }
  return out;
}

/** Every record in flight (copies), in no particular order: for a leader handing everything back. */
export function inflightAll(h: InflightHeap): InflightRecord[] {
  const out: InflightRecord[] = [];
  idForEach(h.recs, (_id, r) => void out.push(plain(r)));
  return out;
}

/** Empties the structure. */
export function inflightClear(h: InflightHeap): void {
  h.fifo = [];
  h.head = 0;
  h.heap = [];
  h.recs = idTableCreate<TicketedRecord>();
  h.dead = 0;
}

/** Checks order, liveness and counts, and that every record has exactly one live entry. O(n): for checkers and tests. */
export function inflightCheck(h: InflightHeap): void {
  if (!(h.head >= 0 && h.head <= h.fifo.length)) fail(`in-flight: head ${h.head} outside its FIFO of ${h.fifo.length}`);
  let live = 0;
  let stored = 0;
  const seen = new Set<string>();
  const count = (e: InflightEntry): void => {
    stored++;
    if (!liveEntry(h, e)) return;
    live++;
    if (seen.has(e.id)) fail(`in-flight ${e.id} has two live entries`);
    seen.add(e.id);
    const r = idGet(h.recs, e.id)!;
    if (r.deadline !== e.deadline) fail(`in-flight ${e.id}: entry deadline ${e.deadline}, record ${r.deadline}`);
  };
  for (let i = h.head; i < h.fifo.length; i++) {
    count(h.fifo[i]);
    if (i > h.head && !recordBefore(h.fifo[i - 1], h.fifo[i])) fail(`in-flight FIFO out of order at ${i}`);
  }
  for (let i = 0; i < h.heap.length; i++) {
    count(h.heap[i]);
    if (i > 0 && recordBefore(h.heap[i], h.heap[(i - 1) >> 1])) fail(`in-flight heap out of order at ${i}`);
  }
  if (live !== idSize(h.recs) || stored - live !== h.dead) fail(`in-flight holds ${live} live entries and ${stored - live} tombstones; counted ${idSize(h.recs)}, ${h.dead}`);
}

/**
 * Keeps memory proportional to the records in flight: rebuilds both halves without tombstones once they are at least
 * 64 and outnumber the live records, and shifts the FIFO's consumed prefix out once it is long. O(1) amortised.
 */
function compact(h: InflightHeap): void {
  const size = idSize(h.recs);
  if (h.dead >= 64 && h.dead > size) {
    const fifo = h.fifo;
    let n = 0;
    for (let i = h.head; i < fifo.length; i++) if (liveEntry(h, fifo[i])) fifo[n++] = fifo[i];
    fifo.length = n;
    h.head = 0;
    const heap = h.heap;
    let m = 0;
    for (let i = 0; i < heap.length; i++) if (liveEntry(h, heap[i])) heap[m++] = heap[i];
    heap.length = m;
    for (let i = (m >> 1) - 1; i >= 0; i--) entrySiftDown(heap, i, heap[i]);
    if (n + m !== size) fail(`in-flight rebuilt to ${n + m} live entries but holds ${size} records`);
    h.dead = 0;
  }
  if (h.head === h.fifo.length) {
    h.fifo.length = 0;
    h.head = 0;
  } else if (h.head >= FIFO_COMPACT_MIN && h.head * 2 >= h.fifo.length) {
    h.fifo.copyWithin(0, h.head);
    h.fifo.length -= h.head;
    h.head = 0;
  }
}

function entryPush(a: InflightEntry[], e: InflightEntry): void {
  let i = a.length;
  a.push(e);
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!recordBefore(e, a[p])) break;
    a[i] = a[p];
    i = p;
  }
  a[i] = e;
}

function entryPop(a: InflightEntry[]): InflightEntry {
  const top = a[0];
  const last = a.pop()!;
  if (a.length > 0) entrySiftDown(a, 0, last);
  return top;
}

function entrySiftDown(a: InflightEntry[], i: number, e: InflightEntry): void {
  const n = a.length;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && recordBefore(a[c + 1], a[c])) c++;
    if (!recordBefore(a[c], e)) break;
    a[i] = a[c];
    i = c;
  }
  a[i] = e;
}

// ---------------------------------------------------------------------------------------------------------------------
// Shared
// ---------------------------------------------------------------------------------------------------------------------

/**
 * The smallest items of an array-backed binary min-heap, in order, without touching it: a best-first walk that keeps a
 * small frontier of heap indices (a child is never smaller than its parent, so the frontier's minimum is always the
 * next item). Items failing `keep` are stepped over but not counted. O(k log k) for k items visited.
 */
function heapSmallest<T>(items: readonly T[], before: (a: T, b: T) => boolean, keep: (x: T) => boolean, limit: number): T[] {
  const out: T[] = [];
  const frontier: number[] = items.length > 0 ? [0] : [];
  const less = (x: number, y: number): boolean => before(items[x], items[y]);
  while (out.length < limit && frontier.length > 0) {
    const i = frontier[0];
    const last = frontier.pop()!;
    if (frontier.length > 0) {
      let k = 0;
      for (;;) {
        let c = 2 * k + 1;
        if (c >= frontier.length) break;
        if (c + 1 < frontier.length && less(frontier[c + 1], frontier[c])) c++;
        if (!less(frontier[c], last)) break;
        frontier[k] = frontier[c];
        k = c;
      }
      frontier[k] = last;
    }
    if (keep(items[i])) out.push(items[i]);
    for (let c = 2 * i + 1; c <= 2 * i + 2 && c < items.length; c++) {
      let k = frontier.length;
      frontier.push(c);
      while (k > 0 && less(c, frontier[(k - 1) >> 1])) {
        frontier[k] = frontier[(k - 1) >> 1];
        k = (k - 1) >> 1;
      }
      frontier[k] = c;
    }
  }
  return out;
}
