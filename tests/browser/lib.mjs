// Shared helpers for Yizhu's page tests. Each test script is run by
// internal/browsertest with BASE_URL (the server under test), SHOT_DIR
// (where screenshots go) and TOKEN_* variables (bearer tokens per role).
import { chromium } from "playwright-core";

export const baseURL = process.env.BASE_URL;
export const shotDir = process.env.SHOT_DIR;

// launch starts Debian's chromium headless with the flags this sandbox needs.
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

// check throws with msg when cond is false.
export function check(cond, msg) {
  if (!cond) throw new Error("check failed: " + msg);
}

// run executes body with a fresh page and closes the browser; a failure
// prints the error and exits 1 so the Go test fails.
export async function run(viewport, body) {
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await body(page);
    check(errors.length === 0, "page errors: " + errors.join("; "));
  } catch (e) {
    console.error(e.stack || String(e));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}
