/**
 * The APM pipeline's edge — agents, supervisor, load balancer, ingestion — over the simulated network, in small worlds
 * built by hand (no scenario files). An `mq-stub` node stands in for each ingestion server's MQ producer and records
 * every `offer`, so the tests compare what agents sampled (their `sampled` notes, the ground truth) with what reached
 * the queue. Checked: steady state delivers every sample of every second exactly once and drops unused metrics; the
 * notes' exponential backoff (10, 20, 40, 80, 80 ms) during a partition, with buffered batches arriving in order after
 * the heal; the herd of fixed, un-jittered retries; round robin vs least-busy with a straggler; back-pressure from a
 * full ingestion queue; the supervisor restarting a hung agent and reporting a crashed server as silent; direct server
 * return (ingestion answers the agents, the balancer only forwards) with the same deliveries; quiet agents; blocks that
 * keep a server's samples under one partition key; determinism.
 */
import { describe, expect, it } from 'vitest';
import { KERNEL_CHECKERS } from '../../src/sim/check/kernel.ts';
import type { NodeBehavior, NodeId, LinkSpec, Fault } from '../../src/sim/kernel/types.ts';
import { World, type NodeSpec, type WorldSpec } from '../../src/sim/kernel/world.ts';
import type { TraceEvent } from '../../src/sim/kernel/trace.ts';
import { quantileSorted } from '../../src/sim/kernel/metrics.ts';
import { apmAgent, publishBytes, retryWaitUs } from '../../src/sim/apm/agent.ts';
import { apmIngest, cpuUs } from '../../src/sim/apm/ingest.ts';
import { apmLb } from '../../src/sim/apm/lb.ts';
import { apmSupervisor, RESTARTS_MAX } from '../../src/sim/apm/supervisor.ts';
import { DEFAULT_METRICS, type AgentConfig, type ApmRpc, type IngestConfig, type LbConfig, type SampleBlock, type SamplePayload } from '../../src/sim/apm/types.ts';
import { LINK, probe } from './harness.ts';

/** Stands in for an MQ producer: records every sample offered to it, with the time it arrived. */
interface StubMemory {
  offers: (SamplePayload & { topic: string; at: number })[];
}
const mqStub: NodeBehavior<StubMemory, object> = {
  kind: 'mq-stub',
  boot: () => ({ offers: [] }),
  step(m, input, ctx) {
    if (input.type !== 'message') return;
    const body = input.msg.body as ApmRpc;
    if (body.kind !== 'offer') throw new Error(`mq-stub got ${body.kind}`);
    // Ingestion here sends one message per sample (no blocks).
    for (const x of body.msgs) m.offers.push({ ...(x.data as SamplePayload), topic: x.topic, at: ctx.now });
  },
};

const BEHAVIORS = { 'apm-agent': apmAgent, 'apm-lb': apmLb, 'apm-ingest': apmIngest, 'apm-supervisor': apmSupervisor, 'mq-stub': mqStub, probe };

interface Shape {
  servers: number;
  /** One entry per ingestion server. */
  backends?: Partial<IngestConfig>[];
  agent?: Partial<AgentConfig>;
  /** Per-server overrides, by server index (1-based). */
  agentAt?: Record<number, Partial<AgentConfig>>;
  lb?: Partial<LbConfig>;
  sup?: { heartbeatMs?: number; missedMax?: number };
  faults?: { at: number; fault: Fault }[];
  link?: Partial<LinkSpec>;
  links?: WorldSpec['links'];
  durationUs: number;
  seed?: string;
}

const server = (i: number) => `web-${i}`;
const agentId = (i: number) => `web-${i}.agent`;

function build(shape: Shape): World {
  const agents: NodeSpec[] = [];
  for (let i = 1; i <= shape.servers; i++) {
    agents.push({ id: agentId(i), kind: 'apm-agent', host: server(i), config: { server: server(i), ...shape.agent, ...shape.agentAt?.[i] } });
  }
  const backends = shape.backends ?? [{}];
  const ingest: NodeSpec[] = backends.flatMap((cfg, j) => [
    { id: `ingest-${j + 1}`, kind: 'apm-ingest', host: `ingest-${j + 1}`, config: { producer: `ingest-${j + 1}.producer`, ...cfg } },
    { id: `ingest-${j + 1}.producer`, kind: 'mq-stub', host: `ingest-${j + 1}`, config: {} },
  ]);
  const spec: WorldSpec = {
    scenario: 'apm-edge',
    seed: shape.seed ?? 'apm-edge',
    nodes: [
      ...agents,
      { id: 'sup', kind: 'apm-supervisor', config: { agents: agents.map((a) => a.id), ...shape.sup } },
      { id: 'lb', kind: 'apm-lb', config: { backends: backends.map((_, j) => `ingest-${j + 1}`), ...shape.lb } },
      ...ingest,
    ],
    link: { ...LINK, ...shape.link },
    links: shape.links ?? [],
    faults: (shape.faults ?? []).map((f) => ({ ...f, source: 'scenario' as const })),
    bugs: [],
    durationUs: shape.durationUs,
    pauseMode: 'queue',
  };
  return new World(spec, { behaviors: BEHAVIORS, checkers: KERNEL_CHECKERS, keepEvents: true });
}

function run(shape: Shape): World {
  const w = build(shape);
  w.runUntil(shape.durationUs);
  expect(w.state.violations).toEqual([]);
  return w;
}

type Note = Extract<TraceEvent, { kind: 'node.note' }>;
function notes(w: World, name: string, node?: NodeId): Note[] {
  return w.trace.events.filter((e): e is Note => e.kind === 'node.note' && e.name === name && (node === undefined || e.node === node));
}

/** One agent's batch as its `sampled` note gives it (columns), with its samples as (metric, value) pairs. */
interface Sampled {
  server: string;
  t: number;
  samples: { metric: string; value: number }[];
}

function sampled(w: World): Sampled[] {
  return notes(w, 'sampled').map((e) => {
    const d = e.data as { server: string; t: number; metrics: readonly string[]; values: readonly number[] };
    expect(d.values.length).toBe(d.metrics.length);
    return { server: d.server, t: d.t, samples: d.metrics.map((metric, i) => ({ metric, value: d.values[i] })) };
  });
}

function offers(w: World): StubMemory['offers'] {
  return w.nodeIds.filter((id) => id.endsWith('.producer')).flatMap((id) => (w.node(id).memory as StubMemory).offers);
}

function counter(w: World, name: string): number {
  return w.metrics().counters[name] ?? 0;
}

function p99(w: World, name: string): number {
  const xs = [...(w.metrics().samples[name] ?? [])].sort((a, b) => a - b);
  return quantileSorted(xs, 0.99);
}

/** Every sample offered, keyed `server|t|metric`, with how often. */
function offerCounts(w: World): Map<string, number> {
  const seen = new Map<string, number>();
  for (const o of offers(w)) {
    const k = `${o.server}|${o.t}|${o.metric}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  return seen;
}

const NO_JITTER: Partial<AgentConfig> = { retry: 'exponential', jitter: false };

describe('apm edge: leaf rules', () => {
  it('exponential backoff waits 10, 20, 40, 80, 80 ms; fixed waits the base; jitter stays within [½, 1½] × nominal', () => {
    const exp = { retry: 'exponential' as const, backoffBaseMs: 10, backoffMaxMs: 80, jitter: false };
    expect([1, 2, 3, 4, 5, 6].map((r) => retryWaitUs(exp, r, () => 0.5) / 1000)).toEqual([10, 20, 40, 80, 80, 80]);
    expect([1, 2, 3, 4].map((r) => retryWaitUs({ ...exp, retry: 'fixed' }, r, () => 0.5) / 1000)).toEqual([10, 10, 10, 10]);
    expect(retryWaitUs({ ...exp, jitter: true }, 3, () => 0) / 1000).toBe(20);
    expect(retryWaitUs({ ...exp, jitter: true }, 3, () => 0.999999) / 1000).toBeCloseTo(60, 3);
  });

  it('a publish is a header plus compressed samples; ingestion CPU is unpack + per sample, times the slowdown', () => {
    expect(publishBytes({ bytesPerSample: 16, compression: 4 }, 5)).toBe(44);
    expect(publishBytes({ bytesPerSample: 16, compression: 3 }, 1)).toBe(30);
    expect(cpuUs({ unpackUs: 200, perSampleUs: 5, slowdown: 1 }, 5)).toBe(225);
    expect(cpuUs({ unpackUs: 200, perSampleUs: 5, slowdown: 20 }, 5)).toBe(4500);
  });
});

describe('apm edge: agents, balancer and ingestion over the network', () => {
  it('steady state: every second of every server reaches the producer exactly once; unused metrics are dropped', () => {
    const keep = ['cpu', 'rpc.latency'];
    const w = run({ servers: 3, backends: [{ keepMetrics: keep }, { keepMetrics: keep }], durationUs: 5_500_000 });
    const truth = sampled(w);
    for (let i = 1; i <= 3; i++) expect(truth.filter((x) => x.server === server(i)).map((x) => x.t)).toEqual([0, 1e6, 2e6, 3e6, 4e6]);
    const seen = offerCounts(w);
    let expected = 0;
    for (const x of truth) {
      for (const s of x.samples) {
        const k = `${x.server}|${x.t}|${s.metric}`;
        if (keep.includes(s.metric)) {
          expected++;
          expect(seen.get(k), k).toBe(1);
        } else expect(seen.has(k), k).toBe(false);
      }
    }
    expect(offers(w).length).toBe(expected);
    expect(expected).toBe(15 * keep.length);
    for (const o of offers(w)) expect(o.value).toBe(truth.find((x) => x.server === o.server && x.t === o.t)!.samples.find((s) => s.metric === o.metric)!.value);
    expect(offers(w).every((o) => o.topic === `metric.${o.metric}`)).toBe(true);
    expect(counter(w, 'apm.published')).toBe(15);
    expect(counter(w, 'apm.droppedUnused')).toBe(15 * (DEFAULT_METRICS.length - keep.length));
    expect(counter(w, 'apm.retries')).toBe(0);
    // Each batch went through at its first attempt: answered (ok) once, and no `published` note (kept for retried ones).
    const answers = w.trace.events.filter((e) => e.kind === 'msg.deliver' && e.msg === 'published' && e.to.endsWith('.agent'));
    expect(answers.length).toBe(15);
    expect(notes(w, 'published').length).toBe(0);
    // Round robin with two backends: each got its half.
    expect(counter(w, 'apm.lbForwarded.ingest-1') + counter(w, 'apm.lbForwarded.ingest-2')).toBe(15);
    expect(Math.abs(counter(w, 'apm.lbForwarded.ingest-1') - counter(w, 'apm.lbForwarded.ingest-2'))).toBeLessThanOrEqual(1);
  });

  it('samples vary as their kind says: cpu stays within 0..100, counts are integers, skew multiplies one server', () => {
    const w = run({ servers: 2, agentAt: { 2: { skew: { 'rpc.latency': 8 } } }, durationUs: 20_500_000 });
    const values = (srv: string, metric: string) => sampled(w).filter((x) => x.server === srv).map((x) => x.samples.find((s) => s.metric === metric)!.value);
    const cpu = values('web-1', 'cpu');
    expect(cpu.every((v) => v >= 0 && v <= 100)).toBe(true);
    expect(new Set(cpu).size).toBeGreaterThan(10);
    expect(values('web-1', 'rpc.count').every((v) => Number.isInteger(v) && v >= 0)).toBe(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // The max of 50 log-normal draws sits well above the median (base 20).
    expect(mean(values('web-1', 'rpc.latency'))).toBeGreaterThan(40);
    expect(mean(values('web-2', 'rpc.latency')) / mean(values('web-1', 'rpc.latency'))).toBeGreaterThan(5);
  });

  it('exponential backoff during a partition waits 10, 20, 40, 80, 80 ms; after the heal every buffered batch arrives, in order, with its event time', () => {
    const healUs = 4_300_000;
    const w = run({
      servers: 1, agent: NO_JITTER, durationUs: 5_500_000,
      faults: [{ at: 1_500_000, fault: { kind: 'partition', shape: 'groups', groups: [['web-1'], ['lb']] } }, { at: healUs, fault: { kind: 'heal' } }],
    });
    const retries = notes(w, 'retry').map((e) => e.data as { seq: number; attempt: number; retry: number; waitMs: number; why: string });
    expect(retries.slice(0, 5).map((r) => r.waitMs)).toEqual([10, 20, 40, 80, 80]);
    expect(retries.every((r, i) => r.waitMs === Math.min(80, 10 * 2 ** i) && r.retry === i + 1 && r.why === 'timeout')).toBe(true);
    // On the wire: each resend leaves the request timeout (100 ms) plus the wait after the previous send.
    const sends = w.trace.events.filter((e) => e.kind === 'msg.send' && e.msg === 'publish' && e.from === 'web-1.agent' && e.t < healUs).map((e) => e.t);
    const gaps = sends.slice(1).map((t, i) => (t - sends[i]) / 1000);
    expect(gaps.slice(1, 6)).toEqual([110, 120, 140, 180, 180]);
    const got = offers(w).filter((o) => o.metric === 'cpu');
    expect(got.map((o) => o.t)).toEqual([0, 1e6, 2e6, 3e6, 4e6]);
    expect(got.filter((o) => o.at > healUs).map((o) => o.t)).toEqual([1e6, 2e6, 3e6, 4e6]);
    const truth = sampled(w);
    for (const o of got) expect(o.value).toBe(truth.find((x) => x.t === o.t)!.samples.find((s) => s.metric === 'cpu')!.value);
    expect(counter(w, 'apm.dropped')).toBe(0);
    // Acknowledged batches that waited out the partition report a long publish delay (measured from when each batch
    // was ready, its period over); one that met no fault waits only for the network and the CPU.
    const delays = w.metrics().samples['apm.publishDelayMs'];
    expect(Math.max(...delays)).toBeGreaterThan(2000);
    expect(Math.min(...delays)).toBeLessThan(20);
  });

  it('a full buffer drops its oldest batch off the wire, noted and counted', () => {
    const w = run({
      servers: 1, agent: { ...NO_JITTER, bufferMax: 2 }, durationUs: 6_500_000,
      faults: [{ at: 1_500_000, fault: { kind: 'partition', shape: 'groups', groups: [['web-1'], ['lb']] } }, { at: 5_300_000, fault: { kind: 'heal' } }],
    });
    const drops = notes(w, 'buffer-drop').map((e) => e.data as { seq: number; t: number });
    // Batch t=1s is on the wire (or backing off) the whole time; at 4 s and 5 s the buffer overflows.
    expect(drops.length).toBe(counter(w, 'apm.dropped'));
    expect(drops.length).toBeGreaterThanOrEqual(2);
    const got = new Set(offers(w).filter((o) => o.metric === 'cpu').map((o) => o.t));
    for (const d of drops) expect(got.has(d.t)).toBe(false);
    expect(got.size + drops.length).toBe(sampled(w).length);
  });

  it('the herd: after a heal, agents on fixed un-jittered retries arrive together; jittered exponential backoff spreads them', () => {
    const herd = (agent: Partial<AgentConfig>) => {
      const healUs = 3_450_000;
      const groups = [Array.from({ length: 20 }, (_, i) => server(i + 1)), ['lb']];
      const w = run({
        servers: 20, backends: [{}, {}], agent, durationUs: 4_000_000,
        faults: [{ at: 1_500_000, fault: { kind: 'partition', shape: 'groups', groups } }, { at: healUs, fault: { kind: 'heal' } }],
      });
      const buckets = new Map<number, number>();
      for (const e of w.trace.events) {
        if (e.kind !== 'msg.deliver' || e.msg !== 'publish' || e.to !== 'lb' || e.t < healUs || e.t >= 3_950_000) continue;
        const b = Math.floor(e.t / 1000);
        buckets.set(b, (buckets.get(b) ?? 0) + 1);
      }
      return Math.max(...buckets.values());
    };
    const fixed = herd({ retry: 'fixed', jitter: false });
    const jittered = herd({ retry: 'exponential', jitter: true });
    expect(fixed).toBe(20);
    expect(jittered).toBeLessThan(fixed / 2);
  });

  it('round robin vs least-busy with one slow ingestion server (slowdown 20): least-busy sends it fewer requests and p99 publish delay is lower', () => {
    // Agents reach the balancer over a jittery network (their publishes spread over ~10 ms after each boundary); the
    // balancer sits next to its backends (0.2 ms, no jitter), so the answers it counts come back in time to matter.
    const shape = (lb: Partial<LbConfig>): Shape => ({
      servers: 30, backends: [{}, {}, { slowdown: 20 }], agent: { publishEveryMs: 100 }, lb, link: { jitterUs: 10_000 },
      links: [1, 2, 3].map((j) => ({ from: 'lb', to: `ingest-${j}`, set: { latencyUs: 200, jitterUs: 0 }, symmetric: true })), durationUs: 5_050_000,
    });
    const rr = run(shape({ policy: 'round-robin' }));
    const polled = run(shape({ policy: 'least-busy', loadPollMs: 100 }));
    const local = run(shape({ policy: 'least-busy', loadPollMs: 0 }));
    const slowShare = (w: World) => counter(w, 'apm.lbForwarded.ingest-3') / counter(w, 'apm.published');
    expect(slowShare(rr)).toBeCloseTo(1 / 3, 1);
    for (const lb of [polled, local]) {
      expect(slowShare(lb)).toBeLessThan(slowShare(rr) * 0.8);
      expect(p99(lb, 'apm.publishDelayMs')).toBeLessThan(p99(rr, 'apm.publishDelayMs'));
    }
    // Fresh local knowledge beats a poll: between polls, "forwarded since the poll" counts work the fast backends
    // already finished, so the polled score drifts back towards round robin.
    expect(slowShare(local)).toBeLessThan(slowShare(rr) / 2);
    expect(slowShare(local)).toBeLessThan(slowShare(polled));
    // The price of knowing: 3 backends asked every 100 ms for 5 s, and nothing for the other two.
    expect(counter(polled, 'apm.lbPolls')).toBe(150);
    expect(counter(rr, 'apm.lbPolls') + counter(local, 'apm.lbPolls')).toBe(0);
  });

  it('a full ingestion queue refuses at once; the agents back off and retry until every batch is in', () => {
    const w = run({ servers: 6, backends: [{ queueMax: 1 }], agent: NO_JITTER, durationUs: 3_500_000 });
    const why = notes(w, 'retry').map((e) => (e.data as { why: string }).why);
    expect(why.length).toBeGreaterThan(0);
    expect(why.every((x) => x === 'queue full')).toBe(true);
    expect(counter(w, 'apm.ingestRefused')).toBe(why.length);
    expect(notes(w, 'queue-full', 'ingest-1').length).toBeGreaterThan(0);
    const seen = offerCounts(w);
    expect(sampled(w).length).toBe(18);
    for (const x of sampled(w)) expect(seen.get(`${x.server}|${x.t}|cpu`)).toBe(1);
    expect(counter(w, 'apm.published')).toBe(18);
  });

  it('a hung agent goes silent, is restarted by the supervisor within missedMax + 1 heartbeats, loses its buffer, and is back', () => {
    const hangUs = 2_000_000;
    const w = run({ servers: 2, agentAt: { 2: { hangAtMs: 2000 } }, sup: { heartbeatMs: 500, missedMax: 3 }, durationUs: 7_500_000 });
    const [hung] = notes(w, 'hung', 'web-2.agent');
    expect(hung.t).toBe(hangUs);
    const silent = notes(w, 'silent', 'sup');
    expect(silent.map((e) => (e.data as { server: string }).server)).toEqual(['web-2']);
    const [restarted] = notes(w, 'restarted', 'web-2.agent');
    expect(restarted).toBeDefined();
    expect(restarted.t - hangUs).toBeLessThanOrEqual((3 + 1) * 500_000 + 5_000);
    expect(restarted.t - hangUs).toBeGreaterThanOrEqual(3 * 500_000 - 500_000);
    expect(notes(w, 'back', 'sup').map((e) => (e.data as { agent: string }).agent)).toEqual(['web-2.agent']);
    // Hung, it sent nothing; its missing seconds are the signal. Restarted, it samples again.
    expect(w.trace.events.some((e) => e.kind === 'msg.send' && e.from === 'web-2.agent' && e.t > hangUs && e.t < restarted.t)).toBe(false);
    const ts = sampled(w).filter((x) => x.server === 'web-2').map((x) => x.t / 1e6);
    expect(ts.filter((t) => t >= 2 && t < restarted.t / 1e6 - 1)).toEqual([]);
    expect(ts.at(-1)).toBe(6);
    expect(sampled(w).filter((x) => x.server === 'web-1').length).toBe(7);
    const last = w.trace.events.filter((e) => e.kind === 'node.state' && e.node === 'sup' && e.key === 'silent').at(-1) as { value: string[] };
    expect(last.value).toEqual([]);
  });

  it('heartbeats piggybacked on publishes: the balancer reports who published, and a hung agent is still restarted', () => {
    const hangUs = 2_000_000;
    const w = run({
      servers: 3, agent: { piggybackHeartbeat: true }, agentAt: { 2: { hangAtMs: 2000 } }, lb: { reportAliveMs: 1000 }, sup: { heartbeatMs: 1000, missedMax: 3 },
      durationUs: 10_500_000,
    });
    expect(w.trace.events.some((e) => e.kind === 'msg.send' && e.msg === 'alive')).toBe(false);
    const reports = w.trace.events.filter((e) => e.kind === 'msg.send' && e.msg === 'alive-from');
    // One report a second while anyone publishes, never one message per agent.
    expect(reports.length).toBeGreaterThanOrEqual(9);
    expect(reports.length).toBeLessThanOrEqual(10);
    expect(reports.every((e) => e.kind === 'msg.send' && e.from === 'lb' && e.to === 'sup')).toBe(true);
    const listed = reports.flatMap((e) => (e.kind === 'msg.send' ? [...(e.body as { agents: string[] }).agents] : []));
    expect(new Set(listed)).toEqual(new Set(['web-1.agent', 'web-2.agent', 'web-3.agent']));
    // web-2 stops publishing when it hangs, goes silent, is restarted and is heard again through its publishes.
    expect(notes(w, 'silent', 'sup').map((e) => (e.data as { agent: string }).agent)).toEqual(['web-2.agent']);
    const [restarted] = notes(w, 'restarted', 'web-2.agent');
    // Silent after missedMax reports without it, one more for the check and one for the report's period: ≤ 5 s.
    expect(restarted.t - hangUs).toBeLessThanOrEqual((3 + 2) * 1_000_000 + 5_000);
    expect(notes(w, 'back', 'sup').map((e) => (e.data as { agent: string }).agent)).toEqual(['web-2.agent']);
    expect(sampled(w).filter((x) => x.server !== 'web-2').length).toBe(20);
    expect(() => build({ servers: 1, lb: { reportAliveMs: -1 }, durationUs: 1_000_000 })).toThrow(/reportAliveMs must be >= 0/);
  });

  it('a crashed server is reported silent and never back; the supervisor’s restarts go unanswered and stop', () => {
    const w = run({ servers: 3, sup: { heartbeatMs: 500, missedMax: 3 }, durationUs: 12_000_000, faults: [{ at: 2_000_000, fault: { kind: 'crash', node: 'web-2' } }] });
    expect(notes(w, 'silent', 'sup').map((e) => (e.data as { agent: string }).agent)).toEqual(['web-2.agent']);
    expect(notes(w, 'back', 'sup')).toEqual([]);
    const restarts = notes(w, 'restart', 'sup');
    expect(restarts.length).toBe(RESTARTS_MAX);
    expect(restarts.every((e) => (e.data as { agent: string }).agent === 'web-2.agent')).toBe(true);
    const last = w.trace.events.filter((e) => e.kind === 'node.state' && e.node === 'sup' && e.key === 'silent').at(-1) as { value: string[] };
    expect(last.value).toEqual(['web-2']);
    // The other servers carry on: a batch a second each, at 1 s … 12 s.
    expect(sampled(w).filter((x) => x.server !== 'web-2').length).toBe(24);
  });

  it('direct server return: ingestion answers the agents, the balancer relays nothing, and every second still arrives once', () => {
    const keep = ['cpu', 'rpc.latency'];
    const dsr = (lb: Partial<LbConfig>) => run({
      servers: 6, backends: [{ keepMetrics: keep, directReturn: true }, { keepMetrics: keep, directReturn: true }], lb: { ...lb, directReturn: true }, durationUs: 4_500_000,
    });
    for (const w of [dsr({ policy: 'round-robin' }), dsr({ policy: 'least-busy', loadPollMs: 100 })]) {
      const answers = w.trace.events.filter((e) => e.kind === 'msg.send' && e.msg === 'published');
      expect(answers.length).toBe(24);
      expect(answers.every((e) => e.kind === 'msg.send' && e.from.startsWith('ingest-') && e.to.endsWith('.agent'))).toBe(true);
      expect(w.trace.events.some((e) => e.kind === 'msg.send' && e.from === 'lb' && e.msg === 'published')).toBe(false);
      expect(counter(w, 'apm.published')).toBe(24);
      const seen = offerCounts(w);
      for (const x of sampled(w)) for (const m of keep) expect(seen.get(`${x.server}|${x.t}|${m}`)).toBe(1);
      expect(counter(w, 'apm.lbForwarded.ingest-1') + counter(w, 'apm.lbForwarded.ingest-2')).toBe(24);
    }
    // Least-busy without answers to count must poll; an answer reaching a direct-return balancer is a wiring error.
    expect(() => build({ servers: 1, lb: { policy: 'least-busy', loadPollMs: 0, directReturn: true }, durationUs: 1_000_000 })).toThrow(/needs loadPollMs > 0/);
    expect(() => run({ servers: 1, lb: { directReturn: true }, durationUs: 1_500_000 })).toThrow(/direct return is on/);
  });

  it('a quiet agent notes no sampled batches but publishes the same values, columns in catalogue order', () => {
    const noisy = run({ servers: 2, durationUs: 3_500_000 });
    const quiet = run({ servers: 2, agent: { noteSampled: false }, durationUs: 3_500_000 });
    expect(sampled(quiet)).toEqual([]);
    const publishes = (w: World) => w.trace.events.flatMap((e) => (e.kind === 'msg.send' && e.msg === 'publish' && e.to === 'lb' ? [e.body as Extract<ApmRpc, { kind: 'publish' }>] : []));
    const got = publishes(quiet);
    expect(got.length).toBe(6);
    for (const p of got) expect(p.metrics).toEqual(DEFAULT_METRICS.map((m) => m.name));
    // The same seed draws the same values whether or not they are noted.
    expect(got.map((p) => [p.server, p.t, p.values])).toEqual(publishes(noisy).map((p) => [p.server, p.t, p.values]));
    expect(sampled(noisy).map((x) => [x.server, x.t, x.samples.map((v) => v.value)])).toEqual(got.map((p) => [p.server, p.t, p.values]));
    // Agents with the same catalogue share one array of names.
    expect(got[0].metrics).toBe(got[1].metrics);
  });

  it('blocks keep a server under one partition key, in blockBuckets buckets, and hold every kept sample once', () => {
    const keep = ['cpu', 'rpc.latency'];
    const blocks = (buckets: number) => {
      const w = run({ servers: 8, backends: [{ keepMetrics: keep, blockMs: 250, blockBuckets: buckets }], agent: { phaseMs: 0 }, durationUs: 4_500_000 });
      const keys = new Map<string, Set<string>>();
      let samples = 0;
      for (const e of w.trace.events) {
        if (e.kind !== 'msg.send' || e.msg !== 'offer') continue;
        for (const m of (e.body as Extract<ApmRpc, { kind: 'offer' }>).msgs) {
          const b = m.data as SampleBlock;
          samples += b.server.length;
          for (let i = 0; i < b.server.length; i++) {
            expect(m.topic).toBe(`metric.${b.metric[i]}`);
            const k = `${b.server[i]}|${m.topic}`;
            if (!keys.has(k)) keys.set(k, new Set());
            keys.get(k)!.add(m.key);
          }
        }
      }
      return { w, samples, keys };
    };
    for (const buckets of [1, 4]) {
      const { w, samples, keys } = blocks(buckets);
      expect(samples).toBe(8 * 4 * keep.length);
      expect(counter(w, 'apm.ingestedSamples')).toBe(samples);
      for (const set of keys.values()) expect(set.size).toBe(1); // one key per (server, topic): one partition
      const distinct = new Set([...keys.values()].map((s) => [...s][0]));
      expect(distinct.size).toBeLessThanOrEqual(buckets * keep.length);
      if (buckets === 1) expect(distinct.size).toBe(keep.length);
    }
    expect(() => build({ servers: 1, backends: [{ blockMs: 100, blockBuckets: 0 }], durationUs: 1_000_000 })).toThrow(/blockBuckets must be 1\.\.64/);
  });

  it('determinism: the same seed gives the same trace hash, a checkpoint resumes to the same end, another seed differs', () => {
    const shape: Shape = {
      servers: 6, backends: [{}, { slowdown: 5 }], agent: { retry: 'exponential', jitter: true }, lb: { policy: 'least-busy' }, link: { jitterUs: 2_000 },
      durationUs: 4_000_000, faults: [{ at: 1_200_000, fault: { kind: 'partition', shape: 'groups', groups: [['web-1', 'web-2'], ['lb']] } }, { at: 2_600_000, fault: { kind: 'heal' } }],
    };
    const a = run(shape);
    const b = build(shape);
    b.runUntil(2_000_000);
    const resumed = new World(b.spec, { behaviors: BEHAVIORS, checkers: KERNEL_CHECKERS, keepEvents: true }, [], { checkpoint: b.checkpoint(), events: b.trace.events });
    resumed.runUntil(shape.durationUs);
    b.runUntil(shape.durationUs);
    expect(notes(a, 'retry').length).toBeGreaterThan(0);
    expect(b.trace.hashHex()).toBe(a.trace.hashHex());
    expect(resumed.trace.hashHex()).toBe(a.trace.hashHex());
    expect(run({ ...shape, seed: 'other' }).trace.hashHex()).not.toBe(a.trace.hashHex());
  });
});
