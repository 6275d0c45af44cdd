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
  // A chart has drawn when its slice holds an ECharts canvas or the table's rows (the loading
  // indicator is an SVG, so an SVG proves nothing). No spinner is no sign either: between the
  // spinner and the drawing the slice stays empty while its plugin's code loads, seconds on a
  // busy machine. So wait until every chart has drawn or shows an error, then count.
  const count = (selector) => page.evaluate((sel) => Array.from(document.querySelectorAll('.dashboard-chart'))
    .filter((chart) => chart.querySelector(sel)).length, selector);
  const drawnSelector = '.slice_container canvas, .slice_container table tbody tr';
  const errorSelector = '.ant-alert-error, .alert-danger';
  await page.waitForSelector('.dashboard-chart', { timeout: 120000 });
  // Waited for again when the wait ends otherwise than in time (the page reloaded while the
  // dashboard settled: once, in CI, nothing was drawn 30 s in); a chart that never draws is
  // reported below, with the screenshot and what ended the wait.
  const deadline = Date.now() + 180000;
  let interrupted = '';
  for (;;) {
    try {
      await page.waitForFunction(([expected, settledSelector]) => Array.from(document.querySelectorAll('.dashboard-chart'))
        .filter((chart) => chart.querySelector(settledSelector)).length >= expected,
      [Number(charts), `${drawnSelector}, ${errorSelector}`], { timeout: Math.max(deadline - Date.now(), 1) });
      break;
    } catch (error) {
      if (error.name === 'TimeoutError' || Date.now() >= deadline) break;
      interrupted = `; the wait was interrupted: ${error.message.split('\n')[0]}`;
      await page.waitForLoadState('load').catch(() => {});
    }
  }
  await page.waitForTimeout(1000);
  await page.screenshot({ path: out, fullPage: true });
  const drawn = await count(drawnSelector);
  const errors = await count(errorSelector);
  if (drawn !== Number(charts) || errors > 0) {
    throw new Error(`${drawn} of ${charts} charts drawn, ${errors} showing an error (see ${out})${interrupted}`);
  }
  await browser.close();
})().catch((error) => { console.error(error); process.exit(1); });
