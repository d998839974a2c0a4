import type { ScenarioInfo } from '../sim/lab.ts';

/**
 * The scenario picker's model: a search over title, id, summary and tags, tag filters, and the option the keyboard
 * is on. Filtering is a pure function (tested on its own); the class holds the query, the tags and the active row.
 */

/** The tags the picker offers as filters, in this order (issue 7). */
export const PICKER_TAGS = ['raft', 'mq', 'apm', 'faults', 'semantics'] as const;
export type PickerTag = (typeof PICKER_TAGS)[number];

export const TAG_HELP: Record<PickerTag, string> = {
  raft: 'Raft consensus: elections, replication, commit rules',
  mq: 'The Raft-replicated message queue: producers, partitions, consumers, delivery',
  apm: 'The APM metrics pipeline: agents, ingestion, windows, dashboards',
  faults: 'Crashes, partitions, slow links and what the system does about them',
  semantics: 'Delivery guarantees: at-most-once, at-least-once, exactly-once, acks',
};

export const DIFFICULTY_HELP: Record<string, string> = {
  intro: 'Intro: a first look, no background needed',
  core: 'Core: the lesson most interviews expect you to know',
  deep: 'Deep: an edge case or a subtle rule',
};

/**
 * The scenarios matching every word of `query` (in the title, id, summary or tags, ignoring case) and carrying every
 * tag in `tags`. The best matches come first — the scenario whose id is the query, then those matching by title or
 * id alone, then those matching only in their summary or tags — each group in the original order.
 */
export function filterScenarios(list: readonly ScenarioInfo[], query: string, tags: readonly string[]): ScenarioInfo[] {
  const q = query.trim().toLowerCase();
  const words = q.split(/\s+/).filter((w) => w.length > 0);
  const scored: { s: ScenarioInfo; rank: number; i: number }[] = [];
  list.forEach((s, i) => {
    if (!tags.every((t) => s.tags.includes(t))) return;
    const name = `${s.title}\n${s.id}`.toLowerCase();
    const hay = `${name}\n${s.summary}\n${s.tags.join(' ')}`.toLowerCase();
    if (!words.every((w) => hay.includes(w))) return;
    const rank = s.id === q ? 0 : words.every((w) => name.includes(w)) ? 1 : 2;
    scored.push({ s, rank, i });
  });
  return scored.sort((a, b) => a.rank - b.rank || a.i - b.i).map((x) => x.s);
}

export class PickerModel {
  query = $state('');
  tags = $state<string[]>([]);
  /** Index of the keyboard's option within `results`. */
  active = $state(0);

  readonly results: ScenarioInfo[];
  /** The active option, kept within the results as they narrow. */
  readonly activeIndex: number;
  readonly activeScenario: ScenarioInfo | null;

  constructor(private readonly list: () => readonly ScenarioInfo[]) {
    this.results = $derived(filterScenarios(this.list(), this.query, this.tags));
    this.activeIndex = $derived(this.results.length === 0 ? -1 : Math.min(this.active, this.results.length - 1));
    this.activeScenario = $derived(this.activeIndex < 0 ? null : this.results[this.activeIndex]);
  }

  /** Fresh search on opening, with the keyboard on the current scenario when it is listed. */
  reset(current: string | null): void {
    this.query = '';
    this.tags = [];
    const i = this.list().findIndex((s) => s.id === current);
    this.active = Math.max(0, i);
  }

  setQuery(q: string): void {
    this.query = q;
    this.active = 0;
  }

  toggleTag(tag: string): void {
    this.tags = this.tags.includes(tag) ? this.tags.filter((t) => t !== tag) : [...this.tags, tag];
    this.active = 0;
  }

  /** Moves the keyboard's option by `delta`, wrapping around the ends. */
  move(delta: number): void {
    const n = this.results.length;
    if (n === 0) return;
    this.active = (((this.activeIndex + delta) % n) + n) % n;
  }

  first(): void {
    this.active = 0;
  }

  last(): void {
    this.active = Math.max(0, this.results.length - 1);
  }
}
