import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { quantileSorted } from '../sim/kernel/metrics.ts';
import { Lab } from '../sim/lab.ts';
import { CliError, durationFlag, needPositional, parseFlags, printJson } from './args.ts';
import { withRandomFaults } from './faults.ts';
import { faultsFlag } from './run.ts';
import { resolveScenario } from './scenario-ref.ts';
import type { SeedResult, SweepJob } from './sweep-run.ts';

export const SEEDS_MAX = 1_000_000;
export const JOBS_MAX = 256;
/** Failing seeds described on stderr (the JSON on stdout lists them all). */
const FAILURES_SHOWN_MAX = 10;

export interface SweepOutput {
  runs: number;
  /** The number of runs with at least one violation (or a simulator error); equals failingSeeds.length. */
  violations: number;
  failingSeeds: string[];
  metrics: Record<string, { p50: number; p90: number; p99: number; max: number }>;
}

/** `1..1000`, `1,7,abc`, or both (`1..10,42`); duplicates are dropped, order kept. */
export function parseSeeds(text: string): string[] {
  const out = new Set<string>();
  for (const part of text.split(',').map((s) => s.trim())) {
    if (part === '') throw new CliError(`--seeds: empty item in ${JSON.stringify(text)}`);
    const range = /^(\d+)\.\.(\d+)$/.exec(part);
    if (range) {
      const [lo, hi] = [Number(range[1]), Number(range[2])];
      if (lo > hi || hi - lo + 1 > SEEDS_MAX) throw new CliError(`--seeds: bad range ${part} (want lo..hi with at most ${SEEDS_MAX} seeds)`);
      for (let s = lo; s <= hi; s++) out.add(String(s));
    } else {
      if (part.length > 200 || part.includes('..')) throw new CliError(`--seeds: bad seed ${JSON.stringify(part)}`);
      out.add(part);
    }
    if (out.size > SEEDS_MAX) throw new CliError(`--seeds: more than ${SEEDS_MAX} seeds`);
  }
  return [...out];
}

function jobsFlag(text: string | undefined, seeds: number): number {
  const n = text === undefined ? availableParallelism() : Number(text);
  if (!Number.isInteger(n) || n < 1 || n > JOBS_MAX) throw new CliError(`--jobs: expected a whole number 1..${JOBS_MAX}, got ${JSON.stringify(text)}`);
  return Math.min(n, seeds);
}

/**
 * `sweep <scenario> --seeds 1..1000 [--faults random] [--bug NAME]... [--until D] [--jobs N]`: runs every seed on
 * worker threads and prints `{runs, violations, failingSeeds, metrics}`; exit 1 when any run violates.
 */
export async function sweepCommand(args: string[]): Promise<number> {
  const p = parseFlags(args, {
    seeds: { type: 'string' },
    faults: { type: 'string' },
    bug: { type: 'string', multiple: true },
    until: { type: 'string' },
    jobs: { type: 'string' },
  }, 1);
  const ref = needPositional(p, 'scenario id or file');
  const v = p.values as { seeds?: string; faults?: string; bug?: string[]; until?: string; jobs?: string };
  if (v.seeds === undefined) throw new CliError('--seeds is required (e.g. --seeds 1..1000)', 2, true);
  const seeds = parseSeeds(v.seeds);
  const job: SweepJob = { input: resolveScenario(ref), bugs: v.bug ?? [], randomFaults: faultsFlag(v.faults), untilUs: durationFlag('--until', v.until) };
  // Validate once up front, so a typo fails with exit 2 instead of as a thousand failing seeds.
  new Lab().load(job.randomFaults ? withRandomFaults(job.input, seeds[0]) : job.input, { seed: seeds[0], bugs: job.bugs, keepEvents: false });
  const results = await runPool(job, seeds, jobsFlag(v.jobs, seeds.length));
  const out = aggregate(results);
  describeFailures(results, out, ref, v);
  printJson(out);
  return out.violations > 0 ? 1 : 0;
}

/** Runs `seeds` on `jobs` worker threads, handing each worker its next seed as it answers. */
function runPool(job: SweepJob, seeds: string[], jobs: number): Promise<SeedResult[]> {
  const results: SeedResult[] = [];
  const progress = progressReporter(seeds.length);
  let next = 0;
  return new Promise((resolve, reject) => {
    const workers: Worker[] = [];
    let finished = false;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      for (const w of workers) void w.terminate();
      progress.done();
      if (err) reject(err);
      else resolve(results);
    };
    for (let i = 0; i < jobs; i++) {
      const w = new Worker(new URL('./sweep-worker.mjs', import.meta.url), { workerData: job });
      workers.push(w);
      w.on('message', (r: SeedResult) => {
        results.push(r);
        progress.tick(r.violations > 0);
        if (results.length === seeds.length) finish();
        else if (next < seeds.length) w.postMessage({ seed: seeds[next++] });
      });
      w.on('error', (e) => finish(new Error(`sweep worker failed: ${e.message}`)));
      w.on('exit', (code) => finish(new Error(`a sweep worker exited early (code ${code})`)));
      w.postMessage({ seed: seeds[next++] });
    }
  });
}

function progressReporter(total: number) {
  const tty = process.stderr.isTTY === true;
  let done = 0;
  let failing = 0;
  let shownAt = 0;
  return {
    tick(failed: boolean) {
      done++;
      if (failed) failing++;
      const now = Date.now();
      if (!tty || (now - shownAt < 100 && done < total)) return;
      shownAt = now;
      process.stderr.write(`\rsweep: ${done}/${total} runs, ${failing} failing`);
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}

/** Seeds sort numerically when both are numbers, otherwise as strings. */
export function compareSeeds(a: string, b: string): number {
  const numeric = /^\d+$/;
  if (numeric.test(a) && numeric.test(b)) return Number(a) - Number(b) || a.localeCompare(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function aggregate(results: readonly SeedResult[]): SweepOutput {
  const failingSeeds = results.filter((r) => r.violations > 0).map((r) => r.seed).sort(compareSeeds);
  const values = new Map<string, number[]>();
  for (const r of results) {
    for (const [name, x] of Object.entries(r.metrics)) {
      if (!values.has(name)) values.set(name, []);
      values.get(name)!.push(x);
    }
  }
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const metrics: SweepOutput['metrics'] = {};
  for (const name of [...values.keys()].sort()) {
    const sorted = Float64Array.from(values.get(name)!).sort();
    const arr = Array.from(sorted);
    metrics[name] = { p50: round(quantileSorted(arr, 0.5)), p90: round(quantileSorted(arr, 0.9)), p99: round(quantileSorted(arr, 0.99)), max: round(arr[arr.length - 1]) };
  }
  return { runs: results.length, violations: failingSeeds.length, failingSeeds, metrics };
}

/** On stderr: what the first failing seeds broke, and the command that re-runs one alone. */
function describeFailures(results: readonly SeedResult[], out: SweepOutput, ref: string, v: { faults?: string; bug?: string[]; until?: string }): void {
  if (out.violations === 0) return;
  const bySeed = new Map(results.map((r) => [r.seed, r]));
  for (const seed of out.failingSeeds.slice(0, FAILURES_SHOWN_MAX)) {
    const r = bySeed.get(seed)!;
    const f = r.first;
    const what = r.error !== undefined ? `the simulator threw: ${r.error}` : f ? `${f.checker} at ${f.t / 1000} ms: ${f.message}` : 'failed';
    process.stderr.write(`seed ${seed}: ${what}\n`);
  }
  if (out.failingSeeds.length > FAILURES_SHOWN_MAX) process.stderr.write(`… and ${out.failingSeeds.length - FAILURES_SHOWN_MAX} more\n`);
  const flags = [
    v.faults ? ` --faults ${v.faults}` : '',
    ...(v.bug ?? []).map((b) => ` --bug ${b}`),
    v.until ? ` --until ${v.until}` : '',
  ].join('');
  process.stderr.write(`re-run one: npm run --silent sim -- run ${ref} --seed ${JSON.stringify(out.failingSeeds[0])}${flags}\n`);
}
