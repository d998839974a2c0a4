/**
 * The broker's id table (src/sim/mq/idtable.ts) against a Map, differentially: random programs of sets, gets and
 * deletes over a small id space (so probe runs collide and deletes shift entries back), then the same table after JSON
 * and structuredClone round trips. And its size: it grows to hold what it holds and shrinks back when emptied.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idDelete, idForEach, idGet, idHas, idKeys, idSet, idSize, idTableCreate, type IdTable } from '../../src/sim/mq/idtable.ts';

type Op = { op: 'set'; k: number; v: number } | { op: 'get'; k: number } | { op: 'del'; k: number } | { op: 'clone' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), k: fc.integer({ min: 0, max: 300 }), v: fc.integer() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('get' as const), k: fc.integer({ min: 0, max: 300 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('del' as const), k: fc.integer({ min: 0, max: 300 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clone' as const }) },
);

/** Every id is found from its home slot without crossing an empty one (the probing invariant deletes must keep). */
function reachable(t: IdTable<unknown>): boolean {
  return idKeys(t).every((k) => idHas(t, k));
}

describe('id table', () => {
  it('agrees with a Map on every operation of random programs, across JSON and structuredClone copies', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 600 }), (ops) => {
        let t = idTableCreate<number>();
        const want = new Map<string, number>();
        for (const o of ops) {
          if (o.op === 'clone') {
            t = want.size % 2 === 0 ? (JSON.parse(JSON.stringify(t)) as IdTable<number>) : structuredClone(t);
            continue;
          }
          const id = `P${o.k % 7}-${o.k}`;
          if (o.op === 'set') {
            idSet(t, id, o.v);
            want.set(id, o.v);
          } else if (o.op === 'get') {
            expect(idGet(t, id)).toBe(want.get(id));
            expect(idHas(t, id)).toBe(want.has(id));
          } else {
            expect(idDelete(t, id)).toBe(want.get(id));
            want.delete(id);
          }
          expect(idSize(t)).toBe(want.size);
        }
        const seen = new Map<string, number>();
        idForEach(t, (k, v) => void seen.set(k, v));
        expect(seen).toEqual(want);
        expect(reachable(t)).toBe(true);
      }),
      { numRuns: 300, seed: 4 },
    );
  });

  it('treats ids that name Object.prototype members as ordinary ids', () => {
    const t = idTableCreate<number>();
    for (const id of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) idSet(t, id, id.length);
    expect(idGet(t, '__proto__')).toBe(9);
    expect(idGet(t, 'valueOf')).toBeUndefined();
    expect(idDelete(t, 'constructor')).toBe(11);
    expect(idKeys(t).sort()).toEqual(['__proto__', 'hasOwnProperty', 'toString']);
  });

  it('grows with what it holds and shrinks back once emptied (to a small floor), keeping every id reachable', () => {
    const t = idTableCreate<number>();
    for (let i = 0; i < 10_000; i++) idSet(t, `m${i}`, i);
    expect(t.keys.length).toBe(32_768);
    for (let i = 0; i < 10_000; i += 2) idDelete(t, `m${i}`);
    expect(reachable(t)).toBe(true);
    for (let i = 1; i < 10_000; i += 2) expect(idDelete(t, `m${i}`)).toBe(i);
    expect(idSize(t)).toBe(0);
    expect(t.keys.length).toBe(4_096); // it shrinks as it drains, down to its floor
    // Churn at a steady size never grows it: a window of 1,000 live ids over 100,000 inserts.
    for (let i = 0; i < 100_000; i++) {
      idSet(t, `w${i}`, i);
      if (i >= 1_000) idDelete(t, `w${i - 1_000}`);
    }
    expect(idSize(t)).toBe(1_000);
    expect(t.keys.length).toBeLessThanOrEqual(4_096);
    expect(reachable(t)).toBe(true);
  });
});
