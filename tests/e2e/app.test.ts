/**
 * End-to-end: the production build in Debian's Chromium (playwright-core), the simulation in a real Web Worker.
 * The key check is cross-environment determinism: a run named by the URL hash reaches the same trace hash in the
 * browser as `new Lab()` computes in Node. The others drive the controls a learner uses and check what the page
 * shows; screenshots go to test-results/screenshots for a human to look at.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Lab } from '../../src/sim/lab.ts';
import { launch, open, shot, text } from './browser.ts';

const BASE = inject('baseUrl');
let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

/** Waits until the element's trimmed text satisfies `ok` (evaluated in the page). */
async function waitText(page: Page, testId: string, ok: string, mode: 'equals' | 'contains' | 'differs' = 'equals'): Promise<string> {
  await page.waitForFunction(
    ([id, want, how]) => {
      const t = document.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() ?? null;
      if (t === null) return false;
      return how === 'equals' ? t === want : how === 'contains' ? t.includes(want) : t !== want;
    },
    [testId, ok, mode] as const,
    { timeout: 15_000 },
  );
  return text(page, testId);
}

function nodeRun(seed: string) {
  const lab = new Lab();
  lab.load('ping-pong', { seed });
  return lab;
}

/** Presses a shortcut with nothing focused, as a learner would after clicking on the page background. */
async function shortcut(page: Page, key: string): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press(key);
}

async function seek(page: Page, us: number): Promise<void> {
  await page.getByTestId('seek').fill(String(us));
}

describe('streamlab in Chromium', () => {
  it('loads with no console errors and shows the default run', async () => {
    const { page, errors } = await open(browser, BASE);
    expect(await text(page, 'trace-hash')).toMatch(/^[0-9a-f]{16}$/);
    expect(Number(await text(page, 'event-count'))).toBeGreaterThan(0);
    expect(await text(page, 'time')).toBe('0');
    expect(await page.evaluate(() => location.hash)).toBe('#scenario=ping-pong&seed=ping-1');
    await seek(page, 3_000_000);
    await waitText(page, 'time', '3.000s');
    await page.getByTestId('node-n1').click();
    await page.waitForSelector('[data-testid="inspector-status"]');
    await shot(page, '01-partition-light');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('the hash names the run, and the browser reaches the same trace hash as Node', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=ping-pong&seed=abc`);
    const lab = nodeRun('abc');
    expect(await text(page, 'trace-hash')).toBe(lab.snapshot().traceHash);
    const end = lab.runToEnd();
    await page.getByTestId('run-to-end').click();
    expect(await waitText(page, 'time', '8.000s')).toBe('8.000s');
    expect(await text(page, 'trace-hash')).toBe(end.traceHash);
    expect(await text(page, 'event-count')).toBe(String(end.eventCount));
    expect(await page.getByTestId('expectation').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.status))).toEqual(
      end.expectations.map((e) => e.status),
    );
    await shot(page, '02-end-of-run');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('play advances virtual time; pause stops it', async () => {
    const { page } = await open(browser, `${BASE}#scenario=ping-pong&seed=abc`);
    await page.getByTestId('speed').fill(String(9)); // SPEEDS[9] = 10×
    await page.getByTestId('play').click();
    await page.waitForFunction(() => {
      const t = document.querySelector('[data-testid="time"]')?.textContent ?? '0';
      return t !== '0' && parseFloat(t) > 0.4 && t.endsWith('s') && !t.endsWith('ms');
    }, null, { timeout: 10_000 });
    await shot(page, '03-playing', false);
    await page.getByTestId('play').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="play"]')?.textContent?.trim() === 'Play');
    // A frame already in flight may still land; after that the clock must stand still.
    await page.waitForTimeout(200);
    const paused = await text(page, 'time');
    await page.waitForTimeout(400);
    expect(await text(page, 'time')).toBe(paused);
    // Space toggles play too.
    await shortcut(page, ' ');
    await waitText(page, 'time', paused, 'differs');
    await shortcut(page, ' ');
    await page.context().close();
  });

  it('each step advances the event count exactly as Lab.step(1) does in Node', async () => {
    const { page } = await open(browser, `${BASE}#scenario=ping-pong&seed=abc`);
    const lab = nodeRun('abc');
    let count = lab.snapshot().eventCount;
    const increments: number[] = [];
    for (let i = 0; i < 8; i++) {
      const next = lab.step(1);
      increments.push(next.eventCount - count);
      count = next.eventCount;
      await page.getByTestId('step').click();
      await waitText(page, 'event-count', String(count));
      expect(await text(page, 'trace-hash')).toBe(next.traceHash);
    }
    // A step handles one scheduled item; some record one event, a heartbeat records one plus a send per peer.
    expect(increments).toContain(1);
    expect(increments.every((n) => n >= 1)).toBe(true);
    // → is the keyboard step.
    const again = lab.step(1);
    await shortcut(page, 'ArrowRight');
    await waitText(page, 'event-count', String(again.eventCount));
    await page.context().close();
  });

  it('a message clicked on the topology opens its send event in the event log', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=ping-pong&seed=abc`);
    await page.getByTestId('seek').fill('1500000');
    const mark = page.getByTestId('message').first();
    await mark.waitFor({ timeout: 15_000 });
    const id = await mark.getAttribute('data-id');
    await mark.dispatchEvent('click');
    const row = page.locator('[data-testid="event-row"].open[data-kind="msg.send"]');
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain(`#${id}`);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a crash injected from the fault panel shows the node crashed', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=ping-pong&seed=abc`);
    await seek(page, 1_000_000);
    await waitText(page, 'time', '1.000s');
    await page.getByTestId('fault-node').selectOption('n3');
    await page.getByTestId('fault-crash').click();
    await page.waitForSelector('[data-testid="node-n3"][data-status="crashed"]');
    expect(await text(page, 'status-n3')).toContain('crashed');
    await page.getByTestId('node-n3').click();
    expect(await text(page, 'inspector-status')).toBe('crashed');
    // The crash is recorded: stepping on keeps n3 down, and the log shows the fault.
    await page.getByTestId('step-state').click();
    await page.getByTestId('kind-node.crash').click();
    await page.waitForSelector('[data-testid="event-row"][data-kind="node.crash"]');
    await shot(page, '04-crashed-node');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a malformed trace import shows an error and leaves the run as it was; an exported trace imports back', async () => {
    const { page } = await open(browser, `${BASE}#scenario=ping-pong&seed=abc`);
    await seek(page, 2_500_000);
    await waitText(page, 'time', '2.500s');
    const hash = await text(page, 'trace-hash');
    const time = await text(page, 'time');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    const exported = await download.path().then((p) => import('node:fs/promises').then((fs) => fs.readFile(p, 'utf8')));
    expect(JSON.parse(exported).hash).toBe(hash);

    await page.getByTestId('import').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"format": "streamlab-trace", "version": 1,') });
    const error = await waitText(page, 'error', 'import failed', 'contains');
    expect(error).toMatch(/not valid JSON/);
    expect(await text(page, 'trace-hash')).toBe(hash);
    expect(await text(page, 'time')).toBe(time);
    await shot(page, '05-import-error', false);

    // Move elsewhere, then import the exported trace: the run comes back, verified.
    await page.getByTestId('run-to-end').click();
    await waitText(page, 'time', '8.000s');
    await page.getByTestId('import').setInputFiles({ name: 'run.json', mimeType: 'application/json', buffer: Buffer.from(exported) });
    await waitText(page, 'notice', 'verified', 'contains');
    expect(await text(page, 'trace-hash')).toBe(hash);
    expect(await text(page, 'time')).toBe('2.500s');
    await page.context().close();
  });

  it('a bad URL hash shows an error and keeps the run', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=ping-pong&seed=abc`);
    await seek(page, 1_200_000);
    await waitText(page, 'time', '1.200s');
    const hash = await text(page, 'trace-hash');
    await page.evaluate(() => (location.hash = '#scenario=no-such-lab&seed=abc'));
    expect(await waitText(page, 'error', 'Unknown scenario "no-such-lab"', 'contains')).toContain('ping-pong');
    expect(await text(page, 'trace-hash')).toBe(hash);
    expect(await page.evaluate(() => location.hash)).toBe('#scenario=ping-pong&seed=abc');
    await shot(page, '06-bad-link', false);

    // A good hash change reloads with the new seed.
    await page.evaluate(() => (location.hash = '#scenario=ping-pong&seed=other'));
    await waitText(page, 'trace-hash', nodeRun('other').snapshot().traceHash);
    expect(await page.getByTestId('seed').inputValue()).toBe('other');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a bad link on first load shows an error and still loads the default run', async () => {
    const { page } = await open(browser, `${BASE}#scenario=nope&seed=abc`);
    expect(await text(page, 'error')).toContain('Unknown scenario "nope"');
    expect(await text(page, 'trace-hash')).toBe(nodeRun('ping-1').snapshot().traceHash);
    await page.context().close();
  });

  it('seeking back and forward returns to the same hash', async () => {
    const { page } = await open(browser, `${BASE}#scenario=ping-pong&seed=abc`);
    await seek(page, 6_000_000);
    await waitText(page, 'time', '6.000s');
    const at6 = await text(page, 'trace-hash');
    expect(at6).toBe(nodeRun('abc').seek(6_000_000).traceHash);
    await seek(page, 1_000_000);
    await waitText(page, 'time', '1.000s');
    expect(await text(page, 'trace-hash')).not.toBe(at6);
    await shortcut(page, 'ArrowLeft');
    await waitText(page, 'time', '900ms');
    await seek(page, 6_000_000);
    await waitText(page, 'time', '6.000s');
    expect(await text(page, 'trace-hash')).toBe(at6);
    await page.context().close();
  });

  it('dark theme, help overlay and a filtered log look right', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=ping-pong&seed=abc`, { colorScheme: 'dark' });
    await seek(page, 5_500_000);
    await waitText(page, 'time', '5.500s');
    await page.getByTestId('node-n2').click();
    await page.getByTestId('kind-fault').click();
    await page.getByTestId('kind-net.partition').click();
    await page.getByTestId('kind-net.heal').click();
    // Three scenario faults (partition, heal, crash) and the partition and heal they caused, up to 5.5 s.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="event-row"]').length === 5);
    const kinds = await page.getByTestId('event-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.kind));
    expect(kinds).toEqual(['fault', 'net.partition', 'fault', 'net.heal', 'fault']);
    await shot(page, '07-dark-crashed-filtered');
    await shortcut(page, '?');
    await page.waitForSelector('[data-testid="help-overlay"]');
    await shot(page, '08-help-overlay', false);
    await page.keyboard.press('Escape');
    await page.getByTestId('theme').click(); // auto → light
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('the export menu saves a Perfetto trace and a PNG of the topology from the running app', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=ping-pong&seed=abc`);
    await seek(page, 3_000_000);
    await waitText(page, 'time', '3.000s');
    await page.getByTestId('export-menu').click();
    const [perfetto] = await Promise.all([page.waitForEvent('download'), page.locator('[data-format="perfetto"]').click()]);
    const doc = JSON.parse(await perfetto.path().then((p) => import('node:fs/promises').then((fs) => fs.readFile(p, 'utf8'))));
    expect(doc.traceEvents.length).toBeGreaterThan(1000);
    expect(doc.traceEvents.filter((e: { ph: string }) => e.ph === 'M').length).toBeGreaterThan(0);
    await page.getByTestId('export-menu').click();
    const [png] = await Promise.all([page.waitForEvent('download'), page.locator('[data-format="png"]').click()]);
    const bytes = await png.path().then((p) => import('node:fs/promises').then((fs) => fs.readFile(p)));
    expect([...bytes.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('every view on the page can be saved as a picture: the Raft panels too', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=raft-cold-start&seed=1`);
    await seek(page, 1_000_000);
    await waitText(page, 'time', '1.000s');
    await page.getByTestId('export-menu').click();
    const formats = await page.locator('[data-testid="export-formats"] [role="menuitem"]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.format));
    expect(formats).toEqual(expect.arrayContaining(['svg', 'png', 'svg:replica-logs', 'png:replica-logs', 'svg:elections', 'png:elections']));
    const [svg] = await Promise.all([page.waitForEvent('download'), page.locator('[data-format="svg:replica-logs"]').click()]);
    expect(svg.suggestedFilename()).toMatch(/replica-logs\.svg$/);
    const text = await svg.path().then((p) => import('node:fs/promises').then((fs) => fs.readFile(p, 'utf8')));
    expect(text).toMatch(/^<\?xml[^>]*>\s*<svg[\s\S]*<\/svg>\s*$/);
    expect(text).toContain("data-view=\"replica-logs\"");
    expect(errors).toEqual([]);
    await page.context().close();
  });
  it('an exported trace opens for viewing beside the live run and closes; a malformed file shows an error', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=ping-pong&seed=abc`);
    await seek(page, 2_000_000);
    await waitText(page, 'time', '2.000s');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    const exported = await download.path().then((p) => import('node:fs/promises').then((fs) => fs.readFile(p, 'utf8')));
    const header = JSON.parse(exported) as { hash: string; events: unknown[] };

    // Move the live run on, then open the exported trace: the viewer shows it, the run stays where it is.
    await seek(page, 4_000_000);
    await waitText(page, 'time', '4.000s');
    const liveHash = await text(page, 'trace-hash');
    expect(await page.getByTestId('open-trace-button').getAttribute('title')).toBe('Open a trace to read its events and summary without re-running it');
    await page.getByTestId('open-trace').setInputFiles({ name: 'run.json', mimeType: 'application/json', buffer: Buffer.from(exported) });
    expect(await waitText(page, 'viewer-hash', header.hash)).toBe(header.hash);
    expect(await text(page, 'viewer-events')).toBe(String(header.events.length));
    expect(await text(page, 'viewer-scenario')).toBe('ping-pong');
    expect(await text(page, 'viewer-seed')).toBe('abc');
    await page.waitForSelector('[data-testid="viewer-row"][data-kind="run.start"]');
    expect(await text(page, 'trace-hash')).toBe(liveHash);
    expect(await text(page, 'time')).toBe('4.000s');
    await shot(page, '09-trace-viewer');

    // A malformed file: the error banner, and both the run and the opened trace stay.
    await page.getByTestId('open-trace').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"format": "streamlab-trace",') });
    expect(await waitText(page, 'error', 'open failed', 'contains')).toMatch(/not valid JSON/);
    expect(await text(page, 'viewer-hash')).toBe(header.hash);
    expect(await text(page, 'trace-hash')).toBe(liveHash);

    await page.getByTestId('viewer-close').click();
    await page.waitForSelector('[data-testid="trace-viewer"]', { state: 'detached' });
    expect(await text(page, 'trace-hash')).toBe(liveHash);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
