/**
 * End-to-end, a message-queue scenario in Debian's Chromium: mq-acks-quorum loads from its URL, seeks into the
 * partition that cuts the leader of orders-0 (with the producer and the control plane) from its followers, and the
 * topology draws the two partition groups around whole brokers — every replica of a broker inside its host's group.
 * Screenshot: test-results/screenshots/mq-acks-partition.png.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, open, shot } from './browser.ts';

const BASE = inject('baseUrl');
let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

describe('message queue in Chromium', () => {
  it('a partition over brokers is drawn around every replica of each broker, with no console error', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=mq-acks-quorum&seed=acks`);
    await page.getByTestId('seek').fill('1100000');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="partition-group"]').length === 2, null, { timeout: 20_000 });
    const groups = await page.getByTestId('partition-group').evaluateAll((els) => els.map((e) => e.querySelector('title')?.textContent ?? ''));
    // The isolated leader's broker is in the first group with prod1 and ctl; its one replica is listed by node id.
    expect(groups[0]).toMatch(/b\d\.orders-0, prod1, ctl/);
    expect(groups[1]).toMatch(/b\d\.orders-0.*c1.*sink/);
    await shot(page, 'mq-acks-partition');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('hundreds of messages in flight are drawn on a canvas under the nodes instead of as SVG marks', async () => {
    const { page, errors } = await open(browser, `${BASE}#scenario=mq-load&seed=mq-load`);
    await page.getByTestId('seek').fill('8000000');
    await page.waitForFunction(() => /([2-9]\d\d|\d{4,}) messages in flight/.test(document.querySelector('[data-testid="topology-summary"]')?.textContent ?? ''), null, { timeout: 60_000 });
    await expect.poll(() => page.getByTestId('message-canvas').count()).toBe(1);
    expect(await page.getByTestId('message').count()).toBe(0);
    // The canvas has marks on it: some pixels are painted.
    const painted = await page.getByTestId('message-canvas').evaluate((c) => {
      const canvas = c as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(500);
    await shot(page.locator('[data-testid="topology"]').page(), 'mq-load-dense');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 120_000);
});
