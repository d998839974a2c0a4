import { assert } from '../kernel/assert.ts';
import type { Micros } from '../kernel/time.ts';

/**
 * Sample identity at scale. A sample is one metric of one server at one second: (metric, server, t). At the notes'
 * 10,000 servers a window holds 100,000 samples per query, so the aggregator's duplicate check and the checker's
 * books cannot afford a string per sample. Instead:
 * - servers get small integer indices in a plain-data registry (first seen, first numbered), and a window remembers
 *   which (server, second) it holds as one bitset per second over server indices;
 * - a set of samples is summarised by a digest — its size and two order-free sums of per-sample hashes (mod 2^32) —
 *   so two sets can be compared without listing them: equal sets give equal digests, and unequal ones almost never do.
 */
export interface ServerIndex {
  of: Record<string, number>;
  names: string[];
}

export function newServerIndex(): ServerIndex {
  return { of: {}, names: [] };
}

export function serverIndexOf(ix: ServerIndex, server: string): number {
  let i = ix.of[server];
  if (i === undefined) {
    i = ix.of[server] = ix.names.length;
    ix.names.push(server);
  }
  return i;
}

/** Per second (`t`, as text), the servers seen: a bitset of 32-bit words by server index. */
export type SecondSets = Record<string, number[]>;

/** Adds (server index, t); false when it was already there. */
export function addSeen(sets: SecondSets, index: number, t: Micros): boolean {
  assert(Number.isInteger(index) && index >= 0, 'server indices are non-negative integers');
  const bits = (sets[t] ??= []);
  const word = index >>> 5;
  while (bits.length <= word) bits.push(0);
  const mask = 1 << (index & 31);
  if ((bits[word] & mask) !== 0) return false;
  bits[word] |= mask;
  return true;
}

export function hasSeen(sets: SecondSets, index: number, t: Micros): boolean {
  const bits = sets[t];
  if (bits === undefined) return false;
  const word = index >>> 5;
  return word < bits.length && (bits[word] & (1 << (index & 31))) !== 0;
}

/**
 * An order-free summary of a set of samples of one metric: how many, and two sums of their hashes mod 2^32. The
 * per-sample hashes are 30 bits wide — small integers to V8, so passing one around never allocates (a uint32 above
 * 2^30 is a heap number) — and two of them still leave a collision at about 2^-60 per comparison.
 */
export interface Digest {
  n: number;
  a: number;
  b: number;
}

export function newDigest(): Digest {
  return { n: 0, a: 0, b: 0 };
}

// FNV-1a of server names (30 bits), memoised: a pure function of the name, so the cache changes no result.
const NAME_HASH: Record<string, number> = {};
let nameHashes = 0;
const NAME_HASHES_MAX = 1_000_000;

export function nameHash(server: string): number {
  const cached = NAME_HASH[server];
  if (cached !== undefined) return cached;
  let h = 0x811c9dc5;
  for (let i = 0; i < server.length; i++) h = Math.imul(h ^ server.charCodeAt(i), 0x01000193);
  h &= HASH_MASK;
  if (nameHashes < NAME_HASHES_MAX) {
    NAME_HASH[server] = h;
    nameHashes++;
  }
  return h;
}

/** Per-sample hashes keep 30 bits (see Digest). */
const HASH_MASK = 0x3fffffff;

/** murmur3's finaliser, cut to 30 bits. */
function avalanche(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) & HASH_MASK;
}

/**
 * The two hashes of the sample (server, t) that a digest sums, from the server's `nameHash`. A sample that goes into
 * several digests (one per query and window) is hashed once and added with `digestAddHashes`.
 */
export function sampleHashA(serverHash: number, t: Micros): number {
  const lo = t % 0x100000000;
  const hi = Math.floor(t / 0x100000000);
  return avalanche(serverHash ^ Math.imul(lo, 0x9e3779b1) ^ hi);
}

export function sampleHashB(serverHash: number, t: Micros): number {
  const lo = t % 0x100000000;
  const hi = Math.floor(t / 0x100000000);
  return avalanche(Math.imul(serverHash, 0x27d4eb2f) ^ lo ^ Math.imul(hi + 1, 0x165667b1));
}

/** Adds one sample, given its two hashes (`sampleHashA`, `sampleHashB`), to a digest. */
export function digestAddHashes(d: Digest, a: number, b: number): void {
  assert(a >= 0 && b >= 0 && a <= HASH_MASK && b <= HASH_MASK, 'sample hashes are 30-bit');
  d.n++;
  d.a = (d.a + a) >>> 0;
  d.b = (d.b + b) >>> 0;
}

/** Adds the sample (server, t) to a digest. */
export function digestAdd(d: Digest, server: string, t: Micros): void {
  const h = nameHash(server);
  digestAddHashes(d, sampleHashA(h, t), sampleHashB(h, t));
}

export function digestMerge(into: Digest, d: Digest): void {
  into.n += d.n;
  into.a = (into.a + d.a) >>> 0;
  into.b = (into.b + d.b) >>> 0;
}

export function sameDigest(x: Digest, y: Digest): boolean {
  return x.n === y.n && x.a === y.a && x.b === y.b;
}
