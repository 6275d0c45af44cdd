// Browser side of setup.py --screenshot:
// node shoot_dashboard.js BASE_URL SLUG USER PASSWORD OUT_PNG CHROMIUM FLAGS_JSON CHARTS
// Fails unless CHARTS charts have drawn (a chart, or the table), none showing an error.
const { chromium } = require('playwright-core');

const [base, slug, user, password, out, executablePath, flags, charts] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({ executablePath, args: JSON.parse(flags) });
  const page = await browser.newPage({ viewport: { width: 1600, height: 1250 } });
  await page.goto(`${base}/login/`);
  await page.fill('input[name="username"], #username', user);
  await page.fill('input[name="password"], #password', password);
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 60000 });
  await page.goto(`${base}/superset/dashboard/${slug}/?standalone=1`);
  // every chart has drawn: an ECharts canvas/SVG or the table's rows, and no spinner left
  await page.waitForSelector('.dashboard-chart', { timeout: 120000 });
  await page.waitForFunction(() => document.querySelectorAll('.loading, .ant-spin-spinning').length === 0,
    null, { timeout: 120000 });
  await page.waitForTimeout(3000);
  await page.screenshot({ path: out, fullPage: true });
  const drawn = await page.evaluate(() => Array.from(document.querySelectorAll('.dashboard-chart'))
    .filter((chart) => chart.querySelector('canvas, svg, table tbody tr')).length);
  const errors = await page.locator('.dashboard-chart .ant-alert-error, .dashboard-chart .alert-danger').count();
  if (drawn !== Number(charts) || errors > 0) {
    throw new Error(`${drawn} of ${charts} charts drawn, ${errors} showing an error (see ${out})`);
  }
  await browser.close();
})().catch((error) => { console.error(error); process.exit(1); });
