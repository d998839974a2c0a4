import type { Checker } from '../kernel/checker.ts';
import type { Micros } from '../kernel/time.ts';
import type { NodeId } from '../kernel/types.ts';
import type { LessonMessage, Rec, ResultBody } from './types.ts';

/**
 * The lessons' judges, outside the nodes (they read only the trace):
 * - `lesson.linearizable-reads` (the AP vs CP lesson) measures every read against the latest committed value and
 *   fires on a stale read by a reader that requires linearizable reads;
 * - `lesson.window-totals` compares every window a dashboard shows as final with the true totals of what the source
 *   sent (observer: metrics only);
 * - `lesson.ledger` counts, per consumer, the orders it processed once, twice, or never (observer: metrics only).
 * Each assumes the lessons' shape: one Raft group, one source.
 */

/** Most samples each sample metric keeps (the first ones), and most reads tracked between invoke and outcome. */
const SAMPLES_MAX = 10_000;
const READS_TRACKED_MAX = 100_000;
/** Commit-index rises remembered for staleness ages; when full, the older half is forgotten. */
const COMMIT_HISTORY_MAX = 100_000;

interface ReadsState {
  /** The highest commit index any replica has announced so far, and when each new high was first announced. */
  commitMax: number;
  commitAt: Micros[];
  commitIndex: number[];
  /** Reads invoked and not yet answered or given up: the commit index each must reflect. */
  invoked: Record<string, { required: number; linearizable: boolean }>;
  invokedCount: number;
  checked: number;
  stale: number;
  lagEntries: number[];
  ageMs: number[];
}

/**
 * Linearizable reads (Herlihy & Wing; the Raft thesis §6.4 on reads): a read must reflect every write that completed
 * before it began. Raft reports a write complete once it is committed, so the bar used here is stricter and simpler to
 * state: a read's answer (the serving replica's applied index) must be at least the highest commit index any replica
 * had announced when the read was invoked. A ReadIndex read through a confirmed leader always meets it — that leader's
 * commit index is at least every index committed before it received the read. A follower read on the minority side of
 * a partition does not.
 *
 * Every answered read is measured (`readsChecked`, `staleReads`, and for stale ones `staleReadLagEntries` — entries
 * behind — and `staleReadAgeMs` — how long ago the first entry it missed was committed); only a stale read by a
 * reader that declares `linearizable` is a violation.
 */
export const linearizableReads: Checker<ReadsState> = {
  name: 'lesson.linearizable-reads',
  description: 'A reader that requires linearizable reads never sees a value older than one already committed when it asked.',
  kinds: ['node.state', 'node.note'],
  init: () => ({ commitMax: 0, commitAt: [], commitIndex: [], invoked: {}, invokedCount: 0, checked: 0, stale: 0, lagEntries: [], ageMs: [] }),
  onEvent(s, e) {
    if (e.kind === 'node.state') {
      const commit = e.key === 'wal' ? (e.value as { commit?: unknown } | null)?.commit : undefined;
      if (typeof commit === 'number' && commit > s.commitMax) committed(s, commit, e.t);
      return null;
    }
    if (e.kind !== 'node.note') return null;
    const d = (e.data ?? {}) as { id?: string; linearizable?: boolean; appliedIndex?: number; from?: NodeId };
    const key = `${e.node}/${d.id}`;
    switch (e.name) {
      case 'read-invoke':
        if (s.invokedCount >= READS_TRACKED_MAX) forgetOldest(s);
        if (!(key in s.invoked)) s.invokedCount++;
        s.invoked[key] = { required: s.commitMax, linearizable: d.linearizable === true };
        return null;
      case 'read-unavailable':
        if (key in s.invoked) {
          delete s.invoked[key];
          s.invokedCount--;
        }
        return null;
      case 'read-ok': {
        const r = s.invoked[key];
        if (r === undefined || typeof d.appliedIndex !== 'number') return null;
        delete s.invoked[key];
        s.invokedCount--;
        s.checked++;
        if (d.appliedIndex >= r.required) return null;
        s.stale++;
        const ageMs = (e.t - firstCommitAt(s, d.appliedIndex + 1)) / 1000;
        if (s.lagEntries.length < SAMPLES_MAX) s.lagEntries.push(r.required - d.appliedIndex);
        if (s.ageMs.length < SAMPLES_MAX) s.ageMs.push(ageMs);
        if (!r.linearizable) return null;
        return {
          message: `${e.node} read ${d.id} from ${d.from} at applied index ${d.appliedIndex}, but index ${r.required} was committed before the read began (${ageMs} ms stale)`,
          evidence: { reader: e.node, read: d.id, from: d.from, appliedIndex: d.appliedIndex, committedBefore: r.required, staleMs: ageMs, seq: e.seq },
        };
      }
      default:
        return null;
    }
  },
  metrics: (s) => ({ readsChecked: s.checked, staleReads: s.stale, staleReadLagEntries: s.lagEntries, staleReadAgeMs: s.ageMs }),
};

function committed(s: ReadsState, commit: number, t: Micros): void {
  s.commitMax = commit;
  if (s.commitAt.length >= COMMIT_HISTORY_MAX) {
    s.commitAt.splice(0, COMMIT_HISTORY_MAX / 2);
    s.commitIndex.splice(0, COMMIT_HISTORY_MAX / 2);
  }
  s.commitAt.push(t);
  s.commitIndex.push(commit);
}

/** When the commit index first reached `index` (binary search over the rises); the oldest remembered if earlier. */
function firstCommitAt(s: ReadsState, index: number): Micros {
  let lo = 0;
  let hi = s.commitIndex.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s.commitIndex[mid] >= index) hi = mid;
    else lo = mid + 1;
  }
  return s.commitAt[lo] ?? 0;
}

function forgetOldest(s: ReadsState): void {
  for (const k in s.invoked) {
    delete s.invoked[k];
    s.invokedCount--;
    return;
  }
}

// ---- window totals ---------------------------------------------------------------------------------------------------

/** The truth is kept per second of event time; windows must be whole seconds to be checked. */
const TRUTH_BUCKET_US = 1_000_000;
const TRUTH_BUCKETS_MAX = 1_000_000;

interface TotalsState {
  /** The highest order id seen sent: resends (ids at or below it) are not counted twice. */
  maxId: number;
  /** The event time of that order: windows ending after it are not complete in the truth yet. */
  maxT: Micros;
  buckets: Record<string, { count: number; sum: number }>;
  bucketCount: number;
  checks: number;
  wrong: number;
  unchecked: number;
}

/**
 * Same answer, different freshness: the three processing designs must agree on every window they call final, and
 * agree with the truth — the totals of the orders the source sent. Watches `events` sends (the truth) and `results`
 * sends to dashboards (the claims). Late data beyond a design's grace would make a final window wrong, so under
 * faults this is an observation (`windowChecks`, `windowsWrong`), not an invariant.
 */
export const windowTotals: Checker<TotalsState> = {
  name: 'lesson.window-totals',
  description: 'Every window a dashboard shows as final has the true count and sum of the orders the source sent.',
  kinds: ['msg.send'],
  init: () => ({ maxId: 0, maxT: 0, buckets: {}, bucketCount: 0, checks: 0, wrong: 0, unchecked: 0 }),
  onEvent(s, e) {
    if (e.kind !== 'msg.send') return null;
    if (e.msg === 'events') {
      for (const r of (e.body as Extract<LessonMessage, { kind: 'events' }>).records) addTruth(s, r);
      return null;
    }
    if (e.msg !== 'results') return null;
    const body = e.body as ResultBody;
    for (const w of body.windows) {
      if (!w.final) continue;
      const end = w.startUs + body.windowUs;
      if (body.windowUs % TRUTH_BUCKET_US !== 0 || w.startUs % TRUTH_BUCKET_US !== 0 || end > s.maxT) {
        s.unchecked++;
        continue;
      }
      let count = 0;
      let sum = 0;
      for (let b = w.startUs; b < end; b += TRUTH_BUCKET_US) {
        const t = s.buckets[String(b)];
        count += t?.count ?? 0;
        sum += t?.sum ?? 0;
      }
      s.checks++;
      if (count !== w.count || sum !== w.sum) s.wrong++;
    }
    return null;
  },
  metrics: (s) => ({ windowChecks: s.checks, windowsWrong: s.wrong, windowsUnchecked: s.unchecked }),
};

function addTruth(s: TotalsState, r: Rec): void {
  if (r.id <= s.maxId) return;
  s.maxId = r.id;
  s.maxT = Math.max(s.maxT, r.t);
  const k = String(r.t - (r.t % TRUTH_BUCKET_US));
  let b = s.buckets[k];
  if (b === undefined) {
    if (s.bucketCount >= TRUTH_BUCKETS_MAX) return;
    s.buckets[k] = b = { count: 0, sum: 0 };
    s.bucketCount++;
  }
  b.count++;
  b.sum += r.value;
}

// ---- ledger ----------------------------------------------------------------------------------------------------------

/** Order ids the ledger can track (a bitset of 32-bit words per consumer). */
const LEDGER_IDS_MAX = 4_000_000;

interface LedgerState {
  generated: number;
  /** The source's node: a second source would make ids ambiguous, and is counted as such. */
  source: NodeId | null;
  otherSources: number;
  consumers: Record<NodeId, { words: number[]; unique: number; duplicates: number }>;
}

/**
 * Delivery ledger of the smart-broker and log lessons: per consumer, how many generated orders it processed once
 * (`missed:<consumer>` = generated − processed, at the end of a drained run the orders it lost), and how many it
 * processed again (`duplicates:<consumer>`). Generated counts come from the source's `produced` notes — orders the
 * source itself dropped count as generated and missed.
 */
export const ledger: Checker<LedgerState> = {
  name: 'lesson.ledger',
  description: 'Counts, per consumer, the generated orders it processed, processed twice, or never saw.',
  kinds: ['node.note'],
  init: () => ({ generated: 0, source: null, otherSources: 0, consumers: {} }),
  onEvent(s, e) {
    if (e.kind !== 'node.note') return null;
    if (e.name === 'produced') {
      const d = e.data as { from: number; to: number };
      if (s.source === null) s.source = e.node;
      if (s.source !== e.node) s.otherSources++;
      else s.generated += d.to - d.from + 1;
      return null;
    }
    if (e.name !== 'processed') return null;
    const ids = (e.data as { ids?: number[] }).ids ?? [];
    const c = (s.consumers[e.node] ??= { words: [], unique: 0, duplicates: 0 });
    for (const id of ids) {
      if (!(id >= 1 && id <= LEDGER_IDS_MAX)) continue;
      const w = id >>> 5;
      const bit = 1 << (id & 31);
      while (c.words.length <= w) c.words.push(0);
      if (c.words[w] & bit) c.duplicates++;
      else {
        c.words[w] |= bit;
        c.unique++;
      }
    }
    return null;
  },
  metrics(s) {
    const out: Record<string, number> = { ledgerGenerated: s.generated, ledgerOtherSources: s.otherSources };
    for (const [node, c] of Object.entries(s.consumers)) {
      out[`missed:${node}`] = s.generated - c.unique;
      out[`duplicates:${node}`] = c.duplicates;
    }
    return out;
  },
};

export const LESSON_READ_CHECKERS: readonly Checker[] = [linearizableReads as Checker];
export const LESSON_DASHBOARD_CHECKERS: readonly Checker[] = [windowTotals as Checker];
export const LESSON_CONSUMER_CHECKERS: readonly Checker[] = [ledger as Checker];
