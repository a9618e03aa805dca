import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  activatedPage,
  activationFormPage,
  alreadyActivePage,
  invalidLinkPage,
  resendFormPage,
} from '../activation/activation-pages';
import { invalidResetLinkPage, newPasswordFormPage } from '../password/password-pages';
import { accountPage, homePage, registeredPage } from './account-pages';
import { failedForm } from './form-state';
import {
  PAGE_CONTENT_SECURITY_POLICY,
  relativeRoot,
  renderPage,
  STYLESHEET,
  WEB_DIRECTORY,
} from './page';

// The routes only ever pass rule-abiding usernames and base64url tokens, so escaping
// is proven here, with values no request could bring that far.
const HOSTILE = `"><script>alert('x')</script>&amp;`;
const ESCAPED = '&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp;';

const hostileUser = {
  username: `u${HOSTILE}`,
  email: `e${HOSTILE}`,
  name: `n${HOSTILE}`,
  activationStatus: 'DONE',
} as const;

describe('the pages', () => {
  it('escapes the username, the token and the form action in the activation page', () => {
    const html = renderPage(activationFormPage(`/a${HOSTILE}`, `u${HOSTILE}`, `t${HOSTILE}`));

    expect(html).not.toContain('<script>');
    expect(html).toContain(`action="/a${ESCAPED}"`);
    expect(html).toContain(`name="username" value="u${ESCAPED}"`);
    expect(html).toContain(`name="token" value="t${ESCAPED}"`);
    expect(html).toContain(`<strong>u${ESCAPED}</strong>`);
  });

  it.each([
    ['activated', activatedPage],
    ['already active', alreadyActivePage],
  ])('escapes the username in the %s page', (_case, page) => {
    const html = renderPage(page(HOSTILE));

    expect(html).not.toContain('<script>');
    expect(html).toContain(`<strong>${ESCAPED}</strong>`);
  });

  it('escapes every field of the account and "check your inbox" pages', () => {
    for (const html of [
      renderPage(accountPage(hostileUser)),
      renderPage(registeredPage(hostileUser)),
    ]) {
      expect(html).not.toContain('<script>');
      expect(html).not.toContain(HOSTILE);
    }
    expect(renderPage(accountPage(hostileUser))).toContain(`<dd>n${ESCAPED}</dd>`);
  });

  it('escapes the values and messages a failed form shows again', () => {
    const form = failedForm(
      'register',
      { name: 'Name', username: 'Username' },
      [{ field: 'username', messages: [`username ${HOSTILE}`] }],
      { name: `n${HOSTILE}`, username: 'x' },
      ['name'],
    );
    const html = renderPage(homePage({ status: 400, register: form }));

    expect(html).not.toContain('<script>');
    expect(html).toContain(`value="n${ESCAPED}"`);
    expect(html).toContain(`Username ${ESCAPED}`);
  });

  it('links the stylesheet and every page of the app relative to the root given', () => {
    const html = renderPage(invalidResetLinkPage(), '../');

    expect(html).toContain(`<link rel="stylesheet" href="../${STYLESHEET.path}">`);
    expect(html).toContain('action="../password-reset"');
    expect(html).toContain('<a class="brand" href="../">');
  });

  it.each([
    ['/', './'],
    ['/account', './'],
    ['/password-reset/new', '../'],
    ['/users/me/password', '../../'],
  ])('finds the root of %s at %s', (path, root) => {
    expect(relativeRoot(path)).toBe(root);
  });

  it('has no inline script or style in any page or template, so the CSP needs no hash', () => {
    const pages = [
      homePage(),
      registeredPage(hostileUser),
      accountPage(hostileUser),
      activationFormPage('/activate', 'ada', 'A'.repeat(43)),
      invalidLinkPage(),
      resendFormPage('problem'),
      newPasswordFormPage('ada', 'A'.repeat(43)),
    ].map((page) => renderPage(page));

    for (const html of pages) {
      expect(html).not.toMatch(/<script|<style|\sstyle=|\son[a-z]+=/i);
    }
    expect(PAGE_CONTENT_SECURITY_POLICY).toContain("style-src 'self'");
    expect(PAGE_CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|script-src|sha256|\*/);
  });

  it('gives the stylesheet a hash of its bytes for its URL', () => {
    const css = readFileSync(join(WEB_DIRECTORY, 'site.css'), 'utf8');

    expect(STYLESHEET.body).toBe(css);
    expect(STYLESHEET.path).toBe(`assets/site.css?v=${STYLESHEET.hash}`);
    expect(STYLESHEET.hash).toMatch(/^[\w-]{16}$/);
  });

  it('shows an error summary that takes focus, linking each message to its field', () => {
    const html = renderPage(resendFormPage('Please enter an address.'));

    expect(html).toMatch(/<div class="error-summary" role="alert"[^>]* tabindex="-1" autofocus>/);
    expect(html).toContain('<a href="#resend-email">Please enter an address.</a>');
    expect(html).toContain('aria-describedby="resend-email-error" aria-invalid="true"');
    expect(html).toContain('<span class="error-prefix">Error:</span> Please enter an address.');
  });
});
