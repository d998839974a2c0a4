const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

/**
 * A stable 64-bit hash over the event stream (two 32-bit FNV-1a lanes with different multipliers and a final
 * avalanche), giving the same 16 hex digits in Node, in a browser worker, and after a JSON round trip. Not
 * cryptographic; it detects divergence, not tampering.
 *
 * `updateValue` hashes a JSON-like value structurally — type tags, lengths, keys in their own order, strings by
 * char code, numbers as int32 or float64 bits — without building its text. It follows JSON's rules where they
 * matter for a round trip: undefined properties are skipped, -0 is 0, non-finite numbers are null.
 */
export class StreamHash {
  private a = SEED_A;
  private b = SEED_B;

  constructor(state?: [number, number]) {
    if (state) [this.a, this.b] = state;
  }

  update(text: string): void {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    // A separator so that ["ab","c"] and ["a","bc"] hash differently.
    this.a = Math.imul(a ^ 0x1e, 0x01000193);
    this.b = Math.imul(b ^ 0x1e, 0x5bd1e995);
  }

  updateValue(v: unknown): void {
    A = this.a;
    B = this.b;
    // A top-level container is walked straight into the stream; nested ones are hashed on their own and mixed in.
    if (v !== null && typeof v === 'object') hashContainer(v);
    else hashValue(v);
    this.a = A;
    this.b = B;
  }

  /**
   * One trace event: its field values in their own order, without the field names. A trace event's `kind` fixes
   * which fields follow and in what order (a closed union whose only optional field comes last), so the names add
   * nothing a divergence could hide in — and skipping them saves a third of the hashing of a run. Nested values
   * (message bodies, fault specs) are hashed with their keys as `updateValue` does.
   */
  updateEvent(e: object): void {
    A = this.a;
    B = this.b;
    mix(10);
    const o = e as Record<string, unknown>;
    for (const k in o) {
      const x = o[k];
      if (x === undefined) continue;
      if (typeof x === 'object') x === null ? mix(5) : hashNested(x);
      else if (typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean') scalar(x);
      else mix(5);
    }
    mix(9);
    this.a = A;
    this.b = B;
  }

  state(): [number, number] {
    return [this.a, this.b];
  }

  hex(): string {
    let a = this.a ^ (this.b >>> 7);
    let b = this.b ^ (this.a >>> 11);
    a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
    b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
    a ^= a >>> 16;
    b ^= b >>> 16;
    return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
  }
}

/** JSON with object keys in sorted order at every depth; `undefined` fields are left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return value === undefined ? 'null' : JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    let s = '[';
    for (let i = 0; i < value.length; i++) s += (i ? ',' : '') + canonicalJson(value[i]);
    return s + ']';
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let s = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    s += (first ? '' : ',') + JSON.stringify(k) + ':' + canonicalJson(v);
    first = false;
  }
  return s + '}';
}

export function hashText(text: string): string {
  const h = new StreamHash();
  h.update(text);
  return h.hex();
}

// The two lanes of the hash being updated. `updateValue` loads them from the instance, the walk below mixes into
// these module-level slots (no property writes per character), and `updateValue` stores them back.
let A = 0;
let B = 0;

function mix(x: number): void {
  A = Math.imul(A ^ x, 0x01000193);
  const b = Math.imul(B ^ x, 0x5bd1e995);
  B = b ^ (b >>> 15);
}

function mixText(s: string): void {
  WORK += s.length;
  mix(s.length);
  // The same as mix() per character, with the lanes held in locals for the loop.
  let a = A;
  let b = B;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    const m = Math.imul(b ^ c, 0x5bd1e995);
    b = m ^ (m >>> 15);
  }
  A = a;
  B = b;
}

function hashValue(v: unknown): void {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
      return scalar(v);
    case 'object':
      return v === null ? mix(5) : hashNested(v);
    default:
      return mix(5); // undefined, functions: JSON writes null (or nothing)
  }
}

/**
 * A string, number or boolean, mixed into the lanes: the same mixes as `mix` — type tag, then the value (a string's
 * length and characters, an int32, or a float's two 32-bit halves) — with the lanes held in locals. Containers' walks
 * call it once per element, so it stays small enough to be inlined there.
 */
function scalar(v: string | number | boolean): void {
  let a = A;
  let b = B;
  let m: number;
  if (typeof v === 'number') {
    // `(v | 0) === v` holds for exactly the integers in int32 range (and -0, which mixes as 0, as JSON writes it).
    if ((v | 0) === v) {
      a = Math.imul(a ^ 2, 0x01000193);
      m = Math.imul(b ^ 2, 0x5bd1e995);
      b = m ^ (m >>> 15);
      a = Math.imul(a ^ v, 0x01000193);
      m = Math.imul(b ^ v, 0x5bd1e995);
      b = m ^ (m >>> 15);
    } else if (v - v === 0) {
      F64[0] = v;
      const lo = U32[0];
      const hi = U32[1];
      a = Math.imul(a ^ 3, 0x01000193);
      m = Math.imul(b ^ 3, 0x5bd1e995);
      b = m ^ (m >>> 15);
      a = Math.imul(a ^ lo, 0x01000193);
      m = Math.imul(b ^ lo, 0x5bd1e995);
      b = m ^ (m >>> 15);
      a = Math.imul(a ^ hi, 0x01000193);
      m = Math.imul(b ^ hi, 0x5bd1e995);
      b = m ^ (m >>> 15);
    } else {
      a = Math.imul(a ^ 5, 0x01000193); // NaN and ±Infinity: JSON writes null
      m = Math.imul(b ^ 5, 0x5bd1e995);
      b = m ^ (m >>> 15);
    }
    WORK++;
  } else if (typeof v === 'string') {
    const n = v.length;
    a = Math.imul(a ^ 1, 0x01000193);
    m = Math.imul(b ^ 1, 0x5bd1e995);
    b = m ^ (m >>> 15);
    a = Math.imul(a ^ n, 0x01000193);
    m = Math.imul(b ^ n, 0x5bd1e995);
    b = m ^ (m >>> 15);
    for (let i = 0; i < n; i++) {
      const c = v.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      m = Math.imul(b ^ c, 0x5bd1e995);
      b = m ^ (m >>> 15);
    }
    WORK += n + 1;
  } else {
    const x = v ? 4 : 6;
    a = Math.imul(a ^ x, 0x01000193);
    m = Math.imul(b ^ x, 0x5bd1e995);
    b = m ^ (m >>> 15);
    WORK++;
  }
  A = a;
  B = b;
}

/**
 * A nested container: hashed on its own and its two lanes mixed in. Frozen arrays cannot change, so the lanes of large
 * ones are memoised: a batch of entries sent to four followers and kept in checkpoints is hashed once. Small ones are
 * not: a WeakMap insert costs microseconds (more as the map grows with short-lived keys), far more than hashing a few
 * fields again. Objects are not either: the large ones hold their bulk in arrays (a produce command's messages, a
 * block's columns), memoised themselves, and asking the WeakMap about each of the many small frozen objects (a
 * queue's messages, its deliveries) cost more than the memo ever saved. An unfrozen copy (say, after a JSON round
 * trip) hashes to the same lanes, just without the memo.
 */
function hashNested(v: object): void {
  WORK++;
  const frozen = Array.isArray(v) && Object.isFrozen(v);
  const memo = frozen ? FROZEN.get(v) : undefined;
  if (memo !== undefined) {
    mix(memo[0]);
    return mix(memo[1]);
  }
  const pa = A;
  const pb = B;
  const work = WORK;
  A = SEED_A;
  B = SEED_B;
  hashContainer(v);
  const la = A;
  const lb = B;
  A = pa;
  B = pb;
  if (frozen && WORK - work >= MEMO_WORK_MIN) FROZEN.set(v, [la, lb]);
  mix(la);
  mix(lb);
}

const SEED_A = 0x811c9dc5;
const SEED_B = 0x01000193 ^ 0x5bd1e995;
const FROZEN = new WeakMap<object, [number, number]>();
/** Values and characters hashed so far (a running count): how much work hashing one container took. */
let WORK = 0;
/**
 * Frozen containers that took at least this much work to hash are memoised (see hashValue): about a dozen short
 * strings. Below it, hashing again is cheaper than a WeakMap insert; well above it, the memo pays from the second use.
 */
const MEMO_WORK_MIN = 96;

function hashContainer(v: object): void {
  if (Array.isArray(v)) {
    mix(7);
    mix(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === 'object') x === null ? mix(5) : hashNested(x);
      else if (typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean') scalar(x);
      else mix(5); // a hole or undefined: JSON writes null
    }
    return;
  }
  mix(8);
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (x === undefined) continue;
    mixKey(k);
    if (typeof x === 'object') x === null ? mix(5) : hashNested(x);
    else if (typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean') scalar(x);
    else mix(5);
  }
  mix(9);
}

/** Object keys repeat endlessly (t, seq, kind, from, to…): each is hashed once on its own and its lanes mixed in. */
const KEYS = new Map<string, [number, number]>();
const KEYS_MAX = 10_000;

function mixKey(k: string): void {
  let lanes = KEYS.get(k);
  if (lanes === undefined) {
    const pa = A;
    const pb = B;
    A = SEED_A;
    B = SEED_B;
    mixText(k);
    lanes = [A, B];
    A = pa;
    B = pb;
    if (KEYS.size < KEYS_MAX) KEYS.set(k, lanes);
  }
  mix(lanes[0]);
  mix(lanes[1]);
}
