/**
 * The message queue's index structures (src/sim/mq/index.ts). The main checks are differential: fast-check draws
 * programs of operations, each is applied to the real structures and to a naive reference in this file (a plain list,
 * sorted on every read), and every result — the item popped, the ids offered to the filter, the oldest item, the
 * bounded views, the sizes — must agree after every step, while the O(n) invariant checks (`readyCheck`,
 * `inflightCheck`) run too. Programs mix re-queues at old offsets, duplicate ids (which must throw on both sides),
 * removals of absent ids, filters that turn messages down, deadline and offset ties, and structuredClone checkpoints
 * taken mid-run whose clones must then answer every later operation exactly as the original does. Example tests
 * below document the behaviour one rule at a time; a memory test runs 100,000 messages through and checks that the
 * arrays stay compacted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../src/sim/kernel/assert.ts';
import { cloneShared } from '../../src/sim/kernel/clone.ts';
import { idSize } from '../../src/sim/mq/idtable.ts';
import {
  inflightAdd,
  inflightCheck,
  inflightCreate,
  inflightHas,
  inflightIds,
  inflightPeek,
  inflightPopDue,
  inflightRemove,
  inflightSize,
  readyCheck,
  readyCreate,
  readyHas,
  readyIds,
  readyLaneSizes,
  readyPeekOldest,
  readyPop,
  readyPush,
  readyRemove,
  readySize,
  type InflightHeap,
  type InflightRecord,
  type ReadyIndex,
  type ReadyItem,
} from '../../src/sim/mq/index.ts';

// ---------------------------------------------------------------------------------------------------------------------
// Naive references: a list, sorted by the documented order whenever it is read.
// ---------------------------------------------------------------------------------------------------------------------

function cmpId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface NaiveReady {
  lanes: number;
  items: ReadyItem[];
}

function naiveReadyOrder(n: NaiveReady): ReadyItem[] {
  return [...n.items].sort((a, b) => a.lane - b.lane || a.offset - b.offset || cmpId(a.id, b.id));
}

function naiveReadyPush(n: NaiveReady, item: ReadyItem): void {
  if (n.items.some((x) => x.id === item.id)) throw new Error(`naive: ${item.id} already queued`);
  n.items.push({ id: item.id, offset: item.offset, lane: item.lane });
}

/** Offers items in delivery order, at most `scanMax` of them when there is a filter, and takes the first accepted. */
function naiveReadyPop(n: NaiveReady, accept: ((id: string) => boolean) | undefined, scanMax: number): ReadyItem | null {
  let offered = 0;
  for (const x of naiveReadyOrder(n)) {
    if (accept) {
      if (offered === scanMax) return null;
      offered++;
      if (!accept(x.id)) continue;
    }
    n.items = n.items.filter((y) => y !== x);
    return x;
  }
  return null;
}

function naiveReadyRemove(n: NaiveReady, id: string): boolean {
  const before = n.items.length;
  n.items = n.items.filter((x) => x.id !== id);
  return n.items.length < before;
}

function naiveReadyOldest(n: NaiveReady): ReadyItem | null {
  const sorted = [...n.items].sort((a, b) => a.offset - b.offset || cmpId(a.id, b.id));
  return sorted[0] ?? null;
}

function naiveLaneSizes(n: NaiveReady): number[] {
  return Array.from({ length: n.lanes }, (_, lane) => n.items.filter((x) => x.lane === lane).length);
}

function naiveInflightSorted(items: InflightRecord[]): InflightRecord[] {
  return [...items].sort((a, b) => a.deadline - b.deadline || cmpId(a.id, b.id));
}

function naiveInflightAdd(items: InflightRecord[], rec: InflightRecord): void {
  if (items.some((x) => x.id === rec.id)) throw new Error(`naive: ${rec.id} already in flight`);
  items.push({ ...rec });
}

function naiveInflightRemove(items: InflightRecord[], id: string): InflightRecord | null {
  const i = items.findIndex((x) => x.id === id);
  return i < 0 ? null : items.splice(i, 1)[0];
}

// ---------------------------------------------------------------------------------------------------------------------
// Ready index: differential programs
// ---------------------------------------------------------------------------------------------------------------------

/** A filter drawn as data, so fast-check can print and shrink it: none, turn everything down, or keep one id in `mod`. */
type Filter = null | 'rejectAll' | { mod: number; salt: number };

type ReadyOp =
  /**
   * A message with id `m<k>`: at the next offset (`gap` 0 ties with the previous one), or, when `old` is set, at an
   * offset already passed (`old` modulo the next offset + 1).
   */
  | { kind: 'push'; k: number; lane: number; gap: number; old: number | null }
  /** A popped or removed message comes back with its original offset and lane, as a redelivery does. */
  | { kind: 'requeue'; pick: number }
  | { kind: 'pop'; filter: Filter; scanMax: number | null }
  /** Removes `m<k>`, queued or not; with `queued`, removes the k-th queued message (in push order) instead. */
  | { kind: 'remove'; k: number; queued: boolean }
  | { kind: 'peek' }
  | { kind: 'ids'; limit: number }
  | { kind: 'clone' };

function pushArb(pool: number, lane: fc.Arbitrary<number>, oldWeight: number): fc.Arbitrary<ReadyOp> {
  const old: fc.Arbitrary<number | null> =
    oldWeight === 0 ? fc.constant(null) : fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: oldWeight, arbitrary: fc.nat(10_000) });
  return fc.record({ kind: fc.constant('push' as const), k: fc.nat(pool - 1), lane, gap: fc.nat(3), old });
}

function popArb(filter: fc.Arbitrary<Filter>): fc.Arbitrary<ReadyOp> {
  const scanMax: fc.Arbitrary<number | null> = fc.option(fc.integer({ min: 1, max: 6 }), { nil: null });
  return fc.record({ kind: fc.constant('pop' as const), filter, scanMax });
}

function removeArb(pool: number): fc.Arbitrary<ReadyOp> {
  return fc.record({ kind: fc.constant('remove' as const), k: fc.nat(pool - 1), queued: fc.boolean() });
}

function readyOpArb(lanes: number, pool: number): fc.Arbitrary<ReadyOp> {
  const filter: fc.Arbitrary<Filter> = fc.oneof(
    fc.constant(null),
    fc.constant('rejectAll' as const),
    fc.record({ mod: fc.integer({ min: 1, max: 4 }), salt: fc.integer({ min: 0, max: 7 }) }),
  );
  return fc.oneof(
    { weight: 6, arbitrary: pushArb(pool, fc.nat(lanes - 1), 1) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('requeue' as const), pick: fc.nat(1000) }) },
    { weight: 6, arbitrary: popArb(filter) },
    { weight: 2, arbitrary: removeArb(pool) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('peek' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('ids' as const), limit: fc.nat(12) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('clone' as const) }) },
  );
}

function acceptOf(filter: Filter, offered: string[]): ((id: string) => boolean) | undefined {
  if (filter === null) return undefined;
  return (id) => {
    offered.push(id);
    return filter !== 'rejectAll' && (Number(id.slice(1)) * 7 + filter.salt) % filter.mod === 0;
  };
}

/** How often a run saw the ready index reclaim memory: FIFO prefixes shifted out, lanes rebuilt without tombstones. */
interface ReclaimSeen {
  shifts: number;
  rebuilds: number;
}

/**
 * Runs `program` against the naive list and every real index (the original and the clones taken so far), and counts
 * into `seen` the memory reclaims it can tell from outside: a shift when a pop moves a FIFO head back (a pop alone only
 * moves it forward) without a rebuild, a rebuild when a removal, which cannot pop tombstones, leaves a lane that held
 * 63 or more with none.
 */
function runReadyProgram(lanes: number, program: ReadyOp[], seen: ReclaimSeen = { shifts: 0, rebuilds: 0 }): void {
  const naive: NaiveReady = { lanes, items: [] };
  const reals: ReadyIndex[] = [readyCreate(lanes)];
  const gone: ReadyItem[] = [];
  let nextOffset = 0;
  for (const op of program) {
    const before = reals[0].lanes.map((l) => ({ head: l.head, dead: l.dead }));
    switch (op.kind) {
      case 'push':
      case 'requeue': {
        let item: ReadyItem;
        if (op.kind === 'push') {
          nextOffset += op.gap;
          item = { id: `m${op.k}`, offset: op.old === null ? nextOffset : op.old % (nextOffset + 1), lane: op.lane };
        } else {
          if (gone.length === 0) continue;
          item = gone.splice(op.pick % gone.length, 1)[0];
        }
        const dup = naive.items.some((x) => x.id === item.id);
        if (dup) {
          expect(() => naiveReadyPush(naive, item)).toThrow();
          for (const r of reals) expect(() => readyPush(r, item)).toThrow(AssertionError);
        } else {
          naiveReadyPush(naive, item);
          for (const r of reals) readyPush(r, item);
        }
        break;
      }
      case 'pop': {
        const scanMax = op.scanMax ?? 64;
        const wantOffered: string[] = [];
        const want = naiveReadyPop(naive, acceptOf(op.filter, wantOffered), scanMax);
        for (const r of reals) {
          const gotOffered: string[] = [];
          const got = readyPop(r, acceptOf(op.filter, gotOffered), op.scanMax ?? undefined);
          expect(got).toEqual(want);
          expect(gotOffered).toEqual(wantOffered);
        }
        if (want) gone.push(want);
        break;
      }
      case 'remove': {
        const id = op.queued ? naive.items[op.k % naive.items.length]?.id : `m${op.k}`;
        if (id === undefined) continue;
        const removed = naive.items.find((x) => x.id === id);
        const want = naiveReadyRemove(naive, id);
        for (const r of reals) expect(readyRemove(r, id)).toBe(want);
        if (removed) gone.push(removed);
        break;
      }
      case 'peek':
        for (const r of reals) expect(readyPeekOldest(r)).toEqual(naiveReadyOldest(naive));
        break;
      case 'ids':
        for (const r of reals) expect(readyIds(r, op.limit)).toEqual(naiveReadyOrder(naive).slice(0, op.limit).map((x) => x.id));
        break;
      case 'clone':
        if (reals.length < 3) reals.push(structuredClone(reals[0]));
        break;
    }
    for (const r of reals) {
      readyCheck(r);
      expect(readySize(r)).toBe(naive.items.length);
      expect(readyLaneSizes(r)).toEqual(naiveLaneSizes(naive));
    }
    reals[0].lanes.forEach((l, lane) => {
      // A pop never moves a head back; only a shift or a rebuild does, and a rebuild needs 63 tombstones before and
      // leaves none behind.
      const rebuilt = before[lane].dead >= 63 && l.dead === 0;
      if (op.kind === 'pop' && l.head < before[lane].head && l.fifo.length > 0 && !rebuilt) seen.shifts++;
      if (op.kind === 'remove' && before[lane].dead >= 63 && l.dead === 0) seen.rebuilds++;
    });
  }
  // Drained without a filter, every copy gives the naive order, and the has-test agrees on every id ever used.
  const order = naiveReadyOrder(naive);
  for (const r of reals) {
    for (const x of order) expect(readyHas(r, x.id)).toBe(true);
    for (const x of gone) expect(readyHas(r, x.id)).toBe(naive.items.some((y) => y.id === x.id));
    expect(readyIds(r, order.length + 1)).toEqual(order.map((x) => x.id));
    const drained: ReadyItem[] = [];
    for (let x = readyPop(r); x; x = readyPop(r)) drained.push(x);
    expect(drained).toEqual(order);
    expect(readySize(r)).toBe(0);
  }
}

describe('ready index against a sorted list', () => {
  it('agrees on every operation of random short programs over 1–4 lanes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }).chain((lanes) => fc.tuple(fc.constant(lanes), fc.array(readyOpArb(lanes, 24), { maxLength: 150, size: 'max' }))),
        ([lanes, program]) => runReadyProgram(lanes, program),
      ),
      { numRuns: 200 },
    );
  });

  it('agrees on long programs that cross the compaction and tombstone-purge thresholds', () => {
    // Fixed in shape, random in detail. Lane 1 is filled with 200 messages and 150 of them expire, so tombstones pass 64
    // and outnumber the live ones (a rebuild). Then comes a checkpoint and 1,500 cycles of one push to lane 1 and one
    // pop with a random filter, with occasional pushes to lane 0, re-queues and expiries: lane 1 never drains, so its
    // FIFO head passes 1024 and the array is shifted down. The pool of ids is large enough that few pushes collide.
    const pool = 5000;
    const filter = fc.oneof(fc.constant(null), fc.record({ mod: fc.integer({ min: 2, max: 5 }), salt: fc.nat(7) })) as fc.Arbitrary<Filter>;
    const cycle = fc.record({
      k: fc.nat(pool - 1),
      gap: fc.integer({ min: 1, max: 3 }),
      filter,
      extra: fc.oneof(
        { weight: 17, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: pushArb(pool, fc.constant(0), 0) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('requeue' as const), pick: fc.nat(1000) }) },
        { weight: 1, arbitrary: removeArb(pool) },
      ),
    });
    const seen: ReclaimSeen = { shifts: 0, rebuilds: 0 };
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(pool - 1), { minLength: 200, maxLength: 200 }), fc.array(cycle, { minLength: 1500, maxLength: 1500 }), (fill, cycles) => {
        const program: ReadyOp[] = [
          ...fill.map((k): ReadyOp => ({ kind: 'push', k, lane: 1, gap: 1, old: null })),
          ...fill.slice(50).map((k): ReadyOp => ({ kind: 'remove', k, queued: true })),
          { kind: 'clone' },
          ...cycles.flatMap((c): ReadyOp[] => [
            { kind: 'push', k: c.k, lane: 1, gap: c.gap, old: null },
            { kind: 'pop', filter: c.filter, scanMax: null },
            ...(c.extra ? [c.extra] : []),
          ]),
        ];
        runReadyProgram(2, program, seen);
      }),
      // Shrinking a 3,000-step program costs minutes; the counterexample is printed as found.
      { numRuns: 2, endOnFailure: true },
    );
    // The programs must reach what they are meant to test.
    expect(seen.shifts).toBeGreaterThan(0);
    expect(seen.rebuilds).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// In-flight heap: differential programs
// ---------------------------------------------------------------------------------------------------------------------

type InflightOp =
  | { kind: 'add'; k: number; deadline: number; consumer: number; deliveries: number }
  | { kind: 'remove'; k: number }
  | { kind: 'popDue'; now: number }
  | { kind: 'peek' }
  | { kind: 'ids'; limit: number }
  | { kind: 'clone' };

const inflightOp: fc.Arbitrary<InflightOp> = fc.oneof(
  // Deadlines from a narrow range, so ties are common and the id decides.
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('add' as const), k: fc.nat(19), deadline: fc.nat(12), consumer: fc.nat(2), deliveries: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), k: fc.nat(19) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('popDue' as const), now: fc.nat(14) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('peek' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ids' as const), limit: fc.nat(10) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clone' as const) }) },
);

const ALL_IDS = Array.from({ length: 20 }, (_, k) => `m${k}`);

function runInflightProgram(program: InflightOp[]): void {
  const naive: InflightRecord[] = [];
  const reals: InflightHeap[] = [inflightCreate()];
  for (const op of program) {
    switch (op.kind) {
      case 'add': {
        const rec: InflightRecord = { id: `m${op.k}`, deadline: op.deadline, consumer: `c${op.consumer}`, deliveries: op.deliveries };
        if (naive.some((x) => x.id === rec.id)) {
          expect(() => naiveInflightAdd(naive, rec)).toThrow();
          for (const h of reals) expect(() => inflightAdd(h, rec)).toThrow(AssertionError);
        } else {
          naiveInflightAdd(naive, rec);
          for (const h of reals) inflightAdd(h, rec);
        }
        break;
      }
      case 'remove': {
        const want = naiveInflightRemove(naive, `m${op.k}`);
        for (const h of reals) expect(inflightRemove(h, `m${op.k}`)).toEqual(want);
        break;
      }
      case 'popDue': {
        const head = naiveInflightSorted(naive)[0];
        const want = head && head.deadline <= op.now ? naiveInflightRemove(naive, head.id) : null;
        for (const h of reals) expect(inflightPopDue(h, op.now)).toEqual(want);
        break;
      }
      case 'peek':
        for (const h of reals) expect(inflightPeek(h)).toEqual(naiveInflightSorted(naive)[0] ?? null);
        break;
      case 'ids':
        for (const h of reals) expect(inflightIds(h, op.limit)).toEqual(naiveInflightSorted(naive).slice(0, op.limit).map((x) => x.id));
        break;
      case 'clone':
        if (reals.length < 3) reals.push(structuredClone(reals[0]));
        break;
    }
    for (const h of reals) {
      inflightCheck(h);
      expect(inflightSize(h)).toBe(naive.length);
      expect(ALL_IDS.filter((id) => inflightHas(h, id))).toEqual(ALL_IDS.filter((id) => naive.some((x) => x.id === id)));
    }
  }
  const sorted = naiveInflightSorted(naive);
  for (const h of reals) {
    const drained: InflightRecord[] = [];
    for (let r = inflightPopDue(h, Number.MAX_SAFE_INTEGER); r; r = inflightPopDue(h, Number.MAX_SAFE_INTEGER)) drained.push(r);
    expect(drained).toEqual(sorted);
  }
}

describe('in-flight heap against a sorted list', () => {
  it('agrees on every operation of random programs, deadline ties included', () => {
    fc.assert(fc.property(fc.array(inflightOp, { maxLength: 200, size: 'max' }), runInflightProgram), { numRuns: 150 });
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Determinism: the order depends on the keys only, never on the order of the pushes.
// ---------------------------------------------------------------------------------------------------------------------

describe('order independent of arrival', () => {
  it('two interleavings of the same pushes pop identically, in both structures', () => {
    const items = fc.uniqueArray(fc.record({ k: fc.nat(200), offset: fc.nat(30), lane: fc.nat(2), deadline: fc.nat(5) }), {
      selector: (x) => x.k,
      minLength: 1,
      maxLength: 60,
    });
    fc.assert(
      fc.property(
        items.chain((xs) => fc.tuple(fc.shuffledSubarray(xs, { minLength: xs.length }), fc.shuffledSubarray(xs, { minLength: xs.length }))),
        ([a, b]) => {
          const drainReady = (xs: typeof a): string[] => {
            const ix = readyCreate(3);
            for (const x of xs) readyPush(ix, { id: `m${x.k}`, offset: x.offset, lane: x.lane });
            const out: string[] = [];
            for (let r = readyPop(ix); r; r = readyPop(ix)) out.push(r.id);
            return out;
          };
          const drainInflight = (xs: typeof a): string[] => {
            const h = inflightCreate();
            for (const x of xs) inflightAdd(h, { id: `m${x.k}`, deadline: x.deadline, consumer: 'c', deliveries: 1 });
            const out: string[] = [];
            for (let r = inflightPopDue(h, 5); r; r = inflightPopDue(h, 5)) out.push(r.id);
            return out;
          };
          expect(drainReady(a)).toEqual(drainReady(b));
          expect(drainInflight(a)).toEqual(drainInflight(b));
        },
      ),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Examples that document the behaviour
// ---------------------------------------------------------------------------------------------------------------------

function pushAll(ix: ReadyIndex, items: [id: string, offset: number, lane: number][]): void {
  for (const [id, offset, lane] of items) readyPush(ix, { id, offset, lane });
}

function drainIds(ix: ReadyIndex): string[] {
  const out: string[] = [];
  for (let r = readyPop(ix); r; r = readyPop(ix)) out.push(r.id);
  return out;
}

describe('ready index by example', () => {
  it('serves lane 0 before lane 1, and each lane in offset order', () => {
    const ix = readyCreate(2);
    pushAll(ix, [['low-1', 1, 1], ['high-2', 2, 0], ['low-3', 3, 1], ['high-4', 4, 0]]);
    expect(readyLaneSizes(ix)).toEqual([2, 2]);
    expect(readyIds(ix, 10)).toEqual(['high-2', 'high-4', 'low-1', 'low-3']);
    expect(drainIds(ix)).toEqual(['high-2', 'high-4', 'low-1', 'low-3']);
    expect(readyPop(ix)).toBeNull();
  });

  it('puts a redelivered message back at its original offset, ahead of later ones', () => {
    const ix = readyCreate(1);
    pushAll(ix, [['a', 10, 0], ['b', 11, 0], ['c', 12, 0], ['d', 13, 0]]);
    const a = readyPop(ix)!;
    const b = readyPop(ix)!;
    readyPush(ix, { id: 'e', offset: 14, lane: 0 });
    // b's visibility timeout ran out first, then a's: they return in offset order all the same.
    readyPush(ix, b);
    readyPush(ix, a);
    expect(readyPeekOldest(ix)).toEqual({ id: 'a', offset: 10, lane: 0 });
    expect(drainIds(ix)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('leaves messages the filter turns down in place, and offers at most scanMax per call', () => {
    const ix = readyCreate(1);
    pushAll(ix, [['a', 1, 0], ['b', 2, 0], ['c', 3, 0], ['d', 4, 0]]);
    const offered: string[] = [];
    const onlyD = (id: string): boolean => (offered.push(id), id === 'd');
    expect(readyPop(ix, onlyD, 3)).toBeNull();
    expect(offered).toEqual(['a', 'b', 'c']);
    expect(readyPop(ix, onlyD, 4)).toEqual({ id: 'd', offset: 4, lane: 0 });
    expect(readyIds(ix, 10)).toEqual(['a', 'b', 'c']);
    expect(readyPop(ix, (id) => id !== 'a')).toEqual({ id: 'b', offset: 2, lane: 0 });
    expect(drainIds(ix)).toEqual(['a', 'c']);
  });

  it('shares the scan budget across lanes', () => {
    const ix = readyCreate(2);
    pushAll(ix, [['a', 1, 0], ['b', 2, 0], ['x', 3, 1]]);
    expect(readyPop(ix, (id) => id === 'x', 2)).toBeNull();
    expect(readyPop(ix, (id) => id === 'x', 3)).toEqual({ id: 'x', offset: 3, lane: 1 });
  });

  it('breaks an offset tie by id, whatever the arrival order', () => {
    const ix = readyCreate(1);
    pushAll(ix, [['b', 5, 0], ['a', 5, 0], ['c', 5, 0]]);
    expect(drainIds(ix)).toEqual(['a', 'b', 'c']);
  });

  it('removes a queued message at once for size, and says false for one not queued', () => {
    const ix = readyCreate(2);
    pushAll(ix, [['a', 1, 0], ['b', 2, 1], ['c', 3, 0]]);
    expect(readyRemove(ix, 'a')).toBe(true);
    expect(readyRemove(ix, 'a')).toBe(false);
    expect(readyRemove(ix, 'never')).toBe(false);
    expect(readySize(ix)).toBe(2);
    expect(readyLaneSizes(ix)).toEqual([1, 1]);
    expect(readyHas(ix, 'a')).toBe(false);
    expect(readyPeekOldest(ix)).toEqual({ id: 'b', offset: 2, lane: 1 });
    // The same id may come back later; its old tombstone must not shadow or duplicate it.
    readyPush(ix, { id: 'a', offset: 1, lane: 0 });
    expect(drainIds(ix)).toEqual(['a', 'c', 'b']);
    readyCheck(ix);
  });

  it('purges tombstones once they outnumber live messages', () => {
    const ix = readyCreate(1);
    for (let i = 0; i < 1000; i++) readyPush(ix, { id: `m${i}`, offset: i, lane: 0 });
    // Expire everything but every tenth message, from the back, so no pop ever reaches the tombstones.
    for (let i = 999; i >= 0; i--) if (i % 10 !== 0) readyRemove(ix, `m${i}`);
    const lane = ix.lanes[0];
    expect(readySize(ix)).toBe(100);
    expect(lane.dead).toBeLessThanOrEqual(100);
    expect(lane.fifo.length - lane.head + lane.returned.length).toBeLessThanOrEqual(200);
    readyCheck(ix);
    expect(readyIds(ix, 3)).toEqual(['m0', 'm10', 'm20']);
  });

  it('keeps re-queued messages in offset order through a tombstone purge', () => {
    const ix = readyCreate(1);
    // The first message sets the FIFO's tail; the 300 re-queued below it land in the heap half of the lane.
    readyPush(ix, { id: 'tail', offset: 1000, lane: 0 });
    for (let i = 299; i >= 0; i--) readyPush(ix, { id: `r${i}`, offset: i * 3, lane: 0 });
    for (let i = 0; i < 300; i++) if (i % 7 !== 3) readyRemove(ix, `r${i}`);
    expect(ix.lanes[0].dead).toBeLessThan(64);
    readyCheck(ix);
    const want = Array.from({ length: 300 }, (_, i) => i)
      .filter((i) => i % 7 === 3)
      .map((i) => `r${i}`);
    expect(drainIds(ix)).toEqual([...want, 'tail']);
  });

  it('refuses a duplicate id, a bad lane, a bad offset and the id __proto__, leaving the index unchanged', () => {
    const ix = readyCreate(2);
    readyPush(ix, { id: 'a', offset: 1, lane: 0 });
    expect(() => readyPush(ix, { id: 'a', offset: 2, lane: 1 })).toThrow(/already queued/);
    expect(() => readyPush(ix, { id: 'b', offset: 2, lane: 2 })).toThrow(AssertionError);
    expect(() => readyPush(ix, { id: 'b', offset: -1, lane: 0 })).toThrow(AssertionError);
    expect(() => readyPush(ix, { id: 'b', offset: 1.5, lane: 0 })).toThrow(AssertionError);
    expect(() => readyPush(ix, { id: '__proto__', offset: 2, lane: 0 })).toThrow(AssertionError);
    expect(() => readyPop(ix, undefined, 0)).toThrow(AssertionError);
    expect(() => readyCreate(0)).toThrow(AssertionError);
    expect(() => readyCreate(17)).toThrow(AssertionError);
    expect(readySize(ix)).toBe(1);
    readyCheck(ix);
  });

  it('treats ids that name Object.prototype members as ordinary ids, before and after a clone', () => {
    let ix = readyCreate(1);
    expect(readyHas(ix, 'constructor')).toBe(false);
    expect(readyRemove(ix, 'toString')).toBe(false);
    readyPush(ix, { id: 'constructor', offset: 1, lane: 0 });
    ix = structuredClone(ix);
    expect(readyHas(ix, 'hasOwnProperty')).toBe(false);
    expect(readyPop(ix)).toEqual({ id: 'constructor', offset: 1, lane: 0 });
  });
});

describe('in-flight heap by example', () => {
  it('redelivers by deadline, ties by id, and only once the deadline has come', () => {
    const h = inflightCreate();
    inflightAdd(h, { id: 'b', deadline: 200, consumer: 'c1', deliveries: 1 });
    inflightAdd(h, { id: 'a', deadline: 200, consumer: 'c2', deliveries: 2 });
    inflightAdd(h, { id: 'z', deadline: 100, consumer: 'c1', deliveries: 1 });
    expect(inflightIds(h, 5)).toEqual(['z', 'a', 'b']);
    expect(inflightPopDue(h, 99)).toBeNull();
    expect(inflightPopDue(h, 100)?.id).toBe('z');
    expect(inflightPeek(h)?.id).toBe('a');
    expect(inflightPopDue(h, 150)).toBeNull();
    expect(inflightPopDue(h, 200)).toEqual({ id: 'a', deadline: 200, consumer: 'c2', deliveries: 2 });
    expect(inflightSize(h)).toBe(1);
  });

  it('removes an acked message from anywhere in the heap and returns its record', () => {
    const h = inflightCreate();
    for (let i = 0; i < 10; i++) inflightAdd(h, { id: `m${i}`, deadline: 1000 - i * 10, consumer: 'c', deliveries: 1 });
    expect(inflightRemove(h, 'm4')).toEqual({ id: 'm4', deadline: 960, consumer: 'c', deliveries: 1 });
    expect(inflightRemove(h, 'm4')).toBeNull();
    expect(inflightHas(h, 'm4')).toBe(false);
    inflightCheck(h);
    expect(inflightIds(h, 3)).toEqual(['m9', 'm8', 'm7']);
  });

  it('keeps its own copy of a record and refuses a duplicate id', () => {
    const h = inflightCreate();
    const rec = { id: 'a', deadline: 5, consumer: 'c', deliveries: 1 };
    inflightAdd(h, rec);
    rec.deadline = 1;
    expect(inflightPeek(h)?.deadline).toBe(5);
    expect(() => inflightAdd(h, { id: 'a', deadline: 9, consumer: 'c', deliveries: 2 })).toThrow(/already in flight/);
    expect(() => inflightAdd(h, { id: 'b', deadline: 9, consumer: 'c', deliveries: 0 })).toThrow(AssertionError);
    expect(() => inflightAdd(h, { id: 'b', deadline: -1, consumer: 'c', deliveries: 1 })).toThrow(AssertionError);
    expect(inflightSize(h)).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Memory: arrays stay proportional to what is queued, however many messages went through.
// ---------------------------------------------------------------------------------------------------------------------

describe("memory", () => {
  it('compacts its arrays after 100,000 messages pushed and popped', () => {
    const ix = readyCreate(2);
    const h = inflightCreate();
    let popped = 0;
    let maxStored = 0;
    for (let i = 0; i < 100_000; i++) {
      readyPush(ix, { id: `m${i}`, offset: i, lane: i % 7 === 0 ? 0 : 1 });
      if (i % 13 === 5) readyRemove(ix, `m${i - 3}`);
      // Keep about 500 messages queued; every 50th delivery times out and comes back at its original offset.
      while (readySize(ix) > 500) {
        // A consumer that turns down ids ending in 3 three ticks out of four: they wait at the front meanwhile.
        const r = readyPop(ix, (id) => i % 4 === 0 || !id.endsWith('3')) ?? readyPop(ix)!;
        popped++;
        inflightAdd(h, { id: r.id, deadline: i, consumer: 'c', deliveries: 1 });
        const due = inflightPopDue(h, i - 20);
        if (due && popped % 50 === 0) readyPush(ix, { id: due.id, offset: Number(due.id.slice(1)), lane: 1 });
      }
      for (const l of ix.lanes) maxStored = Math.max(maxStored, l.fifo.length + l.returned.length);
    }
    while (readyPop(ix)) popped++;
    expect(popped).toBeGreaterThan(90_000);
    // 1024 is the FIFO's compaction threshold: the consumed prefix is shifted out once it reaches it.
    expect(maxStored).toBeLessThan(3 * 1024);
    for (const l of ix.lanes) {
      expect(l.fifo.length).toBe(0);
      expect(l.returned.length).toBe(0);
      expect(l.dead).toBe(0);
    }
    expect(idSize(ix.where)).toBe(0);
    expect(ix.where.keys.length).toBeLessThanOrEqual(4_096); // the id table shrank back to its floor
    expect(inflightSize(h)).toBeLessThan(2_000);
    expect(idSize(h.recs)).toBe(inflightSize(h));
    expect(h.recs.keys.length).toBeLessThanOrEqual(Math.max(4_096, 16 * inflightSize(h)));
    expect(h.fifo.length - h.head + h.heap.length).toBeLessThanOrEqual(Math.max(3 * 1024, 2 * inflightSize(h) + 64));
    inflightCheck(h);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Checkpoints: the world's cloner copies every object it reaches once per reference (it keeps no aliasing), so a
// structure that held one object in two places would come back split in two. Both structures hold ids, tickets and
// copies only: a clone made mid-run keeps working, and does exactly what the original does.
// ---------------------------------------------------------------------------------------------------------------------

describe('checkpoint copies', () => {
  it('a ready index and an in-flight heap copied by the checkpoint cloner behave exactly like the originals', () => {
    const ix = readyCreate(2);
    const h = inflightCreate();
    for (let i = 0; i < 300; i++) readyPush(ix, { id: `m${i}`, offset: i, lane: i % 3 === 0 ? 0 : 1 });
    for (let i = 0; i < 120; i++) {
      const r = readyPop(ix)!;
      inflightAdd(h, { id: r.id, deadline: 1000 + Math.floor(i / 10), consumer: 'c', deliveries: 1 });
    }
    for (let i = 0; i < 120; i += 3) inflightRemove(h, `m${i}`);
    const copies = [cloneShared(ix), cloneShared(h)] as const;
    const run = (x: ReadyIndex, y: InflightHeap): unknown[] => {
      const out: unknown[] = [];
      for (let i = 0; i < 60; i++) {
        const due = inflightPopDue(y, 1000 + i);
        if (due) readyPush(x, { id: due.id, offset: Number(due.id.slice(1)), lane: 1 });
        out.push(due, readyPop(x), inflightRemove(y, `m${i * 2}`), inflightIds(y, 5), readyIds(x, 5));
      }
      readyCheck(x);
      inflightCheck(y);
      return out;
    };
    expect(run(copies[0], copies[1])).toEqual(run(ix, h));
  });
});
