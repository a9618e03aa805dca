import { createHash } from 'node:crypto';
import {
  activatedPage,
  activationFormPage,
  alreadyActivePage,
  invalidLinkPage,
  PAGE_CONTENT_SECURITY_POLICY,
  renderPage,
} from './activation-pages';

// The routes only ever pass rule-abiding usernames and base64url tokens, so escaping
// is proven here, with values no request could bring that far.
const HOSTILE = `"><script>alert('x')</script>&amp;`;
const ESCAPED = '&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp;';

describe('activation pages', () => {
  it('escapes the username, the token and the form action in the form page', () => {
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

  it('labels the button "Activate my account", the name the browser tests look for', () => {
    const html = renderPage(activationFormPage('/activate', 'ada', 'A'.repeat(43)));

    expect(html).toContain('<button type="submit">Activate my account</button>');
  });

  it('allows exactly its own inline style by hash, and nothing else', () => {
    const html = renderPage(invalidLinkPage());
    const styles = [...html.matchAll(/<style>([^<]*)<\/style>/g)].map((match) => match[1]!);

    expect(styles).toHaveLength(1);
    const hash = createHash('sha256').update(styles[0]!).digest('base64');
    expect(PAGE_CONTENT_SECURITY_POLICY).toContain(`style-src 'sha256-${hash}'`);
    expect(PAGE_CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|script-src|\*/);
  });
});
