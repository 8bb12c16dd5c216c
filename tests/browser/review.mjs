// The doctor review page: a draft is requested for a seeded encounter,
// hovering a statement highlights its source utterances, unsupported
// statements are marked, an inline edit is saved, a stale signature is
// refused with a clear message, and signing after a reload succeeds.
import { baseURL, shotDir, run, check } from "./lib.mjs";

const token = process.env.TOKEN_DOCTOR;
check(token, "TOKEN_DOCTOR is not set");

async function api(method, path, body) {
  const resp = await fetch(baseURL + path, {
    method,
    headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  check(resp.ok, method + " " + path + ": " + resp.status + " " + text);
  return JSON.parse(text);
}

// Seed an encounter with a short visit; the patient both denies and
// reports a drug allergy, which the draft must mark as a conflict.
const enc = await api("POST", "/v1/encounters", { patient_id: "p-review", kind: "outpatient" });
const turns = [
  ["doctor", "您好，哪里不舒服？"],
  ["patient", "我咳嗽三天了，还发烧，最高38.5度。"],
  ["doctor", "有没有胸痛？"],
  ["patient", "没有胸痛。"],
  ["doctor", "以前有什么病吗？有没有药物过敏？"],
  ["patient", "有高血压五年，一直吃氨氯地平。没有药物过敏。"],
  ["doctor", "青霉素用过吗？"],
  ["patient", "哦对，我对青霉素过敏，打过一次起皮疹。"],
  ["doctor", "听诊双肺呼吸音粗。先查个血常规，开点止咳药。"],
];
const { utterances } = await api("POST", "/v1/encounters/" + enc.id + "/utterances",
  { utterances: turns.map(([speaker, text]) => ({ speaker, text })) });
check(utterances.length === turns.length, "utterances not stored");

await run({ width: 1400, height: 900 }, async (page) => {
  await page.goto(baseURL + "/review.html?encounter=" + enc.id);
  await page.fill("#token", token);
  await page.click("#load");
  await page.waitForSelector("#dialogue li");
  check(await page.locator("#dialogue li").count() === turns.length, "dialogue not shown");

  // Draft: progress is shown and the stored draft is rendered.
  await page.selectOption("#type", "outpatient");
  await page.click("#draft");
  await page.waitForSelector("#note .st");
  await page.waitForFunction(() => document.getElementById("progress-text").dataset.stage === "done");
  check((await page.textContent("#msg")).includes("草稿已生成"), "no draft message: " + await page.textContent("#msg"));
  check((await page.textContent("#version")).includes("第 1 版"), "version 1 not shown");
  const noteID = await page.getAttribute("#note", "data-note-id");
  check(noteID, "no note id on the page");
  const h3 = await page.locator("#note h3").allTextContents();
  check(h3.includes("主诉") && h3.includes("现病史"), "sections missing: " + h3.join(","));

  // Hovering a statement highlights exactly its source utterances.
  const cited = page.locator('#note .st:not([data-sources=""])');
  check(await cited.count() > 0, "no statement has sources");
  const st = cited.first();
  const ids = (await st.getAttribute("data-sources")).split(" ");
  await st.hover();
  const lit = await page.locator("#dialogue li.hl").evaluateAll((els) => els.map((e) => e.dataset.id));
  check(lit.length > 0, "hover highlights nothing");
  check(lit.every((id) => ids.includes(id)), "highlighted " + lit + " but sources are " + ids);
  check(ids.filter((id) => id.length && utterances.some((u) => u.id === id)).every((id) => lit.includes(id)),
    "not every cited utterance is highlighted");
  await page.screenshot({ path: shotDir + "/review-hover.png" });
  await page.mouse.move(5, 5);
  check(await page.locator("#dialogue li.hl").count() === 0, "highlight stays after the mouse leaves");

  // Unsupported statements (the allergy conflict) are visibly marked.
  check(await page.locator("#note .st.unsupported").count() > 0, "no unsupported statement marked");
  check(await page.locator("#note mark.flag").first().isVisible(), "unsupported flag not visible");
  check(await page.locator("#note mark.flag.conflict").count() > 0, "allergy conflict not marked");
  check((await page.textContent("#banner")).includes("未能与来源核实"), "no unsupported banner");

  // Inline edit of the chief complaint, saved as version 2.
  const cc = page.locator('#note p[data-key="chief_complaint"] .st').first();
  await cc.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.type("咳嗽伴发热3天。");
  check(await page.isEnabled("#save"), "save not enabled after an edit");
  // The conflict is left as drafted: saving asks the doctor to confirm it.
  let asked = "";
  page.once("dialog", (d) => { asked = d.message(); d.accept(); });
  await page.click("#save");
  await page.waitForFunction(() => document.getElementById("version").dataset.version === "2");
  check(asked.includes("待核实"), "saving over an unchecked flag did not ask: " + asked);
  let note = await api("GET", "/v1/notes/" + noteID);
  check(note.version === 2, "stored version " + note.version);
  const ccText = note.sections.find((s) => s.key === "chief_complaint").statements.map((s) => s.text).join("");
  check(ccText.includes("咳嗽伴发热3天。"), "edit not stored: " + ccText);

  // Someone else saves meanwhile: signing the page's version 2 is refused.
  await api("PUT", "/v1/notes/" + noteID, {
    version: note.version,
    sections: note.sections.map((s) => ({ key: s.key, title: s.title, statements: s.statements.map((x) => ({ text: x.text, sources: x.sources })) })),
  });
  await page.click("#sign");
  await page.waitForFunction(() => document.getElementById("msg").classList.contains("error"));
  const stale = await page.textContent("#msg");
  check(stale.includes("已被修改") && stale.includes("刷新"), "stale sign message: " + stale);
  check(await page.isVisible("#reload"), "no reload button after a stale sign");
  check((await api("GET", "/v1/notes/" + noteID)).status === "draft", "stale sign was accepted");
  await page.screenshot({ path: shotDir + "/review-stale.png" });

  // Reload the latest version and sign it.
  await page.click("#reload");
  await page.waitForFunction(() => document.getElementById("version").dataset.version === "3");
  await page.click("#sign");
  await page.waitForSelector("#banner .banner.signed");
  check((await page.textContent("#msg")).includes("签名成功"), "no signed message");
  check(await page.getAttribute("#note", "data-status") === "signed", "page not in the signed state");
  check(await page.getAttribute('#note .st >> nth=0', "contenteditable") !== "true", "signed note still editable");
  check(await page.isDisabled("#sign"), "sign still enabled");
  await page.waitForSelector("#diff table");
  check((await page.textContent("#diff")).includes("主诉"), "diff table lacks the chief complaint");
  note = await api("GET", "/v1/notes/" + noteID);
  check(note.status === "signed" && note.signed_by === "test.doctor", "stored note not signed: " + note.status);
  const diff = await api("GET", "/v1/notes/" + noteID + "/diff");
  check(diff.stored && diff.distance > 0, "diff not stored: " + JSON.stringify(diff).slice(0, 200));
  await page.locator("#diff").scrollIntoViewIfNeeded();
  await page.screenshot({ path: shotDir + "/review-signed.png" });

  // Reopening the page shows the signed note with its diff.
  await page.goto(baseURL + "/review.html?encounter=" + enc.id + "&note=" + noteID);
  await page.waitForSelector("#banner .banner.signed");
  await page.waitForSelector("#diff table");
});
