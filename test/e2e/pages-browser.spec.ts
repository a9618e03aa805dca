/**
 * A person on the pages, in a real browser (Debian's Chromium via playwright-core), over
 * the real local pipeline: sign up on `/`, get the mail, open its link, activate, see the
 * account, change the password, sign out, sign in again, sign out everywhere; and forget
 * the password and reset it from the start page. No step uses anything but the pages and
 * the mail.
 *
 * Every page on the way is checked with axe (no serious or critical violation), must
 * raise no console error (a CSP violation is one), and leaves a screenshot in reports/
 * (`pages-*.png`); the axe results of all of them go to reports/axe-pages.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import type { StoredMail } from '../../src/workers/local-ses';
import { NOTICES } from '../../src/users/pages/account-pages';
import { newRegistration } from '../api/api-helpers';
import { type Browser, launchChromium, REPORTS_DIR } from '../support/chromium';
import {
  activationLinkIn,
  passwordResetLinkIn,
  type PipelineHarness,
  startPipelineHarness,
} from './pipeline-harness';

// Two journeys of a dozen pages each, with axe on every page, on a shared machine.
jest.setTimeout(120_000);

const EXPECTED_CLIENT_ERROR =
  /^Failed to load resource: the server responded with a status of 4\d\d /;

interface AxeSummary {
  readonly page: string;
  readonly url: string;
  readonly violations: readonly { id: string; impact: string | null | undefined; nodes: number }[];
}

describe('the pages in a browser, through the local pipeline', () => {
  let system: PipelineHarness;
  let browser: Browser;
  const axeResults: AxeSummary[] = [];
  const consoleProblems: string[] = [];

  beforeEach(() => {
    consoleProblems.length = 0;
  });

  beforeAll(async () => {
    system = await startPipelineHarness();
    browser = await launchChromium();
  });

  afterAll(async () => {
    writeFileSync(join(REPORTS_DIR, 'axe-pages.json'), `${JSON.stringify(axeResults, null, 2)}\n`);
    await browser?.close();
    await system?.close();
  });

  async function newPage(): Promise<Page> {
    const page = await browser.context.newPage();
    page.on('console', (message) => {
      // A page answered with a 4xx (a form shown again) is logged as a failed load: meant.
      const text = message.text();
      if (message.type() === 'error' && !EXPECTED_CLIENT_ERROR.test(text)) {
        consoleProblems.push(`${page.url()}: ${text}`);
      }
    });
    page.on('pageerror', (error) => consoleProblems.push(`${page.url()}: ${error.message}`));
    return page;
  }

  /** Screenshot and axe for the page as it is now; fails on a serious or critical finding. */
  async function look(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(REPORTS_DIR, `pages-${name}.png`), fullPage: true });
    const results = await new AxeBuilder({ page }).analyze();
    const violations = results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      nodes: violation.nodes.length,
    }));
    axeResults.push({ page: name, url: page.url(), violations });
    expect({
      page: name,
      serious: violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
    }).toEqual({ page: name, serious: [] });
    // The stylesheet loaded (the page is styled, not raw HTML).
    expect(await page.evaluate<string>('getComputedStyle(document.body).margin')).toBe('0px');
  }

  /** The newest mail to `address` once there are `count` of them. */
  async function nthMail(address: string, count: number): Promise<StoredMail> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const mails = await system.mailsTo(address);
      if (mails.length >= count) return mails[count - 1]!;
      if (Date.now() > deadline) throw new Error(`no mail #${count} to ${address}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  const focusedClass = (page: Page) =>
    page.evaluate<string>('document.activeElement?.className ?? ""');

  it('signs up, activates by the mailed link, uses the account page, signs out and in', async () => {
    const user = newRegistration({ name: 'Grace <Hopper>' });
    const page = await newPage();

    // The start page, and a sign-up with a mistake: the summary takes focus.
    await page.goto(`${system.origin}/`);
    await look(page, 'start');
    const signUp = page.locator('form[action="./users"]');
    await signUp.getByLabel('Name', { exact: true }).fill(user.name);
    await signUp.getByLabel('Username', { exact: true }).fill(user.username);
    await signUp.getByLabel('E-mail address', { exact: true }).fill('grace.example.org');
    await signUp.getByLabel('Password', { exact: true }).fill(user.password);
    await signUp.getByRole('button', { name: 'Create my account' }).click();
    await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
    expect(await focusedClass(page)).toBe('error-summary');
    await expect(page.getByLabel('Username', { exact: true }).nth(1).inputValue()).resolves.toBe(
      user.username,
    );
    await look(page, 'start-sign-up-errors');

    // The summary's link goes to the field.
    await page.getByRole('link', { name: /E-mail address must be/ }).click();
    expect(await page.evaluate<string>('document.activeElement?.id')).toBe('register-email');
    await page.locator('#register-email').fill(user.email);
    await page.locator('#register-password').fill(user.password);
    await page.getByRole('button', { name: 'Create my account' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    await look(page, 'signed-up');

    // The mail's link: the activation page, then active and signed in.
    const link = activationLinkIn(await nthMail(user.email, 1));
    await page.goto(link.href);
    await look(page, 'activate');
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Activate my account' }).click();
    await page.getByRole('heading', { name: 'Your account is active' }).waitFor();
    await look(page, 'activated');

    // The account page.
    await page.getByRole('link', { name: 'Go to your account' }).click();
    await page.getByRole('heading', { name: 'Your account', exact: true }).waitFor();
    const details = await page.locator('dl.account').innerText();
    expect(details.replace(/\s+/g, ' ')).toBe(
      `Name Grace <Hopper> Username ${user.username} E-mail address ${user.email} Status Active`,
    );
    await look(page, 'account');

    // A wrong current password: the form again, its summary focused.
    await page.getByLabel('Current password', { exact: true }).fill('not my password');
    await page.getByLabel('New password', { exact: true }).fill('a whole new passphrase');
    await page.getByLabel('The new password again', { exact: true }).fill('a whole new passphrase');
    await page.getByRole('button', { name: 'Change my password' }).click();
    // Not "Change your password": the account page has that heading too.
    await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
    await page.getByRole('heading', { name: 'Change your password', level: 1 }).waitFor();
    expect(await focusedClass(page)).toBe('error-summary');
    await look(page, 'change-password-errors');

    // The right one: back on the account page, saying so.
    await page.getByLabel('Current password', { exact: true }).fill(user.password);
    await page.getByLabel('New password', { exact: true }).fill('a whole new passphrase');
    await page.getByLabel('The new password again', { exact: true }).fill('a whole new passphrase');
    await page.getByRole('button', { name: 'Change my password' }).click();
    await page.getByText(NOTICES['password-changed']).waitFor();
    expect(new URL(page.url()).pathname).toBe('/account');
    await look(page, 'account-password-changed');

    // Sign out: the start page; the account page sends back to it.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByText(NOTICES['signed-out']).waitFor();
    await look(page, 'signed-out');
    await page.goto(`${system.origin}/account`);
    await page.getByText(NOTICES['sign-in-first']).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');

    // Sign in with the new password, then sign out everywhere.
    const signIn = page.locator('form[action="./login"]');
    await signIn.getByLabel('Username', { exact: true }).fill(user.username);
    await signIn.getByLabel('Password', { exact: true }).fill('a whole new passphrase');
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your account', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByText(NOTICES['signed-out-everywhere']).waitFor();
    await page.goto(`${system.origin}/account`);
    expect(new URL(page.url()).pathname).toBe('/');

    expect(consoleProblems).toEqual([]);
    await page.close();
  });

  it('forgets the password, resets it from the mailed link, and signs in with the new one', async () => {
    const user = newRegistration();
    const page = await newPage();
    // An account, activated through its own mail.
    await page.goto(`${system.origin}/`);
    const signUp = page.locator('form[action="./users"]');
    for (const [label, value] of [
      ['Name', user.name],
      ['Username', user.username],
      ['E-mail address', user.email],
      ['Password', user.password],
    ] as const) {
      await signUp.getByLabel(label, { exact: true }).fill(value);
    }
    await signUp.getByRole('button', { name: 'Create my account' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    await page.goto(activationLinkIn(await nthMail(user.email, 1)).href);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Activate my account' }).click();
    await page.getByRole('heading', { name: 'Your account is active' }).waitFor();
    await page.context().clearCookies();

    // A wrong password on sign-in, then "Forgot your password?".
    await page.goto(`${system.origin}/`);
    const signIn = page.locator('form[action="./login"]');
    await signIn.getByLabel('Username', { exact: true }).fill(user.username);
    await signIn.getByLabel('Password', { exact: true }).fill('what was it again');
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
    expect(await focusedClass(page)).toBe('error-summary');
    await look(page, 'start-sign-in-errors');
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
    await look(page, 'password-reset');
    await page.getByLabel('Your e-mail address', { exact: true }).fill(user.email);
    await page.getByRole('button', { name: 'Send me a reset link' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    await look(page, 'password-reset-requested');

    // The reset mail's link: the new password twice, a mismatch first.
    await page.goto(passwordResetLinkIn(await nthMail(user.email, 2)).href);
    await look(page, 'new-password');
    await page.getByLabel('New password', { exact: true }).fill('remembered at last');
    await page.getByLabel('The new password again', { exact: true }).fill('remembered at least');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
    expect(await focusedClass(page)).toBe('error-summary');
    await look(page, 'new-password-errors');
    await page.getByLabel('New password', { exact: true }).fill('remembered at last');
    await page.getByLabel('The new password again', { exact: true }).fill('remembered at last');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('heading', { name: 'Your password was changed' }).waitFor();
    await look(page, 'password-changed');

    // "Sign in" leads back to the start page, where the new password works.
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(`${system.origin}/`);
    await signIn.getByLabel('Username', { exact: true }).fill(user.username);
    await signIn.getByLabel('Password', { exact: true }).fill('remembered at last');
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your account', exact: true }).waitFor();

    expect(consoleProblems).toEqual([]);
    await page.close();
  });

  it('shows the other pages of the start page accessibly: no activation mail, a dead link', async () => {
    const page = await newPage();
    await page.goto(`${system.origin}/`);
    await page.getByRole('link', { name: 'No activation mail?' }).click();
    await page.getByRole('heading', { name: 'Get a new activation mail' }).waitFor();
    await look(page, 'activation-mail');
    await page.getByRole('button', { name: 'Send a new activation mail' }).click();
    await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
    expect(await focusedClass(page)).toBe('error-summary');
    await look(page, 'activation-mail-errors');
    await page.goto(`${system.origin}/activate?username=nobody&token=${'A'.repeat(43)}`);
    await page.getByLabel('Password', { exact: true }).fill('anything at all');
    await page.getByRole('button', { name: 'Activate my account' }).click();
    await page
      .getByRole('heading', { name: 'This activation link is not valid or has expired' })
      .waitFor();
    await look(page, 'activation-link-invalid');

    expect(consoleProblems).toEqual([]);
    await page.close();
  });
});
