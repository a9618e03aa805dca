import {
  PASSWORD_RESET_MAIL_SUBJECT,
  type PasswordResetMailContent,
  passwordResetLink,
  passwordResetPageBase,
  passwordResetRequestPage,
  renderPasswordResetMail,
} from './password-reset-mail';

const XSS_NAME = '<img src=x onerror=alert(1)>';
const XSS_USERNAME = "\"><script>alert('x')</script>&";

const content: PasswordResetMailContent = {
  to: 'alice@example.org',
  name: 'Alice Liddell',
  username: 'alice',
  activationUrlBase: 'https://cards.example/activate',
  token: 'tok_abcdefghijklmnopqrstuvwxyz0123456789-_AB',
  expiresAt: new Date('2026-01-15T11:00:00.000Z'),
};

/** Every http(s) URL in a part: the links as a mail client would find them. */
function urlsIn(part: string): string[] {
  return [...part.matchAll(/https?:\/\/[^\s"<>]+/g)].map((match) => match[0]);
}

describe('passwordResetPageBase', () => {
  it.each([
    ['https://cards.example/activate', 'https://cards.example/password-reset/new'],
    ['http://localhost:3000/activate', 'http://localhost:3000/password-reset/new'],
    ['https://example.org/shop/activate', 'https://example.org/shop/password-reset/new'],
  ])('is the sibling page password-reset/new of %s', (base, page) => {
    expect(passwordResetPageBase(base)).toBe(page);
  });
});

describe('passwordResetRequestPage', () => {
  it('is the sibling page password-reset of the activation base', () => {
    expect(passwordResetRequestPage('https://cards.example/activate')).toBe(
      'https://cards.example/password-reset',
    );
  });
});

describe('passwordResetLink', () => {
  it('puts username and token as query values on the reset page', () => {
    expect(passwordResetLink('https://cards.example/activate', 'alice', 'abc_-123')).toBe(
      'https://cards.example/password-reset/new?username=alice&token=abc_-123',
    );
  });

  it('URL-encodes both values, so "&", "+", "#" and space cannot break or add parameters', () => {
    const link = passwordResetLink('https://cards.example/activate', 'a&b+c d#e', 't&x+y z=1');

    expect(link).toBe(
      'https://cards.example/password-reset/new?username=a%26b%2Bc%20d%23e&token=t%26x%2By%20z%3D1',
    );
    const url = new URL(link);
    expect([...url.searchParams.keys()]).toEqual(['username', 'token']);
    expect(url.searchParams.get('username')).toBe('a&b+c d#e');
    expect(url.searchParams.get('token')).toBe('t&x+y z=1');
    expect(url.hash).toBe('');
  });

  it.each([
    ['a scheme-relative URL', '//evil.example/'],
    ['credentials and a host', 'x@evil.example'],
    ['a path of its own', '../../evil'],
  ])('keeps the host and path when the username looks like %s', (_case, username) => {
    const url = new URL(passwordResetLink('https://cards.example/activate', username, 'tok'));

    expect(url.origin).toBe('https://cards.example');
    expect(url.pathname).toBe('/password-reset/new');
    expect(url.searchParams.get('username')).toBe(username);
  });
});

describe('renderPasswordResetMail', () => {
  const link = `https://cards.example/password-reset/new?username=alice&token=${content.token}`;

  it('addresses the mail to the user with the fixed subject', () => {
    const mail = renderPasswordResetMail(content);

    expect(mail.to).toBe('alice@example.org');
    expect(mail.subject).toBe('Reset the password of your Digital Card Store account');
    expect(mail.subject).toBe(PASSWORD_RESET_MAIL_SUBJECT);
    expect(mail.html).toContain(`<title>${PASSWORD_RESET_MAIL_SUBJECT}</title>`);
  });

  it('greets the user by name and names the account in both parts', () => {
    const mail = renderPasswordResetMail(content);

    expect(mail.text.startsWith('Dear Alice Liddell,\n')).toBe(true);
    expect(mail.text).toContain('your account "alice"');
    expect(mail.html).toContain('<p>Dear Alice Liddell,</p>');
    expect(mail.html).toContain('your account &quot;alice&quot;');
  });

  it('carries the reset link on a line of its own in the text part', () => {
    const mail = renderPasswordResetMail(content);

    expect(mail.text.split('\n')).toContain(link);
  });

  it('carries the reset link as a referrer-free anchor in a new context, and as text, in the HTML part', () => {
    const mail = renderPasswordResetMail(content);

    const escaped = link.replace('&', '&amp;');
    expect(mail.html).toContain(
      `<a href="${escaped}" target="_blank" rel="noopener noreferrer">Choose a new password</a>`,
    );
    expect(mail.html).toContain(`copy this address into your browser:<br>${escaped}</p>`);
  });

  it('encodes the username and token in the link of both parts', () => {
    const mail = renderPasswordResetMail({ ...content, username: 'a&b+c d', token: 't&x+y z' });

    const encoded =
      'https://cards.example/password-reset/new?username=a%26b%2Bc%20d&token=t%26x%2By%20z';
    expect(mail.text.split('\n')).toContain(encoded);
    expect(mail.html).toContain(`href="${encoded.replace('&token', '&amp;token')}"`);
  });

  it('links to nothing but the reset page on the host of the activation base', () => {
    for (const base of ['https://cards.example/activate', 'http://localhost:3000/activate']) {
      const mail = renderPasswordResetMail({
        ...content,
        activationUrlBase: base,
        username: 'evil.example',
      });
      const { origin } = new URL(base);

      const urls = [...urlsIn(mail.text), ...urlsIn(mail.html)];
      // One in the text part, the anchor and the copyable address in the HTML part.
      expect(urls).toHaveLength(3);
      for (const url of urls) {
        const parsed = new URL(url.replaceAll('&amp;', '&'));
        expect(parsed.origin).toBe(origin);
        expect(parsed.pathname).toBe('/password-reset/new');
      }
      expect(mail.html).not.toMatch(/href="https:\/\/evil/);
    }
  });

  it('escapes a name carrying HTML in the HTML part and never contains it raw', () => {
    const mail = renderPasswordResetMail({ ...content, name: XSS_NAME });

    expect(mail.html).toContain('<p>Dear &lt;img src=x onerror=alert(1)&gt;,</p>');
    expect(mail.html).not.toContain(XSS_NAME);
    expect(mail.html).not.toContain('<img');
  });

  it('escapes quotes and ampersands of the name in the HTML part', () => {
    const mail = renderPasswordResetMail({ ...content, name: `Tom & "Jerry" O'Neil` });

    expect(mail.html).toContain('Dear Tom &amp; &quot;Jerry&quot; O&#39;Neil,');
  });

  it('escapes a username carrying HTML in the HTML part, in its text and in its link', () => {
    const mail = renderPasswordResetMail({ ...content, username: XSS_USERNAME });

    expect(mail.html).not.toContain('<script');
    expect(mail.html).not.toContain(XSS_USERNAME);
    expect(mail.html).toContain(
      'your account &quot;&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;',
    );
    // The link's query value is URL-encoded, then escaped: the anchor has exactly one
    // attribute value of ours, and it decodes back to the username.
    const href = /<a href="([^"]*)"/.exec(mail.html)![1]!;
    expect(href).not.toMatch(/[<>"']/);
    const url = new URL(href.replaceAll('&amp;', '&').replaceAll('&#39;', "'"));
    expect(url.searchParams.get('username')).toBe(XSS_USERNAME);
    expect(url.searchParams.get('token')).toBe(content.token);
    expect(mail.html.match(/<a /g)).toHaveLength(1);
  });

  it('keeps the name and username as typed in the text part', () => {
    const mail = renderPasswordResetMail({ ...content, name: XSS_NAME, username: XSS_USERNAME });

    expect(mail.text.startsWith(`Dear ${XSS_NAME},\n`)).toBe(true);
    expect(mail.text).toContain(`your account "${XSS_USERNAME}"`);
  });

  it('shows when the link expires, in UTC, and that it works once, in both parts', () => {
    const mail = renderPasswordResetMail({
      ...content,
      expiresAt: new Date('2026-01-15T10:59:59.999Z'),
    });

    expect(mail.text).toContain('valid until 2026-01-15 10:59 UTC, once.');
    expect(mail.html).toContain('valid until 2026-01-15 10:59 UTC, once.');
  });

  it('tells someone who did not ask that the password stays as it is, in both parts', () => {
    const mail = renderPasswordResetMail(content);

    expect(mail.text).toContain('If you did not ask for this, ignore this mail');
    expect(mail.html).toContain('If you did not ask for this, ignore this mail');
    expect(mail.text).toContain('your password stays as it is');
  });

  it('ends with the signature in both parts', () => {
    const mail = renderPasswordResetMail(content);

    expect(mail.text.endsWith('\nDigital Card Store\n')).toBe(true);
    expect(mail.html).toContain('<p>Digital Card Store</p>');
  });
});
