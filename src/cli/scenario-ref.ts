import { existsSync } from 'node:fs';
import { findScenario, SCENARIOS } from '../scenarios/index.ts';
import type { ScenarioInput } from '../scenarios/schema.ts';
import { CliError, readInputFile } from './args.ts';

/**
 * Resolves the `<scenario-id | scenario.json>` argument of `run` and `sweep` to scenario data. A built-in id wins;
 * otherwise the argument must name a readable JSON file. The data is validated later, by `Lab.load`, which names the
 * first problem with its path.
 */
export function resolveScenario(ref: string): ScenarioInput {
  const builtIn = findScenario(ref);
  if (builtIn) return structuredClone(builtIn);
  if (!existsSync(ref)) {
    throw new CliError(`unknown scenario ${JSON.stringify(ref)}: not a built-in id (known: ${SCENARIOS.map((s) => s.id).join(', ')}) and no such file`);
  }
  const text = readInputFile(ref);
  try {
    return JSON.parse(text) as ScenarioInput;
  } catch (e) {
    throw new CliError(`${ref}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}
