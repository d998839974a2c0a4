/**
 * End-to-end, the Raft panels in Debian's Chromium against the production build (simulation in a Web Worker): step
 * to the first election and see its leader band; crash that leader from the fault panel; play until a new leader
 * band (term 2) appears; seek back and see it gone. Also the "why isn't this committed?" card on a known entry, and
 * the layout at 1920 px in dark theme and in presenter (large text) mode. Screenshots go to
 * test-results/screenshots/raft-*.png for a person to look at.
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

const LEADER_BAND = '[data-testid="band"][data-role="leader"]';

async function seek(page: Page, us: number): Promise<void> {
  await page.getByTestId('seek').fill(String(us));
}

async function waitTime(page: Page, want: string): Promise<void> {
  await page.waitForFunction((w) => document.querySelector('[data-testid="time"]')?.textContent?.trim() === w, want, { timeout: 15_000 });
}

/** The [node, term] of every leader band in the elections view. */
async function leaderBands(page: Page): Promise<[string, string][]> {
  return page.locator(LEADER_BAND).evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.node ?? '', (e as HTMLElement).dataset.term ?? ''] as [string, string]));
}

/** Screenshot of the Raft panels alone, with the sticky controls out of the way. */
async function panelShot(page: Page, name: string): Promise<void> {
  await page.addStyleTag({ content: '.top { position: static !important; }' });
  await page.getByTestId('raft-panels').scrollIntoViewIfNeeded();
  await page.getByTestId('raft-panels').screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  await page.addStyleTag({ content: '.top { position: sticky !important; }' });
}

describe('Raft panels in Chromium', () => {
  it('first election, crash the leader, a new leader band appears after playing, and is gone after seeking back', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=raft-leader-crash&seed=1`);
    await page.waitForSelector('[data-testid="raft-panels"]');
    expect(await page.getByTestId('log-head-r1').count()).toBe(1);
    expect(await page.locator(LEADER_BAND).count()).toBe(0);

    // Step state change by state change until someone leads.
    for (let i = 0; i < 40 && (await page.locator(LEADER_BAND).count()) === 0; i++) {
      const before = await text(page, 'event-count');
      await page.getByTestId('step-state').click();
      await page.waitForFunction((b) => document.querySelector('[data-testid="event-count"]')?.textContent?.trim() !== b, before);
      await page.waitForTimeout(50);
    }
    const first = await leaderBands(page);
    expect(first).toHaveLength(1);
    const [leader, term] = first[0];
    expect(term).toBe('1');
    expect(await page.getByTestId(`lane-head-${leader}`).textContent()).toContain('leader');
    expect(await page.getByTestId('campaign').count()).toBeGreaterThanOrEqual(1);
    await shot(page, 'raft-01-first-election');

    // Let it lead for a while, then crash it from the fault panel.
    await seek(page, 1_000_000);
    await waitTime(page, '1.000s');
    expect(await leaderBands(page)).toEqual([[leader, '1']]);
    await page.getByTestId('fault-node').selectOption(leader);
    await page.getByTestId('fault-crash').click();
    await page.waitForSelector(`[data-testid="log-head-${leader}"][data-role="down"]`);
    await page.waitForSelector(`[data-testid="band"][data-node="${leader}"][data-role="down"]`, { state: 'attached' });

    // Play until a new leader band, in term 2, appears on another replica.
    await page.getByTestId('play').click();
    await page.waitForSelector(`${LEADER_BAND}[data-term="2"]`, { timeout: 20_000 });
    await page.getByTestId('play').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="play"]')?.textContent?.trim() === 'Play');
    // The crash is shaded on the space-time diagram too: the window around now lies inside it.
    expect(await page.getByTestId('st-fault-band').count()).toBeGreaterThan(0);
    const after = await leaderBands(page);
    const next = after.find(([, t]) => t === '2')!;
    expect(next[0]).not.toBe(leader);
    expect(after).toContainEqual([leader, '1']);
    // The summary describes the moment the run paused at, which depends on how far it played (wall time): at least
    // the second term has begun.
    expect(await text(page, 'elections-summary')).toMatch(/term ([2-9]|\d\d)/);
    await panelShot(page, 'raft-02-new-leader');
    await shot(page, 'raft-03-new-leader-page');

    // Seek back to just before the crash: the term-2 band is gone, the old leader leads again.
    await seek(page, 999_000);
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 0, `${LEADER_BAND}[data-term="2"]`, { timeout: 15_000 });
    expect(await leaderBands(page)).toEqual([[leader, '1']]);
    expect(await page.locator(`[data-testid="log-head-${leader}"]`).getAttribute('data-role')).toBe('leader');
    await panelShot(page, 'raft-04-seek-back');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('explains why an entry is not committed: the term rule after failover', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=raft-leader-crash&seed=1`);
    await seek(page, 2_168_000);
    await waitTime(page, '2.168s');
    const cell = page.locator('[data-testid="log-cell"][data-node="r1"][data-index="200"]');
    await cell.scrollIntoViewIfNeeded();
    await cell.hover();
    await page.waitForSelector('[data-testid="why"][data-verdict="term-rule"]');
    expect(await text(page, 'why-headline')).toContain('the term rule');
    expect(await text(page, 'why')).toContain('majority needs 3');
    // A click pins it; the run can be stepped while it stays open.
    await cell.click();
    await page.mouse.move(5, 5);
    await panelShot(page, 'raft-05-why-not-committed');
    expect(await page.getByTestId('why').count()).toBe(1);
    // The space-time diagram shows the campaign: votes to the crashed r5 dropped.
    const dropped = page.locator('[data-testid="arrow"][data-kind="vote"][data-state="dropped"]');
    expect(await dropped.count()).toBeGreaterThan(0);
    // An arrow leads to its events in the log: its send, and the drop at the crashed replica.
    await dropped.first().dispatchEvent('click');
    const sendSeq = await dropped.first().getAttribute('data-seq');
    await page.getByTestId('st-show-send').click();
    const sendRow = page.locator(`[data-testid="event-row"][data-seq="${sendSeq}"]`);
    await sendRow.waitFor({ timeout: 10_000 });
    expect(await sendRow.getAttribute('class')).toMatch(/\bopen\b/);
    expect(await sendRow.getAttribute('data-kind')).toBe('msg.send');
    await page.getByTestId('st-show-end').click();
    await page.waitForSelector('[data-testid="event-row"][data-kind="msg.drop"].open', { timeout: 10_000 });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('lays out at 1920 px in dark theme and in presenter mode', async () => {
    const wide = await browser.newContext({ viewport: { width: 1920, height: 1080 }, colorScheme: 'dark', deviceScaleFactor: 1 });
    const page = await wide.newPage();
    await page.goto(`${BASE}#scenario=raft-minority-partition&seed=1`);
    await page.waitForSelector('body[data-ready="true"]');
    await seek(page, 2_500_000);
    await waitTime(page, '2.500s');
    // Side by side at 1920: the elections and space-time panels share a row.
    const e = await page.getByTestId('elections').boundingBox();
    const s = await page.getByTestId('space-time').boundingBox();
    expect(e && s && Math.abs(e.y - s.y) < 2 && s.x > e.x + e.width - 1).toBe(true);
    expect(await leaderBands(page).then((b) => b.filter(([, t]) => t !== '').length)).toBeGreaterThanOrEqual(2);
    await shot(page, 'raft-06-1920-dark-stale-leader');

    // Presenter mode (larger text) at a laptop width: the views grow with the text and still fit.
    await page.getByRole('button', { name: 'Presenter mode' }).click();
    expect(await page.evaluate(() => document.documentElement.dataset.size)).toBe('large');
    await page.setViewportSize({ width: 1440, height: 1000 });
    await page.waitForTimeout(300);
    // Nothing overflows the page sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await panelShot(page, 'raft-07-presenter-1440');
    await wide.close();
  });
});
