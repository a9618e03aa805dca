/**
 * Debian's Chromium (never a downloaded browser) through playwright-core, headless, with a
 * fresh profile and nothing that reaches for the network on its own.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Test artifacts (git-ignored): screenshots. */
export const REPORTS_DIR = resolve(__dirname, '../../reports');

/** The longest one browser step may take; tests that drive a browser allow several. */
export const BROWSER_STEP_TIMEOUT_MS = 20_000;

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  mkdirSync(REPORTS_DIR, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'card-store-chromium-'));
  // Playwright passes the profile folder as --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  // Under jest's own timeout, so that a step that never happens fails with its name
  // (which locator, which wait) instead of jest's bare "Exceeded timeout".
  context.setDefaultTimeout(BROWSER_STEP_TIMEOUT_MS);
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
