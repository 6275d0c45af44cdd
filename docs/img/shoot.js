// Browser side of make_screenshots.py:
// node shoot.js BASE_URL OUT_DIR REPORT_HTML CHROMIUM FLAGS_JSON PROVINCE_REPORT_HTML
const { chromium } = require('playwright-core');

const [base, out, report, executablePath, flags, provinceReport] = process.argv.slice(2);

async function open(page, url) {
  await page.goto(url);
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(2500);
  // an instance without the project's dagster.yaml greets a newcomer with a dialog
  const skip = page.getByRole('button', { name: 'Skip' });
  if (await skip.count()) { await skip.click(); await page.waitForTimeout(500); }
}

async function graphButton(page, icon) {
  return page.locator('button').filter({ has: page.locator(`[aria-label="${icon}"]`) }).last();
}

(async () => {
  const browser = await chromium.launch({ executablePath, args: JSON.parse(flags) });
  // tall: the graph runs from the reference tables down to the ingest
  const page = await browser.newPage({ viewport: { width: 2000, height: 3000 } });

  // the whole lineage graph, every group expanded (Dagster shortens long names at this zoom)
  await open(page, `${base}/asset-groups`);
  await page.getByText('Hide navigation').click();
  await (await graphButton(page, 'settings')).click();
  await page.getByRole('menuitem', { name: /Expand all groups/ }).click();
  await page.keyboard.press('Escape');
  await page.waitForTimeout(2000);
  // expanding keeps the zoom of the collapsed graph: zoom out until the whole graph shows
  for (let step = 0; step < 2; step += 1) {
    await (await graphButton(page, 'zoom_out')).click();
    await page.waitForTimeout(700);
  }
  await page.screenshot({ path: `${out}/lineage.png` });

  // the marts group's lineage: full names, and the tables each mart reads
  await page.setViewportSize({ width: 1800, height: 1100 });
  await open(page, `${base}/locations/dvctt_pipeline/asset-groups/marts/lineage`);
  await page.screenshot({ path: `${out}/lineage_marts.png` });

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
  // the footer names the folders of the machine that wrote the report
  await page.addStyleTag({ content: 'footer { display: none; }' });
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${out}/province_report.png`, fullPage: true });
  await browser.close();
})().catch((error) => { console.error(error); process.exit(1); });
