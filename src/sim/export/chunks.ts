/**
 * Shared pieces of every export: the closed list of formats with their file names and media types, and the batching
 * that turns an exporter's many small pieces into a few large chunks.
 *
 * Every exporter is a generator over the recorded events that yields text pieces in file order. Nothing builds the
 * whole file: the CLI and the bench write chunk by chunk, so exporting a long run holds the events (already in memory)
 * plus one chunk, never a second copy of the trace as text. The worker, which must hand one string across comlink,
 * joins the chunks itself.
 */

export type ExportFormat = 'json' | 'jsonl' | 'perfetto' | 'shiviz' | 'csv-wal' | 'csv-ledger' | 'csv-series';

export interface ExportFormatInfo {
  format: ExportFormat;
  /** A short label for menus. */
  label: string;
  /** What the file holds, for tooltips and `--help`. */
  description: string;
  /** File name suffix, dot included: `run` + suffix. */
  suffix: string;
  mime: string;
}

export const EXPORT_FORMATS: readonly ExportFormatInfo[] = [
  { format: 'json', label: 'Trace (JSON)', description: 'The native trace: header (scenario, seed, bugs, actions, hash) and every event; imports and replays.', suffix: '.json', mime: 'application/json' },
  { format: 'jsonl', label: 'Trace (JSON Lines)', description: 'The native trace as a header line and one event a line, for long runs and line tools.', suffix: '.jsonl', mime: 'application/x-ndjson' },
  { format: 'perfetto', label: 'Perfetto / Chrome trace', description: 'Trace-event JSON for ui.perfetto.dev or chrome://tracing: a track per node, role spans, message flows, WAL counters.', suffix: '.perfetto.json', mime: 'application/json' },
  { format: 'shiviz', label: 'ShiViz log', description: 'A log with vector clocks for ShiViz (bestchai.bitbucket.io/shiviz): the space-time diagram of every message.', suffix: '.shiviz.log', mime: 'text/plain' },
  { format: 'csv-wal', label: 'CSV: WAL positions', description: 'Per-node write-ahead-log positions over time: t_us, node, last, commit, applied.', suffix: '.wal.csv', mime: 'text/csv' },
  { format: 'csv-ledger', label: 'CSV: message ledger', description: 'Per message kind: sent, duplicated, delivered, dropped by reason, in flight at the end, latency.', suffix: '.ledger.csv', mime: 'text/csv' },
  { format: 'csv-series', label: 'CSV: windowed series', description: 'Per 100 ms of virtual time: messages sent, delivered, dropped, duplicated, in flight, faults, violations.', suffix: '.series.csv', mime: 'text/csv' },
];

export const EXPORT_FORMAT_NAMES: readonly ExportFormat[] = EXPORT_FORMATS.map((f) => f.format);

export function isExportFormat(value: unknown): value is ExportFormat {
  return typeof value === 'string' && (EXPORT_FORMAT_NAMES as readonly string[]).includes(value);
}

export function formatInfo(format: ExportFormat): ExportFormatInfo {
  const info = EXPORT_FORMATS.find((f) => f.format === format);
  if (!info) throw new Error(`unknown export format ${JSON.stringify(format)}`);
  return info;
}

/** About 64 K characters per chunk: large enough that writes are cheap, small enough to be noise in memory. */
export const CHUNK_CHARS = 64 * 1024;

/** Joins small pieces into chunks of about `size` characters, in order; yields nothing for no pieces. */
export function* batched(pieces: Iterable<string>, size = CHUNK_CHARS): Generator<string, void, undefined> {
  let buf: string[] = [];
  let n = 0;
  for (const p of pieces) {
    buf.push(p);
    n += p.length;
    if (n >= size) {
      yield buf.join('');
      buf = [];
      n = 0;
    }
  }
  if (buf.length) yield buf.join('');
}

/** Collects chunks into one string (the worker's and the tests' way; the CLI writes chunks instead). */
export function joinChunks(chunks: Iterable<string>): string {
  const parts: string[] = [];
  for (const c of chunks) parts.push(c);
  return parts.join('');
}
