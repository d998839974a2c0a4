/**
 * The APM stored-query language (src/sim/apm/query.ts), checked four ways:
 * - tables of good texts with the exact Query they mean, and of bad texts with the exact message, position and
 *   expected-list of the error (a change of wording is a deliberate change of this file);
 * - properties over generated queries: canonical text round-trips, and noisy spellings of the same query (case,
 *   whitespace, units, aliases, clause order) parse to it, so the canonical text is a fixed point;
 * - fuzzing: no input makes parseQuery throw, and every error points inside the text;
 * - glob matching against a regular-expression reference, and the stored-query store and its zod schema, including
 *   tampered data from outside.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addQuery,
  formatQuery,
  formatQueryError,
  FUNCTIONS_MAX,
  functionLabel,
  globMatch,
  LATENESS_US_MAX,
  matchServers,
  METRIC_NAME_LENGTH_MAX,
  metricsUsed,
  parseQuery,
  parseQueryStore,
  PERCENTILE_DECIMALS_MAX,
  QUERY_NAME_LENGTH_MAX,
  QUERY_TEXT_LENGTH_MAX,
  queryStoreSchema,
  removeQuery,
  sameQuery,
  SERVER_PATTERN_LENGTH_MAX,
  SERVER_PATTERNS_MAX,
  serversMatched,
  STORED_QUERIES_MAX,
  updateQuery,
  WINDOW_US_MAX,
  WINDOW_US_MIN,
  WINDOWS_PER_POINT_MAX,
  type Query,
  type QueryError,
  type QueryFunction,
  type QueryStore,
} from '../../src/sim/apm/query.ts';

const S = 1_000_000;
const MS = 1_000;

function parsed(text: string): Query {
  const r = parseQuery(text);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(text)} to parse: ${formatQueryError(r.error)}`);
  return r.query;
}

function refused(text: string): QueryError {
  const r = parseQuery(text);
  if (r.ok) throw new Error(`expected ${JSON.stringify(text)} to be refused, got ${formatQuery(r.query)}`);
  return r.error;
}

const base: Query = {
  servers: ['*'],
  metric: 'cpu',
  windowUs: 10 * S,
  slideUs: 10 * S,
  latenessUs: 0,
  time: 'event',
  compute: [{ fn: 'min' }],
};

describe('parseQuery: good texts', () => {
  const good: [string, Partial<Query>, string][] = [
    [
      'FROM servers(web-*) SELECT cpu WINDOW 10s COMPUTE min, max, avg, p99',
      { servers: ['web-*'], compute: [{ fn: 'min' }, { fn: 'max' }, { fn: 'avg' }, { fn: 'percentile', p: 99 }] },
      'FROM servers(web-*) SELECT cpu WINDOW 10s COMPUTE min, max, avg, p99',
    ],
    ['from * select cpu window 10s compute min', {}, 'FROM servers(*) SELECT cpu WINDOW 10s COMPUTE min'],
    ['FROM servers(*) SELECT cpu WINDOW 10s COMPUTE min', {}, 'FROM servers(*) SELECT cpu WINDOW 10s COMPUTE min'],
    ['FROM server(db-1) SELECT cpu WINDOW 10s COMPUTE min', { servers: ['db-1'] }, 'FROM servers(db-1) SELECT cpu WINDOW 10s COMPUTE min'],
    [
      'FROM SERVERS( web-? ,db.eu_1 ,* ) SELECT cpu WINDOW 10s COMPUTE MIN',
      { servers: ['web-?', 'db.eu_1', '*'] },
      'FROM servers(web-?, db.eu_1, *) SELECT cpu WINDOW 10s COMPUTE min',
    ],
    [
      '  FROM *\n\tSELECT rpc.latency\r\n  WINDOW 1 m\n  COMPUTE sum,count , percentile( 99.9 ),P50  ',
      { metric: 'rpc.latency', windowUs: 60 * S, slideUs: 60 * S, compute: [{ fn: 'sum' }, { fn: 'count' }, { fn: 'percentile', p: 99.9 }, { fn: 'percentile', p: 50 }] },
      'FROM servers(*) SELECT rpc.latency WINDOW 1m COMPUTE sum, count, p99.9, p50',
    ],
    ['FROM * SELECT cpu WINDOW 500ms COMPUTE min', { windowUs: 500 * MS, slideUs: 500 * MS }, 'FROM servers(*) SELECT cpu WINDOW 500ms COMPUTE min'],
    ['FROM * SELECT cpu WINDOW 1.5s COMPUTE min', { windowUs: 1.5 * S, slideUs: 1.5 * S }, 'FROM servers(*) SELECT cpu WINDOW 1.5s COMPUTE min'],
    ['FROM * SELECT cpu WINDOW 90s COMPUTE min', { windowUs: 90 * S, slideUs: 90 * S }, 'FROM servers(*) SELECT cpu WINDOW 1.5m COMPUTE min'],
    ['FROM * SELECT cpu WINDOW 0.1s COMPUTE min', { windowUs: 100 * MS, slideUs: 100 * MS }, 'FROM servers(*) SELECT cpu WINDOW 100ms COMPUTE min'],
    ['FROM * SELECT cpu WINDOW 1h COMPUTE min', { windowUs: WINDOW_US_MAX, slideUs: WINDOW_US_MAX }, 'FROM servers(*) SELECT cpu WINDOW 1h COMPUTE min'],
    ['FROM * SELECT cpu WINDOW 1ms COMPUTE min', { windowUs: WINDOW_US_MIN, slideUs: WINDOW_US_MIN }, 'FROM servers(*) SELECT cpu WINDOW 1ms COMPUTE min'],
    ['FROM * SELECT cpu WINDOW 1m SLIDE 10s COMPUTE min', { windowUs: 60 * S, slideUs: 10 * S }, 'FROM servers(*) SELECT cpu WINDOW 1m SLIDE 10s COMPUTE min'],
    ['FROM * SELECT cpu WINDOW 10s SLIDE 10000ms COMPUTE min', {}, 'FROM servers(*) SELECT cpu WINDOW 10s COMPUTE min'],
    ['FROM * SELECT cpu WINDOW 10s SLIDE 100ms COMPUTE min', { slideUs: 100 * MS }, 'FROM servers(*) SELECT cpu WINDOW 10s SLIDE 100ms COMPUTE min'],
    ['FROM * SELECT cpu WINDOW 10s LATENESS 2.5s COMPUTE min', { latenessUs: 2.5 * S }, 'FROM servers(*) SELECT cpu WINDOW 10s LATENESS 2.5s COMPUTE min'],
    ['FROM * SELECT cpu WINDOW 10s LATENESS 0ms COMPUTE min', {}, 'FROM servers(*) SELECT cpu WINDOW 10s COMPUTE min'],
    ['FROM * SELECT cpu WINDOW 10s TIME event COMPUTE min', {}, 'FROM servers(*) SELECT cpu WINDOW 10s COMPUTE min'],
    ['FROM * SELECT cpu WINDOW 10s TIME Processing COMPUTE min', { time: 'processing' }, 'FROM servers(*) SELECT cpu WINDOW 10s TIME processing COMPUTE min'],
    [
      'FROM * SELECT cpu WINDOW 1m TIME event LATENESS 1s SLIDE 30s COMPUTE min',
      { windowUs: 60 * S, slideUs: 30 * S, latenessUs: S },
      'FROM servers(*) SELECT cpu WINDOW 1m SLIDE 30s LATENESS 1s COMPUTE min',
    ],
    ['FROM * SELECT cpu WINDOW 10s COMPUTE p100, p0.001', { compute: [{ fn: 'percentile', p: 100 }, { fn: 'percentile', p: 0.001 }] }, 'FROM servers(*) SELECT cpu WINDOW 10s COMPUTE p100, p0.001'],
    ['FROM * SELECT cpu WINDOW 10s COMPUTE p99.90, percentile(050)', { compute: [{ fn: 'percentile', p: 99.9 }, { fn: 'percentile', p: 50 }] }, 'FROM servers(*) SELECT cpu WINDOW 10s COMPUTE p99.9, p50'],
    ['FROM servers(window) SELECT window WINDOW 10s COMPUTE min', { servers: ['window'], metric: 'window' }, 'FROM servers(window) SELECT window WINDOW 10s COMPUTE min'],
  ];
  it.each(good)('%j', (text, fields, canonical) => {
    const q = parsed(text);
    expect(q).toEqual({ ...base, ...fields });
    expect(formatQuery(q)).toBe(canonical);
    expect(parsed(canonical)).toEqual(q);
  });

  it('the 10s of the query language is the kernel clock 10s', () => {
    expect(parsed('FROM * SELECT cpu WINDOW 10s COMPUTE min').windowUs).toBe(10_000_000);
    expect(parsed('FROM * SELECT cpu WINDOW 2m COMPUTE min').windowUs).toBe(120_000_000);
  });
});

describe('parseQuery: bad texts', () => {
  const W = 'FROM * SELECT cpu WINDOW'; // 24 characters: the duration starts at offset 25.
  type Bad = [name: string, text: string, message: string, at: { offset: number; length: number; line?: number; column?: number }, expected: string[]];
  const bad: Bad[] = [
    ['empty input', '', 'expected FROM at the start of the query, found the end of the query', { offset: 0, length: 0 }, ['FROM']],
    ['only spaces', '  \n ', 'expected FROM at the start of the query, found the end of the query', { offset: 4, length: 0, line: 2, column: 2 }, ['FROM']],
    ['unknown keyword', 'SELECT cpu', 'expected FROM at the start of the query, found "SELECT"', { offset: 0, length: 6 }, ['FROM']],
    ['misspelt SELECT', 'FROM * SELEKT cpu', 'expected SELECT after the servers, found "SELEKT"', { offset: 7, length: 6 }, ['SELECT']],
    ['bare pattern after FROM', 'FROM web-* SELECT cpu', 'expected servers(…), server(…) or * after FROM, found "web-*"', { offset: 5, length: 5 }, ['servers(', 'server(', '*']],
    ['unterminated servers(', 'FROM servers(web-*', 'expected "," or ")" after the server pattern web-*, found the end of the query', { offset: 18, length: 0 }, [',', ')']],
    [
      'empty servers(',
      'FROM servers(',
      'expected a server name or pattern (letters, digits, "_", ".", "-", "*", "?") after "servers(", found the end of the query',
      { offset: 13, length: 0 },
      ['a server pattern'],
    ],
    [
      'empty servers()',
      'FROM servers() SELECT cpu',
      'expected a server name or pattern (letters, digits, "_", ".", "-", "*", "?") after "servers(", found ")"',
      { offset: 13, length: 1 },
      ['a server pattern'],
    ],
    [
      'trailing comma in servers',
      'FROM servers(a,) SELECT cpu',
      'expected a server name or pattern (letters, digits, "_", ".", "-", "*", "?") after ",", found ")"',
      { offset: 15, length: 1 },
      ['a server pattern'],
    ],
    ['bad character in a pattern', 'FROM servers(web$) SELECT cpu', 'expected a server name or pattern (letters, digits, "_", ".", "-", "*", "?") after "servers(", found "web$"', { offset: 13, length: 4 }, ['a server pattern']],
    ['missing (', 'FROM servers web', 'expected "(" after servers, found "web"', { offset: 13, length: 3 }, ['(']],
    [
      'two names in server(…)',
      'FROM server(a, b) SELECT cpu',
      'expected ")" after the server name (server(…) names one server; servers(a, b) names several), found ","',
      { offset: 13, length: 1 },
      [')'],
    ],
    ['duplicate pattern', 'FROM servers(a, b, a) SELECT cpu', 'server pattern "a" appears twice', { offset: 19, length: 1 }, []],
    ['bad metric name', 'FROM * SELECT 9lives', 'expected a metric name like cpu or rpc.latency after SELECT, found "9lives"', { offset: 14, length: 6 }, ['a metric name']],
    ['two metrics', 'FROM * SELECT cpu, mem WINDOW 10s', 'SELECT takes exactly one metric: each metric is its own topic, and a query reads one topic', { offset: 17, length: 1 }, []],
    ['missing WINDOW', 'FROM * SELECT cpu COMPUTE min', 'expected WINDOW after the metric, found "COMPUTE"', { offset: 18, length: 7 }, ['WINDOW']],
    ['word for a duration', `${W} ten COMPUTE min`, 'expected a duration like 10s after WINDOW, found "ten"', { offset: 25, length: 3 }, ['a duration']],
    ['negative duration', `${W} -5s COMPUTE min`, 'expected a duration like 10s after WINDOW, found "-5s"', { offset: 25, length: 3 }, ['a duration']],
    ['bad duration unit', `${W} 10sec COMPUTE min`, 'expected a unit (ms, s, m or h) after 10, found "sec"', { offset: 27, length: 3 }, ['ms', 's', 'm', 'h']],
    ['upper-case unit', `${W} 10S COMPUTE min`, 'expected a unit (ms, s, m or h) after 10, found "S"', { offset: 27, length: 1 }, ['ms', 's', 'm', 'h']],
    ['microseconds unit', `${W} 800us COMPUTE min`, 'expected a unit (ms, s, m or h) after 800, found "us"', { offset: 28, length: 2 }, ['ms', 's', 'm', 'h']],
    ['missing unit', `${W} 10 COMPUTE min`, 'expected a unit (ms, s, m or h) after 10, found "COMPUTE"', { offset: 28, length: 7 }, ['ms', 's', 'm', 'h']],
    ['zero window', `${W} 0s COMPUTE min`, 'WINDOW 0s is out of range: a window lasts from 1ms to 1h', { offset: 25, length: 2 }, []],
    ['window too short', `${W} 0.5ms COMPUTE min`, 'WINDOW 0.5ms is out of range: a window lasts from 1ms to 1h', { offset: 25, length: 5 }, []],
    ['window too long', `${W} 61 m COMPUTE min`, 'WINDOW 61m is out of range: a window lasts from 1ms to 1h', { offset: 25, length: 4 }, []],
    ['huge window', `${W} ${'9'.repeat(40)}h COMPUTE min`, `WINDOW ${'9'.repeat(24)}… is out of range: a window lasts from 1ms to 1h`, { offset: 25, length: 41 }, []],
    ['fraction of a microsecond', `${W} 0.0000001s COMPUTE min`, '0.0000001s is not a whole number of microseconds', { offset: 25, length: 10 }, []],
    ['missing COMPUTE', `${W} 10s`, 'expected SLIDE, LATENESS, TIME or COMPUTE after the window, found the end of the query', { offset: 28, length: 0 }, ['SLIDE', 'LATENESS', 'TIME', 'COMPUTE']],
    ['unknown clause', `${W} 10s SLIDE 5s EVERY 1s`, 'expected LATENESS, TIME or COMPUTE after the window, found "EVERY"', { offset: 38, length: 5 }, ['LATENESS', 'TIME', 'COMPUTE']],
    ['repeated clause', `${W} 10s\nSLIDE 1s SLIDE 2s COMPUTE min`, 'SLIDE is given twice', { offset: 38, length: 5, line: 2, column: 10 }, []],
    ['slide > window', `${W} 10s SLIDE 20s COMPUTE min`, 'SLIDE 20s is longer than the window (10s): a slide is at most the window, or points would fall between windows', { offset: 35, length: 3 }, []],
    ['zero slide', `${W} 10s SLIDE 0ms COMPUTE min`, 'SLIDE 0ms is out of range: windows must move forward', { offset: 35, length: 3 }, []],
    [
      'slide too small',
      `${W} 10s SLIDE 1ms COMPUTE min`,
      'SLIDE 1ms is too small for a 10s window: each point would fall into 10000 windows, at most 100 are allowed (slide at least 100ms)',
      { offset: 35, length: 3 },
      [],
    ],
    ['lateness too long', `${W} 10s LATENESS 2h COMPUTE min`, 'LATENESS 2h is out of range: allowed lateness is from 0 to 1h', { offset: 38, length: 2 }, []],
    [
      'lateness with processing time',
      `${W} 10s TIME processing LATENESS 1s COMPUTE min`,
      'LATENESS 1s needs TIME event: processing-time windows close by the clock, so no point is ever late',
      { offset: 54, length: 2 },
      [],
    ],
    ['bad TIME', `${W} 10s TIME wall COMPUTE min`, 'expected event or processing after TIME, found "wall"', { offset: 34, length: 4 }, ['event', 'processing']],
    [
      'unknown function',
      `${W} 10s COMPUTE median`,
      'expected a function (min, max, avg, sum, count, pNN or percentile(p)) after COMPUTE, found "median"',
      { offset: 37, length: 6 },
      ['min', 'max', 'avg', 'sum', 'count', 'pNN', 'percentile('],
    ],
    [
      'empty COMPUTE',
      `${W} 10s COMPUTE`,
      'expected a function (min, max, avg, sum, count, pNN or percentile(p)) after COMPUTE, found the end of the query',
      { offset: 36, length: 0 },
      ['min', 'max', 'avg', 'sum', 'count', 'pNN', 'percentile('],
    ],
    [
      'trailing comma in COMPUTE',
      `${W} 10s COMPUTE min,`,
      'expected a function (min, max, avg, sum, count, pNN or percentile(p)) after ",", found the end of the query',
      { offset: 41, length: 0 },
      ['min', 'max', 'avg', 'sum', 'count', 'pNN', 'percentile('],
    ],
    ['p0', `${W} 10s COMPUTE p0`, 'p0 is out of range: a percentile is above 0 and at most 100', { offset: 37, length: 2 }, []],
    ['p101', `${W} 10s COMPUTE min, p101`, 'p101 is out of range: a percentile is above 0 and at most 100', { offset: 42, length: 4 }, []],
    ['percentile(0)', `${W} 10s COMPUTE percentile( 0 )`, 'percentile( 0 ) is out of range: a percentile is above 0 and at most 100', { offset: 37, length: 15 }, []],
    ['too many decimals', `${W} 10s COMPUTE p99.9999`, `p99.9999 has more than ${PERCENTILE_DECIMALS_MAX} decimals`, { offset: 37, length: 8 }, []],
    ['percentile of a word', `${W} 10s COMPUTE percentile(high)`, 'expected a number like 99.9 in percentile(…), found "high"', { offset: 48, length: 4 }, ['a number']],
    ['unclosed percentile(', `${W} 10s COMPUTE percentile(99`, 'expected ")" after percentile(99, found the end of the query', { offset: 50, length: 0 }, [')']],
    ['duplicate function', `${W} 10s COMPUTE min, max, MIN`, 'min appears twice in COMPUTE: each function is computed once', { offset: 47, length: 3 }, []],
    [
      'duplicate percentile, two spellings',
      `${W} 10s COMPUTE p99, percentile(99.0)`,
      'p99 appears twice in COMPUTE (percentile(99.0) is p99): each function is computed once',
      { offset: 42, length: 16 },
      [],
    ],
    ['trailing garbage', `${W} 10s COMPUTE min max`, 'expected "," or the end of the query after min, found "max"', { offset: 41, length: 3 }, [',', 'the end of the query']],
    ['trailing parenthesis', `${W} 10s COMPUTE min)`, 'expected "," or the end of the query after min, found ")"', { offset: 40, length: 1 }, [',', 'the end of the query']],
    [
      'too long input',
      `FROM * SELECT cpu WINDOW 10s COMPUTE min${' '.repeat(QUERY_TEXT_LENGTH_MAX)}`,
      `the query is ${QUERY_TEXT_LENGTH_MAX + 40} characters long: at most ${QUERY_TEXT_LENGTH_MAX} are allowed`,
      { offset: QUERY_TEXT_LENGTH_MAX, length: 40 },
      [],
    ],
    ['non-ASCII look-alike keyword', `${W} 10s \u017Flide 1s COMPUTE min`, 'expected SLIDE, LATENESS, TIME or COMPUTE after the window, found "\u017Flide"', { offset: 29, length: 5 }, ['SLIDE', 'LATENESS', 'TIME', 'COMPUTE']],
    ['sharp s for SS', `${W} 10s LATENE\u00DF 1s COMPUTE min`, 'expected SLIDE, LATENESS, TIME or COMPUTE after the window, found "LATENE\u00DF"', { offset: 29, length: 7 }, ['SLIDE', 'LATENESS', 'TIME', 'COMPUTE']],
    ['dotless i in a function', `${W} 10s COMPUTE m\u0131n`, 'expected a function (min, max, avg, sum, count, pNN or percentile(p)) after COMPUTE, found "m\u0131n"', { offset: 37, length: 3 }, ['min', 'max', 'avg', 'sum', 'count', 'pNN', 'percentile(']],
    ['control character', 'FROM \u0000', 'expected servers(…), server(…) or * after FROM, found "\\u0000"', { offset: 5, length: 1 }, ['servers(', 'server(', '*']],
    ['long garbage is cut', `FROM ${'x'.repeat(50)}`, `expected servers(…), server(…) or * after FROM, found "${'x'.repeat(24)}…"`, { offset: 5, length: 50 }, ['servers(', 'server(', '*']],
  ];

  it.each(bad)('%s', (_name, text, message, at, expected) => {
    const error = refused(text);
    expect(error.message).toBe(message);
    expect({ offset: error.offset, length: error.length }).toEqual({ offset: at.offset, length: at.length });
    expect({ line: error.line, column: error.column }).toEqual({ line: at.line ?? 1, column: at.column ?? at.offset + 1 });
    expect(error.expected).toEqual(expected);
  });

  it('counts lines and columns from 1 with \\n as the break', () => {
    const error = refused('FROM *\nSELECT cpu\n  WINDOW ten');
    expect(error).toMatchObject({ line: 3, column: 10, offset: 27, length: 3 });
    expect(formatQueryError(error)).toBe('line 3, column 10: expected a duration like 10s after WINDOW, found "ten"');
  });

  it('enforces the list limits', () => {
    const patterns = Array.from({ length: SERVER_PATTERNS_MAX + 1 }, (_, i) => `s${i}`);
    const many = refused(`FROM servers(${patterns.join(',')}) SELECT cpu WINDOW 1s COMPUTE min`);
    expect(many.message).toBe(`too many server patterns: at most ${SERVER_PATTERNS_MAX}`);
    expect(many.offset).toBe(`FROM servers(${patterns.slice(0, -1).join(',')},`.length);
    expect(parsed(`FROM servers(${patterns.slice(0, -1).join(',')}) SELECT cpu WINDOW 1s COMPUTE min`).servers).toHaveLength(SERVER_PATTERNS_MAX);

    const percentiles = Array.from({ length: FUNCTIONS_MAX + 1 }, (_, i) => `p${i + 1}`);
    expect(refused(`FROM * SELECT cpu WINDOW 1s COMPUTE ${percentiles.join(', ')}`).message).toBe(`too many functions in COMPUTE: at most ${FUNCTIONS_MAX}`);
    expect(parsed(`FROM * SELECT cpu WINDOW 1s COMPUTE ${percentiles.slice(0, -1).join(', ')}`).compute).toHaveLength(FUNCTIONS_MAX);

    const longPattern = 'a'.repeat(SERVER_PATTERN_LENGTH_MAX + 1);
    expect(refused(`FROM server(${longPattern}) SELECT cpu`).message).toBe(`server pattern "${'a'.repeat(24)}…" is ${SERVER_PATTERN_LENGTH_MAX + 1} characters long: at most ${SERVER_PATTERN_LENGTH_MAX}`);
    const longMetric = 'm'.repeat(METRIC_NAME_LENGTH_MAX + 1);
    expect(refused(`FROM * SELECT ${longMetric} WINDOW 1s`).message).toBe(`metric name "${'m'.repeat(24)}…" is ${METRIC_NAME_LENGTH_MAX + 1} characters long: at most ${METRIC_NAME_LENGTH_MAX}`);
  });

  it('accepts text exactly at the length limit', () => {
    const text = 'FROM * SELECT cpu WINDOW 10s COMPUTE min';
    expect(parseQuery(text.padEnd(QUERY_TEXT_LENGTH_MAX, ' ')).ok).toBe(true);
    expect(parseQuery(text.padEnd(QUERY_TEXT_LENGTH_MAX + 1, ' ')).ok).toBe(false);
  });

  it('never throws on a non-string from an untyped caller', () => {
    for (const value of [undefined, null, 42, {}, ['FROM']]) {
      const r = parseQuery(value as unknown as string);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject({ offset: 0, line: 1, column: 1, expected: ['a string'] });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Generated queries

const patternChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_.-*?');
const pattern = fc.string({ unit: patternChar, minLength: 1, maxLength: SERVER_PATTERN_LENGTH_MAX });
const metric = fc
  .tuple(fc.constantFrom(...'abcxyzABC_'), fc.string({ unit: fc.constantFrom(...'abcz09_.'), maxLength: METRIC_NAME_LENGTH_MAX - 1 }))
  .map(([head, tail]) => head + tail);
const percentileFn = fc.integer({ min: 1, max: 100_000 }).map((k): QueryFunction => ({ fn: 'percentile', p: k / 1_000 }));
const queryFunction = fc.oneof(fc.constantFrom<QueryFunction>({ fn: 'min' }, { fn: 'max' }, { fn: 'avg' }, { fn: 'sum' }, { fn: 'count' }), percentileFn);
/** Durations of every shape: round seconds and minutes, milliseconds, and any whole microsecond count. */
const duration = (minUs: number, maxUs: number) =>
  fc.oneof(
    fc.integer({ min: minUs, max: maxUs }),
    fc.integer({ min: Math.ceil(minUs / MS), max: Math.floor(maxUs / MS) }).map((n) => n * MS),
    fc.integer({ min: Math.ceil(minUs / S), max: Math.floor(maxUs / S) }).map((n) => n * S),
  );

const queryArb: fc.Arbitrary<Query> = fc
  .record({
    servers: fc.oneof(fc.constant<string[]>(['*']), fc.uniqueArray(pattern, { minLength: 1, maxLength: SERVER_PATTERNS_MAX })),
    metric,
    windowUs: duration(WINDOW_US_MIN, WINDOW_US_MAX),
    time: fc.constantFrom<Query['time']>('event', 'processing'),
    compute: fc.uniqueArray(queryFunction, { minLength: 1, maxLength: FUNCTIONS_MAX, selector: functionLabel }),
    sliding: fc.boolean(),
    slideSeed: fc.double({ min: 0, max: 1, noNaN: true }),
    latenessUs: fc.oneof(fc.constant(0), duration(0, LATENESS_US_MAX)),
  })
  .map(({ sliding, slideSeed, ...r }) => {
    const slideUsMin = Math.ceil(r.windowUs / WINDOWS_PER_POINT_MAX);
    const slideUs = sliding ? slideUsMin + Math.floor(slideSeed * (r.windowUs - slideUsMin)) : r.windowUs;
    return { ...r, slideUs, latenessUs: r.time === 'processing' ? 0 : r.latenessUs };
  });

/** Choices for spelling a query differently without changing what it means. */
const spellingArb = fc.record({
  keywordCase: fc.array(fc.constantFrom<'lower' | 'upper' | 'mixed'>('lower', 'upper', 'mixed'), { minLength: 12, maxLength: 12 }),
  space: fc.array(fc.constantFrom(' ', '  ', '\n', '\t', ' \r\n '), { minLength: 24, maxLength: 24 }),
  allServersStar: fc.boolean(),
  singleServer: fc.boolean(),
  durationStyle: fc.array(fc.constantFrom<'canonical' | 'ms' | 's' | 'spaced'>('canonical', 'ms', 's', 'spaced'), { minLength: 3, maxLength: 3 }),
  explicitDefaults: fc.boolean(),
  extraOrder: fc.constantFrom([0, 1, 2], [2, 1, 0], [1, 0, 2], [2, 0, 1]),
  percentileLong: fc.array(fc.boolean(), { minLength: FUNCTIONS_MAX, maxLength: FUNCTIONS_MAX }),
});
type Spelling = typeof spellingArb extends fc.Arbitrary<infer T> ? T : never;

function spellDuration(us: number, style: Spelling['durationStyle'][number]): string {
  const canonical = formatQuery({ ...base, windowUs: WINDOW_US_MAX, slideUs: WINDOW_US_MAX, latenessUs: us, time: 'event' }).match(/LATENESS (\S+)/)?.[1] ?? '0ms';
  if (style === 'ms' && us % MS === 0) return `${us / MS}ms`;
  if (style === 's' && us % S === 0) return `${us / S}s`;
  if (style === 'spaced') return canonical.replace(/([a-z]+)$/, ' $1');
  return canonical;
}

/** The query written with random case, whitespace, units, aliases and clause order. */
function spell(q: Query, s: Spelling): string {
  let k = 0;
  let w = 0;
  const kw = (word: string) => {
    const style = s.keywordCase[k++ % s.keywordCase.length];
    if (style === 'lower') return word.toLowerCase();
    if (style === 'upper') return word.toUpperCase();
    return [...word].map((ch, i) => (i % 2 ? ch.toLowerCase() : ch.toUpperCase())).join('');
  };
  const sp = () => s.space[w++ % s.space.length];
  let from = `${kw('servers')}(${sp()}${q.servers.join(`${sp()},${sp()}`)}${sp()})`;
  if (q.servers.length === 1 && q.servers[0] === '*' && s.allServersStar) from = '*';
  else if (q.servers.length === 1 && s.singleServer) from = `${kw('server')}(${q.servers[0]})`;
  const extras = [
    q.slideUs !== q.windowUs || s.explicitDefaults ? `${kw('SLIDE')}${sp()}${spellDuration(q.slideUs, s.durationStyle[1])}` : '',
    q.latenessUs !== 0 || s.explicitDefaults ? `${kw('LATENESS')}${sp()}${spellDuration(q.latenessUs, s.durationStyle[2])}` : '',
    q.time !== 'event' || s.explicitDefaults ? `${kw('TIME')}${sp()}${kw(q.time)}` : '',
  ];
  const functions = q.compute.map((f, i) => {
    if (f.fn !== 'percentile') return kw(f.fn);
    return s.percentileLong[i] ? `${kw('percentile')}(${sp()}${f.p}${sp()})` : `${kw('p')}${f.p}${Number.isInteger(f.p) ? '.0' : '0'}`;
  });
  return [
    sp(),
    `${kw('FROM')}${sp()}${from}${sp()}${kw('SELECT')}${sp()}${q.metric}${sp()}${kw('WINDOW')}${sp()}${spellDuration(q.windowUs, s.durationStyle[0])}`,
    ...s.extraOrder.map((i) => extras[i]).filter((x) => x !== ''),
    `${kw('COMPUTE')}${sp()}${functions.join(`${sp()},`)}`,
  ].join(sp());
}

describe('round trips', () => {
  it('parseQuery(formatQuery(q)) is q for every valid query', () => {
    fc.assert(
      fc.property(queryArb, (q) => {
        const text = formatQuery(q);
        expect(text.length).toBeLessThanOrEqual(QUERY_TEXT_LENGTH_MAX);
        const r = parseQuery(text);
        if (!r.ok) throw new Error(`${text}\n${formatQueryError(r.error)}`);
        expect(r.query).toEqual(q);
        expect(structuredClone(r.query)).toEqual(q);
        expect(JSON.parse(JSON.stringify(r.query))).toEqual(q);
      }),
      { numRuns: 500 },
    );
  });

  it('any spelling of a query parses to it, and its canonical text is a fixed point', () => {
    fc.assert(
      fc.property(queryArb, spellingArb, (q, spelling) => {
        const text = spell(q, spelling);
        fc.pre(text.length <= QUERY_TEXT_LENGTH_MAX);
        const r = parseQuery(text);
        if (!r.ok) throw new Error(`${JSON.stringify(text)}\n${formatQueryError(r.error)}`);
        expect(r.query).toEqual(q);
        const canonical = formatQuery(r.query);
        expect(formatQuery(parsed(canonical))).toBe(canonical);
      }),
      { numRuns: 500 },
    );
  });

  it('the largest query allowed by every limit formats within the text limit', () => {
    const q: Query = {
      servers: Array.from({ length: SERVER_PATTERNS_MAX }, (_, i) => `${i}`.padEnd(SERVER_PATTERN_LENGTH_MAX, '*')),
      metric: 'm'.repeat(METRIC_NAME_LENGTH_MAX),
      windowUs: WINDOW_US_MAX - 1,
      slideUs: WINDOW_US_MAX - 2,
      latenessUs: LATENESS_US_MAX - 1,
      time: 'event',
      compute: Array.from({ length: FUNCTIONS_MAX }, (_, i): QueryFunction => ({ fn: 'percentile', p: (99_001 + i) / 1_000 })),
    };
    const text = formatQuery(q);
    expect(text).toContain('WINDOW 3599999.999ms SLIDE 3599999.998ms LATENESS 3599999.999ms');
    expect(text.length).toBeLessThanOrEqual(QUERY_TEXT_LENGTH_MAX);
    expect(parsed(text)).toEqual(q);
  });

  it('sameQuery tells queries apart field by field', () => {
    const q = parsed('FROM servers(a, b) SELECT cpu WINDOW 1m SLIDE 10s LATENESS 1s COMPUTE min, p99');
    expect(sameQuery(q, structuredClone(q))).toBe(true);
    const variants: Query[] = [
      { ...q, servers: ['a'] },
      { ...q, servers: ['a', 'c'] },
      { ...q, metric: 'mem' },
      { ...q, windowUs: q.windowUs + 1 },
      { ...q, slideUs: q.slideUs + 1 },
      { ...q, latenessUs: 0 },
      { ...q, time: 'processing' },
      { ...q, compute: [{ fn: 'min' }] },
      { ...q, compute: [{ fn: 'min' }, { fn: 'percentile', p: 99.9 }] },
      { ...q, compute: [{ fn: 'min' }, { fn: 'max' }] },
    ];
    for (const v of variants) expect(sameQuery(q, v)).toBe(false);
  });
});

describe('fuzz: parseQuery never throws and errors point inside the text', () => {
  function check(text: string): void {
    const r = parseQuery(text);
    if (r.ok) {
      expect(parsed(formatQuery(r.query))).toEqual(r.query);
      return;
    }
    const e = r.error;
    expect(e.message.length).toBeGreaterThan(0);
    expect(e.offset).toBeGreaterThanOrEqual(0);
    expect(e.offset + e.length).toBeLessThanOrEqual(text.length);
    const before = text.slice(0, e.offset);
    expect(e.line).toBe(before.split('\n').length);
    expect(e.column).toBe(e.offset - before.lastIndexOf('\n'));
    expect(Array.isArray(e.expected)).toBe(true);
  }

  it('on arbitrary code units, code points and graphemes', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), check), { numRuns: 1_000 });
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), check), { numRuns: 500 });
    fc.assert(fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)), maxLength: 200 }), check), { numRuns: 500 });
    fc.assert(fc.property(fc.string({ maxLength: QUERY_TEXT_LENGTH_MAX + 50 }), check), { numRuns: 200 });
  });

  it('on token soup from the grammar, which reaches deep into the parser', () => {
    const piece = fc.constantFrom(
      'FROM', 'SELECT', 'WINDOW', 'SLIDE', 'LATENESS', 'TIME', 'COMPUTE', 'event', 'processing', 'servers(', 'server(', '*', '(', ')', ',',
      'web-*', 'cpu', 'rpc.latency', '10s', '0s', '1.5', 'ms', 's', 'm', 'h', '10', '99.9999', 'p0', 'p99', 'p101', 'percentile(', 'min', 'max',
      'avg', 'sum', 'count', '__proto__', 'constructor', '1e9s', '\u0000', '\ud800', '9'.repeat(30), '\n', '"',
    );
    const soup = fc.array(piece, { maxLength: 30 }).chain((pieces) =>
      fc.array(fc.constantFrom('', ' ', '\n'), { minLength: pieces.length, maxLength: pieces.length }).map((gaps) => pieces.map((p, i) => p + gaps[i]).join('')),
    );
    fc.assert(fc.property(soup, check), { numRuns: 3_000 });
    fc.assert(fc.property(queryArb, fc.nat(), fc.string({ unit: 'binary', maxLength: 5 }), (q, at, junk) => {
      const text = formatQuery(q);
      const i = at % (text.length + 1);
      check(text.slice(0, i) + junk + text.slice(i));
      check(text.slice(0, i));
    }), { numRuns: 1_000 });
  });
});

// ---------------------------------------------------------------------------------------------------------------------

describe('server matching', () => {
  const table: [pattern: string, name: string, matches: boolean][] = [
    ['web-1', 'web-1', true],
    ['web-1', 'web-10', false],
    ['web-1', 'Web-1', false],
    ['web-*', 'web-1', true],
    ['web-*', 'web-', true],
    ['web-*', 'web', false],
    ['web-*', 'db-web-1', false],
    ['*-eu', 'db-eu', true],
    ['*', '', true],
    ['*', 'anything.at_all-9', true],
    ['?', '', false],
    ['?', 'a', true],
    ['?', 'ab', false],
    ['web-??', 'web-12', true],
    ['web-??', 'web-1', false],
    ['*a*b', 'xaxxb', true],
    ['*a*b', 'xbxa', false],
    ['a*a', 'a', false],
    ['a**a', 'aa', true],
    ['web.1', 'webx1', false], // "." is itself, not a regex wildcard
    ['web-[12]', 'web-1', false], // nor is a character class
    ['*a*a*a*a*a*a*a*b', 'a'.repeat(10_000), false],
    ['*a*a*a*a*a*a*a*b', `${'a'.repeat(10_000)}b`, true],
    [`${'*?'.repeat(30)}b`, 'a'.repeat(5_000), false],
  ];
  const short = (text: string) => (text.length > 20 ? `${text.slice(0, 8)}…(${text.length} chars)` : text);
  it.each(table.map(([pattern, name, matches]) => [short(pattern), short(name), pattern, name, matches] as const))('%j vs %j', (_p, _n, pattern, name, matches) => {
    expect(globMatch(pattern, name)).toBe(matches);
  });

  it('agrees with a regular-expression reference on small alphabets', () => {
    const reference = (pattern: string, name: string) =>
      new RegExp(`^${[...pattern].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('')}$`, 's').test(name);
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '.', '*', '?'), maxLength: 8 }), fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 10 }), (pattern, name) => {
        expect(globMatch(pattern, name)).toBe(reference(pattern, name));
      }),
      { numRuns: 3_000 },
    );
  });

  it('matchServers matches any of the query patterns', () => {
    const q = parsed('FROM servers(web-*, db-?) SELECT cpu WINDOW 10s COMPUTE min');
    expect(['web-1', 'db-2', 'db-x'].map((s) => matchServers(q, s))).toEqual([true, true, true]);
    expect(['db-10', 'cache-1', ''].map((s) => matchServers(q, s))).toEqual([false, false, false]);
    expect(matchServers(parsed('FROM * SELECT cpu WINDOW 10s COMPUTE min'), 'whatever')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------------

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function ok(r: ReturnType<typeof addQuery>): QueryStore {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.kind}: ${r.error.message}`);
  return r.store;
}

const CPU = 'FROM servers(web-*) SELECT cpu WINDOW 10s COMPUTE min, max, avg, p99';
const LATENCY = 'from * select rpc.latency window 1m slide 10s compute p99.9';

function sample(): QueryStore {
  let store: QueryStore = { queries: [] };
  store = ok(addQuery(store, { name: 'web CPU', text: CPU }));
  store = ok(addQuery(store, { id: 'lat', name: 'RPC latency', text: LATENCY }));
  store = ok(addQuery(store, { name: 'db CPU', text: 'FROM server(db-1) SELECT cpu WINDOW 1s COMPUTE max' }));
  return store;
}

describe('stored-query store', () => {
  it('adds queries with generated and given ids, keeping the text as written', () => {
    const store = sample();
    expect(store.queries.map((q) => q.id)).toEqual(['q1', 'lat', 'q2']);
    expect(store.queries[1]).toEqual({ id: 'lat', name: 'RPC latency', text: LATENCY, query: parsed(LATENCY) });
  });

  it('never changes its input store', () => {
    const store = deepFreeze(sample());
    const before = structuredClone(store);
    const after = [
      ok(addQuery(store, { name: 'x', text: CPU })),
      ok(updateQuery(store, 'lat', { name: 'renamed' })),
      ok(removeQuery(store, 'q1')),
    ];
    expect(after.every((s) => s !== store && s.queries !== store.queries)).toBe(true);
    expect(store).toEqual(before);
  });

  it('generates the first free id', () => {
    const store = ok(removeQuery(sample(), 'q1'));
    expect(ok(addQuery(store, { name: 'again', text: CPU })).queries.map((q) => q.id)).toEqual(['lat', 'q2', 'q1']);
  });

  it('refuses bad additions with a typed error', () => {
    const store = sample();
    const cases: [Parameters<typeof addQuery>[1], string, string][] = [
      [{ id: 'lat', name: 'x', text: CPU }, 'duplicate-id', 'a query with id "lat" already exists'],
      [{ id: 'has space', name: 'x', text: CPU }, 'bad-id', 'a query id is a letter or digit, then up to 63 letters, digits, "_" or "-"'],
      [{ id: '', name: 'x', text: CPU }, 'bad-id', 'a query id is a letter or digit, then up to 63 letters, digits, "_" or "-"'],
      [{ name: '', text: CPU }, 'bad-name', 'a query name is 1 to 80 characters and not blank'],
      [{ name: ' \t', text: CPU }, 'bad-name', 'a query name is 1 to 80 characters and not blank'],
      [{ name: 'n'.repeat(QUERY_NAME_LENGTH_MAX + 1), text: CPU }, 'bad-name', 'a query name is 1 to 80 characters and not blank'],
      [{ name: 'x', text: 'FROM * SELECT cpu WINDOW ten COMPUTE min' }, 'bad-query', 'line 1, column 26: expected a duration like 10s after WINDOW, found "ten"'],
    ];
    for (const [draft, kind, message] of cases) {
      const r = addQuery(store, draft);
      expect(r.ok ? 'ok' : [r.error.kind, r.error.message]).toEqual([kind, message]);
    }
    const r = addQuery(store, { name: 'x', text: 'FROM' });
    expect(!r.ok && r.error.kind === 'bad-query' && r.error.error).toEqual(refused('FROM'));
  });

  it('refuses to grow beyond STORED_QUERIES_MAX', () => {
    let store: QueryStore = { queries: [] };
    for (let i = 0; i < STORED_QUERIES_MAX; i++) store = ok(addQuery(store, { name: `q ${i}`, text: CPU }));
    expect(store.queries.at(-1)?.id).toBe(`q${STORED_QUERIES_MAX}`);
    const r = addQuery(store, { name: 'one more', text: CPU });
    expect(r.ok ? 'ok' : r.error).toEqual({ kind: 'store-full', message: `the store already holds ${STORED_QUERIES_MAX} queries: remove one first` });
  });

  it('updates name and text in place and re-parses', () => {
    const store = sample();
    const renamed = ok(updateQuery(store, 'lat', { name: 'p999' }));
    expect(renamed.queries[1]).toEqual({ ...store.queries[1], name: 'p999' });
    const edited = ok(updateQuery(store, 'lat', { text: 'FROM * SELECT rpc.latency WINDOW 30s COMPUTE p50' }));
    expect(edited.queries.map((q) => q.id)).toEqual(['q1', 'lat', 'q2']);
    expect(edited.queries[1].query.windowUs).toBe(30 * S);
    expect(edited.queries[0]).toBe(store.queries[0]);
  });

  it('refuses bad updates and removals', () => {
    const store = sample();
    const unknown = updateQuery(store, 'nope', { name: 'x' });
    expect(unknown.ok ? 'ok' : unknown.error).toEqual({ kind: 'unknown-id', id: 'nope', message: 'no query with id "nope"' });
    const badText = updateQuery(store, 'lat', { text: 'FROM * SELECT cpu WINDOW 10s COMPUTE p0' });
    expect(badText.ok ? 'ok' : [badText.error.kind, badText.error.message]).toEqual(['bad-query', 'line 1, column 38: p0 is out of range: a percentile is above 0 and at most 100']);
    const blank = updateQuery(store, 'lat', { name: '' });
    expect(blank.ok ? 'ok' : blank.error.kind).toBe('bad-name');
    const gone = removeQuery(store, 'nope');
    expect(gone.ok ? 'ok' : gone.error).toEqual({ kind: 'unknown-id', id: 'nope', message: 'no query with id "nope"' });
    expect(ok(removeQuery(store, 'lat')).queries.map((q) => q.id)).toEqual(['q1', 'q2']);
  });

  it('lists the metrics in use and the queries a point feeds', () => {
    const store = sample();
    expect(metricsUsed(store)).toEqual(new Set(['cpu', 'rpc.latency']));
    expect(metricsUsed({ queries: [] })).toEqual(new Set());
    expect(serversMatched(store, 'cpu', 'web-7').map((q) => q.id)).toEqual(['q1']);
    expect(serversMatched(store, 'cpu', 'db-1').map((q) => q.id)).toEqual(['q2']);
    expect(serversMatched(store, 'cpu', 'db-12')).toEqual([]);
    expect(serversMatched(store, 'rpc.latency', 'db-12').map((q) => q.id)).toEqual(['lat']);
    expect(serversMatched(store, 'mem', 'web-7')).toEqual([]);
  });
});

describe('query store schema', () => {
  const raw = () => JSON.parse(JSON.stringify(sample()));

  it('accepts a store written by the store functions, after a JSON round trip', () => {
    const r = parseQueryStore(raw());
    expect(r.ok && r.store).toEqual(sample());
    expect(queryStoreSchema.safeParse({ queries: [] }).success).toBe(true);
  });

  const tampered: [string, (s: any) => void, string][] = [
    ['a changed window', (s) => (s.queries[1].query.windowUs = 5_000_000), 'queries[1].query.windowUs: does not match the text, which gives 60000000 (stored: 5000000)'],
    ['a changed metric', (s) => (s.queries[0].query.metric = 'mem'), 'queries[0].query.metric: does not match the text, which gives "cpu" (stored: "mem")'],
    ['a changed pattern', (s) => (s.queries[0].query.servers[0] = '*'), 'queries[0].query.servers[0]: does not match the text, which gives "web-*" (stored: "*")'],
    ['an extra pattern', (s) => s.queries[0].query.servers.push('db-*'), 'queries[0].query.servers: does not match the text, which gives ["web-*"] (stored: ["web-*","db-*"])'],
    ['a changed percentile', (s) => (s.queries[1].query.compute[0].p = 99), 'queries[1].query.compute[0]: does not match the text, which gives {"fn":"percentile","p":99.9} (stored: {"fn":"percentile","p":99})'],
    ['a changed time domain', (s) => (s.queries[2].query.time = 'processing'), 'queries[2].query.time: does not match the text, which gives "event" (stored: "processing")'],
    ['a changed text', (s) => (s.queries[2].text = s.queries[2].text.replace('1s', '2s')), 'queries[2].query.windowUs: does not match the text, which gives 2000000 (stored: 1000000)'],
    ['an unparseable text', (s) => (s.queries[0].text = 'FROM * SELECT cpu'), 'queries[0].text: line 1, column 18: expected WINDOW after the metric, found the end of the query'],
    ['a duplicate id', (s) => (s.queries[2].id = 'q1'), 'queries[2].id: id "q1" is already used by queries[0]'],
    ['a bad id', (s) => (s.queries[0].id = '-x'), 'queries[0].id: a query id is a letter or digit, then up to 63 letters, digits, "_" or "-"'],
    ['a blank name', (s) => (s.queries[0].name = '   '), 'queries[0].name: a query name is 1 to 80 characters and not blank'],
    ['an unknown function', (s) => (s.queries[0].query.compute[0] = { fn: 'median' }), 'queries[0].query.compute[0].fn: '],
    ['a string for a number', (s) => (s.queries[0].query.windowUs = '10s'), 'queries[0].query.windowUs: '],
    ['a missing field', (s) => delete s.queries[0].query.latenessUs, 'queries[0].query.latenessUs: '],
    ['an unknown field', (s) => (s.queries[0].query.limit = 5), 'queries[0].query: Unrecognized key: "limit"'],
    ['a prototype key', (s) => (s.queries[0] = JSON.parse(`{"__proto__": {"x": 1}, ${JSON.stringify(s.queries[0]).slice(1)}`)), 'queries[0]: Unrecognized key: "__proto__"'],
    ['not an object', (s) => (s.queries = 'all'), 'queries: '],
    ['too many queries', (s) => (s.queries = Array.from({ length: STORED_QUERIES_MAX + 1 }, (_, i) => ({ ...s.queries[0], id: `x${i}` }))), 'queries: '],
  ];
  it.each(tampered)('refuses %s with its path', (_name, mutate, message) => {
    const s = raw();
    mutate(s);
    const r = parseQueryStore(s);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message.startsWith(`invalid query store: ${message}`)).toBe(true);
  });
});
