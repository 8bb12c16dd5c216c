// The start page loads, reports the service ready and lists its checks.
import { baseURL, shotDir, run, check } from "./lib.mjs";

await run({ width: 1280, height: 800 }, async (page) => {
  await page.goto(baseURL + "/");
  await page.waitForSelector("#checks tbody tr");
  const status = await page.textContent("#status");
  check(status.includes("ready"), "status pill says " + status);
  const rows = await page.locator("#checks tbody tr").count();
  check(rows >= 1, "no readiness rows");
  // Every page that exists gets a card on the start page.
  await page.waitForSelector("#pages a.card");
  const cards = await page.locator("#pages a.card").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  for (const want of ["/kiosk.html", "/review.html", "/qc.html", "/ecg.html"]) {
    check(cards.includes(want), "start page lacks a card for " + want + ": " + cards.join(", "));
  }
  await page.screenshot({ path: shotDir + "/index.png" });
});
