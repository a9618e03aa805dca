/**
 * Swagger UI (`GET /docs`) in a real browser (Chromium through playwright-core) against the
 * API on a loopback port: what supertest cannot tell, that the page works under its own
 * CSP (no inline script or style, every file from this origin), lists every operation of
 * the document, and that "Try it out" reaches the API. Leaves a screenshot in
 * reports/api-docs.png.
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { buildOpenApiDocument } from '../../src/platform/openapi/openapi-document';
import { type Browser, launchChromium, REPORTS_DIR } from '../support/chromium';
import { createTestApp, type TestApp } from '../support/test-app';

// A browser on a machine shared with the other suites: room for a few slow steps.
jest.setTimeout(60_000);

describe('Swagger UI in the browser', () => {
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

  /** A fresh page that records console errors (CSP violations among them) and requests. */
  async function openDocs(): Promise<{ page: Page; problems: string[]; requested: string[] }> {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    const requested: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (sent) => requested.push(sent.url()));
    const shown = await page.goto(`${origin}/docs`);
    expect(shown?.status()).toBe(200);
    await page.locator('.opblock').first().waitFor();
    return { page, problems, requested };
  }

  it('lists every operation of the document, within its CSP, loading nothing from elsewhere', async () => {
    const { page, problems, requested } = await openDocs();
    const operations = Object.values(buildOpenApiDocument(api.app).paths).flatMap((item) =>
      Object.keys(item),
    );

    await page.screenshot({ path: join(REPORTS_DIR, 'api-docs.png'), fullPage: true });

    expect(await page.locator('.opblock').count()).toBe(operations.length);
    expect(await page.locator('.info .title').innerText()).toContain('card-store');
    expect(problems).toEqual([]);
    expect(requested.filter((url) => !url.startsWith(`${origin}/`) && url !== 'data:,')).toEqual(
      [],
    );
    expect(requested).toEqual(expect.arrayContaining([`${origin}/openapi.json`]));
    await page.close();
  });

  it('tries GET /health out: the request goes to this origin and its answer shows', async () => {
    const { page, problems } = await openDocs();
    const health = page.locator('.opblock-get', { hasText: '/health' });

    await health.locator('.opblock-summary').click();
    await health.getByRole('button', { name: 'Try it out' }).click();
    const answered = page.waitForResponse(`${origin}/health`);
    await health.getByRole('button', { name: 'Execute' }).click();
    const response = await answered;
    const status = health.locator('.live-responses-table .response .response-col_status');
    await status.waitFor();

    expect(response.status()).toBe(200);
    expect(await status.innerText()).toBe('200');
    expect(problems).toEqual([]);
    await page.close();
  });
});
