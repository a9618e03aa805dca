// The weight and render time of the start page (`/`) in Chromium (Debian's, through
// playwright-core, as the browser tests use it), over the built system (`npm start` on
// free ports, a fresh data folder). LOADS loads in a fresh browser context each (cold: the
// document and its stylesheet both fetched), then LOADS in one context (warm: the
// stylesheet comes from the browser's cache, as the pages link it with its hash and it is
// `immutable`). Prints, for each, the median and p90 of
//   - ttfb: request start to the first byte of the document,
//   - fcp: the first contentful paint, from navigation start,
//   - load: the load event, from navigation start,
// and the bytes on the wire (document + stylesheet, as transferred, headers included) and
// their decoded sizes. Loopback only, bounded (2 × LOADS page loads).
// Run: npm run bench:start-page
import { chromium } from 'playwright-core';
import { startLocalSystem } from './local-system.mjs';

const LOADS = Number(process.env.LOADS ?? 10);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `median ${percentile(sorted, 50).toFixed(1)} ms, p90 ${percentile(sorted, 90).toFixed(1)} ms`;
};

/** What the page itself measured, once its load event has fired. */
const MEASURE = `(() => {
  const [navigation] = performance.getEntriesByType('navigation');
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const resources = performance.getEntriesByType('resource').map((r) => ({
    name: r.name, transfer: r.transferSize, decoded: r.decodedBodySize,
  }));
  return {
    ttfb: navigation.responseStart - navigation.requestStart,
    fcp: paint ? paint.startTime : NaN,
    load: navigation.loadEventEnd,
    document: { transfer: navigation.transferSize, decoded: navigation.decodedBodySize },
    resources,
  };
})()`;

// A fresh temporary profile of its own (Playwright's launch makes one and removes it).
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
  ],
});
const system = await startLocalSystem('start-page').catch(async (error) => {
  await browser.close();
  throw error;
});

async function load(page) {
  await page.goto(`${system.api}/`, { waitUntil: 'load' });
  // loadEventEnd is set just after the load event's handlers ran; headless Chromium may
  // paint after the load event, so wait for the paint's entry too.
  await page.waitForFunction(
    () =>
      performance.getEntriesByType('navigation')[0].loadEventEnd > 0 &&
      performance.getEntriesByName('first-contentful-paint').length > 0,
  );
  const measured = await page.evaluate(MEASURE);
  if (!(await page.getByRole('heading', { name: 'Your Digital Card Store account' }).count())) {
    throw new Error('the start page did not render');
  }
  return measured;
}

try {
  // One load to warm the server (its first render compiles the templates).
  await load(await (await browser.newContext()).newPage());
  const cold = [];
  for (let i = 0; i < LOADS; i += 1) {
    const context = await browser.newContext();
    cold.push(await load(await context.newPage()));
    await context.close();
  }
  const warm = [];
  const context = await browser.newContext();
  const page = await context.newPage();
  await load(page);
  for (let i = 0; i < LOADS; i += 1) warm.push(await load(page));
  await context.close();

  const first = cold[0];
  const stylesheet = first.resources.find((r) => r.name.includes('/assets/site.css'));
  console.log(`start page, ${LOADS} loads each, Chromium ${browser.version()}`);
  console.log(
    `  weight: document ${first.document.transfer} B on the wire (${first.document.decoded} B HTML), stylesheet ${stylesheet.transfer} B (${stylesheet.decoded} B CSS); ${first.resources.length} subresource(s), 0 scripts`,
  );
  for (const [name, runs] of [
    ['cold (new context)', cold],
    ['warm (stylesheet cached)', warm],
  ]) {
    console.log(`  ${name}:`);
    console.log(`    ttfb ${summary(runs.map((r) => r.ttfb))}`);
    console.log(`    fcp  ${summary(runs.map((r) => r.fcp))}`);
    console.log(`    load ${summary(runs.map((r) => r.load))}`);
  }
  const cachedStylesheet = warm.every((r) =>
    r.resources.every((res) => !res.name.includes('/assets/site.css') || res.transfer === 0),
  );
  console.log(`  warm loads took the stylesheet from the cache: ${cachedStylesheet}`);
} finally {
  await browser.close();
  await system.stop();
}
