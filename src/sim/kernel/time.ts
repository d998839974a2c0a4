/**
 * Virtual time. `Micros` is an integer count of microseconds since the run began; every clock, timer and message in the
 * simulation uses it, so ordering never depends on floating-point rounding.
 */
export type Micros = number;

export const US_PER_MS = 1_000;
export const US_PER_S = 1_000_000;

export function ms(n: number): Micros {
  return Math.round(n * US_PER_MS);
}

export function seconds(n: number): Micros {
  return Math.round(n * US_PER_S);
}

export function toMs(t: Micros): number {
  return t / US_PER_MS;
}

const DURATION_RE = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|min)?\s*$/;
const UNIT_US: Record<string, number> = { us: 1, 'µs': 1, ms: 1_000, s: 1_000_000, m: 60_000_000, min: 60_000_000 };

/**
 * Parses a duration such as "250ms", "1.5s", "2m" or "800us" into microseconds; a bare number means milliseconds.
 * Returns null (never throws) so callers at the edges can build their own message naming where the bad value was.
 */
export function parseDuration(text: string): Micros | null {
  const m = DURATION_RE.exec(text);
  if (!m) return null;
  const unit = m[2] ?? 'ms';
  const value = Number(m[1]) * UNIT_US[unit];
  if (!Number.isFinite(value)) return null;
  return Math.round(value);
}

/** Formats microseconds for people: "0", "850µs", "12.5ms", "3.200s". */
export function formatMicros(t: Micros): string {
  if (t === 0) return '0';
  if (Math.abs(t) < 1_000) return `${t}µs`;
  if (Math.abs(t) < 1_000_000) return `${+(t / 1_000).toFixed(3)}ms`;
  return `${(t / 1_000_000).toFixed(3)}s`;
}
