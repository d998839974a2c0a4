import seedrandom from 'seedrandom';
import { assert, fail } from './assert.ts';

/**
 * Named random streams. Every consumer asks for a stream by name (`net`, `faults`, `node:b2:election`, …); each is an
 * ARC4 generator seeded with `root + '/' + name`, so adding a node or a new consumer never shifts another stream's
 * draws. Stream states are plain data and are saved in checkpoints.
 */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

type Arc4 = seedrandom.PRNG & { state(): object };

class Stream implements Rng {
  constructor(private readonly g: Arc4) {}

  next(): number {
    return this.g();
  }

  int(lo: number, hi: number): number {
    if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo <= hi)) fail(`rng.int needs integers lo <= hi, got ${lo}, ${hi}`);
    return lo + Math.floor(this.g() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    if (!(p >= 0 && p <= 1)) fail(`probability must be within [0, 1], got ${p}`);
    return p > 0 && this.g() < p;
  }

  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'rng.pick from an empty list');
    return items[Math.floor(this.g() * items.length)];
  }
}

export class RngStreams {
  private readonly streams = new Map<string, Stream>();
  private readonly gens = new Map<string, Arc4>();

  constructor(
    readonly root: string,
    private saved: Record<string, object> = {},
  ) {}

  /** The stream called `name`; the same object for the same name, so callers may keep it. */
  stream(name: string): Rng {
    let s = this.streams.get(name);
    if (!s) {
      const state = this.saved[name];
      const g = (state ? seedrandom('', { state: state as never }) : seedrandom(`${this.root}/${name}`, { state: true })) as Arc4;
      this.gens.set(name, g);
      this.streams.set(name, (s = new Stream(g)));
    }
    return s;
  }

  /** Plain-data states of every stream used so far, for a checkpoint. */
  save(): Record<string, object> {
    const out: Record<string, object> = { ...this.saved };
    for (const [name, g] of this.gens) out[name] = g.state();
    return out;
  }
}
