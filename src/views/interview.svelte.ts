import { CHECKLIST } from './interview-checklist.ts';
import { pauseTimer, resetTimer, skipPhase, startTimer, TIMER_START, timerView, type TimerState, type TimerView } from './interview-timer.ts';

/**
 * The interview panel's view-model: the 45-minute timer (interview-timer.ts) driven by a wall clock, and the
 * checklist's ticks, kept in localStorage so a learner's progress survives a reload.
 *
 * Clock duties: `clock` is read on every action and by a tick every `TICK_MS` while running; the displayed `view`
 * is derived from the timer state and the last reading, so the numbers on screen always come from one reading. The
 * interval exists only while the timer runs and `dispose` clears it (the component calls it when it unmounts).
 */

export const TICK_MS = 250;
export const TICKS_KEY = 'streamlab.interview.ticks';

/** What the model needs of localStorage; reads and writes may throw (private mode, a sandboxed frame). */
export type TickStorage = Pick<Storage, 'getItem' | 'setItem'>;

const KNOWN = new Set(CHECKLIST.map((i) => i.id));

function defaultStorage(): TickStorage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/** The stored ticks: a JSON array of known item ids; anything else (hand-edited, an older version) reads as none. */
export function readTicks(storage: TickStorage | null): string[] {
  try {
    const raw = storage?.getItem(TICKS_KEY);
    if (!raw || raw.length > 10_000) return [];
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) return [];
    return [...new Set(parsed.filter((x): x is string => typeof x === 'string' && KNOWN.has(x)))];
  } catch {
    return [];
  }
}

function saveTicks(storage: TickStorage | null, ticks: readonly string[]): void {
  try {
    storage?.setItem(TICKS_KEY, JSON.stringify(ticks));
  } catch {
    // Private mode or a full quota: the ticks just do not persist.
  }
}

export class InterviewModel {
  timer = $state.raw<TimerState>(TIMER_START);
  /** The last clock reading the view is computed at. */
  now = $state(0);
  ticks = $state.raw<string[]>([]);

  readonly view: TimerView = $derived(timerView(this.timer, this.now));
  readonly ticked = $derived(new Set(this.ticks));

  private interval: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly clock: () => number = () => performance.now(),
    private readonly storage: TickStorage | null = defaultStorage(),
  ) {
    this.now = clock();
    this.ticks = readTicks(storage);
  }

  private read(): number {
    this.now = this.clock();
    return this.now;
  }

  /** Runs the interval exactly while the timer runs. */
  private follow(): void {
    const running = this.timer.since !== null;
    if (running && this.interval === null) this.interval = setInterval(() => this.read(), TICK_MS);
    if (!running && this.interval !== null) {
      clearInterval(this.interval);
      this.interval = null;
    }
  }

  start(): void {
    this.timer = startTimer(this.timer, this.read());
    this.follow();
  }

  pause(): void {
    this.timer = pauseTimer(this.timer, this.read());
    this.follow();
  }

  toggle(): void {
    if (this.timer.since === null) this.start();
    else this.pause();
  }

  skip(): void {
    this.timer = skipPhase(this.timer, this.read());
    this.follow();
  }

  reset(): void {
    this.timer = resetTimer();
    this.read();
    this.follow();
  }

  tick(id: string, on: boolean): void {
    if (!KNOWN.has(id)) return;
    const next = on ? [...new Set([...this.ticks, id])] : this.ticks.filter((t) => t !== id);
    this.ticks = CHECKLIST.map((i) => i.id).filter((i) => next.includes(i));
    saveTicks(this.storage, this.ticks);
  }

  clearTicks(): void {
    this.ticks = [];
    saveTicks(this.storage, this.ticks);
  }

  dispose(): void {
    if (this.interval !== null) clearInterval(this.interval);
    this.interval = null;
  }
}
