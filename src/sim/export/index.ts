import { eventNode, TRACE_KINDS, type TraceEvent, type TraceKind } from '../kernel/trace.ts';
import type { NodeId } from '../kernel/types.ts';
import { traceChunks, type TraceHeader } from '../tracefile.ts';
import { isExportFormat, EXPORT_FORMAT_NAMES, type ExportFormat } from './chunks.ts';
import { ledgerCsvChunks, seriesCsvChunks, walCsvChunks } from './csv.ts';
import { perfettoChunks } from './perfetto.ts';
import { shivizChunks } from './shiviz.ts';

export { EXPORT_FORMATS, EXPORT_FORMAT_NAMES, formatInfo, isExportFormat, joinChunks, type ExportFormat, type ExportFormatInfo } from './chunks.ts';

/**
 * One entry point for every export, used alike by the Lab (UI, via the worker), `sim run --format` and `sim export`,
 * so all three write the same bytes for the same events. Each call returns a fresh generator of text chunks.
 */
export function exportChunks(format: ExportFormat, header: TraceHeader, events: readonly TraceEvent[]): Generator<string, void, undefined> {
  switch (format) {
    case 'json':
    case 'jsonl':
      return traceChunks(header, events, format);
    case 'perfetto':
      return perfettoChunks(header, events);
    case 'shiviz':
      return shivizChunks(header, events);
    case 'csv-wal':
      return walCsvChunks(header, events);
    case 'csv-ledger':
      return ledgerCsvChunks(header, events);
    case 'csv-series':
      return seriesCsvChunks(header, events);
    default: {
      const bad: never = format;
      throw new Error(`unknown export format ${JSON.stringify(bad)} (expected ${EXPORT_FORMAT_NAMES.join(', ')})`);
    }
  }
}

export function checkExportFormat(value: unknown, where: string): ExportFormat {
  if (!isExportFormat(value)) throw new Error(`${where}: unknown format ${JSON.stringify(value)} (expected ${EXPORT_FORMAT_NAMES.join(', ')})`);
  return value;
}

/**
 * What a trace opened for viewing shows without re-running it: its header (less the scenario data) and a summary
 * read off the recorded events — counts per kind, nodes, final roles and WAL positions, violations, faults and the
 * message ledger totals. Plain data, small whatever the trace's length.
 */
export interface TraceView {
  scenario: string;
  seed: string;
  app: string;
  bugs: string[];
  actions: number;
  hash: string;
  events: number;
  virtualUs: number;
  nodes: NodeId[];
  kinds: Partial<Record<TraceKind, number>>;
  /** The last announced `role`, `term`, `leader` and `wal` of each node (Raft), or its epoch for other kinds. */
  nodeState: Record<NodeId, Record<string, unknown>>;
  messages: { sent: number; delivered: number; dropped: number; duplicated: number };
  faults: { t: number; seq: number; source: string; kind: string }[];
  violations: { t: number; seq: number; checker: string; message: string }[];
}

export const VIEW_LIST_MAX = 200;

export function viewOfTrace(header: TraceHeader, events: readonly TraceEvent[]): TraceView {
  const kinds: Partial<Record<TraceKind, number>> = {};
  const nodes: NodeId[] = [];
  const nodeState: Record<NodeId, Record<string, unknown>> = {};
  const messages = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  const faults: TraceView['faults'] = [];
  const violations: TraceView['violations'] = [];
  const seen = new Set<NodeId>();
  const addNode = (n: NodeId | undefined) => {
    if (n === undefined || seen.has(n)) return;
    seen.add(n);
    nodes.push(n);
    nodeState[n] = {};
  };
  for (const e of events) {
    kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
    if (e.kind === 'run.start') e.nodes.forEach(addNode);
    addNode(eventNode(e));
    if (e.kind === 'msg.send') messages.sent++;
    else if (e.kind === 'msg.deliver') messages.delivered++;
    else if (e.kind === 'msg.drop') messages.dropped++;
    else if (e.kind === 'msg.dup') messages.duplicated++;
    else if (e.kind === 'node.state') nodeState[e.node][e.key] = e.value;
    else if (e.kind === 'node.crash') nodeState[e.node].status = 'crashed';
    else if (e.kind === 'node.boot') nodeState[e.node].status = 'up';
    else if (e.kind === 'node.pause') nodeState[e.node].status = 'paused';
    else if (e.kind === 'node.resume') nodeState[e.node].status = 'up';
    else if (e.kind === 'fault' && faults.length < VIEW_LIST_MAX) faults.push({ t: e.t, seq: e.seq, source: e.source, kind: e.fault.kind });
    else if (e.kind === 'check.violation' && violations.length < VIEW_LIST_MAX) violations.push({ t: e.t, seq: e.seq, checker: e.checker, message: e.message });
  }
  // Keep the kinds in the union's order, so the view lists them the same way every time.
  const ordered: Partial<Record<TraceKind, number>> = {};
  for (const k of TRACE_KINDS) if (kinds[k] !== undefined) ordered[k] = kinds[k];
  return {
    scenario: header.scenario,
    seed: header.seed,
    app: header.app,
    bugs: [...header.config.bugs],
    actions: header.actions.length,
    hash: header.hash,
    events: events.length,
    virtualUs: header.virtualUs,
    nodes,
    kinds: ordered,
    nodeState: structuredClone(nodeState),
    messages,
    faults,
    violations,
  };
}
