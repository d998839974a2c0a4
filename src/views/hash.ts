/**
 * The URL hash names a run: `#scenario=ping-pong&seed=abc`. A link therefore reproduces what its sender saw (injected
 * faults aside). Parsing never throws: it returns either the run or a message that says what is wrong with the link.
 */
export interface RunRef {
  scenario: string;
  seed: string;
}

export type HashParse = { ok: true; scenario?: string; seed?: string } | { ok: false; error: string };

/** Matches the Lab's own rule: a seed is a non-empty string of at most 200 characters. */
export const SEED_LENGTH_MAX = 200;

export function validateSeed(seed: string): string | null {
  if (seed.length === 0) return 'the seed is empty';
  if (seed.length > SEED_LENGTH_MAX) return `the seed is longer than ${SEED_LENGTH_MAX} characters`;
  // Control characters are almost surely a mangled link rather than a seed someone meant.
  if (/\p{Cc}/u.test(seed)) return 'the seed contains control characters';
  return null;
}

export function parseHash(hash: string, knownScenarios: readonly string[]): HashParse {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  if (text.trim() === '') return { ok: true };
  let params: URLSearchParams;
  try {
    // URLSearchParams would silently keep a broken %-escape; decodeURIComponent tells us about it.
    decodeURIComponent(text);
    params = new URLSearchParams(text);
  } catch {
    return { ok: false, error: `The link's #hash is not valid URL encoding: "${text.slice(0, 80)}".` };
  }
  const unknown = [...params.keys()].filter((k) => k !== 'scenario' && k !== 'seed');
  if (unknown.length > 0) return { ok: false, error: `The link's #hash has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; expected #scenario=…&seed=….` };
  const scenario = params.get('scenario') ?? undefined;
  const seed = params.get('seed') ?? undefined;
  if (scenario !== undefined && !knownScenarios.includes(scenario)) {
    return { ok: false, error: `Unknown scenario "${scenario}" in the link. Known scenarios: ${knownScenarios.join(', ')}.` };
  }
  if (seed !== undefined) {
    const why = validateSeed(seed);
    if (why !== null) return { ok: false, error: `Bad seed in the link: ${why}.` };
  }
  return { ok: true, scenario, seed };
}

export function formatHash(ref: RunRef): string {
  return `#scenario=${encodeURIComponent(ref.scenario)}&seed=${encodeURIComponent(ref.seed)}`;
}
