import type { ScenarioInput } from './schema.ts';

/**
 * The notes' first framing lesson — online vs batch vs stream processing — as three scenarios over the same workload:
 * 500 orders a second (a Poisson stream drawn from the source's own random stream, so the same seed gives the same
 * orders in all three), and a dashboard that wants order totals per 10-second window (the lecture's "per minute",
 * scaled to fit a short run), refreshed every second. Only where and when the totals are computed changes:
 * - online: orders are inserted into a database; every refresh queries it, which scans the stored orders again;
 * - batch: orders land in a log; a job wakes every 15 s, reads everything since its last run, writes the totals;
 * - stream: orders land in the same log; a consumer reads it continuously (a poll every 200 ms) and keeps the totals.
 * The numbers to compare are the same in all three: `resultStalenessMs` (how old the shown totals are),
 * `dashboardLatencyMs`, `rowsRead` and `computeMs` (work), `recordsPerBusyS` (throughput while working), and the
 * window checker's `windowsWrong` (all three must give the same, true answer).
 */

type Mode = 'online' | 'batch' | 'stream';

const SEED = 'orders-1';
const DURATION = '60s';
const ORDERS = { ratePerS: 500, tickMs: 100, keys: 16, valueMax: 100 };
const DASHBOARD = { refreshMs: 1_000, windowMs: 10_000, windows: 6 };
const RESULTS = { db: 'db', windowMs: 10_000, windows: 6, graceMs: 500 };
/** Per-row work is the same everywhere (5 µs to read and add up an order); the designs differ in fixed costs and in how often they repeat it. */
const DB = { insertUsPerRow: 2, queryUsFixed: 1_000, scanUsPerRow: 5, resultsUsFixed: 200, graceMs: 500 };

const METRICS = [
  'generated', 'resultStalenessMs', 'dashboardLatencyMs', 'dashboardRefreshes', 'rowsRead', 'computeMs', 'recordsPerBusyS', 'processLatencyMs',
  'windowChecks', 'windowsWrong', 'dbBusyMs',
];

function nodes(mode: Mode): ScenarioInput['topology']['nodes'] {
  const dashboard = { id: 'dashboard', kind: 'lesson-dashboard', config: { db: 'db', mode: mode === 'online' ? 'query' : 'results', ...DASHBOARD } };
  if (mode === 'online') {
    return [
      { id: 'orders', kind: 'lesson-source', config: { target: 'db', ...ORDERS } },
      { id: 'db', kind: 'lesson-db', config: DB },
      dashboard,
    ];
  }
  const consumer =
    mode === 'batch'
      ? // A job: 100 ms to start (schedule, open files), then 5 µs an order, every 15 s.
        { id: 'job', kind: 'lesson-consumer', config: { from: 'log', mode: 'pull', batchEveryMs: 15_000, fixedCostMs: 100, ratePerS: 200_000, fetchMax: 2_000, bufferMax: 100_000, results: RESULTS } }
      : // A stream processor: each poll costs 2 ms (round trip, offset commit, result write), then 20 µs an order.
        { id: 'stream', kind: 'lesson-consumer', config: { from: 'log', mode: 'pull', pollMs: 200, fixedCostMs: 2, ratePerS: 50_000, fetchMax: 2_000, bufferMax: 10_000, results: RESULTS } };
  return [
    { id: 'orders', kind: 'lesson-source', config: { target: 'log', ...ORDERS } },
    { id: 'log', kind: 'lesson-log', config: { partitions: 1 } },
    consumer,
    { id: 'db', kind: 'lesson-db', config: DB },
    dashboard,
  ];
}

const COMMON = {
  tags: ['lesson', 'apm'],
  difficulty: 'intro' as const,
  minutes: 5,
  seed: SEED,
  duration: DURATION,
  faults: [],
  metrics: METRICS,
};

export const lessonOnline: ScenarioInput = {
  ...COMMON,
  id: 'lesson-online',
  title: 'Lesson: online processing — compute the answer on every request',
  summary:
    'Orders (500 a second) are inserted into a database; the dashboard asks it for the last six 10-second windows every ' +
    'second, and the database scans the stored orders to answer. The answer is as fresh as it gets — it counts every ' +
    'order stored when the query ran — but every refresh reads the same orders again, so the work and the wait grow ' +
    'with the range asked for. Compare with lesson-batch and lesson-stream: same orders, same dashboard.',
  goals: [
    'Read resultStalenessMs: a few milliseconds — the answer is computed at request time.',
    'Read dashboardLatencyMs and rowsRead: each refresh scans up to a minute of orders again; rowsRead is many times the orders generated.',
    'Request/response systems size for the peak: a bigger range or a spike makes every request slower.',
  ],
  topology: { nodes: nodes('online'), link: { latencyMs: 1, jitterMs: 0.5 } },
  narration: [
    { at: '0', text: 'The source sends what arrived every 100 ms; the database inserts it (and syncs it to disk) before it answers.' },
    { onEvent: { kind: 'msg.send', msg: 'query' }, text: 'The dashboard’s first refresh: a synchronous query. The database computes the window totals from the stored rows, now.' },
    { at: '10s', text: 'Each refresh scans all the orders of the windows shown — 5,000 more every 10 seconds. Watch dashboardLatencyMs grow with the range.' },
    { at: '50s', text: 'Six windows means up to a minute of orders, about 30,000 rows, read again every second for an answer that changed by 500 orders.' },
    { at: '59s', text: 'Freshness: milliseconds. Cost: rowsRead is many times the orders generated. Online processing fits questions about a few rows, asked as they come.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No invariant is violated.' },
    { check: 'metric', metric: 'resultStalenessMs.p99', max: 50, text: 'The totals shown are at most tens of milliseconds old (p99): computed at request time.' },
    { check: 'metric', metric: 'dashboardLatencyMs.p90', min: 60, text: 'Waiting for the answer costs: the p90 refresh waits 60 ms or more for its scan.' },
    { check: 'metric', metric: 'rowsRead', min: 500_000, text: 'Every refresh re-reads the range: over 500,000 rows read for about 30,000 orders.' },
    { check: 'metric', metric: 'windowChecks', min: 20, text: 'The window checker compared the final windows with the truth.' },
    { check: 'metric', metric: 'windowsWrong', max: 0, text: 'Every final window has the true count and sum.' },
  ],
};

export const lessonBatch: ScenarioInput = {
  ...COMMON,
  id: 'lesson-batch',
  title: 'Lesson: batch processing — a job every 15 seconds',
  summary:
    'The same orders land in a log. Every 15 seconds a job wakes up, reads everything appended since its last run, ' +
    'computes the window totals in one pass and writes them to the database the dashboard reads. Each order is read ' +
    'once and the per-job start-up is paid once per 7,500 orders: the most work done per second of CPU. But the ' +
    'dashboard shows totals up to one period plus the job’s run time old — and nothing at all before the first job.',
  goals: [
    'Read resultStalenessMs: seconds, a sawtooth between about 0.2 s and 15 s (the stalenessMs state of the dashboard).',
    'Read rowsRead and computeMs: each order read once; the least CPU of the three designs.',
    'Read recordsPerBusyS: the highest throughput while working — batch uses planned hardware at full speed.',
  ],
  topology: { nodes: nodes('batch'), link: { latencyMs: 1, jitterMs: 0.5 } },
  narration: [
    { at: '0', text: 'Orders are appended to the log. Nothing reads them yet: the job runs every 15 seconds.' },
    { at: '5s', text: 'The dashboard refreshes every second, but there are no totals yet: its staleness is the whole run so far.' },
    { onEvent: { kind: 'node.note', name: 'job-start' }, text: 'The first job starts: it reads everything the log holds since its last committed offset.' },
    { onEvent: { kind: 'node.note', name: 'job-read' }, text: 'The job has read 15 seconds of orders in a few fetches; it processes them in one pass (100 ms to start, 5 µs an order).' },
    { onEvent: { kind: 'node.state', key: 'stalenessMs' }, after: '16s', text: 'Fresh totals — for a moment. From now on they age by a second each refresh until the next job.' },
    { at: '45.5s', text: 'Every job reads each order exactly once: rowsRead tracks the orders generated, and computeMs is the smallest of the three designs.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No invariant is violated.' },
    { check: 'metric', metric: 'resultStalenessMs.p50', min: 4_000, text: 'Half the time the totals shown are more than 4 seconds old.' },
    { check: 'metric', metric: 'resultStalenessMs.max', min: 14_000, max: 16_000, text: 'At worst they are one period (15 s) plus the job’s run time old, and never more.' },
    { check: 'metric', metric: 'dashboardLatencyMs.p99', max: 20, text: 'Reading precomputed totals is quick (p99 under 20 ms).' },
    { check: 'metric', metric: 'rowsRead', max: 31_000, text: 'Each order is read once (about 30,000 orders).' },
    { check: 'metric', metric: 'recordsPerBusyS.p50', min: 40_000, text: 'While it works, a job handles over 40,000 orders per second of CPU: start-up amortised over a big batch.' },
    { check: 'count', match: { kind: 'node.note', name: 'job-start' }, min: 3, max: 4, text: 'Three jobs run in a minute (at 15, 30 and 45 s).' },
    { check: 'metric', metric: 'windowChecks', min: 10, text: 'The window checker compared the final windows with the truth.' },
    { check: 'metric', metric: 'windowsWrong', max: 0, text: 'Every final window has the true count and sum.' },
  ],
};

export const lessonStream: ScenarioInput = {
  ...COMMON,
  id: 'lesson-stream',
  title: 'Lesson: stream processing — read the log continuously',
  summary:
    'The same orders land in the same log. A stream processor reads it continuously — a poll every 200 ms — adds each ' +
    'order to its window totals and writes them to the database the dashboard reads. Each order is read once, as in ' +
    'batch, but the totals are a fraction of a second old: data always coming in, processed once, in near real time. ' +
    'The price is a fixed cost on every poll and per-order bookkeeping, paid all the time.',
  goals: [
    'Read resultStalenessMs: a few hundred milliseconds at most — between online (ms) and batch (seconds).',
    'Read rowsRead: each order read once, like batch; computeMs: more than batch, far less than online.',
    'Read recordsPerBusyS: lower than batch — small units pay the per-poll cost more often.',
  ],
  topology: { nodes: nodes('stream'), link: { latencyMs: 1, jitterMs: 0.5 } },
  narration: [
    { at: '0', text: 'Orders are appended to the log; the stream processor asks for what is new every 200 ms.' },
    { onEvent: { kind: 'node.note', name: 'processed' }, text: 'The first poll’s orders are processed and the window totals written, with the log’s horizon: everything appended before it is counted.' },
    { at: '10.5s', text: 'The first window closes. Half a second of grace later it is final — the stream does not wait for a job to notice.' },
    { at: '30s', text: 'The dashboard’s totals are always less than a poll interval and a refresh old: compare stalenessMs with lesson-batch’s sawtooth.' },
    { at: '59s', text: 'Each order was read once (rowsRead ≈ orders generated); the work is spread evenly over the run instead of bunched into jobs.' },
  ],
  expect: [
    { check: 'no-violations', text: 'No invariant is violated.' },
    { check: 'metric', metric: 'resultStalenessMs.p50', min: 20, max: 400, text: 'Half the time the totals shown are a few hundred milliseconds old or less.' },
    { check: 'metric', metric: 'resultStalenessMs.max', max: 1_200, text: 'They are never much more than a second old (one poll and one refresh), even at the start.' },
    { check: 'metric', metric: 'dashboardLatencyMs.p99', max: 20, text: 'Reading precomputed totals is quick (p99 under 20 ms).' },
    { check: 'metric', metric: 'rowsRead', max: 31_000, text: 'Each order is read once (about 30,000 orders).' },
    { check: 'metric', metric: 'recordsPerBusyS.p50', max: 35_000, text: 'Throughput while busy is below batch’s: each small unit pays the 2 ms poll cost.' },
    { check: 'metric', metric: 'windowChecks', min: 20, text: 'The window checker compared the final windows with the truth.' },
    { check: 'metric', metric: 'windowsWrong', max: 0, text: 'Every final window has the true count and sum.' },
  ],
};
