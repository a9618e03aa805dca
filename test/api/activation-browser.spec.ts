/**
 * The activation link in a real browser (Chromium through playwright-core) against the
 * API listening on a loopback port: open the link, press the button, see the result.
 * Proves what supertest cannot: the page's CSP lets its own style apply and its form
 * post, and the button is found by its accessible name. Leaves a screenshot of the
 * success page in reports/activation-success.png.
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { type Browser, launchChromium, REPORTS_DIR } from '../support/chromium';
import { createTestApp, type TestApp } from '../support/test-app';
import { mailedUser, userItem } from './api-helpers';

// A browser on a machine shared with the other suites: room for a few slow steps.
jest.setTimeout(60_000);

describe('activation in the browser', () => {
  let api: TestApp;
  let origin: string;
  let browser: Browser;

  beforeAll(async () => {
    api = await createTestApp();
    await api.app.listen(0, '127.0.0.1');
    origin = `http://127.0.0.1:${(api.http.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  /** A fresh page that records every console error and CSP violation. */
  async function openPage(): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    return { page, problems };
  }

  it('opens the link, presses "Activate my account" and shows the account active', async () => {
    const user = await mailedUser(api);
    const { page, problems } = await openPage();
    const link = `${origin}/activate?username=${encodeURIComponent(user.username)}&token=${encodeURIComponent(user.token)}`;

    const shown = await page.goto(link);
    const statusAfterOpening = (await userItem(api, user.username))?.activationStatus;
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Activate my account' }).click();
    await page.getByRole('heading', { name: 'Your account is active' }).waitFor();
    await page.screenshot({ path: join(REPORTS_DIR, 'activation-success.png'), fullPage: true });

    expect(shown?.status()).toBe(200);
    expect(statusAfterOpening).toBe('MAIL_SENT');
    expect(page.url()).toBe(`${origin}/activate`);
    expect(await page.title()).toBe('Your account is active · Digital Card Store');
    expect((await userItem(api, user.username))?.activationStatus).toBe('DONE');
    // The inline style applied, so the CSP hash matches it.
    expect(
      await page.evaluate('getComputedStyle(document.querySelector("main")).backgroundColor'),
    ).toBe('rgb(255, 255, 255)');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows the invalid-link page after pressing the button of a link with a wrong token', async () => {
    const user = await mailedUser(api);
    const { page, problems } = await openPage();

    await page.goto(`${origin}/activate?username=${user.username}&token=${'A'.repeat(43)}`);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Activate my account' }).click();
    await page
      .getByRole('heading', { name: 'This activation link is not valid or has expired' })
      .waitFor();

    expect((await userItem(api, user.username))?.activationStatus).toBe('MAIL_SENT');
    // The only console error is the 400 of the page itself, no CSP violation.
    expect(problems.filter((problem) => !/status of 400/.test(problem))).toEqual([]);
    await page.close();
  });
});
