import type { Fault, LinkSpec } from '../sim/kernel/types.ts';

/**
 * The fault panel's two forms as pure functions from what was typed to a fault (or the reason there is none), so the
 * component only renders and the rules are tested without a DOM. Either way the fault goes through `session.inject`,
 * which records it as an action.
 */

export type FormResult = { ok: true; fault: Fault; label: string } | { ok: false; error: string };

/** What the link form holds: text as typed; an empty field leaves that property of the link as it is. */
export interface LinkForm {
  from: string;
  to: string;
  lossPct: string;
  latencyMs: string;
  dupPct: string;
  symmetric: boolean;
}

/** A link's latency above this (one minute) is almost surely a typo, and would hold messages past most runs. */
export const LINK_LATENCY_MS_MAX = 60_000;

function parseNumber(text: string, name: string, max: number): number | null | string {
  const s = text.trim();
  if (s === '') return null;
  const v = Number(s);
  if (!Number.isFinite(v) || v < 0 || v > max) return `${name} must be a number from 0 to ${max}`;
  return v;
}

/** The per-link fault: loss and duplication as percentages, latency in milliseconds (kernel units: [0, 1] and µs). */
export function linkFault(f: LinkForm): FormResult {
  if (f.from === '' || f.to === '') return { ok: false, error: 'pick both ends of the link' };
  if (f.from !== '*' && f.from === f.to) return { ok: false, error: 'a link joins two different nodes' };
  const loss = parseNumber(f.lossPct, 'loss %', 100);
  const latency = parseNumber(f.latencyMs, 'latency ms', LINK_LATENCY_MS_MAX);
  const dup = parseNumber(f.dupPct, 'duplication %', 100);
  for (const v of [loss, latency, dup]) if (typeof v === 'string') return { ok: false, error: v };
  const set: Partial<LinkSpec> = {};
  const words: string[] = [];
  if (typeof loss === 'number') {
    set.loss = loss / 100;
    words.push(`loss ${loss}%`);
  }
  if (typeof latency === 'number') {
    set.latencyUs = Math.round(latency * 1000);
    words.push(`latency ${latency} ms`);
  }
  if (typeof dup === 'number') {
    set.dup = dup / 100;
    words.push(`duplication ${dup}%`);
  }
  if (words.length === 0) return { ok: false, error: 'set at least one of loss, latency or duplication' };
  const arrow = f.symmetric ? '↔' : '→';
  return {
    ok: true,
    fault: { kind: 'link', from: f.from, to: f.to, set, ...(f.symmetric ? { symmetric: true } : {}) },
    label: `set ${f.from} ${arrow} ${f.to}: ${words.join(', ')}`,
  };
}

/** Group numbers per host (0 = in no group); the groups are the non-empty ones, in number order. */
export function groupsFault(assign: Readonly<Record<string, number>>, order: readonly string[], oneWay: boolean): FormResult {
  const groups = new Map<number, string[]>();
  for (const id of order) {
    const g = assign[id] ?? 0;
    if (g > 0) groups.set(g, [...(groups.get(g) ?? []), id]);
  }
  const list = [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, ids]) => ids);
  if (list.length < 2) return { ok: false, error: 'put nodes in at least two groups' };
  const text = list.map((g) => `{${g.join(' ')}}`).join(oneWay ? ' → ' : ' | ');
  return { ok: true, fault: { kind: 'partition', shape: 'groups', groups: list, ...(oneWay ? { oneWay: true } : {}) }, label: `cut ${text}` };
}
