import { Lab } from '../sim/lab.ts';
import type { MetricValue } from '../sim/kernel/metrics.ts';
import type { Micros } from '../sim/kernel/time.ts';
import type { ScenarioInput } from '../scenarios/schema.ts';
import { withRandomFaults } from './faults.ts';

/**
 * One seed of a sweep, shared by the worker threads and the bench. Runs without keeping events (the hash alone
 * identifies a run) and returns only what the sweep aggregates: the violation count, the first violation, and the
 * run's metrics flattened to scalars.
 */
export interface SweepJob {
  input: ScenarioInput;
  bugs: string[];
  randomFaults: boolean;
  untilUs?: Micros;
}

export interface SeedResult {
  seed: string;
  violations: number;
  /** The first violation. */
  first?: { checker: string; message: string; t: Micros };
  /** The error that stopped the run: a simulator assertion is a finding too, counted as one violation. */
  error?: string;
  traceHash?: string;
  metrics: Record<string, number>;
}

/**
 * Sample summaries are flattened to `name.p50`, `name.p99` and `name.max` (e.g. `rttMs.p99`); counters keep their
 * name. A sweep then takes percentiles of each across runs: `rttMs.p99: {p50, p90, p99, max}` reads "the per-run p99
 * round trip, at the median run, the 90th-percentile run, …". Per-run percentiles are never averaged.
 */
export function flattenMetrics(metrics: Record<string, MetricValue>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(metrics)) {
    if (typeof v === 'number') out[name] = v;
    else {
      out[`${name}.p50`] = v.p50;
      out[`${name}.p99`] = v.p99;
      out[`${name}.max`] = v.max;
    }
  }
  return out;
}

export function runSeed(job: SweepJob, seed: string): SeedResult {
  try {
    const input = job.randomFaults ? withRandomFaults(job.input, seed) : job.input;
    const lab = new Lab();
    lab.load(input, { seed, bugs: job.bugs, keepEvents: false });
    lab.runToEnd(job.untilUs);
    const s = lab.summary();
    const v = s.violations[0];
    // An expectation that fails (liveness under random faults, or the scenario's own claims) fails the run too.
    const failed = lab.snapshot().expectations.filter((e) => e.status === 'fail' && e.check !== 'no-violations');
    return {
      seed,
      violations: s.violations.length + failed.length,
      ...(v ? { first: { checker: v.checker, message: v.message, t: v.t } } : failed[0] ? { first: { checker: 'expectation', message: `${failed[0].text} — ${failed[0].detail}`, t: s.virtualMs * 1000 } } : {}),
      traceHash: s.traceHash,
      metrics: flattenMetrics(s.metrics),
    };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { seed, violations: 1, error: message, metrics: {} };
  }
}
