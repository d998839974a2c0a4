import { fail } from '../kernel/assert.ts';
import { ms, type Micros } from '../kernel/time.ts';
import type { NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { ConfigCheck, WINDOWS_SHOWN_MAX, type LessonMessage, type ResultBody } from './types.ts';

/**
 * The dashboard the processing lessons serve: every `refreshMs` it asks the database for the last `windows` windows
 * of order totals — either computed on the spot from the stored orders (`query`, online) or as a job or stream last
 * wrote them (`results`). One request at a time; one not answered within `timeoutMs` is given up (`dashboardTimeouts`).
 *
 * For each answer it observes two numbers the three designs are compared by:
 * - `dashboardLatencyMs`: from asking to seeing (what the person looking at the dashboard waits);
 * - `resultStalenessMs`: how old the shown numbers are — now minus the answer's horizon (every order stored before
 *   the horizon is counted). Before anything was computed the horizon is the start of the run.
 * and announces the staleness as state `stalenessMs`, so a chart can draw its sawtooth.
 */
export interface DashboardConfig {
  db: NodeId;
  mode: 'query' | 'results';
  refreshMs: number;
  windowMs: number;
  windows: number;
  timeoutMs: number;
}

export const DASHBOARD_DEFAULTS: DashboardConfig = { db: '', mode: 'results', refreshMs: 1_000, windowMs: 10_000, windows: 6, timeoutMs: 2_000 };

export interface DashboardMemory {
  cfg: DashboardConfig;
  seq: number;
  asked: { seq: number; at: Micros } | null;
  /** The last answer shown. */
  shown: (ResultBody & { shownAt: Micros }) | null;
  counts: { refreshes: number; timeouts: number };
}

type Ctx = NodeContext;

export const lessonDashboard: NodeBehavior<DashboardMemory, Partial<DashboardConfig>> = {
  kind: 'lesson-dashboard',
  headline: (m) => ({ mode: m.cfg.mode, stalenessMs: m.shown === null ? null : Math.round((m.shown.shownAt - (m.shown.asOfUs ?? 0)) / 1000), refreshes: m.counts.refreshes }),
  boot(config, _disk, ctx) {
    const c = new ConfigCheck('lesson-dashboard', ctx);
    const cfg = c.merge(DASHBOARD_DEFAULTS, config);
    c.node('db', cfg.db, ctx);
    c.oneOf('mode', cfg.mode, ['query', 'results'] as const);
    c.num('refreshMs', cfg.refreshMs, 1, 3_600_000);
    c.num('windowMs', cfg.windowMs, 1, 86_400_000);
    c.int('windows', cfg.windows, 1, WINDOWS_SHOWN_MAX);
    c.num('timeoutMs', cfg.timeoutMs, 1, 3_600_000);
    ctx.setTimer('refresh', ms(cfg.refreshMs));
    return { cfg, seq: 0, asked: null, shown: null, counts: { refreshes: 0, timeouts: 0 } };
  },
  step(m, input, ctx) {
    if (input.type === 'timer') {
      if (input.name !== 'refresh') fail(`lesson-dashboard has no timer ${input.name}`);
      return refresh(m, ctx);
    }
    const body = input.msg.body as LessonMessage;
    if (body.kind !== 'results') fail(`lesson-dashboard got ${body.kind} from ${input.msg.from}`);
    if (m.asked === null || body.seq !== m.asked.seq) return; // the answer to a request given up on
    show(m, body, ctx);
  },
};

function refresh(m: DashboardMemory, ctx: Ctx): void {
  ctx.setTimer('refresh', ms(m.cfg.refreshMs));
  if (m.asked !== null) {
    if (ctx.now - m.asked.at < ms(m.cfg.timeoutMs)) return;
    m.counts.timeouts++;
    ctx.count('dashboardTimeouts');
  }
  const seq = ++m.seq;
  m.asked = { seq, at: ctx.now };
  const body: LessonMessage = m.cfg.mode === 'query' ? { kind: 'query', seq, windowUs: ms(m.cfg.windowMs), windows: m.cfg.windows } : { kind: 'get-results', seq };
  ctx.send(m.cfg.db, body.kind, body, 32);
}

function show(m: DashboardMemory, body: ResultBody & { seq: number }, ctx: Ctx): void {
  const askedAt = m.asked!.at;
  m.asked = null;
  m.counts.refreshes++;
  const { seq: _seq, ...result } = body;
  m.shown = { ...result, windows: result.windows.slice(-m.cfg.windows), shownAt: ctx.now };
  const stalenessMs = (ctx.now - (body.asOfUs ?? 0)) / 1000;
  ctx.count('dashboardRefreshes');
  ctx.observe('dashboardLatencyMs', (ctx.now - askedAt) / 1000);
  ctx.observe('resultStalenessMs', stalenessMs);
  ctx.state('stalenessMs', Math.round(stalenessMs));
}
