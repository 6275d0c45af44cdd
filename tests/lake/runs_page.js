// The Runs page of the Dagster UI as a person sees it, for test_lake_concurrency.py:
// node runs_page.js BASE_URL SCREENSHOT CHROMIUM FLAGS_JSON  → JSON on stdout
const { chromium } = require('playwright-core');

const [base, screenshot, executablePath, flags] = process.argv.slice(2);

// Each link to a run's page, with the text of its row: the largest element around the link
// that links to no other run (the page's rows are not a <table>).
function runRows(links) {
  const RUN_PAGE = /^\/runs\/([0-9a-f]{8}-[0-9a-f-]{27})/;
  const runOf = (link) => (link.getAttribute('href').match(RUN_PAGE) || [])[1];
  const onlyRun = (element, run) => [...element.querySelectorAll('a[href^="/runs/"]')]
    .every((link) => [undefined, run].includes(runOf(link)));
  return links.filter(runOf).map((link) => {
    let row = link;
    while (row.parentElement && onlyRun(row.parentElement, runOf(link))) row = row.parentElement;
    return { run: runOf(link), href: link.getAttribute('href'), text: row.innerText };
  });
}

(async () => {
  const browser = await chromium.launch({ executablePath, args: JSON.parse(flags) });
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(`${base}/runs`);
  // the list is drawn once the runs query has answered (absent: the test says so)
  await page.locator('a[href^="/runs/"]').first().waitFor({ timeout: 60000 }).catch(() => {});
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: screenshot });
  const rows = await page.locator('a[href^="/runs/"]').evaluateAll(runRows);
  await browser.close();
  process.stdout.write(JSON.stringify({ rows }));
})().catch((error) => { console.error(error); process.exit(1); });
