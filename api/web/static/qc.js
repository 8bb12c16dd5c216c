// QC workbench: stored QC results by grade, department and rule; one
// record with its rule defects highlighted in place; confirm/reject each
// defect (feeds rule precision); AI content suggestions on demand.
"use strict";

const typeZH = {
  outpatient: "门诊病历", admission: "入院记录", first_course: "首次病程记录", progress: "日常病程记录",
  discharge: "出院记录", operation: "手术记录", rescue: "抢救记录",
};
const typeEN = {
  outpatient: "Outpatient", admission: "Admission", first_course: "First course", progress: "Progress",
  discharge: "Discharge", operation: "Operation", rescue: "Rescue",
};
// Section keys of package qc with their printed titles.
const sections = [
  ["chief_complaint", "主诉"], ["present_illness", "现病史"], ["past_history", "既往史"], ["personal_history", "个人史"],
  ["marital_history", "婚育史"], ["menstrual_history", "月经史"], ["family_history", "家族史"], ["allergy_history", "过敏史"],
  ["physical_exam", "体格检查"], ["specialist_exam", "专科检查"], ["auxiliary_exam", "辅助检查"],
  ["preliminary_diagnosis", "初步诊断"], ["case_features", "病例特点"], ["diagnosis_basis", "诊断依据"],
  ["differential_diagnosis", "鉴别诊断"], ["treatment_plan", "诊疗计划"], ["admission_condition", "入院情况"],
  ["admission_diagnosis", "入院诊断"], ["course", "诊疗经过"], ["discharge_diagnosis", "出院诊断"],
  ["discharge_condition", "出院情况"], ["discharge_advice", "出院医嘱"], ["preop_diagnosis", "术前诊断"],
  ["postop_diagnosis", "术后诊断"], ["operation_name", "手术名称"], ["anesthesia", "麻醉方式"],
  ["operation_procedure", "手术经过"], ["operators", "手术者及助手"], ["condition_change", "病情变化"],
  ["rescue_measures", "抢救措施"], ["rescue_participants", "参加抢救人员"], ["diagnosis", "诊断"],
  ["management", "处理意见"], ["senior_round", "上级医师查房"],
];
const sectionTitle = Object.fromEntries(sections);
const eventZH = {
  admitted_at: "入院时间", discharged_at: "出院时间", written_at: "记录完成时间", surgery_end: "手术结束时间",
  rescue_start: "抢救开始时间", rescue_end: "抢救结束时间", senior_round_at: "上级医师首次查房时间", visit_at: "就诊时间",
};

const state = { token: "", lang: "zh", results: [], current: null, rules: [] };
const en = () => state.lang === "en";

async function api(method, path, body) {
  const resp = await authFetch(state.token, method, path, body);
  if (resp.ok) return resp.json();
  let j = null;
  try { j = await resp.json(); } catch (_) { /* not JSON */ }
  const e = j && j.error;
  const err = new Error((e && (en() ? e.message : e.message_zh)) || "请求失败（" + resp.status + "）");
  err.status = resp.status;
  throw err;
}

function el(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") n.className = v; else if (k.startsWith("on")) n.addEventListener(k.slice(2), v); else n.setAttribute(k, v);
  }
  for (const k of kids) n.append(k);
  return n;
}

// Bilingual text: "中文 / English" messages are split by the current language.
function pick(s) {
  const i = (s || "").indexOf(" / ");
  if (i < 0) return s || "";
  return en() ? s.slice(i + 3) : s.slice(0, i);
}

function where(loc) {
  const s = loc.section || "";
  if (sectionTitle[s]) return en() ? s : sectionTitle[s];
  const [base, idx] = s.split("/");
  if (base === "events") return en() ? "time " + idx : (eventZH[idx] || idx);
  if (base === "progress_notes") return en() ? "progress note " + (Number(idx) + 1) : "第 " + (Number(idx) + 1) + " 条病程记录";
  if (base === "drugs") return en() ? "prescription " + (Number(idx) + 1) : "第 " + (Number(idx) + 1) + " 条用药";
  if (base === "signatures") return en() ? "signature" : "签名";
  return s || (en() ? "record" : "整份记录");
}

function relabel() {
  document.documentElement.lang = en() ? "en" : "zh-CN";
  $("lang").textContent = en() ? "中文" : "English";
  for (const n of document.querySelectorAll("[data-zh]")) n.textContent = en() ? n.dataset.en : n.dataset.zh;
}

// listSeq, rulesSeq and openSeq number the list, rule-table and record
// requests so that a slow answer to an older request never overwrites the
// answer to a newer one.
let listSeq = 0, rulesSeq = 0, openSeq = 0;

async function loadList() {
  const seq = ++listSeq;
  const q = new URLSearchParams();
  for (const [k, id] of [["grade", "f-grade"], ["department", "f-dept"], ["rule", "f-rule"]]) {
    if ($(id).value) q.set(k, $(id).value);
  }
  const j = await api("GET", "/v1/qc/results?" + q);
  if (seq !== listSeq) return;
  state.results = j.results;
  // The filter the list shows, for the page tests to wait on.
  $("results").dataset.query = String(q);
  const g = j.grades || {};
  $("counts").textContent = (en() ? `${j.total} records · ` : `共 ${j.total} 份 · `) + `甲 ${g["甲"] || 0} · 乙 ${g["乙"] || 0} · 丙 ${g["丙"] || 0}`;
  const tb = $("results").querySelector("tbody");
  tb.replaceChildren();
  for (const r of j.results) {
    const tr = el("tr", { "data-id": r.id, onclick: () => open(r.id) },
      el("td", {}, r.record_id), el("td", {}, (en() ? typeEN : typeZH)[r.type] || r.type), el("td", {}, r.department || "—"),
      el("td", {}, String(Math.round(r.score * 10) / 10)), el("td", { class: "grade g" + r.grade }, r.grade + (r.veto ? " ✕" : "")),
      el("td", {}, String(r.defects)));
    if (state.current && state.current.id === r.id) tr.classList.add("sel");
    tb.append(tr);
  }
  // Departments seen so far fill the department filter.
  const depts = new Set([...$("f-dept").options].map((o) => o.value));
  for (const r of j.results) {
    if (r.department && !depts.has(r.department)) { $("f-dept").append(el("option", { value: r.department }, r.department)); depts.add(r.department); }
  }
}

async function loadRules() {
  const seq = ++rulesSeq;
  const j = await api("GET", "/v1/qc/rules/stats");
  if (seq !== rulesSeq) return;
  state.rules = j.rules;
  const sel = $("f-rule");
  const keep = sel.value;
  sel.replaceChildren(el("option", { value: "", "data-zh": "全部规则", "data-en": "All rules" }, en() ? "All rules" : "全部规则"));
  for (const r of j.rules.filter((r) => r.findings > 0)) sel.append(el("option", { value: r.rule_id }, r.rule_id + " " + pick(r.title)));
  sel.value = keep;
  const tb = $("rules").querySelector("tbody");
  tb.replaceChildren();
  for (const r of j.rules) {
    tb.append(el("tr", { "data-rule": r.rule_id }, el("td", {}, r.rule_id), el("td", {}, pick(r.title)), el("td", { class: "en" }, r.source),
      el("td", {}, String(r.findings)), el("td", {}, String(r.confirmed)), el("td", {}, String(r.rejected)),
      el("td", { class: "precision" }, r.precision === undefined || r.precision === null ? "—" : (r.precision * 100).toFixed(0) + "%")));
  }
}

// highlight renders text with the spans of findings marked; chars are
// code points, as the service's rune offsets are.
function highlight(key, text, marks) {
  const chars = Array.from(text);
  const at = chars.map(() => []);
  for (const m of marks) {
    if (m.loc.section !== key || !(m.loc.end > m.loc.start)) continue;
    for (let i = m.loc.start; i < Math.min(m.loc.end, chars.length); i++) at[i].push(m);
  }
  const out = el("span", { class: "txt" });
  let i = 0;
  while (i < chars.length) {
    let j = i + 1;
    const ids = at[i].map((m) => m.id).join(",");
    while (j < chars.length && at[j].map((m) => m.id).join(",") === ids) j++;
    const piece = chars.slice(i, j).join("");
    if (at[i].length) {
      const kind = at[i].some((m) => !m.suggestion) ? "defect" : "suggestion";
      const mk = el("mark", { class: kind, "data-finding": ids, title: at[i].map((m) => m.rule + " " + m.title).join("\n") }, piece);
      out.append(mk);
    } else {
      out.append(piece);
    }
    i = j;
  }
  return out;
}

function marksOf(res) {
  const marks = res.findings.filter((f) => f.title !== "engine_error").map((f) => ({ id: f.id, rule: f.rule_id, title: pick(f.title), loc: f.location || {}, suggestion: false }));
  const s = res.suggestions;
  if (s) s.findings.forEach((f, i) => marks.push({ id: "s" + i, rule: f.rule_id, title: pick(f.title), loc: f.location || {}, suggestion: true }));
  return marks;
}

function renderRecord(res) {
  const rec = res.record;
  const marks = marksOf(res);
  const box = $("d-text");
  box.replaceChildren();
  const flagged = new Set(marks.map((m) => m.loc.section));
  const add = (key, title, text) => {
    const d = el("div", { class: "sec" + (flagged.has(key) ? " flag" : ""), "data-section": key }, el("b", {}, title + "："));
    d.append(text === null ? el("span", { class: "missing" }, en() ? "(missing)" : "（缺）") : highlight(key, text, marks));
    box.append(d);
  };
  const shown = new Set();
  for (const [key, title] of sections) {
    if (rec.sections && key in rec.sections) { add(key, en() ? key : title, rec.sections[key]); shown.add(key); }
    else if (flagged.has(key)) { add(key, en() ? key : title, null); shown.add(key); }
  }
  for (const [key, text] of Object.entries(rec.sections || {})) if (!shown.has(key)) add(key, key, text);
  (rec.progress_notes || []).forEach((n, i) => add("progress_notes/" + i, (en() ? "Progress note " : "病程记录 ") + (i + 1) + (n.at ? " · " + n.at.slice(0, 16).replace("T", " ") : ""), n.text));
  const ev = Object.entries(rec.events || {}).map(([k, v]) => (en() ? k : (eventZH[k] || k)) + " " + v.slice(0, 16).replace("T", " ")).join("；");
  if (ev) add("events", en() ? "Times" : "时间", ev);
  const sig = (rec.signatures || []).map((s) => s.signer + "（" + s.role + "）").join("、");
  add("signatures", en() ? "Signatures" : "签名", sig || (en() ? "none" : "无"));
  if ((rec.drugs || []).length) add("drugs", en() ? "Drugs" : "用药", rec.drugs.map((d) => d.name).join("、"));
}

function findingItem(f, reviewable) {
  const li = el("li", { "data-finding": f.id || "", "data-rule": f.rule_id },
    el("span", { class: "rid" }, f.rule_id), pick(f.title));
  if (f.veto) li.append(el("span", { class: "veto" }, en() ? "veto" : "单项否决"));
  if (f.points) li.append(el("span", { class: "en" }, "  −" + f.points));
  li.append(el("span", { class: "src" }, (en() ? "Where: " : "位置：") + where(f.location || {}) + " · " + pick(f.message)));
  for (const s of f.sources || []) {
    li.append(el("span", { class: "src" }, (s.kind === "rule" ? (en() ? "Source: " : "依据：") : (en() ? "Guideline: " : "指南：")) + (s.quote || s.id)));
  }
  li.addEventListener("mouseenter", () => document.querySelectorAll("mark").forEach((m) => m.classList.toggle("active", m.dataset.finding.split(",").includes(li.dataset.finding))));
  if (reviewable) {
    const act = el("div", { class: "act" });
    const verdict = el("span", { class: "verdict " + (f.verdict || "") }, f.verdict === "confirm" ? (en() ? "confirmed" : "已确认") : f.verdict === "reject" ? (en() ? "rejected" : "已驳回") : "");
    act.append(el("button", { type: "button", class: "confirm", onclick: () => review(f, "confirm") }, en() ? "Confirm" : "确认"),
      el("button", { type: "button", class: "reject", onclick: () => review(f, "reject") }, en() ? "Reject" : "驳回"), verdict);
    li.append(act);
  }
  return li;
}

function renderDetail() {
  const res = state.current;
  $("detail").hidden = false;
  $("d-title").textContent = res.record_id + " · " + ((en() ? typeEN : typeZH)[res.type] || res.type) + (res.department ? " · " + res.department : "");
  $("d-score").replaceChildren((en() ? "Score " : "得分 ") + Math.round(res.score * 10) / 10 + "  ", el("span", { class: "grade g" + res.grade, id: "d-grade" }, res.grade + (res.veto ? (en() ? " (veto)" : "（单项否决）") : "")));
  renderRecord(res);
  const ol = $("d-findings");
  ol.replaceChildren();
  for (const f of res.findings) ol.append(findingItem(f, f.severity !== "info" && f.title !== "engine_error"));
  const so = $("d-suggestions");
  so.replaceChildren();
  const s = res.suggestions;
  $("s-meta").textContent = s ? (s.engine === "llm" ? (en() ? "by the LLM " : "大模型 ") + (s.model || "") : (en() ? "built-in engine" : "内置引擎") + (s.fallback ? (en() ? " (LLM failed: " : "（大模型失败：") + s.fallback_reason + (en() ? ")" : "）") : "")) + (s.findings.length ? "" : (en() ? " · no suggestions" : " · 无建议")) : "";
  if (s) s.findings.forEach((f) => so.append(findingItem(f, false)));
  document.querySelectorAll("#results tbody tr").forEach((tr) => tr.classList.toggle("sel", tr.dataset.id === res.id));
}

async function open(id) {
  const seq = ++openSeq;
  try {
    const res = await api("GET", "/v1/qc/results/" + encodeURIComponent(id));
    if (seq !== openSeq) return;
    state.current = res;
    renderDetail();
  } catch (e) { if (seq === openSeq) say(e.message, "error"); }
}

async function review(f, verdict) {
  try {
    await api("POST", "/v1/qc/findings/" + encodeURIComponent(f.id) + "/review", { verdict });
    await open(state.current.id);
    await loadRules();
    say(verdict === "confirm" ? (en() ? "Defect confirmed" : "已确认缺陷") : (en() ? "Defect rejected" : "已驳回缺陷"));
  } catch (e) { say(e.message, "error"); }
}

async function suggest() {
  if (!state.current) return;
  $("suggest").disabled = true;
  say(en() ? "Reviewing…" : "正在审查…");
  try {
    await api("POST", "/v1/qc/results/" + encodeURIComponent(state.current.id) + "/suggestions");
    await open(state.current.id);
    say(en() ? "Suggestions ready" : "审查建议已生成");
  } catch (e) { say(e.message, "error"); } finally { $("suggest").disabled = false; }
}

async function loadAll() {
  try {
    await loadRules();
    await loadList();
    say(en() ? "Loaded" : "已载入");
  } catch (e) { say(e.message, "error"); }
}

function showTab(name) {
  $("view-records").hidden = name !== "records";
  $("view-rules").hidden = name !== "rules";
  $("tab-records").classList.toggle("on", name === "records");
  $("tab-rules").classList.toggle("on", name === "rules");
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.token = $("token").value.trim();
  localStorage.setItem(TOKEN_KEY, state.token);
  loadAll();
});
for (const id of ["f-grade", "f-dept", "f-rule"]) $(id).addEventListener("change", () => loadList().catch((e) => say(e.message, "error")));
$("tab-records").addEventListener("click", () => showTab("records"));
$("tab-rules").addEventListener("click", () => { showTab("rules"); loadRules().catch((e) => say(e.message, "error")); });
$("suggest").addEventListener("click", suggest);
$("lang").addEventListener("click", () => {
  state.lang = en() ? "zh" : "en";
  relabel();
  if (state.token) loadAll().then(() => state.current && renderDetail());
});
state.token = localStorage.getItem(TOKEN_KEY) || "";
if (state.token) { $("token").value = state.token; loadAll(); }
