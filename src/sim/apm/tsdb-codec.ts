import { assert, fail } from '../kernel/assert.ts';

/**
 * Gorilla compression for one time series (Pelkonen et al., "Gorilla: A Fast, Scalable, In-Memory Time Series
 * Database", VLDB 2015, §4.1). The notes pick a column store for metrics because "data points over time, continuous
 * data, so we can do some compression"; this is that compression, used when the lab writes a block to its simulated
 * TSDB so it can report bytes per point. It rests on two observations about monitoring data:
 *
 * - Timestamps arrive at a nearly fixed interval, so the *delta of deltas* is almost always 0 (§4.1.1). Each one is
 *   written as a prefix code: `0` for 0; `10` + 7 bits for [−63, 64]; `110` + 9 bits for [−255, 256]; `1110` + 12 bits
 *   for [−2047, 2048]; `1111` + the full value otherwise. A regular series costs one bit per timestamp.
 * - Consecutive values are close, so the XOR of their IEEE-754 bits is mostly zeros (§4.1.2): `0` when the value
 *   repeats; else `1`, then either `0` + the meaningful bits when they fit inside the previous XOR's window of leading
 *   and trailing zeros, or `1` + 5 bits of leading-zero count + 6 bits of meaningful-bit length + the bits, opening a
 *   new window. Values that are small integers or repeat compress best; decimals such as 0.1 do not (their binary
 *   expansions differ in many low bits).
 *
 * Where this differs from the paper, and why:
 * - The paper's header is a 2-hour-aligned timestamp and the first delta is stored in 14 bits. Here timestamps are
 *   integer microseconds of any span, so the first timestamp is written in 64 bits and the first delta goes through the
 *   delta-of-delta code against a previous delta of 0.
 * - The paper's last bucket holds 32 bits, enough for seconds within a 2-hour block. A microsecond delta of delta can
 *   exceed 2^31 (a 36-minute gap), so the last bucket holds 64 bits, as Prometheus's chunk encoding does.
 * - Timestamps may go backwards (negative deltas round-trip); the TSDB decides whether to allow that, not the codec.
 * - Values: any float64 round-trips bit for bit, including −0, ±Infinity and subnormals. NaN round-trips as NaN (JS
 *   exposes a single NaN, so payload bits are not preserved).
 *
 * The bit buffer is a growable `Uint8Array` that lives only during one call. Stored state stays plain data: keep the
 * result as a `SeriesBlock` (base64 text) via `encodeBlock`.
 */

/** Largest |timestamp| accepted (µs, about 35.7 years), so every delta of deltas stays an exact safe integer. */
export const TIMESTAMP_ABS_MAX = 2 ** 50;
/** Most points in one encoded series; the paper's blocks hold two hours (7,200 points at 1 s). */
export const SERIES_POINTS_MAX = 1_000_000;
/** The first buffer size; it doubles when full. */
const BUFFER_BYTES_INITIAL = 64;

export interface Point {
  /** Integer microseconds. */
  t: number;
  v: number;
}

export interface EncodedSeries {
  /** `ceil(bits / 8)` bytes; the last byte's unused low bits are 0. */
  bytes: Uint8Array;
  bits: number;
}

// ---------------------------------------------------------------------------------------------------------------------
// Bits
// ---------------------------------------------------------------------------------------------------------------------

interface BitWriter {
  buf: Uint8Array;
  bits: number;
}

interface BitReader {
  buf: Uint8Array;
  pos: number;
}

/** Appends the low `n` bits of `value` (0 ≤ n ≤ 32), most significant first, a byte-sized chunk at a time. */
function writeBits(w: BitWriter, value: number, n: number): void {
  assert(n >= 0 && n <= 32, 'at most 32 bits per write');
  if (w.bits + n > w.buf.length * 8) {
    const grown = new Uint8Array(Math.max(w.buf.length * 2, Math.ceil((w.bits + n) / 8)));
    grown.set(w.buf);
    w.buf = grown;
  }
  let left = n;
  while (left > 0) {
    const free = 8 - (w.bits & 7);
    const take = Math.min(free, left);
    const chunk = ((value >>> (left - take)) & ((1 << take) - 1)) << (free - take);
    w.buf[w.bits >>> 3] |= chunk;
    w.bits += take;
    left -= take;
  }
}

/** Reads `n` bits (0 ≤ n ≤ 32) as an unsigned number. */
function readBits(r: BitReader, n: number): number {
  if (r.pos + n > r.buf.length * 8) fail(`gorilla: read past the end (bit ${r.pos} + ${n} of ${r.buf.length * 8})`);
  let value = 0;
  let left = n;
  while (left > 0) {
    const used = r.pos & 7;
    const take = Math.min(8 - used, left);
    const chunk = (r.buf[r.pos >>> 3] >>> (8 - used - take)) & ((1 << take) - 1);
    value = value * 2 ** take + chunk; // multiplication, not <<: 32-bit values must stay unsigned
    r.pos += take;
    left -= take;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------------
// 64-bit words as [hi, lo] pairs of unsigned 32-bit numbers
// ---------------------------------------------------------------------------------------------------------------------

type Word = [hi: number, lo: number];

const scratch = new DataView(new ArrayBuffer(8));

function floatBits(v: number): Word {
  scratch.setFloat64(0, v);
  return [scratch.getUint32(0), scratch.getUint32(4)];
}

function bitsFloat(hi: number, lo: number): number {
  scratch.setUint32(0, hi);
  scratch.setUint32(4, lo);
  return scratch.getFloat64(0);
}

function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

function ctz64(hi: number, lo: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
}

function shiftRight64(hi: number, lo: number, s: number): Word {
  if (s === 0) return [hi, lo];
  if (s >= 32) return [0, hi >>> (s - 32)];
  return [hi >>> s, ((lo >>> s) | (hi << (32 - s))) >>> 0];
}

function shiftLeft64(hi: number, lo: number, s: number): Word {
  if (s === 0) return [hi, lo];
  if (s >= 32) return [(lo << (s - 32)) >>> 0, 0];
  return [((hi << s) | (lo >>> (32 - s))) >>> 0, (lo << s) >>> 0];
}

function mask(n: number): number {
  return n >= 32 ? 0xffffffff : (1 << n) - 1;
}

/** Writes the low `n` bits (1 ≤ n ≤ 64) of the word [hi, lo]. */
function writeWord(w: BitWriter, hi: number, lo: number, n: number): void {
  if (n > 32) {
    writeBits(w, hi & mask(n - 32), n - 32);
    writeBits(w, lo, 32);
  } else {
    writeBits(w, lo & mask(n), n);
  }
}

function readWord(r: BitReader, n: number): Word {
  if (n > 32) {
    const hi = readBits(r, n - 32);
    return [hi, readBits(r, 32)];
  }
  return [0, readBits(r, n)];
}

/** A signed integer (|x| < 2^53) as 64-bit two's complement. */
function writeSigned64(w: BitWriter, x: number): void {
  const hi = Math.floor(x / 2 ** 32);
  writeBits(w, hi >>> 0, 32);
  writeBits(w, x - hi * 2 ** 32, 32);
}

function readSigned64(r: BitReader): number {
  const hi = readBits(r, 32) | 0;
  return hi * 2 ** 32 + readBits(r, 32);
}

// ---------------------------------------------------------------------------------------------------------------------
// Timestamps: delta of deltas (§4.1.1)
// ---------------------------------------------------------------------------------------------------------------------

/**
 * The paper's buckets after the `0` for a zero delta of deltas: a prefix of `ones` 1-bits and a 0, then `bits` bits of
 * two's complement. A bucket of `bits` bits holds [−(2^(bits−1) − 1), 2^(bits−1)] — the paper's asymmetric ranges,
 * decoded by treating any payload above 2^(bits−1) as negative. Four 1-bits escape to a 64-bit value.
 */
const DOD_BUCKETS = [
  { ones: 1, bits: 7 },
  { ones: 2, bits: 9 },
  { ones: 3, bits: 12 },
] as const;
const DOD_ESCAPE_ONES = 4;

function writeDeltaOfDelta(w: BitWriter, dod: number): void {
  if (dod === 0) {
    writeBits(w, 0, 1);
    return;
  }
  for (const { ones, bits } of DOD_BUCKETS) {
    const half = 2 ** (bits - 1);
    if (dod >= -(half - 1) && dod <= half) {
      writeBits(w, ((1 << ones) - 1) << 1, ones + 1); // `ones` 1-bits, then a 0
      writeBits(w, dod & mask(bits), bits);
      return;
    }
  }
  writeBits(w, (1 << DOD_ESCAPE_ONES) - 1, DOD_ESCAPE_ONES);
  writeSigned64(w, dod);
}

function readDeltaOfDelta(r: BitReader): number {
  if (readBits(r, 1) === 0) return 0;
  let ones = 1;
  while (ones < DOD_ESCAPE_ONES && readBits(r, 1) === 1) ones++;
  if (ones === DOD_ESCAPE_ONES) return readSigned64(r);
  const { bits } = DOD_BUCKETS[ones - 1];
  const payload = readBits(r, bits);
  return payload > 2 ** (bits - 1) ? payload - 2 ** bits : payload;
}

// ---------------------------------------------------------------------------------------------------------------------
// Values: XOR with the previous value (§4.1.2)
// ---------------------------------------------------------------------------------------------------------------------

/** The previous value's bits and the current window of meaningful XOR bits (`leading` −1: no window yet). */
interface XorState {
  hi: number;
  lo: number;
  leading: number;
  trailing: number;
}

/** Leading zeros are written in 5 bits, so at most 31 are counted; the rest become meaningful bits. */
const LEADING_ZEROS_MAX = 31;

function writeValue(w: BitWriter, st: XorState, v: number): void {
  const [hi, lo] = floatBits(v);
  const xh = (hi ^ st.hi) >>> 0;
  const xl = (lo ^ st.lo) >>> 0;
  st.hi = hi;
  st.lo = lo;
  if (xh === 0 && xl === 0) {
    writeBits(w, 0, 1); // the same value again
    return;
  }
  const leading = Math.min(LEADING_ZEROS_MAX, clz64(xh, xl));
  const trailing = ctz64(xh, xl);
  if (st.leading >= 0 && leading >= st.leading && trailing >= st.trailing) {
    writeBits(w, 0b10, 2); // fits the previous window: reuse it
    const [mh, ml] = shiftRight64(xh, xl, st.trailing);
    writeWord(w, mh, ml, 64 - st.leading - st.trailing);
    return;
  }
  const length = 64 - leading - trailing;
  assert(length >= 1 && length <= 64, 'a non-zero XOR has 1 to 64 meaningful bits');
  writeBits(w, 0b11, 2); // a new window
  writeBits(w, leading, 5);
  writeBits(w, length & 63, 6); // 64 is written as 0: a length of 0 never occurs
  const [mh, ml] = shiftRight64(xh, xl, trailing);
  writeWord(w, mh, ml, length);
  st.leading = leading;
  st.trailing = trailing;
}

function readValue(r: BitReader, st: XorState): number {
  if (readBits(r, 1) === 1) {
    if (readBits(r, 1) === 1) {
      const leading = readBits(r, 5);
      const length = readBits(r, 6) || 64;
      if (leading + length > 64) fail(`gorilla: corrupt value window (${leading} leading zeros + ${length} bits)`);
      st.leading = leading;
      st.trailing = 64 - leading - length;
    } else if (st.leading < 0) {
      fail('gorilla: corrupt stream (a value reuses a window before any was opened)');
    }
    const [mh, ml] = readWord(r, 64 - st.leading - st.trailing);
    const [xh, xl] = shiftLeft64(mh, ml, st.trailing);
    st.hi = (st.hi ^ xh) >>> 0;
    st.lo = (st.lo ^ xl) >>> 0;
  }
  return bitsFloat(st.hi, st.lo);
}

// ---------------------------------------------------------------------------------------------------------------------
// Series
// ---------------------------------------------------------------------------------------------------------------------

function checkPoints(points: readonly Point[]): void {
  if (points.length > SERIES_POINTS_MAX) {
    fail(`gorilla: ${points.length} points > SERIES_POINTS_MAX (${SERIES_POINTS_MAX})`);
  }
  for (let i = 0; i < points.length; i++) {
    const { t, v } = points[i];
    if (!(Number.isSafeInteger(t) && Math.abs(t) <= TIMESTAMP_ABS_MAX)) {
      fail(`gorilla: point ${i}: t must be an integer µs within ±2^50, got ${t}`);
    }
    if (typeof v !== 'number') fail(`gorilla: point ${i}: v must be a number`);
  }
}

/**
 * Encodes points in order (not sorted: the order is the data). Layout: the first timestamp (64 bits) and value (64
 * bits), then for each further point its delta of deltas and its XORed value, interleaved as in the paper.
 */
export function encodeSeries(points: readonly Point[]): EncodedSeries {
  checkPoints(points);
  const w: BitWriter = { buf: new Uint8Array(BUFFER_BYTES_INITIAL), bits: 0 };
  if (points.length === 0) return { bytes: new Uint8Array(0), bits: 0 };
  const [hi, lo] = floatBits(points[0].v);
  writeSigned64(w, points[0].t);
  writeBits(w, hi, 32);
  writeBits(w, lo, 32);
  const st: XorState = { hi, lo, leading: -1, trailing: 0 };
  let delta = 0;
  for (let i = 1; i < points.length; i++) {
    const next = points[i].t - points[i - 1].t;
    writeDeltaOfDelta(w, next - delta);
    delta = next;
    writeValue(w, st, points[i].v);
  }
  const bytes = w.buf.slice(0, Math.ceil(w.bits / 8));
  return { bytes, bits: w.bits };
}

/** Decodes `count` points; fails on a stream too short for them, never returns garbage silently. */
export function decodeSeries(bytes: Uint8Array, count: number): Point[] {
  if (!(Number.isSafeInteger(count) && count >= 0 && count <= SERIES_POINTS_MAX)) fail(`gorilla: bad count ${count}`);
  const points: Point[] = [];
  if (count === 0) return points;
  const r: BitReader = { buf: bytes, pos: 0 };
  let t = readSigned64(r);
  const st: XorState = { hi: readBits(r, 32), lo: readBits(r, 32), leading: -1, trailing: 0 };
  points.push({ t, v: bitsFloat(st.hi, st.lo) });
  let delta = 0;
  for (let i = 1; i < count; i++) {
    delta += readDeltaOfDelta(r);
    t += delta;
    points.push({ t, v: readValue(r, st) });
  }
  assert(Math.ceil(r.pos / 8) <= bytes.length, 'decoding stayed within the bytes');
  return points;
}

/** Encoded bytes per point, the paper's headline measure (it reports 1.37 on Facebook's production data). */
export function bytesPerPoint(points: readonly Point[]): number {
  assert(points.length > 0, 'bytes per point of an empty series');
  return encodeSeries(points).bytes.length / points.length;
}

// ---------------------------------------------------------------------------------------------------------------------
// A block as plain data
// ---------------------------------------------------------------------------------------------------------------------

/** An encoded series as plain data, for simulation state and trace files: the bytes as base64 text. */
export interface SeriesBlock {
  count: number;
  bits: number;
  base64: string;
}

export function encodeBlock(points: readonly Point[]): SeriesBlock {
  const { bytes, bits } = encodeSeries(points);
  return { count: points.length, bits, base64: toBase64(bytes) };
}

export function decodeBlock(block: SeriesBlock): Point[] {
  const bytes = fromBase64(block.base64);
  if (bytes.length !== Math.ceil(block.bits / 8)) fail(`gorilla block: ${bytes.length} bytes for ${block.bits} bits`);
  return decodeSeries(bytes, block.count);
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding. Written out because `btoa` is a browser global and src/sim avoids them. */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += BASE64[(n >>> 18) & 63] + BASE64[(n >>> 12) & 63];
    out += i + 1 < bytes.length ? BASE64[(n >>> 6) & 63] : '=';
    out += i + 2 < bytes.length ? BASE64[n & 63] : '=';
  }
  return out;
}

export function fromBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) fail('base64: malformed text');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  for (let i = 0, o = 0; i < text.length; i += 4) {
    let n = 0;
    for (let k = 0; k < 4; k++) n = (n << 6) | (text[i + k] === '=' ? 0 : BASE64.indexOf(text[i + k]));
    for (let k = 0; k < 3 && o < out.length; k++) out[o++] = (n >>> (16 - 8 * k)) & 255;
  }
  return out;
}
