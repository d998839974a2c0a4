import { assert } from '../kernel/assert.ts';

/**
 * The notes' back-of-envelope sizing of the metrics queue, as a calculator that shows its work. With the notes'
 * numbers: 10,000 servers × 2,000 metrics a second × 16 bytes = 320 MB/s; a broker handles about 100 MB/s, so
 * 320 / 100 → 4 partitions; each partition is a replication group of 3 brokers (an odd number, for majorities), so
 * 4 × 3 = 12 brokers.
 *
 * Units: MB means 10^6 bytes (as network and disk throughput are quoted), not 2^20. Throughputs are per second.
 *
 * The model is the notes' simplification, and the steps say so: one partition per broker and every replica on its own
 * broker, so each broker carries one partition's full write rate (a follower copies every byte the leader takes).
 * Real Kafka clusters spread many partitions over fewer brokers; the ratio of load to capacity is what carries over.
 *
 * `presetFromCapacity` turns a result into a simulation small enough to run in a browser while keeping the same
 * partitions, brokers and replication, and the same load on each broker relative to its capacity.
 *
 * Inputs come from people (a form, a scenario file), so problems are reported as a list of sentences naming the field
 * (`capacityProblems`), and `computeCapacity` throws a `CapacityInputError` carrying that list — never an assertion.
 */

export const SERVERS_MAX = 10_000_000;
export const METRICS_PER_SERVER_MAX = 1_000_000;
/** A metric point is a name or id, a timestamp and a value: tens of bytes. 64 KiB is already absurd. */
export const BYTES_PER_METRIC_MAX = 65_536;
/** Samples per metric per second: a fraction means less often than once a second (0.1 = every 10 s). */
export const SAMPLES_PER_SECOND_MIN = 1 / 3600;
export const SAMPLES_PER_SECOND_MAX = 1_000;
/**
 * Broker throughput bounds. The floor is 1 byte/s, far below any real broker, so the calculator can also size the
 * tiny simulated brokers of a preset (and show they need the same partitions).
 */
export const BROKER_MBPS_MIN = 1e-6;
export const BROKER_MBPS_MAX = 100_000;
/** Headroom is the share of each broker's throughput kept free for spikes and catch-up; 0.9 leaves 10% usable. */
export const HEADROOM_MAX = 0.9;
/** Odd replica counts: a group of 2f + 1 keeps a majority (f + 1) through f failures; an even count adds none. */
export const REPLICATION_FACTORS = [1, 3, 5, 7] as const;
/** More partitions than this is not a back-of-envelope answer any more. */
export const PARTITIONS_MAX = 100_000;
/** A preset must stay runnable: at most this many simulated servers (agents)… */
export const PRESET_SERVERS_MAX = 1_000;
/** …and this many metric messages per simulated second (the queue bench runs at 10,000/s). */
export const PRESET_MESSAGES_PER_S_MAX = 20_000;

const BYTES_PER_MB = 1_000_000;
/** Slack for `ceil` on a quotient of floats: 2.1 / 0.3 is 7.000000000000001, which must still need 7 partitions. */
const CEIL_SLACK = 1e-9;

export interface CapacityInput {
  servers: number;
  metricsPerServer: number;
  bytesPerMetric: number;
  samplesPerSecond: number;
  brokerMBps: number;
  replicationFactor: number;
  /** Share of broker throughput kept free, in [0, HEADROOM_MAX]; default 0, as in the notes. */
  headroom?: number;
}

export interface CapacityResult {
  input: Required<CapacityInput>;
  messagesPerS: number;
  bytesPerS: number;
  /** bytesPerS / 10^6. */
  mbPerS: number;
  /** brokerMBps × (1 − headroom): what a partition may carry. */
  usableBrokerMBps: number;
  partitions: number;
  /** partitions × replicationFactor. */
  brokers: number;
  perPartitionMBps: number;
  /** perPartitionMBps / brokerMBps: how busy each broker is. */
  brokerUtilization: number;
  /** Failures a partition survives with a majority left: floor(replicationFactor / 2). */
  failuresTolerated: number;
  /** The explanation, one line per step, with the numbers filled in. */
  steps: string[];
}

/** The notes' numbers, the calculator's default: 10,000 servers × 2,000 metrics/s × 16 B, 100 MB/s brokers, 3 replicas. */
export const NOTES_CAPACITY: Readonly<Required<CapacityInput>> = Object.freeze({
  servers: 10_000,
  metricsPerServer: 2_000,
  bytesPerMetric: 16,
  samplesPerSecond: 1,
  brokerMBps: 100,
  replicationFactor: 3,
  headroom: 0,
});
/**
 * The `apm-capacity` scenario's scale: 1:500 on servers and on metrics per server (20 × 4), so 1:250,000 in traffic —
 * small enough that the topology view can show every agent next to the twelve brokers.
 */
export const NOTES_PRESET_SCALE = 0.002;

export class CapacityInputError extends Error {
  override name = 'CapacityInputError';
  constructor(readonly problems: string[]) {
    super(`capacity input: ${problems.join('; ')}`);
  }
}

function checkNumber(problems: string[], name: string, v: unknown, min: number, max: number, integer: boolean): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`${name} must be a finite number, got ${String(v)}`);
  else if (v <= 0 && min > 0) problems.push(`${name} must be positive, got ${v}`);
  else if (integer && !Number.isInteger(v)) problems.push(`${name} must be a whole number, got ${v}`);
  else if (v < min || v > max) {
    problems.push(`${name} must be within [${formatNumber(min)}, ${formatNumber(max)}], got ${formatNumber(v)}`);
  }
}

/** Every problem with an input, as sentences naming the field; empty when the input is usable. */
export function capacityProblems(input: CapacityInput): string[] {
  const problems: string[] = [];
  checkNumber(problems, 'servers', input.servers, 1, SERVERS_MAX, true);
  checkNumber(problems, 'metricsPerServer', input.metricsPerServer, 1, METRICS_PER_SERVER_MAX, true);
  checkNumber(problems, 'bytesPerMetric', input.bytesPerMetric, 1, BYTES_PER_METRIC_MAX, true);
  const rate = input.samplesPerSecond;
  checkNumber(problems, 'samplesPerSecond', rate, SAMPLES_PER_SECOND_MIN, SAMPLES_PER_SECOND_MAX, false);
  checkNumber(problems, 'brokerMBps', input.brokerMBps, BROKER_MBPS_MIN, BROKER_MBPS_MAX, false);
  if (!(REPLICATION_FACTORS as readonly unknown[]).includes(input.replicationFactor)) {
    const why = 'an odd count: 2f + 1 replicas keep a majority through f failures';
    const got = String(input.replicationFactor);
    problems.push(`replicationFactor must be one of ${REPLICATION_FACTORS.join(', ')} (${why}), got ${got}`);
  }
  const headroom = input.headroom ?? 0;
  if (typeof headroom !== 'number' || !(headroom >= 0 && headroom <= HEADROOM_MAX)) {
    problems.push(`headroom must be a share within [0, ${HEADROOM_MAX}], got ${String(headroom)}`);
  }
  return problems;
}

/** Sizes the queue, or throws a `CapacityInputError` listing every problem with the input. */
export function computeCapacity(input: CapacityInput): CapacityResult {
  const problems = capacityProblems(input);
  if (problems.length > 0) throw new CapacityInputError(problems);
  const full: Required<CapacityInput> = { ...input, headroom: input.headroom ?? 0 };
  const messagesPerS = full.servers * full.metricsPerServer * full.samplesPerSecond;
  const bytesPerS = messagesPerS * full.bytesPerMetric;
  const mbPerS = bytesPerS / BYTES_PER_MB;
  const usableBrokerMBps = full.brokerMBps * (1 - full.headroom);
  const partitions = Math.max(1, Math.ceil(mbPerS / usableBrokerMBps - CEIL_SLACK));
  if (partitions > PARTITIONS_MAX) {
    const n = formatNumber;
    const need = `${n(mbPerS)} MB/s over ${n(usableBrokerMBps)} MB/s brokers needs ${n(partitions)} partitions`;
    throw new CapacityInputError([`${need}, more than ${n(PARTITIONS_MAX)}`]);
  }
  const brokers = partitions * full.replicationFactor;
  const perPartitionMBps = mbPerS / partitions;
  assert(perPartitionMBps <= usableBrokerMBps * (1 + CEIL_SLACK), 'no partition carries more than a broker can take');
  const result: CapacityResult = {
    input: full,
    messagesPerS,
    bytesPerS,
    mbPerS,
    usableBrokerMBps,
    partitions,
    brokers,
    perPartitionMBps,
    brokerUtilization: perPartitionMBps / full.brokerMBps,
    failuresTolerated: Math.floor(full.replicationFactor / 2),
    steps: [],
  };
  result.steps = capacitySteps(result);
  return result;
}

/** The explanation lines, in the order the notes reason. */
function capacitySteps(r: CapacityResult): string[] {
  const { servers, metricsPerServer, samplesPerSecond, bytesPerMetric, brokerMBps, headroom } = r.input;
  const rf = r.input.replicationFactor;
  const n = formatNumber;
  const rate = samplesPerSecond === 1 ? '' : ` × ${n(samplesPerSecond)}/s`;
  const broker = `A broker handles about ${n(brokerMBps)} MB/s`;
  const usable = `keeping ${n(headroom * 100)}% headroom leaves ${n(r.usableBrokerMBps)} MB/s usable`;
  const failures = `${r.failuresTolerated} failure${r.failuresTolerated === 1 ? '' : 's'}`;
  const majority = Math.floor(rf / 2) + 1;
  const quotient = `${n(r.mbPerS)} MB/s ÷ ${n(r.usableBrokerMBps)} MB/s = ${n(r.mbPerS / r.usableBrokerMBps)}`;
  return [
    `${n(servers)} servers × ${n(metricsPerServer)} metrics${rate} × ${n(bytesPerMetric)} B = ${n(r.mbPerS)} MB/s` +
      ' (MB = 10^6 bytes)',
    `That is ${n(r.messagesPerS)} metric messages/s, ${n(r.bytesPerS)} B/s.`,
    headroom === 0 ? `${broker}.` : `${broker}; ${usable}.`,
    `${quotient} → ${n(r.partitions)} partitions (round up: one partition's leader takes all its writes on one broker).`,
    `${n(r.partitions)} partitions × ${rf} replicas = ${n(r.brokers)} brokers (each replica on its own broker; ` +
      `${rf} replicas keep a majority of ${majority} through ${failures}).`,
    `Each partition carries ${n(r.mbPerS)} ÷ ${n(r.partitions)} = ${n(r.perPartitionMBps)} MB/s, ` +
      `${n(r.brokerUtilization * 100)}% of a broker; every follower copies all of it.`,
  ];
}

/** A simulation preset: the same topology as the sized system, with a model fleet small enough to run. */
export interface SimPreset {
  servers: number;
  metricsPerServer: number;
  samplesPerSecond: number;
  bytesPerMetric: number;
  partitions: number;
  brokers: number;
  replicationFactor: number;
  /** The scale asked for: servers and metrics per server were each multiplied by it. */
  scale: number;
  /** The simulated traffic over the real traffic after rounding: about scale². */
  trafficScale: number;
  messagesPerS: number;
  /**
   * Each simulated broker's capacity: the real `brokerMBps` (before headroom, which is a planning margin, not a
   * property of the machine) × trafficScale, so every simulated broker is exactly as busy as a real one.
   */
  brokerBytesPerS: number;
  brokerUtilization: number;
}

/**
 * A scaled-down preset. Servers and metrics per server are each multiplied by `scale` in (0, 1] (rounded, at least
 * 1), so traffic shrinks by about scale² — a 1:100 model of the notes' fleet is 100 servers × 20 metrics = 2,000
 * messages/s. Partitions, brokers and replication are kept, and the simulated broker capacity shrinks with the traffic,
 * so each partition is exactly as loaded (80% for the notes' numbers) and the same number of partitions is needed:
 * what overloads the real system overloads the model. Throws when the model is still too big to simulate, naming
 * the largest scale that fits.
 */
export function presetFromCapacity(result: CapacityResult, scale: number): SimPreset {
  if (!(typeof scale === 'number' && scale > 0 && scale <= 1)) {
    throw new CapacityInputError([`scale must be within (0, 1], got ${scale}`]);
  }
  const { servers, metricsPerServer, samplesPerSecond, bytesPerMetric, replicationFactor } = result.input;
  const simServers = Math.max(1, Math.round(servers * scale));
  const simMetrics = Math.max(1, Math.round(metricsPerServer * scale));
  const messagesPerS = simServers * simMetrics * samplesPerSecond;
  const trafficScale = messagesPerS / result.messagesPerS;
  if (simServers > PRESET_SERVERS_MAX || messagesPerS > PRESET_MESSAGES_PER_S_MAX) {
    const n = formatNumber;
    const byServers = PRESET_SERVERS_MAX / servers;
    const byMessages = Math.sqrt(PRESET_MESSAGES_PER_S_MAX / result.messagesPerS); // traffic goes with scale²
    const fit = floorToTwoDigits(Math.min(byServers, byMessages));
    const got = `scale ${scale} gives ${n(simServers)} servers and ${n(messagesPerS)} messages/s`;
    const allowed = `a preset allows ${n(PRESET_SERVERS_MAX)} and ${n(PRESET_MESSAGES_PER_S_MAX)}/s`;
    throw new CapacityInputError([`${got}; ${allowed} — try scale ≤ ${fit}`]);
  }
  const brokerBytesPerS = result.input.brokerMBps * BYTES_PER_MB * trafficScale;
  const brokerUtilization = (messagesPerS * bytesPerMetric) / result.partitions / brokerBytesPerS;
  assert(Math.abs(brokerUtilization - result.brokerUtilization) < 1e-9, 'the model loads each broker as the real one');
  return {
    servers: simServers,
    metricsPerServer: simMetrics,
    samplesPerSecond,
    bytesPerMetric,
    partitions: result.partitions,
    brokers: result.brokers,
    replicationFactor,
    scale,
    trafficScale,
    messagesPerS,
    brokerBytesPerS,
    brokerUtilization,
  };
}

/** Rounds down to two significant digits (0.0316 → 0.031), so a suggested scale errs on the side that fits. */
function floorToTwoDigits(x: number): number {
  const unit = 10 ** (Math.floor(Math.log10(x)) - 1);
  return Number((Math.floor(x / unit) * unit).toPrecision(2));
}

/** Thousands separated by commas, at most two decimals, the same in every locale (Intl output varies by runtime). */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && Math.abs(x) < 0.01) return String(Number(x.toPrecision(2))); // 1/3600 would round to 0
  const rounded = Math.round(x * 100) / 100;
  const [whole, frac] = Math.abs(rounded).toFixed(2).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const decimals = frac.replace(/0+$/, '');
  return `${rounded < 0 ? '-' : ''}${grouped}${decimals ? `.${decimals}` : ''}`;
}
