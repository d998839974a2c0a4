/**
 * Leaf parts of the kernel. The heap is checked differentially against a sorted list (fast-check over random
 * push/pop programs); the hash and canonical JSON for key-order independence; rng streams for independence of names;
 * durations and the disk for their edge rules.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diskCrash, diskCreate, diskWrite } from '../../src/sim/kernel/disk.ts';
import { canonicalJson, hashText, StreamHash } from '../../src/sim/kernel/hash.ts';
import { heapCreate, heapPop, heapPush, type HeapItem } from '../../src/sim/kernel/heap.ts';
import { quantileSorted, summarize } from '../../src/sim/kernel/metrics.ts';
import { RngStreams } from '../../src/sim/kernel/rng.ts';
import { formatMicros, parseDuration } from '../../src/sim/kernel/time.ts';

describe('event heap', () => {
  it('pops in (t, seq) order, the same as a stably sorted list', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 50 }), fc.constant(-1)), { maxLength: 300 }), (program) => {
        const heap = heapCreate<HeapItem & { id: number }>();
        let naive: (HeapItem & { id: number })[] = [];
        let id = 0;
        for (const op of program) {
          if (op >= 0) {
            const seq = heapPush(heap, { t: op, seq: 0, id }, 10_000);
            naive.push({ t: op, seq, id: id++ });
            naive.sort((a, b) => a.t - b.t || a.seq - b.seq);
          } else {
            const got = heapPop(heap);
            const want = naive.shift();
            expect(got?.id).toBe(want?.id);
          }
        }
        const rest: number[] = [];
        for (let x = heapPop(heap); x; x = heapPop(heap)) rest.push(x.id);
        expect(rest).toEqual(naive.map((x) => x.id));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to grow past its limit and refuses bad times', () => {
    const heap = heapCreate<HeapItem>();
    heapPush(heap, { t: 1, seq: 0 }, 1);
    expect(() => heapPush(heap, { t: 2, seq: 0 }, 1)).toThrow('event heap is full');
    expect(() => heapPush(heapCreate<HeapItem>(), { t: 1.5, seq: 0 }, 10)).toThrow('non-negative integer');
  });
});

describe('hash', () => {
  it('canonical JSON ignores key order and undefined fields', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 2, y: undefined }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"z":2}]},"b":1}');
    expect(hashText(canonicalJson({ x: 1, y: 2 }))).toBe(hashText(canonicalJson({ y: 2, x: 1 })));
  });

  it('separates chunks, differs on one bit, and resumes from a saved state', () => {
    const a = new StreamHash();
    a.update('ab');
    a.update('c');
    const b = new StreamHash();
    b.update('a');
    b.update('bc');
    expect(a.hex()).not.toBe(b.hex());
    expect(hashText('event-1')).not.toBe(hashText('event-0'));
    expect(hashText('x')).toMatch(/^[0-9a-f]{16}$/);
    const resumed = new StreamHash(a.state());
    resumed.update('d');
    a.update('d');
    expect(resumed.hex()).toBe(a.hex());
  });
});

describe('rng streams', () => {
  it('a stream depends only on root + name, not on other streams drawn first', () => {
    const one = new RngStreams('root');
    const first = [one.stream('net').next(), one.stream('net').next()];
    const two = new RngStreams('root');
    two.stream('faults').next();
    two.stream('node:b9:election').next();
    expect([two.stream('net').next(), two.stream('net').next()]).toEqual(first);
    expect(new RngStreams('other').stream('net').next()).not.toBe(first[0]);
  });

  it('saved states resume exactly', () => {
    const r = new RngStreams('s');
    const g = r.stream('x');
    g.next();
    const saved = r.save();
    const rest = [g.next(), g.int(0, 100), g.chance(0.5)];
    const again = new RngStreams('s', saved).stream('x');
    expect([again.next(), again.int(0, 100), again.chance(0.5)]).toEqual(rest);
  });

  it('int stays within bounds and validates its arguments', () => {
    const g = new RngStreams('b').stream('i');
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(g.int(3, 7));
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7]);
    expect(() => g.int(5, 1)).toThrow();
    expect(() => g.chance(1.5)).toThrow();
  });
});

describe('durations', () => {
  it.each([
    ['250ms', 250_000], ['1.5s', 1_500_000], ['2m', 120_000_000], ['800us', 800], ['12', 12_000], ['0', 0],
  ])('%s = %i µs', (text, us) => expect(parseDuration(text)).toBe(us));
  it.each(['', 'fast', '-1s', '1h', '1e3'])('%j is not a duration', (text) => expect(parseDuration(text)).toBeNull());
  it('formats for people', () => {
    expect([formatMicros(0), formatMicros(850), formatMicros(12_500), formatMicros(3_200_000)]).toEqual(['0', '850µs', '12.5ms', '3.200s']);
  });
});

describe('disk', () => {
  it('writes are cloned, synced writes survive any crash, unsynced ones only a clean one', () => {
    const d = diskCreate();
    const v = { n: 1 };
    diskWrite(d, { op: 'put', key: 'a', value: v }, true);
    v.n = 99;
    diskWrite(d, { op: 'append', key: 'log', items: [1, 2, 3] }, false);
    diskWrite(d, { op: 'truncate', key: 'log', length: 1 }, false);
    expect(diskCrash(structuredClone(d), true)).toBe(2);
    const lossy = structuredClone(d);
    diskCrash(lossy, true);
    expect(lossy.data).toEqual({ a: { n: 1 } });
    diskCrash(d, false);
    expect(d.data).toEqual({ a: { n: 1 }, log: [1] });
  });
});

describe('metrics', () => {
  it('nearest-rank percentiles agree with a brute-force definition', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 200 }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, q) => {
        const sorted = [...xs].sort((a, b) => a - b);
        const v = quantileSorted(sorted, q);
        // Nearest rank: the smallest value with at least q of the values at or below it.
        const atOrBelow = sorted.filter((x) => x <= v).length;
        expect(atOrBelow / sorted.length).toBeGreaterThanOrEqual(q - 1e-12);
        const below = sorted.filter((x) => x < v).length;
        expect(below / sorted.length).toBeLessThan(Math.max(q, 1e-9));
      }),
    );
    expect(summarize([5, 1, 3, 2, 4])).toMatchObject({ count: 5, min: 1, p50: 3, max: 5, mean: 3 });
  });

  it('a summary of a growing sample list (merged incrementally) equals a summary of a fresh copy', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 50 }), { minLength: 1, maxLength: 8 }), (chunks) => {
        const growing: number[] = [];
        for (const chunk of chunks) {
          growing.push(...chunk);
          // A fresh array each time has no cached sorted copy: the reference result.
          expect(summarize(growing)).toEqual(summarize([...growing]));
        }
      }),
    );
  });
});

describe('structural hash', () => {
  const h = (v: unknown) => {
    const s = new StreamHash();
    s.updateValue(v);
    return s.hex();
  };

  it('survives a JSON round trip for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(h(JSON.parse(JSON.stringify(v)))).toBe(h(v));
      }),
      { numRuns: 300 },
    );
  });

  it('follows JSON where a round trip would change the value, and tells different values apart', () => {
    expect(h({ a: 1, b: undefined })).toBe(h({ a: 1 }));
    expect(h([undefined])).toBe(h([null]));
    expect(h(-0)).toBe(h(0));
    expect(h(0.1 + 0.2)).not.toBe(h(0.3));
    expect(h({ a: 1, b: 2 })).not.toBe(h({ b: 2, a: 1 })); // key order is part of the recorded event
    expect(h('1')).not.toBe(h(1));
    expect(h([1, [2]])).not.toBe(h([[1], 2]));
    expect(h(2 ** 40)).toBe(h(JSON.parse(String(2 ** 40))));
  });
});
