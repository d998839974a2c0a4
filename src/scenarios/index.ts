import { pingPong } from './ping-pong.ts';
import type { ScenarioInput } from './schema.ts';

/** Every built-in scenario, in the order the picker lists them. Each is data only; `compileScenario` validates it. */
export const SCENARIOS: readonly ScenarioInput[] = [pingPong];

export function findScenario(id: string): ScenarioInput | undefined {
  return SCENARIOS.find((s) => s.id === id);
}
