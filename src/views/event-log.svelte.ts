import type { EventFilter } from '../sim/lab.ts';
import type { TraceEvent, TraceKind } from '../sim/kernel/trace.ts';
import type { LabPort } from './port.ts';

/**
 * The event log's view-model: filters and one page of rows, fetched from the Lab with `events(from, limit, filter)`.
 * Only a page is ever in memory or in the DOM, so a run of 100k events scrolls as lightly as one of 100.
 *
 * Two modes: following (the newest matching events, refreshed as the run grows) and anchored (a page that starts at
 * a given seq, reached with Older / Newer / First). The Lab's `events` only reads forward, so "the last n matches
 * before seq s" is found by scanning windows that grow backwards from s; each call is bounded by PAGE_SCAN.
 */

export const PAGE_ROWS = 100;
/** Rows shown above a focused event. */
const FOCUS_CONTEXT_ROWS = 5;
const PAGE_SCAN = 2_000;
const TEXT_DEBOUNCE_MS = 200;

export class EventLogModel {
  /** Selected kinds; empty means every kind. */
  kinds = $state.raw<TraceKind[]>([]);
  node = $state('');
  text = $state('');
  rows = $state.raw<TraceEvent[]>([]);
  following = $state(true);
  hasOlder = $state(false);
  hasNewer = $state(false);
  loading = $state(false);
  /** The row whose details are open. */
  openSeq = $state<number | null>(null);

  readonly filter: EventFilter = $derived({
    ...(this.kinds.length ? { kinds: [...this.kinds] } : {}),
    ...(this.node ? { node: this.node } : {}),
    ...(this.text.trim() ? { text: this.text.trim() } : {}),
  });
  readonly filtered: boolean = $derived(this.kinds.length > 0 || this.node !== '' || this.text.trim() !== '');
  readonly range: string = $derived(this.rows.length ? `#${this.rows[0].seq}–#${this.rows[this.rows.length - 1].seq}` : '');

  private anchorSeq = 0;
  private total = 0;
  private dirty = false;
  private running: Promise<void> | null = null;
  private textTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly port: LabPort) {}

  /** The run now holds `eventCount` events: refetch the page (coalesced: one fetch in flight at a time). */
  update(eventCount: number): Promise<void> {
    this.total = eventCount;
    this.dirty = true;
    this.running ??= this.drain();
    return this.running;
  }

  /** Fetches until no update is outstanding. `running` is cleared in the same tick the loop sees `dirty` false. */
  private async drain(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        this.loading = true;
        try {
          await this.fetch();
        } catch {
          // A failed page fetch (no run yet) leaves the last page; the next update tries again.
        } finally {
          this.loading = false;
        }
      }
    } finally {
      this.running = null;
    }
  }

  private async fetch(): Promise<void> {
    if (this.following) {
      const page = await this.before(this.total, PAGE_ROWS + 1);
      this.hasOlder = page.length > PAGE_ROWS;
      this.rows = page.slice(-PAGE_ROWS);
      this.hasNewer = false;
      return;
    }
    const page = await this.port.events(this.anchorSeq, PAGE_ROWS + 1, this.filter);
    if (page.length === 0 && this.anchorSeq > 0) {
      // The run moved back past this page (a seek or reload): follow the newest events instead.
      this.following = true;
      return this.fetch();
    }
    this.rows = page.slice(0, PAGE_ROWS);
    this.hasNewer = page.length > PAGE_ROWS;
    this.hasOlder = this.rows.length > 0 && this.rows[0].seq > 0 && (await this.before(this.rows[0].seq, 1)).length > 0;
  }

  /** The last `n` matching events with seq < end, oldest first. */
  private async before(end: number, n: number): Promise<TraceEvent[]> {
    let found: TraceEvent[] = [];
    let hi = end;
    let window = Math.max(n * 4, 256);
    while (hi > 0 && found.length < n) {
      const lo = Math.max(0, hi - window);
      const chunk: TraceEvent[] = [];
      let cursor = lo;
      while (cursor < hi) {
        const batch = await this.port.events(cursor, PAGE_SCAN, this.filter);
        for (const e of batch) if (e.seq < hi) chunk.push(e);
        const last = batch[batch.length - 1];
        if (batch.length < PAGE_SCAN || !last || last.seq >= hi - 1) break;
        cursor = last.seq + 1;
      }
      found = [...chunk.slice(-n), ...found].slice(-n);
      hi = lo;
      window *= 4;
    }
    return found;
  }

  toggleKind(kind: TraceKind): void {
    this.kinds = this.kinds.includes(kind) ? this.kinds.filter((k) => k !== kind) : [...this.kinds, kind];
    this.refilter();
  }

  setNode(node: string): void {
    this.node = node;
    this.refilter();
  }

  /** Free-text filter; debounced so typing does not fetch on every key. */
  setText(text: string, debounceMs = TEXT_DEBOUNCE_MS): void {
    this.text = text;
    clearTimeout(this.textTimer);
    if (debounceMs <= 0) void this.refilter();
    else this.textTimer = setTimeout(() => void this.refilter(), debounceMs);
  }

  clearFilters(): Promise<void> {
    this.kinds = [];
    this.node = '';
    this.text = '';
    return this.refilter();
  }

  private refilter(): Promise<void> {
    if (!this.following) this.anchorSeq = this.rows[0]?.seq ?? 0;
    return this.update(this.total);
  }

  latest(): Promise<void> {
    this.following = true;
    return this.update(this.total);
  }

  first(): Promise<void> {
    this.following = false;
    this.anchorSeq = 0;
    return this.update(this.total);
  }

  async older(): Promise<void> {
    const top = this.rows[0];
    if (!top) return;
    const page = await this.before(top.seq, PAGE_ROWS);
    if (page.length === 0) return;
    this.following = false;
    this.anchorSeq = page[0].seq;
    await this.update(this.total);
  }

  async newer(): Promise<void> {
    const bottom = this.rows[this.rows.length - 1];
    if (!bottom) return;
    const page = await this.port.events(bottom.seq + 1, PAGE_ROWS + 1, this.filter);
    if (page.length <= PAGE_ROWS) return this.latest();
    this.following = false;
    this.anchorSeq = page[0].seq;
    await this.update(this.total);
  }

  /**
   * Shows event `seq` opened, with some context above it: another view (the space-time diagram) asked for it. Filters
   * go, since they might hide it; the log stops following the run until "Live" is pressed.
   */
  focus(seq: number): Promise<void> {
    this.kinds = [];
    this.node = '';
    this.text = '';
    this.following = false;
    this.anchorSeq = Math.max(0, seq - FOCUS_CONTEXT_ROWS);
    this.openSeq = seq;
    return this.update(this.total);
  }

  toggleOpen(seq: number): void {
    this.openSeq = this.openSeq === seq ? null : seq;
  }
}
