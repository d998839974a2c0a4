import { Lab } from '../sim/lab.ts';
import { CliError, durationFlag, needPositional, parseFlags, printJson } from './args.ts';
import { cliFormat, writeExports, type CliFormat } from './export.ts';
import { withRandomFaults } from './faults.ts';
import { resolveScenario } from './scenario-ref.ts';

export const RUN_OPTIONS = {
  seed: { type: 'string' },
  until: { type: 'string' },
  out: { type: 'string' },
  format: { type: 'string' },
  faults: { type: 'string' },
  bug: { type: 'string', multiple: true },
} as const;

/** `--faults` takes one value today; other schedules (e.g. a named nemesis) can join later. */
export function faultsFlag(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (value !== 'random') throw new CliError(`--faults: expected "random", got ${JSON.stringify(value)}`);
  return true;
}

function formatFlag(format: string | undefined, out: string | undefined): CliFormat {
  if (format !== undefined && out === undefined) throw new CliError('--format needs --out FILE');
  return cliFormat(format, out);
}

/**
 * `run <scenario-id | scenario.json> [--seed S] [--until D] [--out FILE] [--format json|jsonl|perfetto|shiviz|csv|csv-wal|csv-ledger|csv-series] [--faults random]
 * [--bug NAME]...`: runs one seed to the end (or to `--until`, capped at the scenario's duration) and prints
 * `Lab.summary()` as one JSON line. Violations are reported in the summary, not by the exit code: a completed run
 * exits 0 (only `sweep` turns violations into exit 1).
 */
export function runCommand(args: string[]): number {
  const p = parseFlags(args, RUN_OPTIONS, 1);
  const ref = needPositional(p, 'scenario id or file');
  const v = p.values as { seed?: string; until?: string; out?: string; format?: string; faults?: string; bug?: string[] };
  const untilUs = durationFlag('--until', v.until);
  const format = formatFlag(v.format, v.out);
  const random = faultsFlag(v.faults);
  let input = resolveScenario(ref);
  const seed = v.seed ?? (typeof input.seed === 'string' ? input.seed : '');
  if (random) input = withRandomFaults(input, seed);
  const lab = new Lab();
  lab.load(input, { seed: v.seed, bugs: v.bug ?? [], keepEvents: v.out !== undefined });
  const end = lab.runToEnd(untilUs);
  if (untilUs !== undefined && untilUs > end.durationUs) {
    process.stderr.write(`run: --until is past the scenario's ${end.durationUs / 1000} ms; stopped at its end\n`);
  }
  // Written chunk by chunk from the run's own events: a long run is never held twice.
  if (v.out !== undefined) writeExports(format, v.out, (f) => lab.exportChunks(f));
  printJson(lab.summary());
  return 0;
}
