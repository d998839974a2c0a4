/**
 * End-to-end, the lab UI of issue 6 in Debian's Chromium against the production build: "run until the next election"
 * and "next commit" from the transport; a per-link fault typed into the fault panel (all of the Raft leader's outgoing
 * messages lost) that starves the followers of heartbeats until one of them wins term 2, with the link's fault window
 * shaded on the elections timeline and the injection recorded as an action; and a partition by picked groups that
 * cuts the leader off. Screenshots go to test-results/screenshots/lab-ui-*.png for a person to look at.
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

async function seekTo(page: Page, us: number, want: string): Promise<void> {
  await page.getByTestId('seek').fill(String(us));
  await page.waitForFunction((w) => document.querySelector('[data-testid="time"]')?.textContent?.trim() === w, want, { timeout: 15_000 });
}

async function leaderBands(page: Page): Promise<[string, string][]> {
  return page.locator(LEADER_BAND).evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.node ?? '', (e as HTMLElement).dataset.term ?? ''] as [string, string]));
}

/** Clicks a transport button and waits for the event count to change. */
async function stepWith(page: Page, testId: string): Promise<void> {
  const before = await text(page, 'event-count');
  await page.getByTestId(testId).click();
  await page.waitForFunction((b) => document.querySelector('[data-testid="event-count"]')?.textContent?.trim() !== b, before);
}

async function sideShot(page: Page, name: string): Promise<void> {
  await page.getByTestId('fault-panel').screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

describe('the lab UI in Chromium', () => {
  it('steps to the next election and commit, then a lossy link from the leader forces a new election', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=raft-cold-start&seed=1`);
    await page.waitForSelector('[data-testid="raft-panels"]');

    // Next election: the first campaign appears, nobody leads yet. Next election again: the candidate wins.
    await stepWith(page, 'step-election');
    expect(await page.getByTestId('campaign').count()).toBe(1);
    expect(await page.locator(LEADER_BAND).count()).toBe(0);
    await stepWith(page, 'step-election');
    await page.waitForSelector(LEADER_BAND, { state: 'attached' });
    const [[leader, term]] = await leaderBands(page);
    expect(term).toBe('1');
    // Next commit: the leader's no-op reaches a majority, its commit position moves past 0.
    await stepWith(page, 'step-commit');
    await page.waitForSelector(`[data-testid="log-cell"][data-node="${leader}"][data-committed="true"]`, { state: 'attached' });

    // At 1 s, every message from the leader to anyone is lost.
    await seekTo(page, 1_000_000, '1.000s');
    await page.locator('[data-testid="fault-link"] summary').click();
    await page.getByTestId('link-from').selectOption(leader);
    await page.getByTestId('link-to').selectOption('*');
    await page.getByTestId('link-symmetric').uncheck();
    await page.getByTestId('link-loss').fill('100');
    await sideShot(page, 'lab-ui-01-link-form');
    await page.getByTestId('fault-link-apply').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="fault-panel"]')?.textContent?.includes('Recorded as an action'));
    expect(await page.locator('.mark.action').count()).toBe(1);
    await page.waitForSelector('[data-testid="elections"] [data-testid="fault-band"][data-kind="link"]');

    // Heartbeats stop arriving: a follower times out and wins term 2 while the old leader still thinks it leads.
    await seekTo(page, 2_000_000, '2.000s');
    await page.waitForSelector(`${LEADER_BAND}[data-term="2"]`, { timeout: 15_000 });
    const bands = await leaderBands(page);
    expect(bands.find(([, t]) => t === '2')![0]).not.toBe(leader);
    const link = page.locator('[data-testid="elections"] [data-testid="fault-band"][data-kind="link"]');
    expect(await link.locator('title').textContent()).toContain(`link ${leader}→*`);
    expect(await link.locator('title').textContent()).toContain('injected by you');
    await page.addStyleTag({ content: '.top { position: static !important; }' });
    await page.getByTestId('elections').scrollIntoViewIfNeeded();
    await page.getByTestId('elections').screenshot({ path: join(SCREENSHOTS, 'lab-ui-02-link-fault-elections.png') });
    await page.addStyleTag({ content: '.top { position: sticky !important; }' });
    await shot(page, 'lab-ui-03-link-fault-page');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a partition by picked groups cuts the leader off; the majority elects a new leader', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=raft-cold-start&seed=1`);
    await seekTo(page, 1_000_000, '1.000s');
    await page.waitForSelector(LEADER_BAND, { state: 'attached' });
    const [[leader]] = await leaderBands(page);
    await page.locator('[data-testid="fault-groups"] summary').click();
    for (const id of ['r1', 'r2', 'r3']) await page.getByTestId(`group-${id}`).selectOption(id === leader ? '1' : '2');
    const others = ['r1', 'r2', 'r3'].filter((id) => id !== leader).join(' ');
    // The client c1 starts in the second group and stays there, with the majority.
    expect(await text(page, 'group-preview')).toBe(`{${leader}} | {${others} c1}`);
    await page.getByTestId('fault-groups-apply').click();
    await page.waitForSelector('[data-testid="elections"] [data-testid="fault-band"][data-kind="partition"]');
    expect(await page.getByTestId('fault-heal').isEnabled()).toBe(true);
    await seekTo(page, 2_000_000, '2.000s');
    await page.waitForSelector(`${LEADER_BAND}[data-term="2"]`, { timeout: 15_000 });
    await sideShot(page, 'lab-ui-04-groups');
    await shot(page, 'lab-ui-05-groups-page');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
