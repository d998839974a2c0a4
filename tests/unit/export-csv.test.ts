/**
 * The CSV tables: RFC 4180 framing (CRLF rows, quoting of commas, quotes and line breaks, equal column counts, read
 * back by a small RFC 4180 reader), WAL rows equal to the trace's `wal` announcements, a ledger that balances per
 * message kind and agrees with the trace's counts, and windowed series that tile the run and sum to the totals.
 */
import { describe, expect, it } from 'vitest';
import { joinChunks } from '../../src/sim/export/chunks.ts';
import { csvField, csvRow, ledgerCsvChunks, LEDGER_COLUMNS, seriesCsvChunks, SERIES_COLUMNS, walCsvChunks } from '../../src/sim/export/csv.ts';
import { stressRun } from './export-fixtures.ts';

/** An RFC 4180 reader: quoted fields may hold commas, CRLF and doubled quotes; rows end with CRLF. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"') {
      if (field !== '') throw new Error(`quote inside an unquoted field at ${i}`);
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else if (c === '\n' || c === '\r') {
      throw new Error(`bare line break at ${i}`);
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new Error('unterminated quote');
  if (field !== '' || row.length) throw new Error('last row does not end with CRLF');
  return rows;
}

const run = stressRun();
const num = (s: string) => (s === '' ? null : Number(s));

describe('CSV framing (RFC 4180)', () => {
  it('quotes fields with commas, quotes and line breaks, and nothing else', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(12.5)).toBe('12.5');
    expect(csvField({ a: 1, b: 'x' })).toBe('"{""a"":1,""b"":""x""}"');
    const row = csvRow(['a,b', 'c"d', 'e\nf', 7]);
    expect(readCsv(row)).toEqual([['a,b', 'c"d', 'e\nf', '7']]);
  });
});

describe('csv-wal', () => {
  it('has one row per wal announcement, in trace order', () => {
    const rows = readCsv(joinChunks(walCsvChunks(run.header, run.events)));
    expect(rows[0]).toEqual(['t_us', 'node', 'last', 'commit', 'applied']);
    const wal = run.events.filter((e) => e.kind === 'node.state' && e.key === 'wal') as { t: number; node: string; value: { last: number; commit: number; applied: number } }[];
    expect(wal.length).toBeGreaterThan(100);
    expect(rows.slice(1)).toEqual(wal.map((e) => [String(e.t), e.node, String(e.value.last), String(e.value.commit), String(e.value.applied)]));
    for (const r of rows.slice(1)) expect(Number(r[4])).toBeLessThanOrEqual(Number(r[3])); // applied ≤ commit
  });
});

describe('csv-ledger', () => {
  const rows = readCsv(joinChunks(ledgerCsvChunks(run.header, run.events)));
  const header = rows[0];
  const byKind = new Map(rows.slice(1).map((r) => [r[0], Object.fromEntries(header.map((h, i) => [h, i === 0 ? r[i] : num(r[i])]))]));

  it('has the documented columns and a total row', () => {
    expect(header).toEqual([...LEDGER_COLUMNS]);
    expect(rows.every((r) => r.length === header.length)).toBe(true);
    expect(rows.at(-1)![0]).toBe('*');
  });

  it('balances per kind: sent + duplicated = delivered + dropped + in flight at the end', () => {
    for (const [kind, r] of byKind) {
      const dropped = header.filter((h) => h.startsWith('dropped_')).reduce((s, h) => s + (r[h] as number), 0);
      expect((r.sent as number) + (r.duplicated as number), kind).toBe((r.delivered as number) + dropped + (r.in_flight_end as number));
    }
  });

  it('agrees with the trace', () => {
    const count = (kind: string, msg?: string, reason?: string) =>
      run.events.filter((e) => e.kind === kind && (msg === undefined || (e as { msg: string }).msg === msg) && (reason === undefined || (e as { reason: string }).reason === reason)).length;
    const total = byKind.get('*')!;
    expect(total.sent).toBe(count('msg.send'));
    expect(total.duplicated).toBe(count('msg.dup'));
    expect(total.delivered).toBe(count('msg.deliver'));
    expect(total.dropped_loss).toBe(count('msg.drop', undefined, 'loss'));
    expect(total.dropped_partition).toBe(count('msg.drop', undefined, 'partition'));
    expect(total.dropped_node_down).toBe(count('msg.drop', undefined, 'node-down'));
    expect(byKind.get('append')!.sent).toBe(count('msg.send', 'append'));
    expect(total.dropped_loss as number).toBeGreaterThan(0);
    expect(total.duplicated as number).toBeGreaterThan(0);
    expect(total.in_flight_end as number).toBeGreaterThan(0);
  });
});

describe('csv-series', () => {
  it('tiles the run in 100 ms windows and sums to the totals', () => {
    const rows = readCsv(joinChunks(seriesCsvChunks(run.header, run.events)));
    expect(rows[0]).toEqual([...SERIES_COLUMNS]);
    const data = rows.slice(1).map((r) => Object.fromEntries(rows[0].map((h, i) => [h, Number(r[i])])));
    expect(data[0].window_start_us).toBe(0);
    for (let i = 1; i < data.length; i++) expect(data[i].window_start_us).toBe(data[i - 1].window_end_us);
    expect(data.at(-1)!.window_end_us).toBe(Math.max(run.header.virtualUs, run.events.at(-1)!.t));
    const sum = (k: string) => data.reduce((s, d) => s + d[k], 0);
    expect(sum('sent')).toBe(run.events.filter((e) => e.kind === 'msg.send').length);
    expect(sum('delivered')).toBe(run.events.filter((e) => e.kind === 'msg.deliver').length);
    expect(sum('faults')).toBe(run.events.filter((e) => e.kind === 'fault').length);
    const ledgerTotal = readCsv(joinChunks(ledgerCsvChunks(run.header, run.events))).at(-1)!;
    expect(data.at(-1)!.in_flight_end).toBe(Number(ledgerTotal[LEDGER_COLUMNS.indexOf('in_flight_end')]));
    for (let i = 1; i < data.length; i++) expect(data[i].commit_max).toBeGreaterThanOrEqual(data[i - 1].commit_max);
  });

  it('an empty trace gives one empty window', () => {
    const rows = readCsv(joinChunks(seriesCsvChunks({ ...run.header, virtualUs: 0 }, [])));
    expect(rows).toHaveLength(2);
    expect(rows[1].slice(0, 3)).toEqual(['0', '1', '0']);
  });
});
