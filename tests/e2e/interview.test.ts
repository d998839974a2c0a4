/**
 * End-to-end, interview practice and the query editor in Debian's Chromium against the production build (simulation
 * in a Web Worker). The interview drawer opens with "I", its timer counts down on the wall clock, and a checklist
 * link loads its scenario (the address bar names it). In that APM run the stored-query editor shows a parse error
 * with its column marked, then a new query is applied: the run reloads with it and the Charts panel draws its chart.
 * The capacity calculator shows the notes' sizing and opens apm-capacity. The drawer is also shot at 1920 px in the
 * dark theme with large text (a projector). Screenshots go to test-results/screenshots/interview-*.png.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, open, SCREENSHOTS, shot } from './browser.ts';

const BASE = inject('baseUrl');
let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

async function elementShot(page: Page, testId: string, name: string): Promise<void> {
  await page.addStyleTag({ content: '.top { position: static !important; }' });
  await page.getByTestId(testId).scrollIntoViewIfNeeded();
  await page.getByTestId(testId).screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

const textOf = async (page: Page, testId: string) => ((await page.getByTestId(testId).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();

describe('Interview practice in Chromium', () => {
  it('timer, a checklist link to its scenario, and a stored query edited, applied and charted', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=ping-pong&seed=class`);

    // Open with the shortcut; start the timer and watch it count down on the wall clock.
    await page.keyboard.press('i');
    await page.getByTestId('interview-panel').waitFor();
    expect(await textOf(page, 'timer-phase')).toBe('Requirements');
    expect(await textOf(page, 'timer-left')).toBe('10:00');
    await page.getByTestId('timer-start').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="timer-left"]')?.textContent?.trim() === '9:58', null, { timeout: 10_000 });
    expect(await textOf(page, 'timer-start')).toBe('Pause');
    await shot(page, 'interview-drawer', false);

    // Follow the percentiles item's link: the scenario loads, the address bar names it.
    await page.locator('[data-testid="checklist-link"][data-scenario="apm-percentiles"]').click();
    await page.waitForFunction(() => location.hash.includes('scenario=apm-percentiles'), null, { timeout: 20_000 });
    await page.getByTestId('query-editor').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('query-draft').count()).toBe(1);
    // The timer kept running through the navigation; close the drawer, its button keeps the clock.
    await page.keyboard.press('Escape');
    await page.getByTestId('interview-panel').waitFor({ state: 'detached' });
    expect(await textOf(page, 'interview-toggle')).toMatch(/^Requirements 9:5\d$/);

    // A typo: the parser's position, its expectation, and the offending word marked.
    await page.getByTestId('query-add').click();
    const text = page.getByTestId('query-text-input').nth(1);
    await text.fill('FROM servers(web-*) SELECT cpu WINDW 5s COMPUTE max, p99');
    expect(await textOf(page, 'query-error-pos')).toBe('line 1, column 32');
    expect(await textOf(page, 'query-error-mark')).toBe('WINDW');
    expect(await page.getByTestId('query-apply').isDisabled()).toBe(true);
    await elementShot(page, 'query-editor', 'interview-query-parse-error');

    // Fixed, named and applied: the run reloads with the new query and its chart appears and fills.
    await text.fill('FROM servers(web-*) SELECT cpu WINDOW 5s COMPUTE max, p99');
    await page.getByTestId('query-name').nth(1).fill('CPU by 5 s');
    await page.getByTestId('query-apply').click();
    await page.getByTestId('chart-query:q1').waitFor({ timeout: 20_000 });
    await page.getByTestId('query-applied').waitFor();
    expect(await page.getByTestId('chart-query:q1').getByTestId('query-text').textContent()).toBe('FROM servers(web-*) SELECT cpu WINDOW 5s COMPUTE max, p99');
    await page.getByTestId('run-to-end').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="charts"] h2 .now')?.textContent?.trim() === '40.000s / 40.000s', null, { timeout: 60_000 });
    const line = page.locator('[data-testid="chart-query:q1"] [data-testid="line"][data-key="max"]');
    expect(await line.getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+H/);
    await elementShot(page, 'charts-panel', 'interview-query-applied');
    await shot(page, 'interview-apm-page');

    // A refused query (a metric no agent emits): the error shows and the run stays.
    const hash = await textOf(page, 'trace-hash');
    await page.getByTestId('query-text-input').nth(1).fill('FROM servers(web-*) SELECT disk.io WINDOW 5s COMPUTE max');
    await page.getByTestId('query-apply').click();
    await page.getByTestId('query-apply-error').waitFor();
    expect(await textOf(page, 'query-apply-error')).toContain('no agent emits metric "disk.io"');
    expect(await textOf(page, 'trace-hash')).toBe(hash);
    await elementShot(page, 'query-editor', 'interview-query-refused');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('capacity calculator: the notes’ sizing, an error inline, and the preset run (apm-capacity)', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=ping-pong&seed=1`);
    await page.getByTestId('interview-toggle').click();
    await page.getByTestId('interview-tab-capacity').click();
    expect(await textOf(page, 'cap-answer')).toBe('320 MB/s → 4 partitions → 12 brokers');
    await page.getByTestId('cap-replicationFactor').fill('2');
    expect(await textOf(page, 'cap-error-replicationFactor')).toContain('must be one of 1, 3, 5, 7');
    await elementShot(page, 'interview-panel', 'interview-capacity-error');
    await page.getByTestId('cap-replicationFactor').fill('3');
    await page.getByTestId('cap-open-preset').click();
    await page.waitForFunction(() => location.hash.includes('scenario=apm-capacity'), null, { timeout: 20_000 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid^="node-b"]').length >= 12, null, { timeout: 20_000 });
    await page.keyboard.press('Escape');
    await shot(page, 'interview-capacity-preset');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('projector: 1920 px, dark theme, large text — the drawer in the second phase, ticks from localStorage', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=apm-baseline&seed=1`, { colorScheme: 'dark' });
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.evaluate(() => (document.documentElement.dataset.size = 'large'));
    await page.evaluate(() => localStorage.setItem('streamlab.interview.ticks', JSON.stringify(['requirements', 'ap-cp', 'push-pull'])));
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await page.evaluate(() => (document.documentElement.dataset.size = 'large'));
    await page.getByTestId('interview-toggle').click();
    expect(await page.locator('[data-testid="checklist-tick"]:checked').count()).toBe(3);
    await page.getByTestId('timer-start').click();
    await page.getByTestId('timer-skip').click();
    expect(await textOf(page, 'timer-phase')).toBe('High-level design');
    const size = await page.getByTestId('timer-left').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    expect(size).toBeGreaterThanOrEqual(64);
    await shot(page, 'interview-projector-dark', false);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 120_000);
});
