/**
 * End-to-end, the Charts panel in Debian's Chromium against the production build (simulation in a Web Worker):
 * mq-acks-quorum run to the end shows depth, lag, ledger and throughput lines with the partition and crash windows
 * shaded, and a ledger equal to the run's own; seeking back cuts the lines at the new cursor. apm-percentiles run to
 * the end shows the stored query with the merged p99 and the dashed average-of-partials line. The layout is also
 * shot at 1920 px in the dark theme with large text (a projector). Screenshots go to
 * test-results/screenshots/charts-*.png for a person to look at.
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

/** Runs to the end and waits until the charts have every event (their cursor reads the run's duration). */
async function runToEnd(page: Page, duration: string): Promise<void> {
  await page.getByTestId('run-to-end').click();
  await page.waitForFunction((d) => document.querySelector('[data-testid="charts"] h2 .now')?.textContent?.trim() === `${d} / ${d}`, duration, { timeout: 60_000 });
}

/** Screenshot of the Charts panel alone, with the sticky controls out of the way. */
async function panelShot(page: Page, name: string): Promise<string> {
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.addStyleTag({ content: '.top { position: static !important; }' });
  await page.getByTestId('charts-panel').scrollIntoViewIfNeeded();
  await page.getByTestId('charts-panel').screenshot({ path });
  await page.addStyleTag({ content: '.top { position: sticky !important; }' });
  return path;
}

async function lineLengths(page: Page, chart: string): Promise<Record<string, number>> {
  return page.locator(`[data-testid="chart-${chart}"] [data-testid="line"]`).evaluateAll((els) =>
    Object.fromEntries(els.map((e) => [(e as SVGPathElement).dataset.key ?? '', (e as SVGPathElement).getAttribute('d')?.length ?? 0])),
  );
}

describe('Charts panel in Chromium', () => {
  it('mq-acks-quorum: lines, shaded fault windows and the run’s ledger at the end; cut back on a seek', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=mq-acks-quorum&seed=acks`);
    await page.waitForSelector('[data-testid="charts-panel"]');
    for (const id of ['depth', 'inflight', 'lag', 'ledger', 'throughput']) expect(await page.getByTestId(`chart-${id}`).count()).toBe(1);
    await runToEnd(page, '5.000s');

    // The partition (1 s → 1.6 s) and the leader's crash (1.2 s → restart at 2.2 s), on every chart.
    const kinds = await page.locator('[data-testid="chart-depth"] [data-testid="fault-band"]').evaluateAll((els) => els.map((e) => (e as SVGGElement).dataset.kind));
    expect(kinds.sort()).toEqual(['crash', 'partition']);
    expect(await page.locator('[data-testid="fault-band"]').count()).toBe(10);
    const crashTitle = await page.locator('[data-testid="chart-depth"] [data-testid="fault-band"][data-kind="crash"] title').textContent();
    expect(crashTitle).toMatch(/^crash b\d\.orders-0 .*from 1\.200s, scheduled by the scenario; restarted at 2\.200s/);

    const depth = await lineLengths(page, 'depth');
    expect(Object.keys(depth)).toEqual(['orders-0']);
    expect(depth['orders-0']).toBeGreaterThan(100);
    const ledger = await lineLengths(page, 'ledger');
    for (const k of ['produced', 'acked', 'delivered']) expect(ledger[k]).toBeGreaterThan(20);
    expect(await page.locator('[data-testid="chart-ledger"] [data-testid="chart-note"]').textContent()).toBe('The totals at the cursor equal the run’s ledger metrics.');

    // Hovering reads values at the pointer.
    const svg = page.locator('[data-testid="chart-ledger"] [data-testid="chart-svg"]');
    const box = (await svg.boundingBox())!;
    await page.addStyleTag({ content: '.top { position: static !important; }' });
    await svg.hover({ position: { x: box.width * 0.5, y: box.height * 0.5 } });
    await expect.poll(() => page.locator('[data-testid="chart-ledger"] [data-testid="readout"]').textContent()).toMatch(/^at 2\.\d{3}s: produced \d+ · acked \d+ · delivered \d+/);
    await page.getByTestId('chart-ledger').screenshot({ path: join(SCREENSHOTS, 'charts-mq-ledger-hover.png') });
    await panelShot(page, 'charts-mq-acks-quorum');
    await shot(page, 'charts-mq-acks-quorum-page');

    // Seek back to 1.4 s: the lines stop at the cursor and the crash window is open again.
    await page.mouse.move(0, 0);
    await page.getByTestId('seek').fill('1400000');
    await page.waitForFunction(() => document.querySelector('[data-testid="charts"] h2 .now')?.textContent?.trim() === '1.400s / 5.000s', null, { timeout: 20_000 });
    const crash = await page.locator('[data-testid="chart-depth"] [data-testid="fault-band"][data-kind="crash"] title').textContent();
    expect(crash).toContain('still going at 1.400s');
    expect((await lineLengths(page, 'ledger')).produced).toBeLessThan(ledger.produced);
    await panelShot(page, 'charts-mq-acks-quorum-seek-back');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('apm-percentiles: the stored query with the merged p99 and the dashed average of partials', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=apm-percentiles&seed=1`);
    await page.waitForSelector('[data-testid="charts-panel"]');
    await runToEnd(page, '40.000s');
    const chart = page.locator('[data-testid^="chart-query:"]').first();
    expect(await chart.getByTestId('query-text').textContent()).toMatch(/SELECT rpc\.latency WINDOW 10s COMPUTE .*p99/);
    const p99 = chart.locator('[data-testid="line"][data-key="p99"]');
    const wrong = chart.locator('[data-testid="line"][data-key="p99:avg-of-partials"]');
    expect(await p99.getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+H/);
    expect(await wrong.getAttribute('stroke-dasharray')).toBe('6 4');
    expect(await chart.getByTestId('line-label').allTextContents()).toContain('avg of p99s (wrong)');
    // The merged p99 sits above the average of the partitions' p99s (smaller y is higher).
    const ys = async (l: typeof p99) => ((await l.getAttribute('d')) ?? '').match(/,([\d.]+)H|V([\d.]+)/g)!.map((m) => Number(m.replace(/[,HV]/g, '')));
    const truth = await ys(p99);
    const avg = await ys(wrong);
    expect(truth.length).toBeGreaterThanOrEqual(2);
    truth.forEach((y, i) => expect(y).toBeLessThan(avg[i]));
    await panelShot(page, 'charts-apm-percentiles');
    await page.addStyleTag({ content: '.top { position: static !important; }' });
    await chart.screenshot({ path: join(SCREENSHOTS, 'charts-apm-query.png') });
    expect(errors).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('projector: 1920 px, dark theme, large text, mq-rebalance-failover', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=mq-rebalance-failover&seed=1`, { colorScheme: 'dark' });
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.evaluate(() => (document.documentElement.dataset.size = 'large'));
    await runToEnd(page, '5.000s');
    expect(await page.locator('[data-testid="chart-depth"] [data-testid="line"]').count()).toBe(3);
    expect(await page.locator('[data-testid="chart-depth"] [data-testid="fault-band"]').count()).toBeGreaterThanOrEqual(2);
    await panelShot(page, 'charts-projector-dark');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 120_000);
});
