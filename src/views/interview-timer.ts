/**
 * The notes' 45-minute system-design interview as a timer (lecture notes, "Structure of Design Interviews"): four
 * 10-minute chunks — requirements, high-level design, detailed design, depth or breadth — and the remainder for
 * questions. Pure arithmetic over an injected clock: every function takes `now` (milliseconds on a monotonic clock,
 * `performance.now()` in the app) and returns a new state, so tests drive it with plain numbers. This is wall-clock
 * UI code: it lives in src/views and never touches the simulation's virtual time.
 *
 * The model: each phase has its own budget and its own elapsed time. Time does not spill from one phase into the next:
 * a phase that runs long shows how far over it is (the notes' point is time management — move on), and skipping a
 * phase early starts the next one with its full budget. The interview's total clock runs across phases either way,
 * so the overall time left tells the truth about the 45 minutes.
 */

export interface Phase {
  id: string;
  title: string;
  minutes: number;
  /** What to do in this phase, after the notes. */
  guide: string;
}

export const INTERVIEW_MINUTES = 45;
const MS_PER_MINUTE = 60_000;

export const PHASES: readonly Phase[] = [
  {
    id: 'requirements',
    title: 'Requirements',
    minutes: 10,
    guide: 'Pick 3–4 actionable requirements, not a long list, and say how your design will prove each one. No buzzwords.',
  },
  {
    id: 'high-level',
    title: 'High-level design',
    minutes: 10,
    guide: 'Draw the block diagram. Name the big trade-offs as two options: “we can do A or B; we do B because…” (AP/CP, load balancer).',
  },
  {
    id: 'detailed',
    title: 'Detailed design',
    minutes: 10,
    guide: 'Walk one request through every component for each requirement: the data flow between them and what happens inside.',
  },
  {
    id: 'depth',
    title: 'Depth or breadth',
    minutes: 10,
    guide: 'Deep-dive where you are strongest. Steer toward the 4–5 topics you prepared; mention what you could go deeper on.',
  },
  {
    id: 'questions',
    title: 'Questions',
    minutes: INTERVIEW_MINUTES - 40,
    guide: 'The remainder: your questions for the interviewer. Wrap up the design in one sentence first.',
  },
];

if (PHASES.reduce((t, p) => t + p.minutes, 0) !== INTERVIEW_MINUTES) throw new Error('the phases must add up to the interview');

/**
 * Where the timer stands. Elapsed time is banked in `phaseMs` / `totalMs` whenever the timer stops or the phase
 * changes; while running, `since` is the clock reading the current stretch started at, and the live elapsed time is
 * banked + (now − since). `phase === PHASES.length` means the interview is over (stopped).
 */
export interface TimerState {
  phase: number;
  phaseMs: number;
  totalMs: number;
  since: number | null;
}

export const TIMER_START: TimerState = Object.freeze({ phase: 0, phaseMs: 0, totalMs: 0, since: null });

export interface TimerView {
  /** The phase being timed, or null once the interview is over. */
  phase: Phase | null;
  index: number;
  running: boolean;
  /** Started at least once and not reset: something to show. */
  started: boolean;
  over: boolean;
  phaseElapsedMs: number;
  /** Budget minus elapsed: negative once the phase runs long. */
  phaseLeftMs: number;
  totalLeftMs: number;
  /** How much of the phase's budget is used, clamped to [0, 1], for a progress bar. */
  phaseFraction: number;
}

/** Time since `since`, never negative (a clock that steps back counts as no time). */
function stretch(s: TimerState, now: number): number {
  return s.since === null ? 0 : Math.max(0, now - s.since);
}

/** Banks the running stretch: same elapsed times, `since` moved to now (or cleared when `stop`). */
function bank(s: TimerState, now: number, stop: boolean): TimerState {
  const d = stretch(s, now);
  return { phase: s.phase, phaseMs: s.phaseMs + d, totalMs: s.totalMs + d, since: stop || s.since === null ? null : now };
}

export function isOver(s: TimerState): boolean {
  return s.phase >= PHASES.length;
}

/** Starts or resumes; a finished interview starts over. Starting a running timer changes nothing. */
export function startTimer(s: TimerState, now: number): TimerState {
  if (isOver(s)) return { ...TIMER_START, since: now };
  if (s.since !== null) return s;
  return { ...s, since: now };
}

export function pauseTimer(s: TimerState, now: number): TimerState {
  return bank(s, now, true);
}

/**
 * Ends the current phase now and starts the next with its full budget; the timer keeps running or stays paused as it
 * was. Skipping the last phase ends the interview (and stops the timer).
 */
export function skipPhase(s: TimerState, now: number): TimerState {
  if (isOver(s)) return s;
  const banked = bank(s, now, false);
  const phase = s.phase + 1;
  if (phase >= PHASES.length) return { phase, phaseMs: 0, totalMs: banked.totalMs, since: null };
  return { phase, phaseMs: 0, totalMs: banked.totalMs, since: banked.since };
}

export function resetTimer(): TimerState {
  return TIMER_START;
}

export function timerView(s: TimerState, now: number): TimerView {
  const d = stretch(s, now);
  const phase = PHASES[s.phase] ?? null;
  const budget = phase ? phase.minutes * MS_PER_MINUTE : 0;
  const phaseElapsedMs = phase ? s.phaseMs + d : 0;
  return {
    phase,
    index: s.phase,
    running: s.since !== null,
    started: s.since !== null || s.totalMs > 0 || s.phase > 0,
    over: phase === null,
    phaseElapsedMs,
    phaseLeftMs: budget - phaseElapsedMs,
    totalLeftMs: INTERVIEW_MINUTES * MS_PER_MINUTE - (s.totalMs + d),
    phaseFraction: budget > 0 ? Math.min(1, Math.max(0, phaseElapsedMs / budget)) : 1,
  };
}

/**
 * A countdown as m:ss. Time left rounds up, so the clock reads 10:00 for the whole first second and 0:00 only at
 * zero; time over (negative) rounds down and gets a leading "+": "+1:05" is 65 s over.
 */
export function formatCountdown(ms: number): string {
  const over = ms < 0;
  const seconds = over ? Math.floor(-ms / 1000) : Math.ceil(ms / 1000);
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${over ? '+' : ''}${m}:${String(s).padStart(2, '0')}`;
}

/** Spoken form for screen readers and tooltips: "9 minutes 5 seconds left" / "1 minute 5 seconds over". */
export function describeCountdown(ms: number): string {
  const over = ms < 0;
  const seconds = over ? Math.floor(-ms / 1000) : Math.ceil(ms / 1000);
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  const parts = [m > 0 ? `${m} minute${m === 1 ? '' : 's'}` : '', s > 0 || m === 0 ? `${s} second${s === 1 ? '' : 's'}` : ''].filter(Boolean);
  return `${parts.join(' ')} ${over ? 'over' : 'left'}`;
}
