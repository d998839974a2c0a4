import { performance } from 'node:perf_hooks';
import { runSeed, type SweepJob } from '../src/cli/sweep-run.ts';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { pingPong } from '../src/scenarios/ping-pong.ts';
import { raftColdStart } from '../src/scenarios/raft-cold-start.ts';
import { apmScaleShape, apmTopology } from '../src/scenarios/apm-common.ts';
import { mqTopology } from '../src/scenarios/mq-common.ts';
import { raftTopology } from '../src/scenarios/raft-common.ts';
import type { ScenarioInput } from '../src/scenarios/schema.ts';
import { RngStreams } from '../src/sim/kernel/rng.ts';
import { Lab } from '../src/sim/lab.ts';
import { percentiles, pingPongVariant, round, runChunked, type MemorySampler } from './measure.ts';
import { uiBench } from './ui.ts';

/**
 * The benches. Each is a named function returning plain figures; main.ts runs them in order (or those `--only`
 * names) and prints one JSON object. Add a bench by appending to BENCHES.
 */
export interface Bench {
  name: string;
  description: string;
  run(memory: MemorySampler): Record<string, unknown> | Promise<Record<string, unknown>>;
}

/**
 * One run to the end. With events kept it is the UI's mode (export, seek and the event log need them); without, the
 * mode of sweeps and `sim run` summaries — the trace is still hashed event by event and every checker still runs.
 */
function kernelRun(input: ScenarioInput, memory: MemorySampler, keepEvents = true, focus?: { kinds: string[] }): Record<string, unknown> {
  const lab = new Lab();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const durationUs = lab.load(input, { keepEvents }).durationUs;
  const loadMs = performance.now() - t0;
  // A focus leaves other nodes' memory views out of the snapshot each chunk returns, as the UI's focus does.
  if (focus) lab.setFocus(focus);
  runChunked(lab, durationUs, memory);
  const wallMs = performance.now() - t0;
  // CPU time of this process (the simulation thread plus V8's GC helpers): steadier than wall time on a shared host.
  const cpuMs = process.cpuUsage(cpu0).user / 1000;
  const s = lab.summary();
  return {
    nodes: input.topology.nodes.length,
    virtualMs: s.virtualMs,
    events: s.events,
    wallMs: round(wallMs, 1),
    loadMs: round(loadMs, 1),
    eventsPerWallSecond: Math.round(s.events / (wallMs / 1000)),
    virtualToWallRatio: round(s.virtualMs / wallMs, 2),
    cpuMs: round(cpuMs, 1),
    virtualToCpuRatio: round(s.virtualMs / cpuMs, 2),
    keepEvents,
    violations: s.violations.length,
  };
}

/** Issue 3's figure: a 5-replica group with a client write every 10 ms for 10 virtual minutes. */
function raftGroup(minutes: number): ScenarioInput {
  const s = structuredClone(raftColdStart);
  s.id = `raft-5x${minutes}m`;
  s.duration = `${minutes}m`;
  s.topology = raftTopology(5);
  s.expect = [];
  return s;
}

/**
 * Issue 4’s figure: 3 brokers, 4 partitions × 3 replicas, 10,000 messages/s produced (4 producers × 2,500, lingering
 * 50 ms per batch, Kafka’s linger.ms) and consumed (4 pull consumers, acks after the sink) for `minutes` virtual minutes.
 */
function mqLoad(minutes: number): ScenarioInput {
  return {
    id: `mq-10k-${Math.round(minutes * 60)}s`, title: 'mq load', summary: '', tags: [], difficulty: 'deep', minutes: 1, goals: [], seed: 'mq-bench', duration: `${minutes}m`,
    topology: mqTopology({
      brokers: 3,
      partitions: 4,
      replicas: 3,
      producers: Array.from({ length: 4 }, () => ({ ratePerS: 2500, lingerMs: 50 })),
      consumers: Array.from({ length: 4 }, () => ({ processMs: 0.05, fetchMax: 1000, bufferMax: 4000 })),
    }),
    faults: [], narration: [], expect: [], metrics: [],
  };
}

/**
 * The message-queue figures: `kernelRun`'s, plus what the heap retains. `heapMbPerVirtualMinute` is the peak heap (live
 * data and garbage not yet collected) over the run, per virtual minute; `retainedHeapMb*` are measured after a full GC
 * at each of 20 chunk boundaries — what the run really holds — and their growth per virtual minute from the end of the
 * first quarter to the end of the run: with log compaction it no longer grows with the log. The forced collections'
 * time is left out of the wall and CPU figures.
 */
function mqRun(minutes: number, memory: MemorySampler): Record<string, unknown> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const before = process.memoryUsage().heapUsed;
  const lab = new Lab();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const durationUs = lab.load(mqLoad(minutes), { keepEvents: false }).durationUs;
  const chunks = 20;
  const retainedMb: number[] = [];
  let gcWallMs = 0;
  let gcCpuMs = 0;
  for (let i = 1; i <= chunks; i++) {
    lab.step({ until: Math.round((durationUs * i) / chunks) });
    memory.sample();
    if (!gc) continue;
    const g0 = performance.now();
    const c0 = process.cpuUsage();
    gc();
    retainedMb.push(process.memoryUsage().heapUsed / 2 ** 20);
    gcWallMs += performance.now() - g0;
    gcCpuMs += process.cpuUsage(c0).user / 1000;
  }
  const wallMs = performance.now() - t0 - gcWallMs;
  const cpuMs = process.cpuUsage(cpu0).user / 1000 - gcCpuMs;
  const s = lab.summary();
  const virtualMin = s.virtualMs / 60_000;
  const quarter = Math.floor(chunks / 4) - 1;
  const retained = retainedMb.length === chunks
    ? {
        retainedHeapMbAtQuarter: round(retainedMb[quarter], 1),
        retainedHeapMbAtEnd: round(retainedMb[chunks - 1], 1),
        retainedHeapMbPerVirtualMinute: round((retainedMb[chunks - 1] - retainedMb[quarter]) / (virtualMin * 0.75), 1),
      }
    : {};
  return {
    nodes: lab.snapshot().nodes.length,
    virtualMs: s.virtualMs,
    events: s.events,
    wallMs: round(wallMs, 1),
    eventsPerWallSecond: Math.round(s.events / (wallMs / 1000)),
    virtualToWallRatio: round(s.virtualMs / wallMs, 2),
    cpuMs: round(cpuMs, 1),
    virtualToCpuRatio: round(s.virtualMs / cpuMs, 2),
    keepEvents: false,
    violations: s.violations.length,
    heapMbPerVirtualMinute: round((memory.heapUsedMbMax - before / 2 ** 20) / virtualMin, 1),
    ...retained,
  };
}

/**
 * Issue 5's figures: the APM pipeline at the notes' full scale (10,000 servers × 2,000 metrics a second, 20 stored
 * queries) and at a 1,000 × 50 preset, samples batched per agent-second and per 100 ms block into the queue.
 */
function apmRun(servers: number, metricsEmitted: number, seconds: number, ingest: number, aggregators: number, memory: MemorySampler): Record<string, unknown> {
  const input: ScenarioInput = {
    id: `apm-${servers}x${metricsEmitted}`, title: 'apm load', summary: '', tags: [], difficulty: 'deep', minutes: 1, goals: [], seed: 'apm-bench', duration: `${seconds}s`,
    topology: apmTopology(apmScaleShape({ servers, metricsEmitted, queries: 20, ingest, aggregators })),
    faults: [], narration: [], expect: [], metrics: [],
  };
  const before = process.memoryUsage().heapUsed;
  // Snapshots between chunks carry the aggregators' and the dashboard's memory (what the charts read), not ten
  // thousand agents' views.
  const r = kernelRun(input, memory, false, { kinds: ['apm-aggregator', 'apm-dashboard'] });
  const s = (r.virtualMs as number) / 1000;
  return { servers, metricsPerServer: metricsEmitted, samplesPerVirtualSecond: servers * metricsEmitted, ...r, heapMbPerVirtualMinute: round(((memory.heapUsedMbMax - before / 2 ** 20) / s) * 60, 1) };
}

/** Wall time of `sim sweep` over 1,000 seeds of a scenario on every core, as a user runs it. */
function cliSweep(scenario: string, extra: string[]): Record<string, unknown> {
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'sweep', scenario, '--seeds', '1..1000', ...extra];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wallMs = performance.now() - t0;
  const out = JSON.parse(r.stdout) as { runs: number; violations: number };
  return { scenario, args: extra.join(' '), runs: out.runs, failingRuns: out.violations, wallS: round(wallMs / 1000, 2), threads: availableParallelism() };
}

/** Seek latency on a 10-virtual-minute run: 20 seeded targets, so the walk goes both backwards and forwards. */
function seekBench(memory: MemorySampler): Record<string, unknown> {
  const lab = new Lab();
  const durationUs = lab.load(pingPongVariant('ping-pong-5x10m', 5, '10m')).durationUs;
  runChunked(lab, durationUs, memory);
  const rng = new RngStreams('bench').stream('seek');
  const back: number[] = [];
  const forward: number[] = [];
  let at = durationUs;
  for (let i = 0; i < 20; i++) {
    const target = rng.int(0, durationUs);
    const t0 = performance.now();
    const reached = lab.seek(target).t;
    (target < at ? back : forward).push(performance.now() - t0);
    at = reached;
    memory.sample();
  }
  // Backward seeks restore a checkpoint and re-run a little; forward seeks re-run all the way from where the lab is.
  return {
    runVirtualMs: durationUs / 1000,
    seeks: back.length + forward.length,
    seekMs: percentiles([...back, ...forward]),
    backwardSeekMs: back.length ? { n: back.length, ...percentiles(back) } : null,
    forwardSeekMs: forward.length ? { n: forward.length, ...percentiles(forward) } : null,
    checkpoints: lab.snapshot().checkpoints,
  };
}

/** Sweep throughput on one thread: whole ping-pong runs per wall second, plain and with a random fault schedule. */
function sweepBench(memory: MemorySampler): Record<string, unknown> {
  const rate = (randomFaults: boolean, seeds: number) => {
    const job: SweepJob = { input: pingPong, bugs: [], randomFaults };
    const t0 = performance.now();
    for (let s = 1; s <= seeds; s++) {
      runSeed(job, String(s));
      if (s % 10 === 0) memory.sample();
    }
    return round(seeds / ((performance.now() - t0) / 1000), 2);
  };
  return { scenario: 'ping-pong', threads: 1, runsPerWallSecond: rate(false, 30), randomFaultsRunsPerWallSecond: rate(true, 30) };
}

/**
 * Issue 8's figure: exporting a 1-virtual-hour run (3 pingers, every event kept) as JSON Lines chunks, the way
 * `sim run --out` and `sim export` write it, then as Perfetto JSON. The heap is sampled every 16 chunks: the export
 * must add about one chunk, never a second copy of the trace (`heapDeltaMbMax` against `boundMb`; the file itself is
 * `mb`).
 */
function traceExportBench(memory: MemorySampler): Record<string, unknown> {
  const lab = new Lab();
  const input = pingPongVariant('ping-pong-3x60m', 3, '60m');
  // ping-pong's own faults name n5; with three nodes they fall on n3 instead.
  input.faults = input.faults.map((f) => JSON.parse(JSON.stringify(f).replaceAll('"n5"', '"n3"')));
  const durationUs = lab.load(input).durationUs;
  runChunked(lab, durationUs, memory);
  const boundMb = 64;
  const measure = (format: 'jsonl' | 'perfetto') => {
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let bytes = 0;
    let chunks = 0;
    const t0 = performance.now();
    for (const chunk of lab.exportChunks(format)) {
      bytes += Buffer.byteLength(chunk, 'utf8');
      if (++chunks % 16 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    const wallMs = performance.now() - t0;
    memory.sample();
    // A second pass with a full GC every 256 chunks (bench children run with --expose-gc): what the export holds on
    // to, as opposed to the garbage it leaves for the collector (counted in heapDeltaMbMax).
    let retained = 0;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) {
      let n = 0;
      for (const _chunk of lab.exportChunks(format)) {
        if (++n % 256 === 0) {
          gc();
          retained = Math.max(retained, process.memoryUsage().heapUsed - before);
        }
      }
    }
    const heapDeltaMbMax = round((peak - before) / 1024 / 1024, 1);
    const retainedMbMax = gc ? round(retained / 1024 / 1024, 1) : null;
    return {
      mb: round(bytes / 1024 / 1024, 1),
      chunks,
      wallMs: round(wallMs, 0),
      mbPerWallSecond: round(bytes / 1024 / 1024 / (wallMs / 1000), 1),
      heapDeltaMbMax,
      retainedMbMax,
      withinBound: (retainedMbMax ?? heapDeltaMbMax) < boundMb,
    };
  };
  const s = lab.summary();
  return { virtualMs: s.virtualMs, events: s.events, boundMb, jsonl: measure('jsonl'), perfetto: measure('perfetto') };
}

export const BENCHES: Bench[] = [
  { name: 'kernel.ping-pong', description: 'ping-pong as shipped: 5 nodes, 8 virtual seconds', run: (m) => kernelRun(pingPong, m) },
  { name: 'kernel.5x10m', description: '5 pingers for 10 virtual minutes', run: (m) => kernelRun(pingPongVariant('ping-pong-5x10m', 5, '10m'), m) },
  { name: 'kernel.25x1m', description: '25 pingers for 1 virtual minute', run: (m) => kernelRun(pingPongVariant('ping-pong-25x1m', 25, '1m'), m) },
  { name: 'raft.5x10m', description: '5 Raft replicas, a write every 10 ms, 10 virtual minutes, events not kept', run: (m) => kernelRun(raftGroup(10), m, false) },
  { name: 'raft.5x1m-kept', description: 'the same group for 1 virtual minute with every event kept (the UI mode)', run: (m) => kernelRun(raftGroup(1), m, true) },
  { name: 'mq.10k-1m', description: '3 brokers, 4 partitions × 3 replicas, 10,000 messages/s produced and consumed, 1 virtual minute (issue 4: ≥ 20× real time); the heap retained after GC, per virtual minute', run: (m) => mqRun(1, m) },
  { name: 'mq.10k-5m', description: 'the same load for 5 virtual minutes, the issue’s figure: with log compaction the retained heap stays flat', run: (m) => mqRun(5, m) },
  { name: 'mq.10k-10s', description: 'the same load for 10 virtual seconds (a quick look)', run: (m) => mqRun(10 / 60, m) },
  { name: 'apm.1000x50', description: 'APM: 1,000 servers × 50 metrics a second, 20 stored queries, 60 virtual seconds (issue 5: ≥ 20× real time)', run: (m) => apmRun(1000, 50, 60, 2, 4, m) },
  { name: 'apm.10000x2000', description: 'APM at the notes’ scale: 10,000 servers × 2,000 metrics a second, 20 stored queries, 30 virtual seconds (issue 5: ≥ real time)', run: (m) => apmRun(10_000, 2000, 30, 16, 10, m) },
  { name: 'ui', description: 'the production build in Chromium: frame time and long tasks with 500+ messages in flight at 10×, seek latency in a 10-minute run, initial JS (issue 6)', run: uiBench },
  { name: 'raft.sweep', description: 'sim sweep raft-leader-crash over 1,000 seeds on all cores', run: () => cliSweep('raft-leader-crash', []) },
  { name: 'seek', description: 'seek latency on a 10-virtual-minute run', run: seekBench },
  { name: 'sweep', description: 'single-threaded sweep throughput', run: sweepBench },
  { name: 'trace.export-1h', description: 'export a 1-virtual-hour run as JSON Lines and Perfetto chunks: bytes, wall ms, heap delta', run: traceExportBench },
];
