import { escapeHtml } from './html';

describe('escapeHtml', () => {
  it.each([
    ['&', '&amp;'],
    ['<', '&lt;'],
    ['>', '&gt;'],
    ['"', '&quot;'],
    ["'", '&#39;'],
  ])('escapes %j as %j', (char, entity) => {
    expect(escapeHtml(`a${char}b`)).toBe(`a${entity}b`);
  });

  it('escapes every occurrence, not only the first', () => {
    expect(escapeHtml(`<<&&"'>>`)).toBe('&lt;&lt;&amp;&amp;&quot;&#39;&gt;&gt;');
  });

  it('escapes an existing entity again, so text shows as typed', () => {
    expect(escapeHtml('&lt;')).toBe('&amp;lt;');
  });

  it('turns a script-carrying tag into inert text', () => {
    expect(escapeHtml('<img src=x onerror=alert(1)>')).toBe('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('leaves other text unchanged, non-ASCII included', () => {
    expect(escapeHtml('Zoë 李小龍 = 42; ok!')).toBe('Zoë 李小龍 = 42; ok!');
  });
});
