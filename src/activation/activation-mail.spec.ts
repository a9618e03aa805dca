import {
  ACTIVATION_MAIL_SUBJECT,
  type ActivationMailContent,
  activationLink,
  renderActivationMail,
} from './activation-mail';

const XSS_NAME = '<img src=x onerror=alert(1)>';

const content: ActivationMailContent = {
  to: 'alice@example.org',
  name: 'Alice Liddell',
  username: 'alice',
  activationUrlBase: 'https://cards.example/activate',
  token: 'tok_abcdefghijklmnopqrstuvwxyz0123456789-_AB',
  expiresAt: new Date('2026-01-16T10:00:00.000Z'),
};

describe('activationLink', () => {
  it('puts username and token as query values on the base', () => {
    expect(activationLink('https://cards.example/activate', 'alice', 'abc_-123')).toBe(
      'https://cards.example/activate?username=alice&token=abc_-123',
    );
  });

  it('URL-encodes both values, so "&", "+" and space cannot break or add parameters', () => {
    const link = activationLink('https://cards.example/activate', 'a&b+c d', 't&x+y z=1');

    expect(link).toBe(
      'https://cards.example/activate?username=a%26b%2Bc%20d&token=t%26x%2By%20z%3D1',
    );
    const query = new URL(link).searchParams;
    expect([...query.keys()]).toEqual(['username', 'token']);
    expect(query.get('username')).toBe('a&b+c d');
    expect(query.get('token')).toBe('t&x+y z=1');
  });
});

describe('renderActivationMail', () => {
  it('addresses the mail to the user with the fixed subject', () => {
    const mail = renderActivationMail(content);

    expect(mail.to).toBe('alice@example.org');
    expect(mail.subject).toBe('Activate your Digital Card Store account');
    expect(mail.subject).toBe(ACTIVATION_MAIL_SUBJECT);
  });

  it('greets the user by name in both parts', () => {
    const mail = renderActivationMail(content);

    expect(mail.text.startsWith('Dear Alice Liddell,\n')).toBe(true);
    expect(mail.html).toContain('<p>Dear Alice Liddell,</p>');
  });

  it('carries the activation link in the text part and as the HTML anchor', () => {
    const mail = renderActivationMail(content);

    const link = `https://cards.example/activate?username=alice&token=${content.token}`;
    expect(mail.text.split('\n')).toContain(link);
    expect(mail.html).toContain(
      `<a href="https://cards.example/activate?username=alice&amp;token=${content.token}"`,
    );
  });

  it('encodes the username and token in the link of both parts', () => {
    const mail = renderActivationMail({ ...content, username: 'a&b+c d', token: 't&x+y z' });

    expect(mail.text).toContain(
      'https://cards.example/activate?username=a%26b%2Bc%20d&token=t%26x%2By%20z',
    );
    expect(mail.html).toContain(
      'href="https://cards.example/activate?username=a%26b%2Bc%20d&amp;token=t%26x%2By%20z"',
    );
  });

  it('escapes a name carrying HTML in the HTML part and never contains it raw', () => {
    const mail = renderActivationMail({ ...content, name: XSS_NAME });

    expect(mail.html).toContain('<p>Dear &lt;img src=x onerror=alert(1)&gt;,</p>');
    expect(mail.html).not.toContain(XSS_NAME);
    expect(mail.html).not.toContain('<img');
  });

  it('escapes quotes and ampersands of the name in the HTML part', () => {
    const mail = renderActivationMail({ ...content, name: `Tom & "Jerry" O'Neil` });

    expect(mail.html).toContain('Dear Tom &amp; &quot;Jerry&quot; O&#39;Neil,');
  });

  it('keeps the name as typed in the text part', () => {
    const mail = renderActivationMail({ ...content, name: XSS_NAME });

    expect(mail.text.startsWith(`Dear ${XSS_NAME},\n`)).toBe(true);
  });

  it('shows when the link expires, in UTC, in both parts', () => {
    const mail = renderActivationMail({
      ...content,
      expiresAt: new Date('2026-01-16T09:05:59.999Z'),
    });

    expect(mail.text).toContain('valid until 2026-01-16 09:05 UTC');
    expect(mail.html).toContain('valid until 2026-01-16 09:05 UTC');
  });

  it('names the account being activated in both parts', () => {
    const mail = renderActivationMail(content);

    expect(mail.text).toContain('your account "alice"');
    expect(mail.html).toContain('your account &quot;alice&quot;');
  });
});
