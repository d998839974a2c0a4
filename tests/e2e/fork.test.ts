/**
 * End-to-end, the what-if fork in Debian's Chromium against the production build (the main run and both branches each
 * in a Web Worker of their own): open raft-leader-crash, seek to the middle, open "What if…", pick a crash of the
 * leader for B, run the comparison and see the two leader timelines differ (B gets a leader in a new term), the
 * ledger row for leader changes highlighted, and the main run untouched; then make B the main run. Screenshots go to
 * test-results/screenshots/fork-*.png for a person to look at.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { join } from 'node:path';
import { launch, open, SCREENSHOTS, shot, text } from './browser.ts';

const BASE = inject('baseUrl');
let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

/** [side, node, term] of every leader band in the comparison's timelines. */
async function leaders(page: Page): Promise<[string, string, string][]> {
  return page
    .locator('[data-testid="fork-leader"]')
    .evaluateAll((els) => els.map((e) => [(e as SVGElement).dataset.side ?? '', (e as SVGElement).dataset.node ?? '', (e as SVGElement).dataset.term ?? ''] as [string, string, string]));
}

/** The whole comparison on one picture: the dialog unclipped, the page as tall as it. */
async function forkShot(page: Page, name: string): Promise<void> {
  await page.addStyleTag({ content: '.backdrop { position: absolute !important; min-height: 100%; } .dialog { max-height: none !important; overflow: visible !important; }' });
  await shot(page, name);
}

describe('What-if fork in Chromium', () => {
  it('branches at the middle with a leader crash, runs both, and shows the leader timelines differ', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=raft-leader-crash&seed=1`);
    await page.getByTestId('seek').fill('3000000');
    await page.waitForFunction(() => document.querySelector('[data-testid="time"]')?.textContent?.trim() === '3.000s', undefined, { timeout: 15_000 });
    const mainHash = await text(page, 'trace-hash');

    await page.getByTestId('what-if').click();
    const fork = page.getByTestId('fork');
    await fork.waitFor();
    expect(await fork.textContent()).toContain('at 3.000s');
    // The branch's own fault panel targets the leader at the fork; Crash picks it for B without touching the main run.
    const target = await fork.getByTestId('fault-node').locator('option').first().textContent();
    const leader = /^(r\d) \(selected\)$/.exec(target?.trim() ?? '')?.[1];
    expect(leader).toBeDefined();
    await fork.getByTestId('fault-crash').click();
    expect((await fork.getByTestId('fork-pending').textContent())?.trim()).toBe(`B: crashed ${leader} at 3.000s`);
    await shot(page, 'fork-01-setup', false);

    await fork.getByTestId('fork-run').click();
    await page.waitForSelector('[data-testid="fork"][data-status="done"]', { timeout: 30_000 });
    const timeline = fork.getByTestId('fork-timeline');
    expect(await timeline.getAttribute('data-same')).toBe('false');
    const bands = await leaders(page);
    const a = bands.filter(([s]) => s === 'A').map(([, n, t]) => `${n}:${t}`);
    const b = bands.filter(([s]) => s === 'B').map(([, n, t]) => `${n}:${t}`);
    expect(a).not.toEqual(b);
    // Up to the fork both have the same leaders; after it, B's crashed leader is replaced in a higher term.
    expect(a).toContain(`${leader}:2`);
    expect(b).toContain(`${leader}:2`);
    const topA = Math.max(...a.map((x) => Number(x.split(':')[1])));
    const topB = Math.max(...b.map((x) => Number(x.split(':')[1])));
    expect(topB).toBeGreaterThan(topA);
    expect(await fork.locator('[data-testid="fork-timeline-B"] [data-testid="fork-crash"]').count()).toBeGreaterThan(await fork.locator('[data-testid="fork-timeline-A"] [data-testid="fork-crash"]').count());
    expect(await fork.locator('[data-testid="ledger-row"][data-key="leaderChanges"]').getAttribute('data-differs')).toBe('true');
    expect(await fork.getByTestId('fork-chart').count()).toBeGreaterThan(0);
    expect(await fork.getByTestId('fork-hash-a').textContent()).not.toBe(await fork.getByTestId('fork-hash-b').textContent());
    // The main run behind it is where it was.
    expect(await text(page, 'trace-hash')).toBe(mainHash);
    await forkShot(page, 'fork-02-compared');
    await timeline.screenshot({ path: join(SCREENSHOTS, 'fork-03-leader-timelines.png') });
    await fork.getByTestId('fork-chart').first().screenshot({ path: join(SCREENSHOTS, 'fork-04-chart-pair.png') });

    // Make B the main run: the dialog closes and the lab stands at the fork with B's crash applied.
    await fork.getByTestId('fork-promote').click();
    await page.getByTestId('fork').waitFor({ state: 'detached', timeout: 15_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="time"]')?.textContent?.trim() === '3.000s', undefined, { timeout: 15_000 });
    await page.waitForSelector(`[data-testid="log-head-${leader}"][data-role="down"]`, { timeout: 15_000 });
    expect(await text(page, 'trace-hash')).not.toBe(mainHash);
    await shot(page, 'fork-05-b-is-main');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('branches mq-acks-quorum with acks=leader from 0: the ledger loses messages in B only', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=mq-acks-quorum&seed=acks`);
    await page.getByTestId('seek').fill('500000');
    await page.waitForFunction(() => document.querySelector('[data-testid="time"]')?.textContent?.trim() === '500ms', undefined, { timeout: 15_000 });
    await page.getByTestId('what-if').click();
    const fork = page.getByTestId('fork');
    await fork.getByTestId('fork-mode-setting').click();
    expect(await fork.getByTestId('fork-from-start').textContent()).toContain('B re-runs from 0');
    await fork.getByTestId('fork-setting-kind').selectOption('mq-producer');
    await fork.getByTestId('fork-setting-field').fill('acks');
    await fork.getByTestId('fork-setting-value').fill('leader');
    expect((await fork.getByTestId('fork-pending').textContent())?.trim()).toBe('B: mq-producer.acks = "leader", from 0');
    await fork.getByTestId('fork-run').click();
    await page.waitForSelector('[data-testid="fork"][data-status="done"]', { timeout: 30_000 });
    const lost = fork.locator('[data-testid="ledger-row"][data-key="lost"]');
    expect(await lost.getAttribute('data-differs')).toBe('true');
    expect(await lost.getByTestId('ledger-change').textContent()).toMatch(/^0 → [1-9]\d* \(\+[1-9]\d*\)$/);
    expect(await fork.locator('[data-testid="ledger-row"][data-key="produced"]').getAttribute('data-differs')).toBe('false');
    expect(await fork.locator('[data-testid="fork-chart"][data-key="lost"]').count()).toBe(1);
    await forkShot(page, 'fork-06-acks-leader');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
