/**
 * The session view-model against a real Lab on this thread: loading, stepping, seeking (with coalescing), playing on
 * a fake animation frame without ever overlapping two `advance` calls, failures that keep the current run, and import.
 */
import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/sim/lab.ts';
import { localPort, type LabPort } from '../../src/views/port.ts';
import { LabSession, type Frame } from '../../src/views/session.svelte.ts';

/** A port that counts concurrent calls of one method and can slow every call down. */
function instrumented(lab: Lab, delayMs = 0) {
  const base = localPort(lab);
  const stats = { calls: {} as Record<string, number>, inFlight: 0, maxInFlight: 0 };
  const port = Object.fromEntries(
    Object.entries(base).map(([name, fn]) => [
      name,
      async (...args: unknown[]) => {
        stats.calls[name] = (stats.calls[name] ?? 0) + 1;
        stats.inFlight++;
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
        try {
          if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
          return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
        } finally {
          stats.inFlight--;
        }
      },
    ]),
  ) as unknown as LabPort;
  return { port, stats };
}

/** Animation frames 16 ms apart, on demand. */
function fakeFrames() {
  let now = 0;
  const waiting: ((t: number) => void)[] = [];
  const frame: Frame = (cb) => void waiting.push(cb);
  async function tick(n: number) {
    for (let i = 0; i < n; i++) {
      now += 16;
      waiting.splice(0).forEach((cb) => cb(now));
      await new Promise((r) => setTimeout(r, 0));
      await new Promise((r) => setTimeout(r, 0));
    }
  }
  return { frame, tick };
}

function session(port: LabPort, frame?: Frame): { s: LabSession; done: () => void } {
  let s!: LabSession;
  const done = $effect.root(() => {
    s = new LabSession(port, {}, frame);
  });
  return { s, done };
}

describe('LabSession', () => {
  it('loads, steps and seeks, replacing the snapshot each time', async () => {
    const { s, done } = session(localPort(new Lab()));
    expect(await s.load('ping-pong', 'abc')).toBe(true);
    const first = s.snapshot!;
    expect(first.seed).toBe('abc');
    expect(first.t).toBe(0);
    await s.step(1);
    expect(s.snapshot).not.toBe(first);
    expect(s.snapshot!.eventCount).toBeGreaterThan(first.eventCount);
    await s.seek(3_000_000);
    flushSync();
    expect(s.t).toBe(3_000_000);
    expect(s.snapshot!.network.partition?.shape).toBe('isolate');
    await s.runToEnd();
    expect(s.done).toBe(true);
    const reference = new Lab();
    reference.load('ping-pong', { seed: 'abc' });
    expect(s.snapshot!.traceHash).toBe(reference.runToEnd().traceHash);
    done();
  });

  it('a failed load shows the error and keeps the current run', async () => {
    const { s, done } = session(localPort(new Lab()));
    await s.load('ping-pong', 'abc');
    const before = s.snapshot;
    expect(await s.load('no-such-scenario')).toBe(false);
    expect(s.error).toMatch(/unknown scenario "no-such-scenario"/);
    expect(s.snapshot).toBe(before);
    s.dismiss();
    expect(s.error).toBeNull();
    done();
  });

  it('coalesces seeks: while one is in flight only the newest target is sent next', async () => {
    const { port, stats } = instrumented(new Lab(), 5);
    const { s, done } = session(port);
    await s.load('ping-pong', 'abc');
    const all = [1e6, 2e6, 3e6, 4e6, 5e6].map((t) => s.seek(t));
    await Promise.all(all);
    expect(stats.calls.seek).toBe(2);
    expect(s.t).toBe(5_000_000);
    done();
  });

  it('plays on animation frames, one advance at a time, until paused', async () => {
    const { port, stats } = instrumented(new Lab(), 3);
    const frames = fakeFrames();
    const { s, done } = session(port, frames.frame);
    await s.load('ping-pong', 'abc');
    await s.setSpeed(10);
    await s.play();
    expect(s.playing).toBe(true);
    stats.maxInFlight = 0;
    await frames.tick(30);
    expect(stats.calls.advance).toBeGreaterThan(3);
    expect(stats.maxInFlight).toBe(1);
    expect(s.t).toBeGreaterThan(0);
    await s.pause();
    const t = s.t;
    await frames.tick(5);
    expect(s.t).toBe(t);
    // Pause then play at once must start a new loop rather than lose it.
    await s.play();
    await frames.tick(5);
    expect(s.t).toBeGreaterThan(t);
    await s.pause();
    done();
  });

  it('a failed import shows the error and leaves the run untouched; a good one replaces it', async () => {
    const source = new Lab();
    source.load('ping-pong', { seed: 'xyz' });
    source.seek(1_500_000);
    const trace = source.exportTrace('json');

    const { s, done } = session(localPort(new Lab()));
    await s.load('ping-pong', 'abc');
    await s.seek(2_000_000);
    const before = s.snapshot!;
    expect(await s.importTrace('{"format": "nope"')).toBeUndefined();
    expect(s.error).toMatch(/^import failed/);
    expect(s.snapshot).toBe(before);

    const result = await s.importTrace(trace);
    expect(result?.seed).toBe('xyz');
    expect(s.snapshot!.seed).toBe('xyz');
    expect(s.snapshot!.traceHash).toBe(source.snapshot().traceHash);
    expect(s.notice).toContain('verified');
    done();
  });

  it('inject reports the Lab refusal', async () => {
    const { s, done } = session(localPort(new Lab()));
    await s.load('ping-pong', 'abc');
    expect(await s.inject({ kind: 'crash', node: 'n3' })).toBeNull();
    expect(s.snapshot!.nodes.find((n) => n.id === 'n3')?.status).toBe('crashed');
    const why = await s.inject({ kind: 'crash', node: 'n3' });
    expect(why).toMatch(/already crashed/);
    done();
  });
});
