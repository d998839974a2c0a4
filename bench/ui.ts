import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { buildApp, DIST, serve } from './dist-server.ts';
import { SPEEDS } from '../src/views/format.ts';
import { percentiles, round, type MemorySampler } from './measure.ts';

/**
 * Issue 6's figures, measured in Debian's Chromium against the production build:
 * - frames: mq-load (5 brokers, 3 partitions, 500–800 messages on the wire) played at 10×: frame intervals from
 *   requestAnimationFrame and main-thread long tasks from a PerformanceObserver, over `FRAME_WINDOW_MS`;
 * - seek: raft-ten-minutes run to its end, then the seek slider moved to 20 seeded targets, timed from the input
 *   event to the time display showing the target;
 * - initial JS: the gzipped size of the scripts index.html loads (the worker loads after).
 */
/** mq-load lasts 22 virtual seconds, 2.2 wall seconds at 10×: the window starts once 500 messages are in flight. */
const FRAME_WINDOW_MS = 1_500;
const SEEKS = 20;

export async function uiBench(memory: MemorySampler): Promise<Record<string, unknown>> {
  await buildApp();
  const server = await serve(DIST);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
    const frames = await measureFrames(await context.newPage(), base);
    memory.sample();
    const seek = await measureSeeks(await context.newPage(), base);
    memory.sample();
    return { chromium: browser.version(), frames, seek, initialJs: initialJs() };
  } finally {
    await browser.close();
    server.close();
  }
}

async function openScenario(page: Page, base: string, scenario: string): Promise<void> {
  await page.goto(`${base}#scenario=${scenario}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
}

async function measureFrames(page: Page, base: string): Promise<Record<string, unknown>> {
  await openScenario(page, base, 'mq-load');
  // 10× through the speed control, as a user would set it.
  const stop = SPEEDS.indexOf(10);
  if (stop < 0) throw new Error('the speed control has no 10× stop');
  await page.getByTestId('speed').evaluate((el, i) => {
    (el as HTMLInputElement).value = String(i);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, stop);
  const speed = await page.getByTestId('speed').getAttribute('aria-valuetext');
  // Guided narration pauses at each step's anchor; the frame figures want uninterrupted play, as a user gets with it off.
  const guided = page.getByTestId('narration-guided');
  if (await guided.isChecked()) await guided.uncheck();
  await page.getByTestId('play').click();
  // Let the run reach steady load (the first seconds are elections and leases) before measuring.
  await page.waitForFunction(() => /([5-9]\d\d|\d{4,}) messages in flight/.test(document.querySelector('[data-testid="topology-summary"]')?.textContent ?? ''), null, { timeout: 60_000 });
  // In-page code goes as text: tsx's keepNames would otherwise wrap its functions in a helper the page lacks.
  const r = (await page.evaluate(FRAME_RECORDER.replace('WINDOW_MS', String(FRAME_WINDOW_MS)))) as { intervals: number[]; longTasks: number[]; inFlight: number[]; time: string };
  await page.getByTestId('play').click();
  const sortedIn = [...r.inFlight].sort((a, b) => a - b);
  return {
    scenario: 'mq-load',
    speed,
    windowMs: FRAME_WINDOW_MS,
    frames: r.intervals.length,
    frameMs: percentiles(r.intervals),
    medianFrameMs: round(percentiles(r.intervals).p50, 2),
    longTasks: r.longTasks.length,
    longTaskMsMax: round(Math.max(0, ...r.longTasks), 1),
    inFlightMin: sortedIn[0] ?? 0,
    inFlightMedian: sortedIn[Math.floor(sortedIn.length / 2)] ?? 0,
    virtualTimeReached: r.time,
  };
}

async function measureSeeks(page: Page, base: string): Promise<Record<string, unknown>> {
  await openScenario(page, base, 'raft-ten-minutes');
  const t0 = Date.now();
  await page.getByTestId('run-to-end').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="time"]')?.textContent?.trim() === '600.000s', null, { timeout: 300_000 });
  const runWallMs = Date.now() - t0;
  const times: number[] = [];
  // A seeded walk of targets, whole milliseconds, both directions.
  let x = 12345;
  for (let i = 0; i < SEEKS; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const target = (x % 600_000) * 1000;
    times.push(await seekOnce(page, target));
  }
  return { scenario: 'raft-ten-minutes', runToEndWallMs: runWallMs, seeks: SEEKS, seekMs: percentiles(times), seekMsMax: round(Math.max(...times), 1), failed: times.filter((t) => t < 0).length };
}

/** Moves the slider to `target` µs and waits for the time display to show it: ms from input to shown, −1 on timeout. */
function seekOnce(page: Page, target: number): Promise<number> {
  return page.evaluate(SEEK_ONCE.replace('TARGET', String(target))) as Promise<number>;
}

const FRAME_RECORDER = `(async () => {
  const windowMs = WINDOW_MS;
  const intervals = [], longTasks = [], inFlight = [];
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) longTasks.push(e.duration); });
  obs.observe({ type: 'longtask' });
  const t0 = performance.now();
  let last = t0;
  await new Promise((done) => {
    requestAnimationFrame(function tick(now) {
      intervals.push(now - last);
      last = now;
      const m = /(\\d+) messages? in flight/.exec(document.querySelector('[data-testid="topology-summary"]')?.textContent ?? '');
      if (m) inFlight.push(Number(m[1]));
      if (now - t0 < windowMs) requestAnimationFrame(tick); else done();
    });
  });
  obs.disconnect();
  return { intervals: intervals.slice(1), longTasks, inFlight, time: document.querySelector('[data-testid="time"]')?.textContent ?? '' };
})()`;

const SEEK_ONCE = `(async () => {
  const to = TARGET;
  const slider = document.querySelector('[data-testid="seek"]');
  const time = document.querySelector('[data-testid="time"]');
  const want = to === 0 ? '0' : (to / 1e6).toFixed(3) + 's';
  const t0 = performance.now();
  slider.value = String(to);
  slider.dispatchEvent(new Event('input', { bubbles: true }));
  while (time.textContent.trim() !== want) {
    await new Promise((r) => requestAnimationFrame(r));
    if (performance.now() - t0 > 20000) return -1;
  }
  return performance.now() - t0;
})()`;

/** Gzipped bytes of the scripts index.html references (the worker and lazily loaded chunks come after first paint). */
function initialJs(): Record<string, unknown> {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const scripts = [...html.matchAll(/<(?:script|link)[^>]+(?:src|href)="\.?\/?(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
  let gzip = 0;
  let raw = 0;
  for (const s of scripts) {
    const b = readFileSync(join(DIST, s));
    raw += b.length;
    gzip += gzipSync(b, { level: 9 }).length;
  }
  const worker = readdirSync(join(DIST, 'assets')).filter((f) => f.startsWith('worker') && f.endsWith('.js'));
  const workerGzip = worker.reduce((t, f) => t + gzipSync(readFileSync(join(DIST, 'assets', f)), { level: 9 }).length, 0);
  return { scripts, kbGzip: round(gzip / 1024, 1), kbRaw: round(raw / 1024, 1), workerKbGzip: round(workerGzip / 1024, 1), workerFiles: worker.map((f) => `${f} ${round(statSync(join(DIST, 'assets', f)).size / 1024, 1)} kB`) };
}
