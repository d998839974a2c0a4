/**
 * The URL hash names a run: `#scenario=raft-leader-crash&seed=7&bugs=commit-old-term&run=…`. Scenario, seed and bugs
 * stay readable; `run` is the compressed settings and recorded actions (src/views/share.ts decodes it). Parsing never
 * throws: it returns either the fields or a sentence that says what is wrong with the link and where.
 */
export interface RunRef {
  scenario: string;
  seed: string;
}

/** A run as a link names it: `run` is the encoded settings and actions ('' or absent for none). */
export interface LinkRef extends RunRef {
  bugs?: readonly string[];
  run?: string;
}

export type HashParse = { ok: true; scenario?: string; seed?: string; bugs?: string[]; run?: string } | { ok: false; error: string };

/** Matches the Lab's own rule: a seed is a non-empty string of at most 200 characters. */
export const SEED_LENGTH_MAX = 200;
/** The whole `#…` of a link may not exceed this many characters; a longer one is refused before it is decoded. */
export const HASH_LENGTH_MAX = 16 * 1024;
export const LINK_BUGS_MAX = 16;
const BUG_NAME = /^[a-z][a-z0-9-]{0,47}$/;
const FIELDS = ['scenario', 'seed', 'bugs', 'run'] as const;

/**
 * Where a string looks like the start of an HTML tag, comment or declaration (`<img`, `</`, `<!--`, `<?`); -1 when
 * it does not. A comparison such as `a < 5` is not markup. Text from a link is always rendered as text; refusing
 * markup outright tells the reader the link was tampered with.
 */
export function markupAt(text: string): number {
  return text.search(/<\s*[A-Za-z!/?]/);
}

export function validateSeed(seed: string): string | null {
  if (seed.length === 0) return 'the seed is empty';
  if (seed.length > SEED_LENGTH_MAX) return `the seed is longer than ${SEED_LENGTH_MAX} characters`;
  // Control characters are almost surely a mangled link rather than a seed someone meant.
  if (/\p{Cc}/u.test(seed)) return 'the seed contains control characters';
  // Markup in a seed is a hostile link, not a seed anyone typed; the page would show it as text, but refusing it says so.
  const at = markupAt(seed);
  if (at >= 0) return `the seed contains HTML markup at character ${at + 1}`;
  return null;
}

function validateBugs(text: string): string | null {
  const names = text.split(',');
  if (names.length > LINK_BUGS_MAX) return `it names ${names.length} bugs; at most ${LINK_BUGS_MAX}`;
  for (const [i, name] of names.entries()) {
    if (!BUG_NAME.test(name)) return `${JSON.stringify(name.slice(0, 60))} (bug ${i + 1}) is not a bug name: lower-case letters, digits and dashes`;
    if (names.indexOf(name) !== i) return `"${name}" is named twice`;
  }
  return null;
}

export function parseHash(hash: string, knownScenarios: readonly string[]): HashParse {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  if (text.trim() === '') return { ok: true };
  if (hash.length > HASH_LENGTH_MAX) {
    return { ok: false, error: `The link's #hash is ${hash.length.toLocaleString('en')} characters long; a link holds at most ${HASH_LENGTH_MAX.toLocaleString('en')}.` };
  }
  let params: URLSearchParams;
  try {
    // URLSearchParams would silently keep a broken %-escape; decodeURIComponent tells us about it.
    decodeURIComponent(text);
    params = new URLSearchParams(text);
  } catch {
    return { ok: false, error: `The link's #hash is not valid URL encoding: "${text.slice(0, 80)}".` };
  }
  const keys = [...params.keys()];
  const unknown = [...new Set(keys.filter((k) => !(FIELDS as readonly string[]).includes(k)))];
  if (unknown.length > 0) {
    const names = unknown.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(', ');
    return { ok: false, error: `The link's #hash has unknown field${unknown.length > 1 ? 's' : ''} ${names}; expected #scenario=…&seed=…, optionally &bugs=…&run=….` };
  }
  const twice = keys.find((k, i) => keys.indexOf(k) !== i);
  if (twice !== undefined) return { ok: false, error: `The link's #hash names "${twice}" twice.` };
  const scenario = params.get('scenario') ?? undefined;
  const seed = params.get('seed') ?? undefined;
  const bugs = params.get('bugs') ?? undefined;
  const run = params.get('run') ?? undefined;
  if (scenario !== undefined && !knownScenarios.includes(scenario)) {
    const shown = JSON.stringify(scenario.length > 60 ? `${scenario.slice(0, 60)}…` : scenario);
    return { ok: false, error: `Unknown scenario ${shown} in the link. Known scenarios: ${knownScenarios.join(', ')}.` };
  }
  if (seed !== undefined) {
    const why = validateSeed(seed);
    if (why !== null) return { ok: false, error: `Bad seed in the link: ${why}.` };
  }
  if (bugs !== undefined) {
    const why = validateBugs(bugs);
    if (why !== null) return { ok: false, error: `Bad bugs in the link: ${why}.` };
  }
  return { ok: true, scenario, seed, ...(bugs !== undefined ? { bugs: bugs.split(',') } : {}), ...(run !== undefined ? { run } : {}) };
}

/**
 * The hash for a run. Bugs and `run` are left out when empty, so a plain run keeps its short readable link. The
 * result may exceed `HASH_LENGTH_MAX` (a run with very many actions); callers check before offering it as a link.
 */
export function formatHash(ref: LinkRef): string {
  let out = `#scenario=${encodeURIComponent(ref.scenario)}&seed=${encodeURIComponent(ref.seed)}`;
  if (ref.bugs && ref.bugs.length > 0) out += `&bugs=${ref.bugs.map(encodeURIComponent).join(',')}`;
  if (ref.run) out += `&run=${ref.run}`;
  return out;
}
