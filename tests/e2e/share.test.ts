/**
 * Sharing, end to end in Chromium on the production build:
 * - a fault injected from the fault panel lands in the address bar (`run=`); "Copy link" puts that address on the
 *   clipboard; a fresh page opened on it, moved to the same virtual time, shows the same trace hash and event count
 *   (and Node's Lab, loaded from the parsed link, agrees);
 * - hostile links given to a running page (bad base64url, a huge hash, an unknown scenario, markup in the seed or in a
 *   settings string, an action naming no node) each show a sentence saying what is wrong, leave the run, its time and
 *   the address bar as they were, open no dialog and run no script;
 * - offline: once the service worker controls the page, with the server gone and the context offline, a reload
 *   still boots the lab on the same link and runs it to the same hash.
 * Screenshots of the copy-link control, the error banner and the offline page go to test-results/screenshots.
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { deflateSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DIST, serve } from '../../bench/dist-server.ts';
import { Lab } from '../../src/sim/lab.ts';
import { parseLink, toBase64url } from '../../src/views/share.ts';
import { launch, open, SCREENSHOTS, shot, text } from './browser.ts';

const BASE = inject('baseUrl');
let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

async function waitText(page: Page, testId: string, want: string, mode: 'equals' | 'contains' = 'equals'): Promise<string> {
  await page.waitForFunction(
    ([id, w, how]) => {
      const t = document.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() ?? null;
      return t !== null && (how === 'equals' ? t === w : t.includes(w));
    },
    [testId, want, mode] as const,
    { timeout: 15_000 },
  );
  return text(page, testId);
}

/** The error banner's sentence, without its icon and dismiss button. */
async function bannerText(page: Page): Promise<string> {
  return (await page.locator('[data-testid="error"] .text').textContent())?.trim() ?? '';
}

async function seek(page: Page, us: number, shown: string): Promise<void> {
  await page.getByTestId('seek').fill(String(us));
  await waitText(page, 'time', shown);
}

/** Waits for the run's link (with `run=`) to reach the address bar, and returns the page's full address. */
async function linkOf(page: Page): Promise<string> {
  await page.waitForFunction(() => location.hash.includes('&run='), undefined, { timeout: 10_000 });
  return page.url();
}

function runOf(value: unknown): string {
  return toBase64url(deflateSync(new TextEncoder().encode(JSON.stringify(value))));
}

describe('shared links in Chromium', () => {
  it('a copied link reproduces the run in a fresh page: the same trace hash at the same time', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=raft-leader-crash&seed=7`);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(BASE).origin });
    // Wide enough for the button's words (narrower headers show its icon alone).
    await page.setViewportSize({ width: 1600, height: 1000 });
    await seek(page, 1_000_000, '1.000s');
    await page.getByTestId('fault-node').selectOption('r2');
    await page.getByTestId('fault-crash').click();
    await page.waitForSelector('[data-testid="node-r2"][data-status="crashed"]');
    await seek(page, 2_500_000, '2.500s');
    const hash = await text(page, 'trace-hash');
    const events = await text(page, 'event-count');
    const url = await linkOf(page);
    expect(url).toMatch(/#scenario=raft-leader-crash&seed=7&run=[A-Za-z0-9_-]+$/);

    const copy = page.getByTestId('copy-link');
    expect(await copy.getAttribute('title')).toContain('reproduces the run exactly');
    await copy.click();
    await waitText(page, 'copy-link', 'Link copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
    // The header's action group: Copy link beside Export and Import.
    await copy.locator('xpath=../..').screenshot({ path: join(SCREENSHOTS, 'share-01-link-copied.png') });
    await shot(page, 'share-02-run-with-crash', false);

    const fresh = await open(browser, url);
    expect(await fresh.page.getByTestId('error').count()).toBe(0);
    await seek(fresh.page, 2_500_000, '2.500s');
    expect(await text(fresh.page, 'trace-hash')).toBe(hash);
    expect(await text(fresh.page, 'event-count')).toBe(events);
    expect(await fresh.page.locator('[data-testid="node-r2"]').getAttribute('data-status')).toBe('crashed');
    expect(fresh.page.url()).toBe(url);
    expect(fresh.errors).toEqual([]);
    await fresh.page.context().close();
    expect(errors).toEqual([]);
    await page.context().close();

    // Node's Lab, loaded from the same link, agrees with both pages.
    const parsed = parseLink(new URL(url).hash, new Lab().list().map((s) => s.id));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.link).toMatchObject({ scenario: 'raft-leader-crash', seed: '7', actions: [{ kind: 'crash', node: 'r2', at: 1_000_000 }] });
    const lab = new Lab();
    lab.load('raft-leader-crash', { seed: '7', actions: parsed.link.actions });
    expect(lab.seek(2_500_000).traceHash).toBe(hash);
  });

  it('hostile links on a running page show what is wrong and leave the run alone; no dialog, no script', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=ping-pong&seed=abc`);
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await seek(page, 1_000_000, '1.000s');
    await page.getByTestId('fault-node').selectOption('n3');
    await page.getByTestId('fault-pause').click();
    await page.waitForSelector('[data-testid="node-n3"][data-status="paused"]');
    await seek(page, 1_200_000, '1.200s');
    const hash = await text(page, 'trace-hash');
    const url = await linkOf(page);
    const own = new URL(url).hash;

    const pwn = 'window.__pwned=1';
    const markupQuery = [{ id: 'q', name: `<img src=x onerror=${pwn}>`, text: 'FROM servers(web-*) SELECT cpu WINDOW 10s COMPUTE max' }];
    const cases: [name: string, hash: string, message: string][] = [
      ['bad-base64', '#scenario=ping-pong&seed=abc&run=q1YqU7Iy1F!FTC7JzM8r', 'The link\'s "run" field is not valid base64url at character 11: "!".'],
      ['huge', `#scenario=ping-pong&seed=abc&run=${'A'.repeat(40_000)}`, 'characters long; a link holds at most 16,384.'],
      ['unknown-scenario', '#scenario=no-such-lab&seed=abc', 'Unknown scenario "no-such-lab" in the link.'],
      ['markup-seed', `#scenario=ping-pong&seed=<img src=x onerror=${pwn}>`, 'Bad seed in the link: the seed contains HTML markup at character 1.'],
      ['markup-settings', `#scenario=apm-baseline&seed=1&run=${runOf({ v: 1, settings: { queries: markupQuery } })}`, 'settings.queries[0].name contains HTML markup ("<img src=x onerror=window.__pwned=1>")'],
      ['unknown-node', `#scenario=ping-pong&seed=abc&run=${runOf({ v: 1, actions: [{ kind: 'crash', node: 'b9', at: 5 }] })}`, 'This link\'s run did not load: actions[0].node: unknown node "b9". The current run is unchanged.'],
    ];
    for (const [name, bad, message] of cases) {
      await page.evaluate((h) => (location.hash = h), bad);
      await waitText(page, 'error', message, 'contains');
      expect(await bannerText(page)).toMatch(/The current run is unchanged\.$/);
      expect(await text(page, 'trace-hash')).toBe(hash);
      expect(await text(page, 'time')).toBe('1.200s');
      expect(await page.locator('[data-testid="node-n3"]').getAttribute('data-status')).toBe('paused');
      await page.waitForFunction((h) => location.hash === h, own);
      if (name === 'markup-seed' || name === 'markup-settings') await page.getByTestId('error').screenshot({ path: join(SCREENSHOTS, `share-03-error-${name}.png`) });
      await page.getByTestId('error').getByRole('button', { name: 'Dismiss' }).click();
    }
    await page.evaluate((h) => (location.hash = h), cases[3][1]);
    await waitText(page, 'error', 'HTML markup', 'contains');
    await shot(page, 'share-04-hostile-seed-page', false);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);

    // The page still follows a good link afterwards.
    await page.evaluate(() => (location.hash = '#scenario=ping-pong&seed=other'));
    const other = new Lab();
    await waitText(page, 'trace-hash', other.load('ping-pong', { seed: 'other' }).traceHash);
    await page.context().close();
  });

  it('a link whose run cannot load opens the default run and says why', async () => {
    const bad = `#scenario=ping-pong&seed=abc&run=${runOf({ v: 1, actions: [{ kind: 'crash', node: 'b9', at: 5 }] })}`;
    const { page } = await open(browser, `${BASE}${bad}`);
    expect(await bannerText(page)).toBe('This link\'s run did not load: actions[0].node: unknown node "b9". Loaded the default run instead.');
    expect(await text(page, 'trace-hash')).toBe(new Lab().load('ping-pong', { seed: 'ping-1' }).traceHash);
    await page.context().close();
  });

  it('works offline once loaded: the service worker serves the app and the link still reproduces the run', async () => {
    // A server of its own, so it can be shut down without touching the other tests' server.
    const server = await serve(DIST);
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let closed = false;
    try {
      const { page, errors } = await open(browser, `${origin}/#scenario=raft-leader-crash&seed=3`);
      await seek(page, 800_000, '800ms');
      await page.getByTestId('fault-node').selectOption('r1');
      await page.getByTestId('fault-pause').click();
      await page.waitForSelector('[data-testid="node-r1"][data-status="paused"]');
      await seek(page, 3_000_000, '3.000s');
      const hash = await text(page, 'trace-hash');
      const url = await linkOf(page);
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 20_000 });
      const cached = await page.evaluate(async () => {
        const names = await caches.keys();
        const cache = await caches.open(names.find((n) => n.startsWith('streamlab-'))!);
        return (await cache.keys()).map((r) => new URL(r.url).pathname).sort();
      });
      expect(cached).toContain('/index.html');
      expect(cached.filter((p) => p.startsWith('/assets/') && p.endsWith('.js')).length).toBeGreaterThanOrEqual(3);

      await new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      });
      closed = true;
      await page.context().setOffline(true);
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
      expect(page.url()).toBe(url);
      expect(await page.getByTestId('error').count()).toBe(0);
      await seek(page, 3_000_000, '3.000s');
      expect(await text(page, 'trace-hash')).toBe(hash);
      await page.getByTestId('run-to-end').click();
      await waitText(page, 'time', '6.000s');
      await shot(page, 'share-05-offline-reload', false);
      expect(errors).toEqual([]);
      await page.context().close();
    } finally {
      if (!closed) server.close();
    }
  });
});
