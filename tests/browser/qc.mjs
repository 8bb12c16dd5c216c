// The QC workbench: records seeded through the API (a batch scan by QC
// staff and a note signed by a doctor, scored by the sign hook) are listed
// by grade; filtering by grade, department and rule narrows the list; a
// record opens with its defects highlighted in the text; QC staff confirm
// one defect and reject another, and the rule precision table shows it;
// the AI review adds suggestions without changing the score; the English
// switch relabels the page.
import { baseURL, shotDir, run, check } from "./lib.mjs";

const qcToken = process.env.TOKEN_QC;
const doctorToken = process.env.TOKEN_DOCTOR;

async function call(method, path, token, body, contentType = "application/json") {
  const resp = await fetch(baseURL + path, {
    method, headers: { Authorization: "Bearer " + token, "Content-Type": contentType },
    body: body === undefined ? undefined : (typeof body === "string" ? body : JSON.stringify(body)),
  });
  const text = await resp.text();
  check(resp.ok, `${method} ${path}: ${resp.status} ${text}`);
  return text;
}

// Records written for this test.
const records = [
  { id: "QC-浏览器-1", type: "入院记录", department: "呼吸科", patient: { sex: "M", age_years: 63 },
    sections: { 主诉: "反复咳嗽咳痰伴发热气促加重十余天，为求进一步诊治来我院", 现病史: "患者10天前受凉后出现咳嗽，咳黄痰，伴发热，最高体温38.6℃，自服药物无好转。",
      既往史: "否认高血压、糖尿病病史。", 过敏史: "否认药物过敏史。", 体格检查: "T 38.2℃，双肺可闻及湿啰音。",
      辅助检查: "胸部CT示右下肺渗出影。", 初步诊断: "1.肺炎", 诊疗计划: "完善痰培养，予抗感染治疗。" },
    events: { admitted_at: "2026-02-01 08:00", written_at: "2026-02-01 20:00" }, signatures: [{ signer: "李明", role: "resident" }] },
  { id: "QC-浏览器-2", type: "outpatient", department: "消化科", patient: { sex: "F", age_years: 41 },
    sections: { chief_complaint: "上腹痛2天", present_illness: "患者2天前进食后出现上腹痛，呈隐痛，无呕吐。", past_history: "体健。",
      allergy_history: "否认药物过敏史。", physical_exam: "腹软，上腹轻压痛。", diagnosis: "1.慢性胃炎", management: "予抑酸治疗，门诊随诊。" },
    events: { visit_at: "2026-02-02 09:00", written_at: "2026-02-02 09:20" }, signatures: [{ signer: "王芳", role: "attending" }] },
];

await run({ width: 1440, height: 1000 }, async (page) => {
  check(qcToken && doctorToken, "TOKEN_QC and TOKEN_DOCTOR are required");
  // Seed: a batch scan (NDJSON) by QC staff …
  const lines = (await call("POST", "/v1/qc/scans", qcToken, records.map((r) => JSON.stringify(r)).join("\n") + "\n", "application/x-ndjson"))
    .trim().split("\n").map((l) => JSON.parse(l));
  check(lines.length === 2 && lines.every((l) => l.result_id), "scan lines " + JSON.stringify(lines));
  // … and a note signed by a doctor: the sign hook stores its QC result.
  const enc = JSON.parse(await call("POST", "/v1/encounters", doctorToken, { patient_id: "p-qc", kind: "inpatient", department: "心内科",
    events: { admitted_at: new Date(Date.now() - 3 * 3600e3).toISOString() } }));
  const note = JSON.parse(await call("POST", `/v1/encounters/${enc.id}/notes`, doctorToken, { type: "admission", sections: [
    { key: "chief_complaint", title: "主诉", statements: [{ text: "胸闷3天" }] },
    { key: "present_illness", title: "现病史", statements: [{ text: "患者3天前活动后出现胸闷，休息后缓解。" }] }] }));
  const signed = JSON.parse(await call("POST", `/v1/notes/${note.id}/sign`, doctorToken, { version: note.version }));
  check(signed.checks && signed.checks.qc && ["甲", "乙", "丙"].includes(signed.checks.qc.grade) && signed.checks.qc.defects > 0, "sign response checks.qc " + JSON.stringify(signed.checks));

  await page.goto(baseURL + "/qc.html");
  check(await page.getAttribute("html", "lang") === "zh-CN", "Chinese by default");
  await page.fill("#token", qcToken);
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#results tbody tr");
  check(await page.locator("#results tbody tr").count() >= 3, "three records listed");

  // Filters: grade, department, rule. The list names the filters of the
  // answer it shows (data-query); each step waits for its own answer, as
  // the rows of the one before may already look like the expected result.
  const listed = (filters) => page.waitForSelector(`#results[data-query="${new URLSearchParams(filters)}"]`, { state: "attached" });
  await page.selectOption("#f-grade", "丙");
  await listed({ grade: "丙" });
  const grades = await page.locator("#results tbody tr td:nth-child(5)").allTextContents();
  check(grades.every((g) => g.startsWith("丙")), "grade filter: " + grades.join(","));
  await page.selectOption("#f-grade", "");
  await page.selectOption("#f-dept", "呼吸科");
  await listed({ department: "呼吸科" });
  const depts = await page.locator("#results tbody tr td:nth-child(3)").allTextContents();
  check(depts.every((d) => d === "呼吸科"), "department filter: " + depts.join(","));
  check(await page.locator("#results tbody tr").count() === 1, "one record in 呼吸科");
  check((await page.textContent("#results tbody tr")).includes("QC-浏览器-1"), "department filter");
  await page.selectOption("#f-dept", "");
  await listed({});
  check(await page.locator("#results tbody tr").count() >= 3, "all records listed again");
  await page.selectOption("#f-rule", "ADM-013");
  await listed({ rule: "ADM-013" });
  check(await page.locator("#results tbody tr").count() === 1, "one record breaks ADM-013");
  check((await page.textContent("#results tbody tr")).includes("QC-浏览器-1"), "rule filter (chief complaint over 20 characters)");

  // Open the record: the over-long chief complaint is highlighted in place.
  await page.click("#results tbody tr");
  await page.waitForSelector("#detail:not([hidden]) mark.defect");
  const marked = await page.textContent("[data-section=chief_complaint] mark.defect");
  check(marked && marked.length > 0 && "反复咳嗽咳痰伴发热气促加重十余天，为求进一步诊治来我院".endsWith(marked), "highlight " + marked);
  const li = page.locator("#d-findings li[data-rule=ADM-013]");
  check((await li.textContent()).includes("《规范》第十九条"), "finding cites its source");

  // Confirm one defect, reject another: the verdicts show and feed precision.
  // Each review ends (record and rule table reloaded) with its own message.
  const said = (text) => page.waitForFunction((t) => document.getElementById("msg").textContent === t, text);
  await li.locator("button.confirm").click();
  await page.waitForFunction(() => document.querySelector("#d-findings li[data-rule=ADM-013] .verdict").textContent === "已确认");
  await said("已确认缺陷");
  const other = page.locator("#d-findings li:not([data-rule=ADM-013]) button.reject").first();
  const otherRule = await other.evaluate((b) => b.closest("li").dataset.rule);
  await other.click();
  await page.waitForFunction((r) => document.querySelector(`#d-findings li[data-rule="${r}"] .verdict`).textContent === "已驳回", otherRule);
  await said("已驳回缺陷");

  // AI content suggestions: advisory, the score stays.
  const scoreBefore = await page.textContent("#d-score");
  await page.click("#suggest");
  await page.waitForFunction(() => document.getElementById("s-meta").textContent.includes("内置引擎"));
  check(await page.textContent("#d-score") === scoreBefore, "suggestions changed the score");
  await page.screenshot({ path: shotDir + "/qc.png", fullPage: true });

  // Rule precision table.
  await page.click("#tab-rules");
  await page.waitForSelector("#rules tbody tr[data-rule=ADM-013]");
  check((await page.textContent("#rules tbody tr[data-rule=ADM-013] .precision")) === "100%", "ADM-013 precision");
  check((await page.textContent(`#rules tbody tr[data-rule="${otherRule}"] .precision`)) === "0%", otherRule + " precision");
  await page.screenshot({ path: shotDir + "/qc-rules.png" });

  // English switch.
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  check((await page.textContent("#tab-rules")) === "Rule precision", "English labels");
});
