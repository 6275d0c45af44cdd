// Browser side of make_screenshots.py:
// node shoot.js BASE_URL OUT_DIR REPORT_HTML CHROMIUM FLAGS_JSON PROVINCE_REPORT_HTML
const { chromium } = require('playwright-core');

const [base, out, report, provinceReport, executablePath, flags] = process.argv.slice(2);

async function open(page, url) {
  await page.goto(url);
  await page.waitForLoadState('networkidle');
  await page.locator('svg foreignObject, main').first().waitFor({ timeout: 30000 })
    .catch(() => {});
  await page.waitForTimeout(2500);
  // an instance without the project's dagster.yaml greets a newcomer with a dialog
  const skip = page.getByRole('button', { name: 'Skip' });
  if (await skip.count()) { await skip.click(); await page.waitForTimeout(500); }
}

const GROUPS = ['reference', 'ingest', 'staging', 'core', 'marts', 'serve'];

async function drawnArea(page, margin = 30) {
  // the rectangle around the graph's nodes (asset boxes, group boxes, links to other groups)
  const box = await page.locator('svg foreignObject').evaluateAll((nodes) => {
    const rects = nodes.map((node) => node.getBoundingClientRect()).filter((r) => r.width > 0);
    return { left: Math.min(...rects.map((r) => r.left)), top: Math.min(...rects.map((r) => r.top)),
             right: Math.max(...rects.map((r) => r.right)),
             bottom: Math.max(...rects.map((r) => r.bottom)) };
  });
  const x = Math.max(0, box.left - margin), y = Math.max(0, box.top - margin);
  return { x, y, width: box.right + margin - x, height: box.bottom + margin - y };
}

(async () => {
  const browser = await chromium.launch({ executablePath, args: JSON.parse(flags) });
  // so large a window that Dagster draws each group at full size, names in full; each
  // picture is cropped to the boxes drawn
  const page = await browser.newPage({ viewport: { width: 3600, height: 4400 } });
  await open(page, `${base}/asset-groups`);
  await page.getByText('Hide navigation').click();

  // the whole lineage, one box per group: how the data flows
  await open(page, `${base}/asset-groups`);
  await page.screenshot({ path: `${out}/lineage.png`, clip: await drawnArea(page) });

  // each group's lineage: its assets, and the assets of other groups it reads or feeds
  for (const group of GROUPS) {
    await open(page, `${base}/locations/dvctt_pipeline/asset-groups/${group}/lineage`);
    await page.getByText('Loading...').first().waitFor({ state: 'detached', timeout: 30000 })
      .catch(() => {});
    await page.screenshot({ path: `${out}/lineage_${group}.png`, clip: await drawnArea(page) });
  }

  // a marts table's page: its description and column docs
  await page.setViewportSize({ width: 1600, height: 1300 });
  await open(page, `${base}/assets/marts/province_rankings`);
  await page.screenshot({ path: `${out}/marts_asset.png` });

  // the monthly report's latest month in the UI: the national chart and where the report is
  await page.setViewportSize({ width: 1600, height: 1000 });
  await open(page, `${base}/assets/monthly_report?view=events`);
  await page.screenshot({ path: `${out}/monthly_report_events.png` });

  // the monthly report as an analyst opens it
  await page.setViewportSize({ width: 1100, height: 1300 });
  await page.goto(`file://${report}`);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${out}/report_chart.png` });

  // a province's report, whole: its place, its agencies against their targets, what those
  // below target still need
  await page.setViewportSize({ width: 1000, height: 1000 });
  await page.goto(`file://${provinceReport}`);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${out}/province_report.png`, fullPage: true });
  await browser.close();
})().catch((error) => { console.error(error); process.exit(1); });
