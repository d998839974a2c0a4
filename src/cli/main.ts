import { LabError } from '../sim/lab.ts';
import { TraceError } from '../sim/tracefile.ts';
import { ScenarioError } from '../scenarios/schema.ts';
import { CliError, errorMessage, EXIT, USAGE } from './args.ts';
import { exportCommand } from './export.ts';
import { listCommand } from './list.ts';
import { replayCommand } from './replay.ts';
import { runCommand } from './run.ts';
import { sweepCommand } from './sweep.ts';
import { validateCommand } from './validate.ts';

/**
 * `npm run --silent sim -- <command>`: the lab in Node, no browser. Every command but `list` prints one JSON line on
 * stdout; messages for people go to stderr. Exit codes: see USAGE.
 */
const COMMANDS: Record<string, (args: string[]) => number | Promise<number>> = {
  list: listCommand,
  run: runCommand,
  sweep: sweepCommand,
  replay: replayCommand,
  validate: validateCommand,
  export: exportCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === '--help' || command === '-h' || command === 'help' || (isCommand(command) && args.some((a) => a === '--help' || a === '-h'))) {
    process.stdout.write(USAGE + '\n');
    return EXIT.ok;
  }
  const handler = isCommand(command) ? COMMANDS[command] : undefined;
  if (!handler) {
    process.stderr.write(`${command === undefined ? 'missing command' : `unknown command ${JSON.stringify(command)}`}\n${USAGE}\n`);
    return EXIT.usage;
  }
  try {
    return await handler(args);
  } catch (e) {
    return report(command, e);
  }
}

function isCommand(name: string | undefined): name is string {
  return name !== undefined && Object.hasOwn(COMMANDS, name);
}

/** Input errors (bad flags, files, scenarios, traces) exit 2; anything else is a bug in the tool and exits 3. */
function report(command: string, e: unknown): number {
  if (e instanceof CliError) {
    process.stderr.write(`sim ${command}: ${errorMessage(e)}\n${e.showUsage ? USAGE + '\n' : ''}`);
    return e.code;
  }
  if (e instanceof LabError || e instanceof ScenarioError || e instanceof TraceError) {
    process.stderr.write(`sim ${command}: ${errorMessage(e)}\n`);
    return EXIT.usage;
  }
  process.stderr.write(`sim ${command}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return EXIT.internal;
}

process.exitCode = await main(process.argv.slice(2));
