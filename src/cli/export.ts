import { closeSync, openSync, writeSync } from 'node:fs';
import { EXPORT_FORMAT_NAMES, exportChunks, formatInfo, isExportFormat, type ExportFormat } from '../sim/export/index.ts';
import { headerOf, parseTrace } from '../sim/tracefile.ts';
import { CliError, needPositional, parseFlags, printJson, readInputFile } from './args.ts';

/**
 * Export formats on the command line, shared by `run --format` and `export`. Both go through `exportChunks`, the
 * function the Lab (and so the UI) uses, so the same events give the same bytes everywhere. Files are written chunk
 * by chunk as the exporter yields them; nothing holds the whole file.
 *
 * `--format csv` is shorthand for all three CSV tables: with `--out run.csv` it writes run.wal.csv, run.ledger.csv
 * and run.series.csv.
 */

/** A format as the CLI takes it: one of the export formats, or `csv` for every CSV table. */
export type CliFormat = ExportFormat | 'csv';
export const CSV_FORMATS: readonly ExportFormat[] = ['csv-wal', 'csv-ledger', 'csv-series'];
export const CLI_FORMATS: readonly CliFormat[] = [...EXPORT_FORMAT_NAMES, 'csv'];

export interface Written {
  path: string;
  format: ExportFormat;
  bytes: number;
}

/** `--format`, or the format the `--out` file name implies (longest matching suffix; json when none matches). */
export function cliFormat(format: string | undefined, out: string | undefined): CliFormat {
  if (format !== undefined) {
    if (format === 'csv' || isExportFormat(format)) return format;
    throw new CliError(`--format: unknown format ${JSON.stringify(format)} (expected ${CLI_FORMATS.join(', ')})`);
  }
  if (out === undefined) return 'json';
  const byName = EXPORT_FORMAT_NAMES.map(formatInfo)
    .filter((f) => out.endsWith(f.suffix))
    .sort((a, b) => b.suffix.length - a.suffix.length)[0];
  if (byName) return byName.format;
  return out.endsWith('.csv') ? 'csv' : 'json';
}

/** The files a format writes for `--out out`: one, or three for `csv`. */
export function plannedFiles(format: CliFormat, out: string): { path: string; format: ExportFormat }[] {
  if (format !== 'csv') return [{ path: out, format }];
  const base = out.endsWith('.csv') ? out.slice(0, -'.csv'.length) : out;
  return CSV_FORMATS.map((f) => ({ path: base + formatInfo(f).suffix, format: f }));
}

/** Writes every planned file, each chunk as `chunksFor` yields it. */
export function writeExports(format: CliFormat, out: string, chunksFor: (format: ExportFormat) => Iterable<string>): Written[] {
  return plannedFiles(format, out).map(({ path, format: f }) => ({ path, format: f, bytes: writeChunks(path, chunksFor(f)) }));
}

function writeChunks(path: string, chunks: Iterable<string>): number {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new CliError(`${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let bytes = 0;
  try {
    for (const chunk of chunks) bytes += writeSync(fd, chunk, null, 'utf8');
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/**
 * Writes chunks to stdout, waiting for the pipe to drain so a long export does not pile up in memory. A reader that
 * goes away (`… | head`) ends the export quietly, as other Unix filters do.
 */
async function writeStdout(chunks: Iterable<string>): Promise<void> {
  let closed = false;
  // Stays attached: a late EPIPE after the last write must not become an unhandled 'error' event.
  process.stdout.on('error', () => void (closed = true));
  for (const chunk of chunks) {
    if (closed) return;
    if (!process.stdout.write(chunk)) {
      await new Promise<void>((resolve) => {
        process.stdout.once('drain', resolve);
        process.stdout.once('error', resolve);
      });
    }
  }
}

/**
 * `export TRACEFILE --format F [--out FILE]`: converts a trace file to another format from its recorded events,
 * without re-running it (the file is validated first: schema, order, count and hash). With `--out` it prints
 * `{ok, scenario, seed, events, hash, files: [{path, format, bytes}]}`; without, the converted file itself goes to
 * stdout (not for `csv`, which is three files).
 */
export async function exportCommand(args: string[]): Promise<number> {
  const p = parseFlags(args, { format: { type: 'string' }, out: { type: 'string' } }, 1);
  const file = needPositional(p, 'trace file');
  const v = p.values as { format?: string; out?: string };
  if (v.format === undefined && v.out === undefined) throw new CliError('export: give --format F, --out FILE, or both', 2, true);
  const format = cliFormat(v.format, v.out);
  const text = readInputFile(file);
  let trace;
  try {
    trace = parseTrace(text);
  } catch (e) {
    throw new CliError(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const header = headerOf(trace);
  if (v.out === undefined) {
    if (format === 'csv') throw new CliError(`--format csv writes three files; give --out FILE.csv or pick one of ${CSV_FORMATS.join(', ')}`);
    await writeStdout(exportChunks(format, header, trace.events));
    return 0;
  }
  const files = writeExports(format, v.out, (f) => exportChunks(f, header, trace.events));
  printJson({ ok: true, scenario: header.scenario, seed: header.seed, events: trace.events.length, hash: header.hash, files });
  return 0;
}
