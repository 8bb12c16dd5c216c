// The kiosk page on a 1080×1920 portrait screen: a routine session by touch
// alone ends with a department, location and acuity; the English switch
// relabels everything; a red-flag complaint shows the red escalation screen.
import { baseURL, shotDir, run, check } from "./lib.mjs";

await run({ width: 1080, height: 1920 }, async (page) => {
  // submit taps selector, which sends the complaint or an answer, and
  // waits for that request's answer and for the page to have shown it.
  const submit = async (selector) => {
    const answered = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname.startsWith("/v1/triage/sessions"));
    await page.click(selector);
    await answered;
    await page.waitForFunction(() => document.getElementById("busy").hidden);
  };
  const active = () => page.evaluate(() => document.querySelector(".screen.active")?.id);

  const kioskToken = page.waitForResponse((r) => new URL(r.url()).pathname === "/v1/auth/kiosk");
  await page.goto(baseURL + "/kiosk.html");
  check(await page.getAttribute("html", "lang") === "zh-CN", "Chinese by default");
  check((await page.textContent("#screen-start h1")).includes("您哪里不舒服"), "Chinese heading");
  // The page fetched an anonymous kiosk token without a keyboard or login.
  const tokenResp = await kioskToken;
  check(tokenResp.ok(), "kiosk token: " + tokenResp.status());
  await tokenResp.finished();
  check(!(await page.textContent("#error")), "error shown after the kiosk token");

  // Touch targets: every button on the start screen is at least 96 px tall
  // and symptom buttons at least 120 px; the body text is at least 30 px;
  // the start screen fits the portrait screen without scrolling.
  const sizes = await page.$$eval("#screen-start button", (bs) => bs.map((b) => b.getBoundingClientRect().height));
  check(sizes.length > 20 && Math.min(...sizes) >= 96, "small touch target: " + Math.min(...sizes));
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  check(height <= 1920, "start screen needs scrolling: " + height);
  const chip = await page.$eval("[data-symptom=cough]", (b) => b.getBoundingClientRect().height);
  check(chip >= 120, "symptom button height " + chip);
  const font = await page.$eval("body", (b) => parseFloat(getComputedStyle(b).fontSize));
  check(font >= 30, "body font " + font);

  // Routine session: cough for 1–3 days, 35, female; answer "no" to each question.
  await page.click("[data-symptom=cough]");
  await page.click("[data-duration=days]");
  await page.screenshot({ path: shotDir + "/kiosk-start.png" });
  await page.click("#next");
  check((await active()) === "screen-about", "age and sex screen");
  const keys = await page.$$eval("#screen-about button", (bs) => bs.map((b) => b.getBoundingClientRect().height));
  check(Math.min(...keys) >= 96, "small keypad target: " + Math.min(...keys));
  await page.click("[data-key='3']");
  await page.click("[data-key='5']");
  await page.click("[data-sex=F]");
  check((await page.textContent("#age")) === "35", "age keypad");
  await page.screenshot({ path: shotDir + "/kiosk-about.png" });
  await submit("#go");
  let asked = 0;
  while ((await active()) === "screen-question") {
    asked++;
    check(asked <= 6, "too many questions");
    check((await page.textContent("#qtext")).length > 2, "question text shown");
    if (asked === 1) await page.screenshot({ path: shotDir + "/kiosk-question.png" });
    await submit("[data-choice=no]");
  }
  check((await active()) === "screen-result", "routine session ends with a result, not " + (await active()));
  const code = await page.getAttribute("#dept", "data-code");
  const dept = await page.textContent("#dept");
  const where = await page.textContent("#location");
  const level = await page.getAttribute("#acuity", "data-level");
  check(/^[A-Z]{2,}/.test(code) && /^[\u4e00-\u9fff]{2,}/.test(dept), "department shown: " + code + " " + dept);
  check(where.length > 3 && /[\u4e00-\u9fff]/.test(where), "location shown: " + where);
  check(!(await page.textContent("#note")).match(/导诊台.*导诊台/), "note not repeated");
  // Every department shown comes with its short reason.
  check((await page.textContent("#reason")).startsWith("依据"), "reason for the department: " + (await page.textContent("#reason")));
  const whys = await page.locator("#others li[data-code] .why").allTextContents();
  check(whys.length >= 1 && whys.every((w) => w.startsWith("依据")), "reasons for the other departments: " + JSON.stringify(whys));
  check(level === "4" && (await page.textContent("#acuity")).includes("非急症"), "acuity IV shown");
  await page.screenshot({ path: shotDir + "/kiosk-result.png" });

  // English switch relabels the result and the page.
  await page.click("#lang");
  check(await page.getAttribute("html", "lang") === "en", "lang attribute en");
  const deptEN = await page.textContent("#dept");
  check(/^[A-Z][a-z]/.test(deptEN) && deptEN !== dept, "English department: " + deptEN);
  check((await page.textContent("#acuity")).includes("Non-urgent"), "English acuity");
  check(!/[\u4e00-\u9fff]/.test(await page.textContent("#location")), "English location");
  await page.screenshot({ path: shotDir + "/kiosk-result-en.png" });
  await page.click("#screen-result [data-action=restart]");
  check((await page.textContent("#screen-start h1")).includes("What is wrong"), "English start screen");
  check((await page.textContent("[data-symptom=chest_pain]")).startsWith("Chest pain"), "English symptom buttons");
  await page.click("#lang");
  check((await page.textContent("#screen-start h1")).includes("您哪里不舒服"), "back to Chinese");

  // Red flag: chest pain with a cold sweat, 62, male → escalation screen.
  await page.click("[data-symptom=chest_pain]");
  await page.click("[data-symptom=sweating]");
  await page.click("[data-duration=today]");
  await page.click("#next");
  for (const k of ["6", "2"]) await page.click(`[data-key='${k}']`);
  await page.click("[data-sex=M]");
  await submit("#go");
  check((await active()) === "screen-escalation", "red flag shows the escalation screen, not " + (await active()));
  const bg = await page.$eval("#screen-escalation", (e) => getComputedStyle(e).backgroundColor);
  check(bg === "rgb(176, 0, 32)", "escalation screen is red: " + bg);
  check((await page.textContent("#esc-name")).includes("胸痛中心"), "chest pain centre named");
  check((await page.textContent("#esc-instruction")).length > 10, "instructions shown");
  const escLoc = await page.textContent("#esc-location");
  check(escLoc.length > 3 && !/[A-Za-z]{4}/.test(escLoc), "Chinese location only: " + escLoc);
  check((await page.getAttribute("#esc-acuity", "data-level")) === "2", "acuity II");
  const box = await page.$eval("#screen-escalation", (e) => e.getBoundingClientRect());
  check(box.width >= 1080 && box.height >= 1900, "escalation fills the screen");
  await page.screenshot({ path: shotDir + "/kiosk-escalation.png" });
  await page.click("#screen-escalation [data-action=lang]");
  check((await page.textContent("#esc-name")).includes("Chest Pain Centre"), "English escalation");
  check(!/[\u4e00-\u9fff]/.test(await page.textContent("#esc-instruction")), "English instructions");
  await page.screenshot({ path: shotDir + "/kiosk-escalation-en.png" });
  await page.click("#screen-escalation [data-action=restart]");
  check((await active()) === "screen-start", "restart after escalation");

  // Not understood → polite rephrase request on the start screen.
  await page.click("#lang");
  await page.click(".typing summary");
  await page.fill("#text", "😀😀😀");
  await page.click("#next");
  await submit("#go");
  check((await active()) === "screen-start" && !(await page.isHidden("#rephrase")), "rephrase request shown");
  check((await page.textContent("#rephrase")).includes("抱歉"), "polite rephrase text");
  await page.fill("#text", "");
  await page.click("[data-symptom=headache]");
  await submit("#next");
  const after = await active();
  check(after === "screen-question" || after === "screen-result", "rephrased session continues: " + after);
});
