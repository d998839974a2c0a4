import { addQuery, parseQuery, STORED_QUERIES_MAX, type QueryError, type QueryStore } from '../sim/apm/query.ts';

/**
 * The query editor's view-model: the run's stored dashboard queries as editable drafts, each checked live with the
 * rules the Lab applies on load (query.ts's store: id, name, the parser's position and expectation), and the list
 * handed back for `settings.queries` when applied.
 *
 * Drafts follow the run: the model reads the run's queries through `source` and keeps edits only while they were
 * made against the same queries. A new run (another scenario, or an Apply that succeeded) replaces them — no effect
 * needed, the edits simply stop matching `baseKey`. Each draft has a `key` for the list that never changes while it
 * is edited, so the field being typed in is never re-created (it would lose focus and caret).
 */

export interface QueryText {
  id: string;
  name: string;
  text: string;
}

export interface Draft extends QueryText {
  key: number;
}

export interface DraftCheck {
  key: number;
  idError: string | null;
  nameError: string | null;
  /** The parser's error with its position (offset and length in UTF-16 units, 1-based line and column). */
  textError: QueryError | null;
  ok: boolean;
}

/** The text a new query starts with: valid, and reading a metric every APM scenario's agents emit. */
export const NEW_QUERY_TEXT = 'FROM servers(web-*) SELECT rpc.count WINDOW 10s COMPUTE sum, max';
/** A valid query, to check an id or a name on its own with the store's rules. */
const PROBE_TEXT = 'FROM * SELECT cpu WINDOW 1s COMPUTE max';

const EMPTY_STORE: QueryStore = { queries: [] };

function draftsOf(queries: readonly QueryText[] | null): Draft[] {
  return (queries ?? []).map((q, key) => ({ key, id: q.id, name: q.name, text: q.text }));
}

function textsOf(drafts: readonly Draft[]): QueryText[] {
  return drafts.map(({ id, name, text }) => ({ id, name, text }));
}

/**
 * The id checked with the store's rules against the ids of the drafts above it (so the second of two equal ids is
 * the one marked), and the store with this id added when it is fine.
 */
function checkId(id: string, above: QueryStore): { error: string | null; store: QueryStore } {
  const r = addQuery(above, { id, name: 'probe', text: PROBE_TEXT });
  return r.ok ? { error: null, store: r.store } : { error: r.error.message, store: above };
}

function nameProblem(name: string): string | null {
  const r = addQuery(EMPTY_STORE, { id: 'probe', name, text: PROBE_TEXT });
  return r.ok ? null : r.error.message;
}

export class QueryEditorModel {
  /** Edits, and the queries (as `baseKey`) they were made against; null while none. */
  private edits = $state<{ base: string; drafts: Draft[]; nextKey: number } | null>(null);

  readonly base: QueryText[] | null = $derived.by(() => this.source());
  readonly baseKey: string = $derived(JSON.stringify(this.base));
  readonly active = $derived(this.edits !== null && this.edits.base === this.baseKey ? this.edits : null);
  readonly drafts: Draft[] = $derived(this.active ? this.active.drafts : draftsOf(this.base));
  readonly dirty = $derived(this.active !== null && JSON.stringify(textsOf(this.active.drafts)) !== this.baseKey);

  readonly checks: DraftCheck[] = $derived.by(() => {
    let above: QueryStore = EMPTY_STORE;
    return this.drafts.map((d) => {
      const id = checkId(d.id, above);
      above = id.store;
      const idError = id.error;
      const nameError = nameProblem(d.name);
      const parsed = parseQuery(d.text);
      const textError = parsed.ok ? null : parsed.error;
      return { key: d.key, idError, nameError, textError, ok: idError === null && nameError === null && textError === null };
    });
  });
  readonly problems = $derived(this.checks.filter((c) => !c.ok).length);
  readonly full = $derived(this.drafts.length >= STORED_QUERIES_MAX);

  applying = $state(false);
  /** The Lab's refusal of the last Apply (shown inline; the run is unchanged), or null. */
  applyError = $state<string | null>(null);
  /** A line after an Apply that reloaded the run. */
  applied = $state<string | null>(null);

  readonly canApply = $derived(this.base !== null && this.dirty && this.problems === 0 && this.drafts.length > 0 && !this.applying);

  constructor(private readonly source: () => QueryText[] | null) {}

  /** The edits, created from the run's queries on the first change. Keys stay those the list already shows. */
  private editable(): { drafts: Draft[]; nextKey: number } {
    if (this.active) return this.active;
    const drafts = draftsOf(this.base);
    this.edits = { base: this.baseKey, drafts, nextKey: drafts.length };
    return this.edits;
  }

  update(key: number, field: 'id' | 'name' | 'text', value: string): void {
    const d = this.editable().drafts.find((x) => x.key === key);
    if (!d) return;
    d[field] = value;
    this.applied = null;
  }

  add(): void {
    if (this.full || this.base === null) return;
    const e = this.editable();
    const used = new Set(e.drafts.map((d) => d.id));
    let n = 1;
    while (used.has(`q${n}`)) n++;
    e.drafts.push({ key: e.nextKey++, id: `q${n}`, name: 'New query', text: NEW_QUERY_TEXT });
    this.applied = null;
  }

  remove(key: number): void {
    const e = this.editable();
    if (e.drafts.length <= 1) return;
    e.drafts = e.drafts.filter((d) => d.key !== key);
    this.applied = null;
  }

  revert(): void {
    this.edits = null;
    this.applyError = null;
  }

  /**
   * Hands the drafts to `onapply` (which reloads the run with them as `settings.queries`) and shows its answer: an
   * error text keeps the drafts and the run as they are; null means the run reloaded.
   */
  async apply(onapply: (queries: QueryText[]) => Promise<string | null>): Promise<boolean> {
    if (!this.canApply) return false;
    const queries = textsOf(this.drafts);
    this.applying = true;
    this.applyError = null;
    this.applied = null;
    try {
      const error = await onapply(queries);
      if (error !== null) {
        this.applyError = error;
        return false;
      }
      this.applied = `Applied: the run restarted from 0 with ${queries.length} stored quer${queries.length === 1 ? 'y' : 'ies'}.`;
      return true;
    } finally {
      this.applying = false;
    }
  }
}
