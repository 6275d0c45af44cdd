// What a newcomer sees in the Dagster UI, for test_ui_newcomer.py to compare with GraphQL:
// node ui_look.js BASE_URL SCREENSHOT_DIR CHROMIUM FLAGS_JSON  → JSON on stdout
const { chromium } = require('playwright-core');

const [base, shots, executablePath, flags] = process.argv.slice(2);

async function open(page, path, name, shown) {
  await page.goto(`${base}${path}`);
  await page.waitForLoadState('networkidle');
  // what the page is for, once its queries have answered (absent: the test says so)
  if (shown) await page.locator(shown).first().waitFor({ timeout: 30000 }).catch(() => {});
  await page.waitForTimeout(1000);  // the graph and the tables settle after the last query
  await page.screenshot({ path: `${shots}/${name}.png` });
}

const bodyText = (page) => page.locator('body').innerText();

async function firstPage(page) {
  await open(page, '/', 'first_page');
  // the UI sends a newcomer on from "/" to its first page
  await page.waitForURL(/\/overview/, { timeout: 30000 }).catch(() => {});
  await page.waitForTimeout(1000);
  await page.screenshot({ path: `${shots}/first_page.png` });
  return { url: page.url(), dialogs: await page.getByRole('dialog').allInnerTexts(),
           text: await bodyText(page) };
}

async function timeline(page) {
  await open(page, '/overview/activity/timeline', 'timeline', '[class*="RunTimeline_runChunk_"]');
  const rows = await page.locator('[class*="RunTimeline_rowName"]').allInnerTexts();
  // the timeline draws its hour lines and its "Now" line over the run bars (the demo's run has
  // just ended, so "Now" crosses it); a person points beside a 1-pixel line, the test lets the
  // pointer through the lines so that the bar's centre is the bar
  await page.addStyleTag({ content:
    '[class*="RunTimeline_divider"], [class*="RunTimeline_timelineMarker"] { pointer-events: none; }' });
  const chunks = page.locator('[class*="RunTimeline_runChunk_"]');
  const runLinks = [];
  for (const chunk of await chunks.all()) {
    await chunk.hover();
    await page.waitForTimeout(800);
    runLinks.push(...await page.locator('a[href*="/runs/"]').evaluateAll(
      (links) => links.map((link) => link.getAttribute('href'))));
    await page.mouse.move(0, 0);
  }
  return { rows, chunks: await chunks.count(), runLinks, text: await bodyText(page) };
}

async function catalogNames(page) {
  // the asset list, tall enough that every row is drawn: each row's name as shown, which
  // links to its asset ("core / agencies" → /assets/core/agencies)
  await page.setViewportSize({ width: 1600, height: 8000 });
  await open(page, '/assets', 'catalog', 'a[href="/assets/monthly_report"]');
  const names = await page.locator('a[href^="/assets/"]').evaluateAll((links) => links
    .map((link) => [link.innerText.trim().split('\n')[0], link.getAttribute('href')])
    .filter(([text, href]) => `/assets/${text.split(' / ').join('/')}` === href)
    .map(([text]) => text));
  await page.setViewportSize({ width: 1600, height: 1000 });
  return [...new Set(names)];
}

async function graphLabels(page, group) {
  // a group's lineage graph: the label of each box drawn (full or, zoomed out, shortened)
  await open(page, `/locations/dvctt_pipeline/asset-groups/${group}/lineage`, `lineage_${group}`,
             '[class*="AssetNode"]');
  return page.locator('[class*="AssetNode_assetName"] [data-tooltip], [class*="AssetNode_minimal"]')
    .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-tooltip') || node.innerText.trim()));
}

async function checksTab(page, assetPath, name) {
  await open(page, `/assets/${assetPath}?view=checks`, name, 'text=Latest execution');
  const text = await bodyText(page);
  return { text };
}

async function reportPage(page) {
  await open(page, '/assets/monthly_report?view=events', 'monthly_report_events', 'img');
  const images = await page.locator('img').evaluateAll((imgs) => imgs.map((img) => {
    const box = img.getBoundingClientRect();
    return { alt: img.alt, naturalWidth: img.naturalWidth, width: box.width, height: box.height,
             top: box.top };
  }));
  const links = await page.locator('a').evaluateAll((anchors) => anchors.map(
    (anchor) => ({ text: anchor.innerText.trim(), href: anchor.getAttribute('href') })));
  return { images, links, text: await bodyText(page), viewportHeight: page.viewportSize().height };
}

(async () => {
  const browser = await chromium.launch({ executablePath, args: JSON.parse(flags) });
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const seen = {
    firstPage: await firstPage(page),
    timeline: await timeline(page),
    catalog: await catalogNames(page),
    graphs: {},
    checks: {
      report_rows: await checksTab(page, 'raw/report_rows', 'checks_report_rows'),
      dossiers: await checksTab(page, 'staging/dossiers', 'checks_dossiers'),
    },
    report: await reportPage(page),
  };
  for (const group of JSON.parse(process.env.UI_GROUPS || '[]')) {
    seen.graphs[group] = await graphLabels(page, group);
  }
  await browser.close();
  process.stdout.write(JSON.stringify(seen));
})().catch((error) => { console.error(error); process.exit(1); });
