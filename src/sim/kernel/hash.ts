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
  private a = 0x811c9dc5;
  private b = 0x01000193 ^ 0x5bd1e995;

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

  private mix(x: number): void {
    this.a = Math.imul(this.a ^ x, 0x01000193);
    const b = Math.imul(this.b ^ x, 0x5bd1e995);
    this.b = b ^ (b >>> 15);
  }

  private text(s: string): void {
    this.mix(s.length);
    for (let i = 0; i < s.length; i++) this.mix(s.charCodeAt(i));
  }

  updateValue(v: unknown): void {
    switch (typeof v) {
      case 'string':
        this.mix(1);
        return this.text(v);
      case 'number':
        if (Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) {
          this.mix(2);
          return this.mix(v | 0);
        }
        if (!Number.isFinite(v)) return this.mix(5);
        F64[0] = v;
        this.mix(3);
        this.mix(U32[0]);
        return this.mix(U32[1]);
      case 'boolean':
        return this.mix(v ? 4 : 6);
      case 'object': {
        if (v === null) return this.mix(5);
        if (Array.isArray(v)) {
          this.mix(7);
          this.mix(v.length);
          for (let i = 0; i < v.length; i++) this.updateValue(v[i] === undefined ? null : v[i]);
          return;
        }
        this.mix(8);
        const o = v as Record<string, unknown>;
        for (const k in o) {
          const x = o[k];
          if (x === undefined) continue;
          this.text(k);
          this.updateValue(x);
        }
        return this.mix(9);
      }
      default:
        return this.mix(5); // undefined, functions: JSON writes null (or nothing)
    }
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
