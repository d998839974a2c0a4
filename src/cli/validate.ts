import { BEHAVIORS, bugsFor } from '../sim/nodes.ts';
import { parseTrace, TRACE_FORMAT } from '../sim/tracefile.ts';
import { compileScenario } from '../scenarios/schema.ts';
import { CliError, errorMessage, needPositional, parseFlags, printJson, readInputFile } from './args.ts';

/** How far into a file to look for the trace marker; a trace header comes first, so this is generous. */
const SNIFF_CHARS = 4096;
const TRACE_MARKER = new RegExp(`"format"\\s*:\\s*"${TRACE_FORMAT}"`);

type Kind = 'trace' | 'scenario';

/**
 * `validate FILE`: checks a trace (JSON or JSON Lines) or a scenario file without running it. Oversized files are
 * refused before they are read. Exit 0 with `{ok: true, kind, …}`; exit 2 with the first problem and its path on
 * stderr (and `{ok: false, kind, error}` on stdout). A trace is checked by the importer's own parser (schema, event
 * order, count and hash), so a file that passes here is one `replay` will re-run; whether the re-run matches is
 * `replay`'s question.
 */
export function validateCommand(args: string[]): number {
  const p = parseFlags(args, {}, 1);
  const file = needPositional(p, 'file');
  let kind: Kind | undefined;
  try {
    const text = readInputFile(file);
    kind = sniff(text);
    let raw: unknown;
    if (kind === 'scenario') {
      raw = parseJson(text);
      // A trace that lost its format marker still reads best as a trace: its errors then name the header field.
      if (raw !== null && typeof raw === 'object' && ('events' in raw || 'format' in raw)) kind = 'trace';
    }
    printJson(kind === 'trace' ? checkTrace(text) : checkScenario(raw));
    return 0;
  } catch (e) {
    // readInputFile's messages already start with the file name.
    const error = e instanceof CliError ? errorMessage(e) : `${file}: ${errorMessage(e)}`;
    process.stderr.write(`validate: ${error}\n`);
    printJson({ ok: false, ...(kind ? { kind } : {}), error });
    return 2;
  }
}

/** A trace carries its format marker in its opening, or is JSON Lines (several lines that are each an object). */
export function sniff(text: string): Kind {
  if (TRACE_MARKER.test(text.slice(0, SNIFF_CHARS))) return 'trace';
  const lines = text.trim().split('\n', 3);
  if (lines.length >= 2 && lines.every((l) => l.trim().startsWith('{') && l.trim().endsWith('}'))) return 'trace';
  return 'scenario';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`not valid JSON (${errorMessage(e)})`);
  }
}

function checkTrace(text: string) {
  const t = parseTrace(text);
  return { ok: true, kind: 'trace', scenario: t.scenario, seed: t.seed, events: t.events.length, virtualUs: t.virtualUs, actions: t.actions.length, hash: t.hash };
}

function checkScenario(raw: unknown) {
  const { scenario, world } = compileScenario(raw, { knownKinds: Object.keys(BEHAVIORS), knownBugs: bugsFor });
  return { ok: true, kind: 'scenario', id: scenario.id, nodes: world.nodes.length, faults: world.faults.length, durationUs: world.durationUs };
}
