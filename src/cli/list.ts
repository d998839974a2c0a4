import { Lab } from '../sim/lab.ts';
import { parseFlags, printJson } from './args.ts';

/** `list [--json]`: the built-in scenarios, as a table for people or `[{id, title, tags}]` for scripts. */
export function listCommand(args: string[]): number {
  const p = parseFlags(args, { json: { type: 'boolean' } }, 0);
  const rows = new Lab().list().map((s) => ({ id: s.id, title: s.title, tags: s.tags }));
  if (p.values.json) {
    printJson(rows);
    return 0;
  }
  const idWidth = Math.max(2, ...rows.map((r) => r.id.length));
  const titleWidth = Math.max(5, ...rows.map((r) => r.title.length));
  const line = (a: string, b: string, c: string) => `${a.padEnd(idWidth)}  ${b.padEnd(titleWidth)}  ${c}`.trimEnd();
  const out = [line('ID', 'TITLE', 'TAGS'), ...rows.map((r) => line(r.id, r.title, r.tags.join(', ')))];
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
