import { statSync, readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDuration, type Micros } from '../sim/kernel/time.ts';
import { TRACE_TEXT_MAX } from '../sim/tracefile.ts';

/**
 * Shared pieces of the CLI: exit codes, the error type that carries one, flag parsing per command, and reading an
 * input file with its size checked before a byte of it is read.
 */

/** 0 ok · 1 a run violated an invariant, or a replay diverged · 2 bad usage or invalid input · 3 the tool itself failed. */
export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly code: ExitCode = EXIT.usage,
    /** Print the usage text after the message. */
    readonly showUsage = false,
  ) {
    super(message);
  }
}

export const USAGE = `usage: npm run --silent sim -- <command> [options]

commands:
  list [--json]                        scenario ids, titles and tags
  run <scenario-id | scenario.json>    run one seed; prints one JSON summary line
      [--seed S] [--until 30s] [--out FILE] [--format F] [--faults random] [--bug NAME]...
  sweep <scenario-id | scenario.json> --seeds 1..1000
      [--faults random] [--bug NAME]... [--until D] [--jobs N]
                                       run many seeds on all cores; exit 1 when any run violates an invariant
  replay FILE                          re-run a trace from its scenario, seed and actions; exit 0 only when identical
  validate FILE                        check a trace or scenario file; exit 2 naming the first problem
  export FILE --format F [--out OUT]   convert a trace file without re-running it (to stdout without --out)

--format F: json | jsonl (native traces) · perfetto (Chrome trace-event JSON for ui.perfetto.dev) · shiviz (log with
  vector clocks) · csv-wal | csv-ledger | csv-series (one CSV table) · csv (all three: OUT.wal.csv, OUT.ledger.csv,
  OUT.series.csv). Without --format the --out name decides (.jsonl, .perfetto.json, .shiviz.log, .wal.csv, …, .csv),
  else json. The UI's export menu writes the same bytes.
--until stops the run early; it cannot extend a scenario past its own duration.
--seeds takes a range (1..1000), a comma list (1,7,abc) or both (1..10,42).
--faults random appends a seeded random fault schedule (stream "faults:random" of the run's seed), so
  \`run <scenario> --seed S --faults random\` re-runs exactly what a sweep ran for seed S.
exit codes: 0 ok · 1 violation or divergence · 2 bad usage or invalid input · 3 internal error`;

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Parses `args` strictly against `options`; unknown flags and missing values are usage errors (exit 2). */
export function parseFlags(args: string[], options: Options, positionalsMax: number): Parsed {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new CliError(`${e instanceof Error ? e.message : String(e)}`, EXIT.usage, true);
  }
  if (parsed.positionals.length > positionalsMax) {
    throw new CliError(`unexpected argument ${JSON.stringify(parsed.positionals[positionalsMax])}`, EXIT.usage, true);
  }
  return parsed as Parsed;
}

export function needPositional(p: Parsed, what: string): string {
  const v = p.positionals[0];
  if (v === undefined || v === '') throw new CliError(`missing ${what}`, EXIT.usage, true);
  return v;
}

/** `--until` and friends: "30s", "1500ms", "2m", "800us"; a bare number is milliseconds. */
export function durationFlag(flag: string, text: string | undefined): Micros | undefined {
  if (text === undefined) return undefined;
  const us = parseDuration(text);
  if (us === null || us <= 0) throw new CliError(`${flag}: expected a positive duration such as "30s", "1500ms" or "2m", got ${JSON.stringify(text)}`);
  return us;
}

/** Reads a UTF-8 input file, refusing anything larger than the trace limit before reading it. */
export function readInputFile(path: string): string {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new CliError(`${path}: not a regular file`);
    size = st.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (size > TRACE_TEXT_MAX) {
    throw new CliError(`${path}: file is ${(size / 1024 / 1024).toFixed(1)} MiB; the limit is ${TRACE_TEXT_MAX / 1024 / 1024} MiB`);
  }
  return readFileSync(path, 'utf8');
}

/** One JSON line on stdout: the machine-readable result of every command but `list`. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

/** Error messages stay on one line so scripts can grep them. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

export function errorMessage(e: unknown): string {
  return oneLine(e instanceof Error ? e.message : String(e));
}
