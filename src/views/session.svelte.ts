import type { ImportResult, LoadOptions, ScenarioInfo, Snapshot, StepArg } from '../sim/lab.ts';
import type { TraceView } from '../sim/export/index.ts';
import type { Fault } from '../sim/kernel/types.ts';
import type { Micros } from '../sim/kernel/time.ts';
import type { LabPort } from './port.ts';

/**
 * The view-model of one lab session: it owns the latest snapshot and every call to the Lab port.
 *
 * Ordering duties:
 * - The snapshot is replaced whole (`$state.raw`), never mutated, so views compare by identity and never see a half
 *   update.
 * - Playing is a loop of `await nextFrame(); await port.advance(elapsed)`. Each advance is awaited before the next one
 *   is made, so calls never pile up behind a slow worker; the elapsed wall time includes the wait, and the Lab caps
 *   one frame's wall time, so a slow frame plays a little slower rather than leaping.
 * - Seeks while dragging coalesce: only the newest target is sent once the previous seek returns.
 * - The worker handles calls one at a time in the order they were made, so results arrive in that order too and the
 *   last snapshot set is the newest state.
 */

/**
 * The node kinds whose memory the views draw from every snapshot (the Raft panels read replicas' logs and timers, the
 * charts the dashboard's series). Other nodes' memory and disk data cross only for the node the inspector shows.
 */
export const DETAIL_KINDS: readonly string[] = ['raft', 'apm-dashboard'];

/** A call slower than this shows the progress indicator. */
export const BUSY_AFTER_MS = 150;

export type Frame = (cb: (now: number) => void) => void;

const defaultFrame: Frame = (cb) => {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(cb);
  else setTimeout(() => cb(performance.now()), 16);
};

export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

export class LabSession {
  snapshot = $state.raw<Snapshot | null>(null);
  scenarios = $state.raw<ScenarioInfo[]>([]);
  /** The last failure, shown in the error banner until dismissed or replaced. */
  error = $state<string | null>(null);
  /** A one-line success message (e.g. an import that verified). */
  notice = $state<string | null>(null);
  /** Label of a call that is taking long, for the progress indicator; null when idle. */
  busy = $state<string | null>(null);
  playing = $state(false);
  speed = $state(1);
  /** The summary of a trace opened for viewing (read-only, beside the run); null when none is open. */
  opened = $state.raw<TraceView | null>(null);
  /** The text of the opened trace, kept so "Re-run and verify" can import the same bytes. */
  private openedText: string | null = null;
  /** The node the inspector shows. */
  selected = $state<string | null>(null);

  readonly t: Micros = $derived(this.snapshot?.t ?? 0);
  readonly durationUs: Micros = $derived(this.snapshot?.durationUs ?? 0);
  readonly done: boolean = $derived(this.snapshot?.done ?? false);
  readonly selectedNode = $derived(this.snapshot?.nodes.find((n) => n.id === this.selected) ?? null);

  private pending = 0;
  private seekTarget: Micros | null = null;
  private seekLoop: Promise<void> | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    readonly port: LabPort,
    initial: { snapshot?: Snapshot; scenarios?: ScenarioInfo[] } = {},
    private readonly frame: Frame = defaultFrame,
  ) {
    if (initial.snapshot) this.snapshot = initial.snapshot;
    if (initial.scenarios) this.scenarios = initial.scenarios;
  }

  /** Runs one port call; failures land in `error` and return undefined. Slow calls light the progress indicator. */
  private async call<T>(label: string | null, fn: () => Promise<T>): Promise<T | undefined> {
    const timer = label === null ? undefined : setTimeout(() => (this.busy = label), BUSY_AFTER_MS);
    this.pending++;
    try {
      return await fn();
    } catch (e) {
      this.error = errorText(e);
      return undefined;
    } finally {
      clearTimeout(timer);
      if (--this.pending === 0) this.busy = null;
    }
  }

  private apply(snap: Snapshot | undefined): boolean {
    if (!snap) return false;
    this.snapshot = snap;
    if (this.selected !== null && !snap.nodes.some((n) => n.id === this.selected)) this.selected = null;
    return true;
  }

  private clearMessages(): void {
    this.error = null;
    this.notice = null;
  }

  async listScenarios(): Promise<ScenarioInfo[]> {
    await this.call(null, () => this.port.setFocus(this.focus()));
    const list = await this.call(null, () => this.port.list());
    if (list) this.scenarios = list;
    return this.scenarios;
  }

  /**
   * Loads a scenario, with optional teaching bugs, settings and recorded actions (a shared link, a what-if fork);
   * on failure the current run stays and the error is shown. Returns whether it loaded.
   */
  async load(scenario: string, seed?: string, more: Omit<LoadOptions, 'seed' | 'keepEvents'> = {}): Promise<boolean> {
    this.clearMessages();
    this.playing = false;
    const opts: LoadOptions = { ...more, ...(seed === undefined ? {} : { seed }) };
    const ok = this.apply(await this.call('Loading…', () => this.port.load(scenario, opts)));
    if (ok) await this.call(null, () => this.port.setSpeed(this.speed));
    return ok;
  }

  /** Reloads the current scenario, seed, bugs and settings, dropping injected faults. */
  async reset(): Promise<void> {
    const s = this.snapshot;
    if (s) await this.load(s.scenario.id, s.seed, { bugs: s.bugs, settings: s.settings });
  }

  async play(): Promise<void> {
    if (this.playing || !this.snapshot) return;
    this.clearMessages();
    if (this.snapshot.done) await this.seek(0);
    const started = await this.call(null, async () => {
      await this.port.play(this.speed);
      return true;
    });
    if (!started) return;
    this.playing = true;
    this.loop ??= this.runLoop();
  }

  /**
   * Stops playing. An advance already in flight still lands (it is newer state); the snapshot taken after the
   * Lab's pause is the final one, so what the page shows once this resolves stays put.
   */
  async pause(): Promise<void> {
    this.playing = false;
    await this.call(null, () => this.port.pause());
    this.apply(await this.call(null, () => this.port.snapshot()));
  }

  togglePlay(): Promise<void> {
    return this.playing ? this.pause() : this.play();
  }

  private nextFrame(): Promise<number> {
    return new Promise((resolve) => this.frame(resolve));
  }

  /** `loop` is cleared in the same tick the loop sees `playing` false, so a quick pause + play starts a new one. */
  private async runLoop(): Promise<void> {
    try {
      await this.frames();
    } finally {
      this.loop = null;
    }
  }

  private async frames(): Promise<void> {
    let last = await this.nextFrame();
    while (this.playing) {
      const now = await this.nextFrame();
      if (!this.playing) break;
      const snap = await this.call(null, () => this.port.advance(now - last));
      last = now;
      if (!snap) {
        this.playing = false;
        break;
      }
      // A pause made while this advance was in flight wins; the snapshot itself is still the newest state.
      this.apply(snap);
      if (!snap.playing) this.playing = false;
    }
  }

  async step(arg: StepArg = 1): Promise<void> {
    this.clearMessages();
    if (this.playing) await this.pause();
    this.apply(await this.call('Stepping…', () => this.port.step(arg)));
  }

  /** Moves to virtual time `t`. While a seek is in flight, later targets replace each other; the newest is sent next. */
  seek(t: Micros): Promise<void> {
    this.seekTarget = Math.max(0, Math.round(t));
    this.seekLoop ??= this.drainSeeks();
    return this.seekLoop;
  }

  private async drainSeeks(): Promise<void> {
    try {
      while (this.seekTarget !== null) {
        const target = this.seekTarget;
        this.seekTarget = null;
        this.apply(await this.call('Seeking…', () => this.port.seek(target)));
      }
    } finally {
      this.seekLoop = null;
    }
  }

  seekBy(deltaUs: Micros): Promise<void> {
    return this.seek(Math.min(this.durationUs, Math.max(0, this.t + deltaUs)));
  }

  async runToEnd(): Promise<void> {
    this.clearMessages();
    if (this.playing) await this.pause();
    await this.seek(this.durationUs);
  }

  async setSpeed(speed: number): Promise<void> {
    this.speed = speed;
    await this.call(null, () => this.port.setSpeed(speed));
  }

  /** Applies a fault now. Returns the error text, or null when it applied. */
  async inject(fault: Fault): Promise<string | null> {
    this.clearMessages();
    const ok = this.apply(await this.call('Injecting…', () => this.port.inject(fault)));
    return ok ? null : this.error;
  }

  async exportTrace(): Promise<string | undefined> {
    this.clearMessages();
    return this.call('Exporting…', () => this.port.exportTrace('json'));
  }

  /** Imports a trace; on failure the current run is untouched and the error is shown. */
  async importTrace(text: string): Promise<ImportResult | undefined> {
    this.clearMessages();
    if (this.playing) await this.pause();
    const result = await this.call('Importing…', () => this.port.importTrace(text));
    if (!result) return undefined;
    this.apply(await this.call(null, () => this.port.snapshot()));
    this.notice = `Imported a trace of ${result.scenario} (seed "${result.seed}"): ${result.events} events re-run, hash ${result.hash} verified.`;
    return result;
  }

  /**
   * Opens a trace for viewing without re-running it. On failure the run and any trace already open stay as they were
   * (the Lab validates before it replaces its opened trace) and the error is shown.
   */
  async openTrace(text: string): Promise<TraceView | undefined> {
    this.clearMessages();
    const view = await this.call('Opening…', () => this.port.openTrace(text));
    if (!view) return undefined;
    this.opened = view;
    this.openedText = text;
    return view;
  }

  async closeTrace(): Promise<void> {
    this.clearMessages();
    await this.call(null, () => this.port.closeTrace());
    this.opened = null;
    this.openedText = null;
  }

  /** Imports the opened trace the usual way (re-run, hash checked); when it verifies, the viewer closes. */
  async rerunOpened(): Promise<ImportResult | undefined> {
    const text = this.openedText;
    if (text === null) return undefined;
    const result = await this.importTrace(text);
    if (result) {
      await this.call(null, () => this.port.closeTrace());
      this.opened = null;
      this.openedText = null;
    }
    return result;
  }

  private focus(): { kinds: string[]; nodes: string[] } {
    return { kinds: [...DETAIL_KINDS], nodes: this.selected === null ? [] : [this.selected] };
  }

  /**
   * Shows a node in the inspector (again: hides it). Its memory and disk join the snapshots from the next one; while
   * paused the snapshot is fetched at once so the inspector never shows a node without them.
   */
  async select(node: string | null): Promise<void> {
    this.selected = this.selected === node ? null : node;
    await this.call(null, () => this.port.setFocus(this.focus()));
    if (!this.playing && this.selected !== null) this.apply(await this.call(null, () => this.port.snapshot()));
  }

  dismiss(): void {
    this.clearMessages();
  }
}
