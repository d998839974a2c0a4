/**
 * End-to-end teaching mode in Chromium: every built-in scenario is loaded through the scenario picker (search, Enter)
 * and its narration moved on with Next at least once, with no console errors; then predict-then-reveal on
 * raft-cold-start — the answer the browser reveals is the one `new Lab()` computes in Node — with its evidence opened
 * in the event log; and guided play stops at the next anchor. Screenshots go to test-results/screenshots.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SCENARIOS } from '../../src/scenarios/index.ts';
import { Lab } from '../../src/sim/lab.ts';
import { launch, open, SCREENSHOTS, shot, text } from './browser.ts';

const BASE = inject('baseUrl');
let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

const reachedCount = (page: Page) => page.locator('[data-testid="narration-step"][data-reached="true"]').count();

async function narrationTitle(page: Page): Promise<string> {
  return ((await page.locator('[data-testid="narration"] h2 .title').textContent()) ?? '').trim();
}

/** Opens the picker (by its button, or by the "/" shortcut), searches for `id` and picks it with Enter. */
async function pick(page: Page, id: string, how: 'button' | 'key'): Promise<void> {
  if (how === 'key') {
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('/');
  } else {
    await page.getByTestId('scenario').click();
  }
  const search = page.getByTestId('picker-search');
  await search.waitFor();
  await search.fill(id);
  // The id is unique, but other ids may contain it (mq-acks-leader is not in mq-acks-quorum; raft-figure-8 is in -bug).
  await page
    .waitForFunction((want) => document.querySelector('[data-testid="picker-option"][aria-selected="true"]')?.getAttribute('data-id') === want, id, { timeout: 5_000 })
    .catch(async (e: Error) => {
      const shown = await page.getByTestId('picker-option').evaluateAll((els) => els.map((el) => `${el.getAttribute('data-id')}${el.getAttribute('aria-selected') === 'true' ? '*' : ''}`));
      throw new Error(`picking ${id}: the active option is not it (options: ${shown.join(', ')}): ${e.message}`);
    });
  await search.press('Enter');
}

async function waitScenario(page: Page, title: string): Promise<void> {
  await page.waitForFunction(
    (want) => document.querySelector('[data-testid="narration"] h2 .title')?.textContent?.trim() === want && !document.querySelector('[role="progressbar"]'),
    title,
    { timeout: 20_000 },
  );
}

describe('teaching mode in Chromium', () => {
  it('loads every built-in scenario through the picker and steps its narration with Next', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=ping-pong&seed=1`);
    let first = true;
    for (const s of SCENARIOS) {
      if (s.id === 'ping-pong') {
        await pick(page, 'raft-cold-start', 'button'); // leave, so picking ping-pong is a real change
        await waitScenario(page, SCENARIOS.find((x) => x.id === 'raft-cold-start')!.title);
      }
      await pick(page, s.id, first ? 'key' : 'button');
      first = false;
      await waitScenario(page, s.title);
      expect(await page.evaluate(() => location.hash)).toContain(`scenario=${s.id}&`);
      const before = await reachedCount(page);
      const next = page.getByTestId('narration-next');
      expect(await next.isEnabled(), `${s.id}: Next`).toBe(true);
      await next.click();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="narration-step"][data-reached="true"]').length > n, before, { timeout: 30_000 });
      if (s.id === 'mq-acks-leader') await shot(page, 'teaching-01-next-mq-acks-leader');
      expect(errors, s.id).toEqual([]);
    }
    // The picker itself, filtered by a tag, in the dark theme.
    await page.getByTestId('theme').click();
    await page.getByTestId('theme').click();
    await page.getByTestId('scenario').click();
    await page.getByTestId('picker-tag-semantics').click();
    await page.getByTestId('picker-search').fill('once');
    await shot(page, 'teaching-02-picker-dark', false);
    await page.keyboard.press('Escape');
    await page.getByTestId('scenario-picker').waitFor({ state: 'detached' });
    expect(errors).toEqual([]);
    await page.context().close();
  }, 240_000);

  it('predict, then reveal: the revealed winner is the one Node computes, with its evidence in the log', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=raft-cold-start&seed=1`);
    const lab = new Lab();
    lab.load('raft-cold-start', { seed: '1' });
    const truth = lab.step({ reveal: 0 }).narration[0].reveal!;
    const ask = page.getByTestId('ask');
    await ask.waitFor();
    expect(await ask.textContent()).toContain('Which replica will win the first election?');
    expect(await page.getByTestId('ask-reveal').isDisabled()).toBe(true);
    // Predict the wrong one on purpose: the panel must say so and show the real winner.
    const guess = ['r1', 'r2', 'r3'].find((r) => r !== truth.value)!;
    await page.locator(`[data-testid="ask-choice"][value="${guess}"]`).check();
    await shot(page, 'teaching-03-predict');
    await page.getByTestId('ask-reveal').click();
    await page.getByTestId('ask-verdict').waitFor();
    expect(await page.getByTestId('ask-verdict').getAttribute('data-verdict')).toBe('wrong');
    expect(await text(page, 'ask-actual')).toBe(truth.value);
    expect(await text(page, 'event-count')).toBe(String(lab.snapshot().eventCount));
    expect(await text(page, 'trace-hash')).toBe(lab.snapshot().traceHash);
    await page.getByTestId('ask-evidence').click();
    await page.waitForSelector(`[data-testid="event-row"][data-seq="${truth.evidenceSeq}"].open`, { timeout: 10_000 });
    await shot(page, 'teaching-04-revealed');
    await page.getByTestId('narration').screenshot({ path: join(SCREENSHOTS, 'teaching-05-narration-panel.png') });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('guided play stops at the next anchor; with guided off it plays through', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=raft-leader-crash&seed=1`);
    expect(await page.getByTestId('narration-guided').isChecked()).toBe(true);
    await page.getByTestId('speed').fill(String(9)); // 10×
    await page.getByTestId('play').click();
    // The first anchor is a time anchor at 1 s: the run stops exactly there. (Wait for the step to be reached too: just
    // after the click the button may still read Play, before the session has started playing.)
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="narration-step"][data-reached="true"]').length === 1 && document.querySelector('[data-testid="play"]')?.textContent?.trim() === 'Play',
      null,
      { timeout: 15_000 },
    );
    expect(await text(page, 'time')).toBe('1.000s');
    expect(await reachedCount(page)).toBe(1);
    expect(await page.getByTestId('narration-step').first().getAttribute('aria-current')).toBe('step');
    await shot(page, 'teaching-06-guided-stop');
    // Play again: the next stop is right after the crash at 2 s (an event anchor).
    await page.getByTestId('play').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="narration-step"][data-reached="true"]').length === 2, null, { timeout: 15_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="play"]')?.textContent?.trim() === 'Play', null, { timeout: 15_000 });
    expect(await text(page, 'time')).toBe('2.000s');
    // N and B walk the narration from the keyboard.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('n');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="narration-step"][data-reached="true"]').length === 3, null, { timeout: 15_000 });
    await page.keyboard.press('b');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="narration-step"][data-reached="true"]').length === 2, null, { timeout: 15_000 });
    expect(await text(page, 'time')).toBe('2.000s');
    // Guided off: playing runs past the next anchors.
    await page.getByTestId('narration-guided').uncheck();
    await page.getByTestId('play').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="narration-step"][data-reached="true"]').length >= 4, null, { timeout: 20_000 });
    await page.getByTestId('play').click();
    expect(await narrationTitle(page)).toBe('Raft: leader crash and failover');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
