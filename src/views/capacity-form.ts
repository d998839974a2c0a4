import { capacityProblems, HEADROOM_MAX, type CapacityInput } from '../sim/apm/capacity.ts';

/**
 * The capacity calculator's form: what people type (text, so a wrong entry can be shown back to them instead of
 * vanishing as an empty number field) turned into a `CapacityInput`, with every problem pinned to its field. Numbers
 * may be written with thousands separators ("10,000", "10 000", "10_000") and decimals ("0.5"); headroom is typed
 * in percent. The range rules are capacity.ts's own (`capacityProblems`), so the form and the calculator never
 * disagree about what is allowed.
 */

export type CapacityField = 'servers' | 'metricsPerServer' | 'samplesPerSecond' | 'bytesPerMetric' | 'brokerMBps' | 'replicationFactor' | 'headroomPercent';

export interface FieldInfo {
  key: CapacityField;
  label: string;
  unit: string;
  /** Teaches the term: the field's tooltip. */
  help: string;
}

export const CAPACITY_FIELDS: readonly FieldInfo[] = [
  { key: 'servers', label: 'Servers', unit: '', help: 'Servers in the data centre, each running one agent that publishes its metrics.' },
  { key: 'metricsPerServer', label: 'Metrics per server', unit: '', help: 'Distinct metrics each server emits (CPU, RPC latency, cart count…). The notes: 2,000.' },
  {
    key: 'samplesPerSecond',
    label: 'Samples per metric',
    unit: '/s',
    help: 'How often each metric is published: 1 = every second (the notes). 0.1 = every 10 s; a fraction lowers the traffic.',
  },
  {
    key: 'bytesPerMetric',
    label: 'Bytes per sample',
    unit: 'B',
    help: 'One sample on the queue: metric id, server id, timestamp, value. The notes: 16 bytes.',
  },
  {
    key: 'brokerMBps',
    label: 'Broker throughput',
    unit: 'MB/s',
    help: 'What one broker can take, guessed for a state-of-the-art server: the notes say about 100 MB/s. MB = 10^6 bytes.',
  },
  {
    key: 'replicationFactor',
    label: 'Replicas per partition',
    unit: '',
    help: 'Brokers in one partition’s replication group: an odd number, so 2f + 1 replicas keep a majority through f failures.',
  },
  {
    key: 'headroomPercent',
    label: 'Headroom',
    unit: '%',
    help: 'Share of each broker kept free for spikes and catch-up after a failure. The notes plan at 0%; production plans leave room.',
  },
];

export type CapacityForm = Record<CapacityField, string>;

export type FormParse = { ok: true; input: Required<CapacityInput> } | { ok: false; errors: Partial<Record<CapacityField, string>> };

/** Digits with optional thousands separators (comma, space, underscore between digits) and an optional decimal part. */
const NUMBER_RE = /^\+?(?:\d{1,3}(?:[, _]\d{3})+|\d+)?(?:\.\d+)?$/;
const TEXT_LENGTH_MAX = 40;

/** The form showing an input: plain digits, headroom as a percentage. */
export function formOf(input: Required<CapacityInput>): CapacityForm {
  return {
    servers: String(input.servers),
    metricsPerServer: String(input.metricsPerServer),
    samplesPerSecond: String(input.samplesPerSecond),
    bytesPerMetric: String(input.bytesPerMetric),
    brokerMBps: String(input.brokerMBps),
    replicationFactor: String(input.replicationFactor),
    headroomPercent: String(Math.round(input.headroom * 1000) / 10),
  };
}

/** A typed number, or a sentence saying what is wrong with the text. */
export function parseFormNumber(text: string): number | { error: string } {
  const t = text.trim();
  if (t === '') return { error: 'is empty: enter a number' };
  const shown = JSON.stringify(t.length > TEXT_LENGTH_MAX ? `${t.slice(0, TEXT_LENGTH_MAX)}…` : t);
  if (t.startsWith('-')) return { error: `${shown} is negative: enter a number above zero` };
  if (t.length > TEXT_LENGTH_MAX || !NUMBER_RE.test(t) || t === '+' || t === '.') {
    return { error: `${shown} is not a number: write digits, e.g. 10000 or 10,000 or 0.5` };
  }
  const v = Number(t.replace(/[, _+]/g, ''));
  return Number.isFinite(v) ? v : { error: `${shown} is not a finite number` };
}

const INPUT_KEY: Record<Exclude<CapacityField, 'headroomPercent'>, keyof CapacityInput> = {
  servers: 'servers',
  metricsPerServer: 'metricsPerServer',
  samplesPerSecond: 'samplesPerSecond',
  bytesPerMetric: 'bytesPerMetric',
  brokerMBps: 'brokerMBps',
  replicationFactor: 'replicationFactor',
};

/**
 * Parses every field, then checks the numbers with capacity.ts's rules. Each error belongs to one field; its text
 * starts lower-case after the field's label ("Servers: must be a whole number, got 10.5").
 */
export function parseCapacityForm(form: CapacityForm): FormParse {
  const errors: Partial<Record<CapacityField, string>> = {};
  const values: Partial<Record<CapacityField, number>> = {};
  for (const f of CAPACITY_FIELDS) {
    const v = parseFormNumber(form[f.key] ?? '');
    if (typeof v === 'number') values[f.key] = v;
    else errors[f.key] = v.error;
  }
  const headroom = values.headroomPercent;
  if (headroom !== undefined && !(headroom >= 0 && headroom <= HEADROOM_MAX * 100)) {
    errors.headroomPercent = `must be within 0–${HEADROOM_MAX * 100}%, got ${headroom}%`;
  }
  const input = {
    servers: values.servers ?? NaN,
    metricsPerServer: values.metricsPerServer ?? NaN,
    samplesPerSecond: values.samplesPerSecond ?? NaN,
    bytesPerMetric: values.bytesPerMetric ?? NaN,
    brokerMBps: values.brokerMBps ?? NaN,
    replicationFactor: values.replicationFactor ?? NaN,
    headroom: headroom === undefined ? NaN : headroom / 100,
  };
  for (const problem of capacityProblems(input)) {
    const field = fieldOf(problem);
    // A field that did not parse already says why; capacity.ts would only repeat "must be a finite number".
    if (field !== null && errors[field] === undefined) errors[field] = problem.slice(problem.indexOf(' ') + 1);
  }
  return Object.keys(errors).length === 0 ? { ok: true, input } : { ok: false, errors };
}

/** The form field a capacityProblems sentence is about: they start with the input's field name. */
function fieldOf(problem: string): CapacityField | null {
  const name = problem.slice(0, problem.indexOf(' '));
  if (name === 'headroom') return 'headroomPercent';
  const hit = (Object.entries(INPUT_KEY) as [CapacityField, string][]).find(([, key]) => key === name);
  return hit ? hit[0] : null;
}
