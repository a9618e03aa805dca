/**
 * What a person who forgot the password does, in a real browser (Debian's Chromium via
 * playwright-core) over the real pipeline: the request form at /password-reset, "check
 * your inbox", the link from the reset mail, two passwords that differ (the form again,
 * with the problem in its error summary and next to the field), a good one ("password
 * changed", with a way to sign in); then the API takes the new password and refuses the
 * old. The link's page, which carries a live token, must declare no-referrer and run no
 * inline script (its CSP), while its own stylesheet loads. Leaves
 * reports/password-reset-form.png and reports/password-reset-done.png as artifacts.
 */
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { PASSWORD_RESET_MAIL_SUBJECT } from '../../src/activation';
import { PASSWORDS_DIFFER_PROBLEM } from '../../src/users/password/password-pages';
import type { StoredMail } from '../../src/workers/local-ses';
import { newRegistration, type Registration } from '../api/api-helpers';
import { type Browser, launchChromium, REPORTS_DIR } from '../support/chromium';
import {
  activationLinkIn,
  type PipelineHarness,
  passwordResetLinkIn,
  startPipelineHarness,
} from './pipeline-harness';

// A browser on a machine shared with the other suites: room for a few slow steps.
jest.setTimeout(60_000);

const NEW_PASSWORD = 'a brand new passphrase';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What happened when the page was asked to run an inline script. */
interface InlineScriptProbe {
  ran: boolean;
  violations: string[];
}

/**
 * Adds an inline <script> to the page that sets a flag if it runs, and notes the CSP
 * violations reported meanwhile. Browser code, as text: this project compiles without DOM types.
 */
const INLINE_SCRIPT_PROBE = `(async () => {
  const violations = [];
  document.addEventListener('securitypolicyviolation', (event) =>
    violations.push(event.effectiveDirective),
  );
  const script = document.createElement('script');
  script.textContent = 'window.inlineScriptRan = true;';
  document.body.append(script);
  // The violation event is queued as a task: let it fire.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { ran: window.inlineScriptRan === true, violations };
})()`;

const probeInlineScript = (page: Page) => page.evaluate<InlineScriptProbe>(INLINE_SCRIPT_PROBE);

describe('password reset in a browser, through the local pipeline', () => {
  let system: PipelineHarness;
  let browser: Browser;
  let http: Server;

  beforeAll(async () => {
    system = await startPipelineHarness();
    browser = await launchChromium();
    http = system.app.getHttpServer() as Server;
  });

  afterAll(async () => {
    await browser?.close();
    await system?.close();
  });

  const login = (username: string, password: string) =>
    request(http).post('/login').send({ username, password });

  async function activeAccount(): Promise<Registration> {
    const account = newRegistration();
    expect((await request(http).post('/users').send(account)).status).toBe(201);
    const link = activationLinkIn(await system.waitForMail(account.email));
    const activation = await request(http)
      .post('/activate')
      .set('Accept', 'application/json')
      .send({
        username: link.searchParams.get('username'),
        token: link.searchParams.get('token'),
        password: account.password,
      });
    expect(activation.status).toBe(200);
    return account;
  }

  async function waitForResetMail(address: string, timeoutMs = 10_000): Promise<StoredMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reset = (await system.mailsTo(address)).find(
        (mail) => mail.subject === PASSWORD_RESET_MAIL_SUBJECT,
      );
      if (reset) return reset;
      if (Date.now() > deadline) throw new Error(`no reset mail to ${address} in ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  /** Submits the page's form and returns the navigation's request and response. */
  async function submit(page: Page, button: string) {
    const [response] = await Promise.all([
      page.waitForResponse(
        (r) => r.request().method() === 'POST' && r.request().isNavigationRequest(),
      ),
      page.getByRole('button', { name: button }).click(),
    ]);
    await page.waitForLoadState();
    return { response, request: response.request() };
  }

  it('asks for a link in the form, opens it, is told when the two passwords differ, sets a new one', async () => {
    // Arrange
    const account = await activeAccount();
    const page = await browser.context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    // The probe works: on a page without a CSP (about:blank) its script runs.
    const blank = await browser.context.newPage();
    const unguarded = await probeInlineScript(blank);
    await blank.close();

    // Act 1: the request form, by e-mail address.
    expect((await page.goto(`${system.origin}/password-reset`))?.status()).toBe(200);
    await page.getByLabel('Your e-mail address').fill(account.email);
    const requested = await submit(page, 'Send me a reset link');
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();

    // Assert 1
    expect(requested.response.status()).toBe(202);
    expect(page.url()).toBe(`${system.origin}/password-reset`);
    await expect(page.getByText(/is on its way/).textContent()).resolves.toContain(
      'a mail with a link to choose a new password is on its way',
    );

    // Act 2: the link from the mail in the inbox.
    const link = passwordResetLinkIn(await waitForResetMail(account.email));
    const linkPage = await page.goto(link.href);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await page.screenshot({ path: join(REPORTS_DIR, 'password-reset-form.png'), fullPage: true });
    const probe = await probeInlineScript(page);
    const newPassword = page.getByLabel('New password', { exact: true });
    const again = page.getByLabel('The new password again', { exact: true });

    // Assert 2: the form for two passwords; the token neither leaks nor meets a script.
    expect(linkPage?.status()).toBe(200);
    expect(link.origin).toBe(system.origin);
    const linkHeaders = await linkPage!.allHeaders();
    expect(linkHeaders['referrer-policy']).toBe('no-referrer');
    expect(linkHeaders['cache-control']).toBe('no-store');
    expect(linkHeaders['content-security-policy']).toContain("default-src 'none'");
    expect(unguarded).toEqual({ ran: true, violations: [] });
    expect(probe).toEqual({ ran: false, violations: ['script-src-elem'] });
    await expect(page.locator('input[type=password]').count()).resolves.toBe(2);
    await expect(newPassword.getAttribute('type')).resolves.toBe('password');
    await expect(again.getAttribute('type')).resolves.toBe('password');
    await expect(page.getByText(account.username, { exact: true }).count()).resolves.toBe(1);

    // Act 3: two passwords that differ.
    await newPassword.fill(NEW_PASSWORD);
    await again.fill(`${NEW_PASSWORD}!`);
    const mismatched = await submit(page, 'Set the new password');

    // Assert 3: the form again, with the problem in the error summary (focused, linking to
    // the field) and next to the field; passwords not filled in again; nothing changed; no
    // Referer sent.
    expect(mismatched.response.status()).toBe(400);
    expect(await mismatched.request.headerValue('referer')).toBeNull();
    const summary = page.getByRole('alert');
    await expect(summary.count()).resolves.toBe(1);
    await expect(summary.getByRole('heading').textContent()).resolves.toBe('There is a problem');
    const problem = summary.getByRole('link', { name: PASSWORDS_DIFFER_PROBLEM, exact: true });
    await expect(problem.count()).resolves.toBe(1);
    await expect(summary.getByRole('link').count()).resolves.toBe(1);
    await expect(problem.getAttribute('href')).resolves.toBe(`#${await again.getAttribute('id')}`);
    await page.waitForFunction("document.activeElement?.getAttribute('role') === 'alert'");
    await expect(again.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(newPassword.getAttribute('aria-invalid')).resolves.toBeNull();
    const described = await again.getAttribute('aria-describedby');
    await expect(page.locator(`[id="${described}"]`).textContent()).resolves.toBe(
      `Error: ${PASSWORDS_DIFFER_PROBLEM} `,
    );
    await expect(page.locator('input[type=password]').count()).resolves.toBe(2);
    await expect(newPassword.inputValue()).resolves.toBe('');
    await expect(again.inputValue()).resolves.toBe('');
    // The page's own stylesheet loaded, as its policy allows (a block would be a console error).
    await expect(page.evaluate<number>('document.styleSheets.length')).resolves.toBe(1);
    await expect(
      page.evaluate<number>('document.styleSheets[0].cssRules.length'),
    ).resolves.toBeGreaterThan(0);
    expect((await login(account.username, account.password)).status).toBe(200);

    // Act 4: a good new password, twice.
    await newPassword.fill(NEW_PASSWORD);
    await again.fill(NEW_PASSWORD);
    const changed = await submit(page, 'Set the new password');
    await page.getByRole('heading', { name: 'Your password was changed' }).waitFor();
    await page.screenshot({ path: join(REPORTS_DIR, 'password-reset-done.png'), fullPage: true });

    // Assert 4: changed, with a way to sign in; the API agrees.
    expect(changed.response.status()).toBe(200);
    expect(await changed.request.headerValue('referer')).toBeNull();
    expect((await changed.response.allHeaders())['referrer-policy']).toBe('no-referrer');
    const signIn = page.getByRole('link', { name: 'Sign in' });
    await expect(signIn.count()).resolves.toBe(1);
    expect(new URL((await signIn.getAttribute('href'))!, page.url()).href).toBe(
      `${system.origin}/`,
    );
    expect((await login(account.username, NEW_PASSWORD)).status).toBe(200);
    expect((await login(account.username, account.password)).status).toBe(401);
    // Only the probe's refusal and the mismatched form's 400: nothing else broke or was blocked.
    expect(consoleErrors).toEqual([
      expect.stringContaining('Executing inline script violates'),
      expect.stringContaining('status of 400'),
    ]);
  });
});
