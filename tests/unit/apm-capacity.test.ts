/**
 * The capacity calculator (src/sim/apm/capacity.ts). The notes' own numbers must come out — 320 MB/s, 4 partitions,
 * 12 brokers — with the explanation lines; other inputs are checked against the formulas written out independently;
 * every bad input is refused with a sentence naming its field; and a scaled-down preset keeps partitions, brokers,
 * replication and the per-broker load of the real system.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CapacityInputError,
  capacityProblems,
  computeCapacity,
  formatNumber,
  PARTITIONS_MAX,
  presetFromCapacity,
  PRESET_MESSAGES_PER_S_MAX,
  type CapacityInput,
} from '../../src/sim/apm/capacity.ts';

const NOTES: CapacityInput = {
  servers: 10_000,
  metricsPerServer: 2_000,
  bytesPerMetric: 16,
  samplesPerSecond: 1,
  brokerMBps: 100,
  replicationFactor: 3,
};

describe("the notes' numbers", () => {
  it('10,000 servers × 2,000 metrics × 16 B = 320 MB/s → 4 partitions × 3 replicas = 12 brokers', () => {
    const r = computeCapacity(NOTES);
    expect(r).toMatchObject({
      messagesPerS: 20_000_000,
      bytesPerS: 320_000_000,
      mbPerS: 320,
      partitions: 4,
      brokers: 12,
      perPartitionMBps: 80,
      brokerUtilization: 0.8,
      failuresTolerated: 1,
    });
    expect(r.input.headroom).toBe(0);
  });

  it('explains each step with the numbers filled in', () => {
    const steps = computeCapacity(NOTES).steps;
    expect(steps[0]).toBe('10,000 servers × 2,000 metrics × 16 B = 320 MB/s (MB = 10^6 bytes)');
    expect(steps.join('\n')).toContain('320 MB/s ÷ 100 MB/s = 3.2 → 4 partitions');
    expect(steps.join('\n')).toContain('4 partitions × 3 replicas = 12 brokers');
    expect(steps.join('\n')).toContain('majority of 2 through 1 failure)');
    expect(steps.join('\n')).toContain('80 MB/s, 80% of a broker');
  });

  it('headroom lowers usable broker throughput: 25% headroom → 75 MB/s → 5 partitions, 15 brokers', () => {
    const r = computeCapacity({ ...NOTES, headroom: 0.25 });
    expect([r.usableBrokerMBps, r.partitions, r.brokers, r.perPartitionMBps]).toEqual([75, 5, 15, 64]);
    expect(r.steps[2]).toContain('25% headroom leaves 75 MB/s usable');
  });

  it('a metric every 10 s and 5 replicas: 32 MB/s → 1 partition × 5 = 5 brokers, surviving 2 failures', () => {
    const r = computeCapacity({ ...NOTES, samplesPerSecond: 0.1, replicationFactor: 5 });
    expect([r.mbPerS, r.partitions, r.brokers, r.failuresTolerated]).toEqual([32, 1, 5, 2]);
    expect(r.steps[0]).toContain('× 0.1/s');
  });
});

describe('formulas (property)', () => {
  it('partitions is the smallest count that keeps every partition within a usable broker', () => {
    const input = fc.record({
      servers: fc.integer({ min: 1, max: 100_000 }),
      metricsPerServer: fc.integer({ min: 1, max: 5_000 }),
      bytesPerMetric: fc.integer({ min: 1, max: 200 }),
      samplesPerSecond: fc.constantFrom(0.1, 0.5, 1, 2, 10),
      brokerMBps: fc.constantFrom(0.1, 1.1, 10, 100, 250),
      replicationFactor: fc.constantFrom(1, 3, 5, 7),
      headroom: fc.constantFrom(0, 0.1, 0.5),
    });
    fc.assert(
      fc.property(input, (i) => {
        let r;
        try {
          r = computeCapacity(i);
        } catch (e) {
          expect((e as CapacityInputError).problems[0]).toMatch(/partitions, more than/); // only the partitions limit
          return;
        }
        const usable = i.brokerMBps * (1 - i.headroom);
        expect(r.mbPerS).toBeCloseTo((i.servers * i.metricsPerServer * i.samplesPerSecond * i.bytesPerMetric) / 1e6, 6);
        expect(r.brokers).toBe(r.partitions * i.replicationFactor);
        expect(r.partitions).toBeLessThanOrEqual(PARTITIONS_MAX);
        expect(r.mbPerS / r.partitions).toBeLessThanOrEqual(usable * (1 + 1e-9)); // enough partitions
        if (r.partitions > 1) expect(r.mbPerS / (r.partitions - 1)).toBeGreaterThan(usable * (1 - 1e-9)); // not one too many
      }),
      { numRuns: 500 },
    );
  });

  it('does not round 2.1 MB/s ÷ 0.3 MB/s = 7.000000000000001 up to 8 partitions', () => {
    const tight = computeCapacity({ servers: 21, metricsPerServer: 1000, bytesPerMetric: 100, samplesPerSecond: 1, brokerMBps: 0.3, replicationFactor: 1 });
    expect(tight.mbPerS / 0.3).toBeGreaterThan(7); // the float quotient really is above 7
    expect(tight.partitions).toBe(7);
  });
});

describe('validation', () => {
  const problemsOf = (patch: Record<string, unknown>) => capacityProblems({ ...NOTES, ...patch } as CapacityInput);

  it.each([
    [{ servers: 0 }, /servers must be positive/],
    [{ servers: -5 }, /servers must be positive/],
    [{ servers: 10.5 }, /servers must be a whole number/],
    [{ servers: 1e9 }, /servers must be within \[1, 10,000,000\]/],
    [{ metricsPerServer: NaN }, /metricsPerServer must be a finite number/],
    [{ bytesPerMetric: 1e6 }, /bytesPerMetric must be within/],
    [{ samplesPerSecond: 0 }, /samplesPerSecond must be positive/],
    [{ samplesPerSecond: 1e-9 }, /samplesPerSecond must be within \[0.00028/],
    [{ brokerMBps: Infinity }, /brokerMBps must be a finite number/],
    [{ replicationFactor: 2 }, /replicationFactor must be one of 1, 3, 5, 7 \(an odd count/],
    [{ replicationFactor: 9 }, /replicationFactor must be one of/],
    [{ headroom: 1 }, /headroom must be a share within \[0, 0.9\]/],
    [{ headroom: -0.1 }, /headroom/],
    [{ servers: '10' }, /servers must be a finite number/],
  ])('refuses %j', (patch, message) => {
    const problems = problemsOf(patch);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('reports every problem at once, and computeCapacity throws them', () => {
    expect(problemsOf({ servers: 0, replicationFactor: 4 })).toHaveLength(2);
    expect(() => computeCapacity({ ...NOTES, servers: 0, replicationFactor: 4 })).toThrow(CapacityInputError);
    expect(() => computeCapacity({ ...NOTES, servers: 0 })).toThrow(/servers must be positive/);
    expect(capacityProblems(NOTES)).toEqual([]);
  });

  it('refuses an input that needs more than PARTITIONS_MAX partitions', () => {
    expect(() => computeCapacity({ ...NOTES, servers: 10_000_000, brokerMBps: 1 })).toThrow(/needs 320,000 partitions, more than 100,000/);
  });
});

describe('scaled-down simulation preset', () => {
  it('a 1:100 model of the notes: 100 servers × 20 metrics, same 4 partitions and 12 brokers at the same 80% load', () => {
    const preset = presetFromCapacity(computeCapacity(NOTES), 0.01);
    expect(preset).toMatchObject({ servers: 100, metricsPerServer: 20, partitions: 4, brokers: 12, replicationFactor: 3, scale: 0.01 });
    expect(preset.messagesPerS).toBe(2_000);
    expect(preset.trafficScale).toBeCloseTo(1e-4, 12);
    expect(preset.brokerBytesPerS).toBeCloseTo(10_000, 6); // 100 MB/s × 10^-4
    expect(preset.brokerUtilization).toBeCloseTo(0.8, 12);
  });

  it('the preset, sized again with its own broker capacity, needs the same partitions (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.0001, max: 0.03, noNaN: true }), fc.constantFrom(1, 3, 5), (scale, rf) => {
        const real = computeCapacity({ ...NOTES, replicationFactor: rf });
        const p = presetFromCapacity(real, scale);
        const again = computeCapacity({
          servers: p.servers,
          metricsPerServer: p.metricsPerServer,
          bytesPerMetric: p.bytesPerMetric,
          samplesPerSecond: p.samplesPerSecond,
          brokerMBps: p.brokerBytesPerS / 1e6,
          replicationFactor: p.replicationFactor,
        });
        expect([again.partitions, again.brokers]).toEqual([real.partitions, real.brokers]);
        expect(p.servers).toBeGreaterThanOrEqual(1);
      }),
    );
  });

  it('refuses a scale that is still too big to simulate, suggesting one that fits', () => {
    expect(() => presetFromCapacity(computeCapacity(NOTES), 0.1)).toThrow(/try scale ≤ 0.031/);
    const fits = presetFromCapacity(computeCapacity(NOTES), 0.031); // the suggestion works
    expect(fits.messagesPerS).toBeLessThanOrEqual(PRESET_MESSAGES_PER_S_MAX);
    expect(() => presetFromCapacity(computeCapacity(NOTES), 0)).toThrow(/scale must be within \(0, 1\]/);
  });
});

describe('formatNumber', () => {
  it('groups thousands and keeps at most two decimals, the same in every locale', () => {
    expect([formatNumber(320_000_000), formatNumber(3.2), formatNumber(0.8 * 100), formatNumber(-1234.567), formatNumber(1 / 3600)]).toEqual([
      '320,000,000',
      '3.2',
      '80',
      '-1,234.57',
      '0.00028',
    ]);
  });
});
