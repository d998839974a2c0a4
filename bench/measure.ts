import { quantileSorted } from '../src/sim/kernel/metrics.ts';
import { pingPong } from '../src/scenarios/ping-pong.ts';
import type { ScenarioInput } from '../src/scenarios/schema.ts';
import type { Lab } from '../src/sim/lab.ts';

/** Helpers shared by the benches: memory peaks, percentiles, scenario variants, chunked runs. */

const MB = 1024 * 1024;

/** Peak rss and heapUsed, sampled whenever a bench calls `sample()` (between run chunks, after each seek). */
export class MemorySampler {
  rssMbMax = 0;
  heapUsedMbMax = 0;

  sample(): void {
    const m = process.memoryUsage();
    this.rssMbMax = Math.max(this.rssMbMax, round(m.rss / MB, 1));
    this.heapUsedMbMax = Math.max(this.heapUsedMbMax, round(m.heapUsed / MB, 1));
  }

  /** The baseline before a bench: a GC first when node runs with --expose-gc (bench children do). */
  startBench(): void {
    (globalThis as { gc?: () => void }).gc?.();
    this.sample();
  }
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function percentiles(values: readonly number[]): { p50: number; p90: number; max: number } {
  const sorted = Array.from(Float64Array.from(values).sort());
  return { p50: round(quantileSorted(sorted, 0.5)), p90: round(quantileSorted(sorted, 0.9)), max: round(sorted[sorted.length - 1]) };
}

/** ping-pong with `nodes` pingers (n1, n2, …) for `duration`; its own faults (on n2 and n5) stay as they are. */
export function pingPongVariant(id: string, nodes: number, duration: string): ScenarioInput {
  const s = structuredClone(pingPong);
  s.id = id;
  s.duration = duration;
  s.topology.nodes = Array.from({ length: nodes }, (_, i) => ({ id: `n${i + 1}`, kind: 'pinger' }));
  return s;
}

/** Runs a loaded lab to its end in `chunks` slices of virtual time, sampling memory between slices. */
export function runChunked(lab: Lab, durationUs: number, memory: MemorySampler, chunks = 20): void {
  for (let i = 1; i <= chunks; i++) {
    lab.step({ until: Math.round((durationUs * i) / chunks) });
    memory.sample();
  }
}
