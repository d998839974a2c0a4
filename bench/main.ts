import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCHES, type Bench } from './benches.ts';
import { MemorySampler, round } from './measure.ts';

/**
 * `npm run bench [-- --only NAME[,NAME]]`: runs the benches and prints ONE JSON object on stdout —
 * `{env, benches: {name: {...figures, heapUsedMbMax, rssMbPeak}}, memory: {rssMbMax, heapUsedMbMax}, wallMs}`.
 * `--only` takes names or prefixes (`kernel` selects every `kernel.*`). Progress goes to stderr when it is a terminal.
 *
 * Each bench runs in a fresh Node process (`--child NAME`, with --expose-gc): a bench that leaves a gigabyte heap
 * behind would otherwise slow every later bench through GC, and a process of its own makes `rssMbPeak` (the OS's
 * maximum resident set) that bench's own peak. `heapUsedMbMax` is sampled between run chunks and after each seek.
 */
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');

function selected(only: string[] | undefined): Bench[] {
  if (!only || only.length === 0) return BENCHES;
  const names = only.flatMap((o) => o.split(',')).map((o) => o.trim()).filter(Boolean);
  const matches = (b: Bench, n: string) => b.name === n || b.name.startsWith(`${n}.`);
  const unknown = names.filter((n) => !BENCHES.some((b) => matches(b, n)));
  if (unknown.length) throw new Error(`unknown bench ${unknown.join(', ')} (known: ${BENCHES.map((b) => b.name).join(', ')})`);
  return BENCHES.filter((b) => names.some((n) => matches(b, n)));
}

/** In the child: run one bench and print its figures as one JSON line. */
async function runChild(name: string): Promise<void> {
  const bench = BENCHES.find((b) => b.name === name);
  if (!bench) throw new Error(`unknown bench ${name}`);
  const memory = new MemorySampler();
  memory.startBench();
  const figures = await bench.run(memory);
  const rssMbPeak = round(process.resourceUsage().maxRSS / 1024, 1); // maxRSS is in kilobytes
  process.stdout.write(JSON.stringify({ ...figures, heapUsedMbMax: memory.heapUsedMbMax, rssMbPeak }) + '\n');
}

function spawnBench(b: Bench): Record<string, unknown> {
  const args = ['--import', 'tsx', '--expose-gc', join(HERE, 'main.ts'), '--child', b.name];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`bench ${b.name} failed (exit ${r.status ?? r.signal}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function runAll(only: string[] | undefined): void {
  const benches = selected(only);
  const results: Record<string, Record<string, unknown>> = {};
  const t0 = performance.now();
  for (const b of benches) {
    if (process.stderr.isTTY) process.stderr.write(`bench ${b.name}: ${b.description}…\n`);
    results[b.name] = spawnBench(b);
  }
  const peak = (key: string) => Math.max(0, ...Object.values(results).map((r) => Number(r[key]) || 0));
  const env = { node: process.version, platform: process.platform, arch: process.arch, cpus: availableParallelism() };
  const memory = { rssMbMax: peak('rssMbPeak'), heapUsedMbMax: peak('heapUsedMbMax') };
  process.stdout.write(JSON.stringify({ env, benches: results, memory, wallMs: round(performance.now() - t0, 1) }) + '\n');
}

async function main(): Promise<number> {
  try {
    const { values } = parseArgs({ options: { only: { type: 'string', multiple: true }, child: { type: 'string' } }, strict: true });
    if (values.child !== undefined) await runChild(values.child);
    else runAll(values.only);
    return 0;
  } catch (e) {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
}

process.exitCode = await main();
