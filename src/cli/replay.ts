import { Lab } from '../sim/lab.ts';
import { parseTrace } from '../sim/tracefile.ts';
import { CliError, errorMessage, needPositional, parseFlags, printJson, readInputFile } from './args.ts';

/**
 * `replay FILE`: validates the trace, re-runs its scenario + seed + teaching bugs + actions, and compares event counts
 * and hashes. Prints `{ok: true, hash, events}` and exits 0 only when identical. A file that is not a valid trace
 * exits 2 (as `validate` would); a valid trace whose re-run differs exits 1 and names the first differing event.
 * Either way stdout gets `{ok: false, error}` and stderr the message.
 */
export function replayCommand(args: string[]): number {
  const p = parseFlags(args, {}, 1);
  const file = needPositional(p, 'trace file');
  let text: string;
  try {
    text = readInputFile(file);
    parseTrace(text);
  } catch (e) {
    // readInputFile's messages already start with the file name.
    return fail(e instanceof CliError ? errorMessage(e) : `${file}: ${errorMessage(e)}`, 2);
  }
  try {
    const r = new Lab().importTrace(text);
    printJson({ ok: true, hash: r.hash, events: r.events });
    return 0;
  } catch (e) {
    return fail(`${file}: ${errorMessage(e)}`, 1);
  }
}

function fail(error: string, code: number): number {
  process.stderr.write(`replay: ${error}\n`);
  printJson({ ok: false, error });
  return code;
}
