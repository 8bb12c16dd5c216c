// Self-service triage kiosk (自助预检分诊). Chinese by default, English on
// the switch; every step works by touch alone. Talks to /v1/auth/kiosk
// (anonymous token) and /v1/triage/sessions (turns as JSON or one SSE
// event per answer).
"use strict";

const I18N = {
  zh: {
    title: "自助预检分诊", lang: "English",
    start_h: "您哪里不舒服？", start_hint: "请点选下面的症状（可多选），然后点“下一步”。",
    dur_h: "不舒服多久了？", age_h: "年龄", sex_h: "性别",
    about_h: "请告诉我们您的年龄和性别", about_hint: "可以不填，直接点“开始分诊”。", go: "开始分诊", back: "返回修改症状",
    type_h: "用文字补充（可不填）", type_ph: "例如：胸口痛两小时",
    next: "下一步", yes: "有 / 是", no: "没有 / 不是", unsure: "不确定", restart: "重新开始",
    result_h: "分诊结果", go_to: "请前往", done: "完成",
    esc_now: "请立即就医", esc_staff: "如身边有工作人员，请立即告诉他们，或拨打 120。", esc_done: "我已知晓",
    busy: "请稍候…", clear: "清除", qstep: (n) => "问题 " + n,
    others: "其他可选：", help_desk: "如不确定，请到导诊台咨询护士。",
    origin_llm: "本建议由智能分诊生成，并经规则核对。", origin_fb: "本建议由内置规则生成。",
    acuity: { 1: "Ⅰ级 濒危", 2: "Ⅱ级 危重", 3: "Ⅲ级 急症", 4: "Ⅳ级 非急症" },
    disclaimer: "本结果为分诊建议，不是诊断；如有不适加重请立即告诉工作人员。",
    err_net: "网络连接出现问题，请稍后再试，或到导诊台咨询。", err_expired: "会话已过期，请重新开始。",
    sex: { M: "男", F: "女" },
  },
  en: {
    title: "Self-service triage", lang: "中文",
    start_h: "What is wrong today?", start_hint: "Tap your symptoms (more than one is fine), then tap “Next”.",
    dur_h: "How long has it lasted?", age_h: "Age", sex_h: "Sex",
    about_h: "Your age and sex", about_hint: "You may skip this: tap “Start triage”.", go: "Start triage", back: "Back to symptoms",
    type_h: "Add words (optional)", type_ph: "e.g. chest pain for two hours",
    next: "Next", yes: "Yes", no: "No", unsure: "Not sure", restart: "Start again",
    result_h: "Your triage result", go_to: "Please go to", done: "Done",
    esc_now: "Get help now", esc_staff: "Tell any staff member near you at once, or call 120.", esc_done: "I understand",
    busy: "Please wait…", clear: "Clear", qstep: (n) => "Question " + n,
    others: "Other options: ", help_desk: "If unsure, please ask the nurse at the help desk.",
    origin_llm: "Suggested by the AI triage assistant and checked against the rules.", origin_fb: "Suggested by the built-in rules.",
    acuity: { 1: "Level I · Resuscitation", 2: "Level II · Emergent", 3: "Level III · Urgent", 4: "Level IV · Non-urgent" },
    disclaimer: "This is a triage suggestion, not a diagnosis. If you feel worse, tell a staff member at once.",
    err_net: "Connection problem. Please try again, or ask at the help desk.", err_expired: "The session has expired. Please start again.",
    sex: { M: "Male", F: "Female" },
  },
};

// Common complaints; phrase is what the triage engine reads (Chinese).
const SYMPTOMS = [
  ["fever", "发烧", "Fever", "发烧"], ["cough", "咳嗽", "Cough", "咳嗽"],
  ["sore_throat", "嗓子痛", "Sore throat", "嗓子痛"], ["headache", "头痛", "Headache", "头痛"],
  ["dizziness", "头晕", "Dizziness", "头晕"], ["chest_pain", "胸痛", "Chest pain", "胸痛"],
  ["palpitations", "心慌", "Palpitations", "心慌"], ["dyspnea", "喘不上气", "Short of breath", "喘不上气"],
  ["abdominal_pain", "肚子痛", "Stomach pain", "肚子痛"], ["vomiting", "呕吐", "Vomiting", "呕吐"],
  ["diarrhea", "腹泻", "Diarrhoea", "腹泻"], ["urinary", "尿痛", "Pain passing urine", "尿痛"],
  ["back_pain", "腰痛", "Back pain", "腰痛"], ["joint_pain", "关节痛", "Joint pain", "关节痛"],
  ["rash", "皮疹", "Rash", "皮疹"], ["itching", "皮肤痒", "Itchy skin", "皮肤痒"],
  ["eye", "眼睛红痛", "Eye pain", "眼睛红痛"], ["ear", "耳朵痛", "Ear pain", "耳朵痛"],
  ["tooth", "牙痛", "Toothache", "牙痛"], ["numbness", "手脚麻木", "Numb hands/feet", "手脚麻木"],
  ["sweating", "出冷汗", "Cold sweat", "出冷汗"],
].map(([id, zh, en, phrase]) => ({ id, zh, en, phrase }));

const DURATIONS = [
  ["today", "今天", "Today", "今天开始"], ["days", "1–3 天", "1–3 days", "持续3天"],
  ["week", "约一周", "About a week", "持续一周"], ["month", "一个月以上", "Over a month", "一个月以上"],
].map(([id, zh, en, phrase]) => ({ id, zh, en, phrase }));

const IDLE_RESET_MS = 120000; // back to the start after two idle minutes

const st = { lang: "zh", picked: new Set(), duration: "", age: "", sex: "", token: "", session: "", turn: null, asked: 0, rephrase: false };

function t(key) { return I18N[st.lang][key]; }

function chip(label, sub, role) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "chip";
  if (role) b.setAttribute("role", role);
  b.append(label);
  if (sub) { const s = document.createElement("small"); s.textContent = sub; b.append(s); }
  return b;
}

function renderChoices() {
  const other = st.lang === "zh" ? "en" : "zh";
  const sym = $("symptoms"); sym.replaceChildren();
  for (const s of SYMPTOMS) {
    const b = chip(s[st.lang], s[other]);
    b.dataset.symptom = s.id;
    b.setAttribute("aria-pressed", st.picked.has(s.id) ? "true" : "false");
    b.onclick = () => { st.picked.has(s.id) ? st.picked.delete(s.id) : st.picked.add(s.id); renderChoices(); };
    sym.append(b);
  }
  const dur = $("durations"); dur.replaceChildren();
  for (const d of DURATIONS) {
    const b = chip(d[st.lang], "", "radio");
    b.dataset.duration = d.id;
    b.setAttribute("aria-checked", st.duration === d.id ? "true" : "false");
    b.onclick = () => { st.duration = st.duration === d.id ? "" : d.id; renderChoices(); };
    dur.append(b);
  }
  const sx = $("sexes"); sx.replaceChildren();
  for (const code of ["F", "M"]) {
    const b = chip(t("sex")[code], "", "radio");
    b.dataset.sex = code;
    b.setAttribute("aria-checked", st.sex === code ? "true" : "false");
    b.onclick = () => { st.sex = st.sex === code ? "" : code; renderChoices(); };
    sx.append(b);
  }
  $("age").textContent = st.age || "—";
  $("next").disabled = st.picked.size === 0 && $("text").value.trim() === "";
}

function renderKeypad() {
  const kp = $("keypad"); kp.replaceChildren();
  for (const k of ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "clear"]) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.key = k;
    if (k === "clear") { b.className = "clear"; b.textContent = t("clear"); b.style.gridColumn = "span 2"; }
    else b.textContent = k;
    b.onclick = () => {
      if (k === "clear") st.age = "";
      else if (st.age.length < 3 && (st.age + k) !== "0" && Number(st.age + k) <= 120) st.age = String(Number(st.age + k));
      renderChoices();
    };
    kp.append(b);
  }
}

function applyLang() {
  document.documentElement.lang = st.lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) {
    const v = t(el.dataset.i18n);
    if (typeof v === "string") el.textContent = v;
  }
  for (const el of document.querySelectorAll("[data-i18n-ph]")) el.placeholder = t(el.dataset.i18nPh);
  $("lang").textContent = t("lang");
  renderKeypad();
  renderChoices();
  if (st.turn) show(st.turn, true);
}

function screen(name) {
  for (const s of document.querySelectorAll(".screen")) s.classList.toggle("active", s.id === "screen-" + name);
  window.scrollTo(0, 0);
}

function busy(on) { $("busy").hidden = !on; }

// visit counts restarts: an answer that comes after the kiosk went back to
// the start (the idle timer) belongs to the patient before and is dropped.
let visit = 0;

function showError(msg) {
  const e = $("error");
  e.textContent = msg || "";
  e.hidden = !msg;
}

// pick returns the Chinese or English member of a server object.
function pick(obj, base) { return obj ? (st.lang === "zh" ? obj[base + "_zh"] : obj[base + "_en"]) || obj[base + "_zh"] || "" : ""; }

// loc shows the half of a "中文 / English" location in the current language.
function loc(s) {
  if (!s) return "";
  const parts = s.split(/\s*\/\s+/);
  return parts.length === 2 ? parts[st.lang === "zh" ? 0 : 1] : s;
}

function acuityBadge(el, level) {
  el.className = "acuity l" + level;
  el.textContent = t("acuity")[level] || "";
  el.dataset.level = String(level);
}

function show(turn, relabel) {
  st.turn = turn;
  showError("");
  if (turn.kind === "question") {
    const q = turn.question;
    if (q.id === "rephrase") {
      st.rephrase = true;
      const n = $("rephrase");
      n.textContent = pick(q, "text");
      n.hidden = false;
      screen("start");
      return;
    }
    $("qstep").textContent = t("qstep")(st.asked);
    $("qtext").textContent = pick(q, "text");
    screen("question");
    return;
  }
  if (turn.kind === "escalation") {
    const e = turn.escalation;
    $("esc-name").textContent = pick(e, "name");
    $("esc-instruction").textContent = pick(e, "instruction");
    $("esc-location").textContent = loc(e.location);
    acuityBadge($("esc-acuity"), turn.acuity);
    const ul = $("esc-flags"); ul.replaceChildren();
    for (const rf of turn.red_flags || []) {
      const li = document.createElement("li");
      li.textContent = pick(rf, "title");
      ul.append(li);
    }
    screen("escalation");
    return;
  }
  const rec = turn.recommendation || { departments: [] };
  const top = rec.departments[0] || {};
  acuityBadge($("acuity"), turn.acuity);
  const dept = $("dept");
  dept.replaceChildren(st.lang === "zh" ? top.name_zh || "" : top.name_en || "");
  const sub = document.createElement("small");
  sub.textContent = st.lang === "zh" ? top.name_en || "" : top.name_zh || "";
  dept.append(sub);
  dept.dataset.code = top.code || "";
  $("location").textContent = loc(top.location);
  // Each department comes with its short reason (what it is based on).
  $("reason").textContent = pick(top, "reason");
  let note = pick(rec, "note");
  if (!note && !rec.confident && !rec.emergency) note = t("help_desk");
  $("note").textContent = note;
  $("note").hidden = !note;
  const others = $("others");
  others.replaceChildren();
  const rest = rec.departments.slice(1);
  if (rest.length) {
    const head = document.createElement("li");
    head.textContent = t("others");
    others.append(head);
  }
  for (const d of rest) {
    const li = document.createElement("li");
    li.dataset.code = d.code || "";
    li.textContent = st.lang === "zh" ? d.name_zh : d.name_en;
    const why = document.createElement("span");
    why.className = "why";
    why.textContent = pick(d, "reason");
    li.append(why);
    others.append(li);
  }
  const o = turn.origin || {};
  $("origin").textContent = o.engine === "llm" ? t("origin_llm") : t("origin_fb");
  if (!relabel) screen("result");
}

async function token() {
  if (st.token) return st.token;
  const r = await fetch("/v1/auth/kiosk", { method: "POST" });
  if (!r.ok) throw new Error("token " + r.status);
  st.token = (await r.json()).token;
  return st.token;
}

// call posts JSON and returns [status, body text]; a 401 gets a new token once.
async function call(path, body, retried) {
  const r = await authFetch(await token(), "POST", path, body, { Accept: "application/json, text/event-stream" });
  if (r.status === 401 && !retried) { st.token = ""; return call(path, body, true); }
  return [r.status, await r.text()];
}

// sseTurn reads the one event of an answer's SSE stream.
function sseTurn(text) {
  let data = "";
  for (const line of text.split("\n")) if (line.startsWith("data: ")) data += line.slice(6);
  return JSON.parse(data);
}

function errorText(status, body) {
  if (status === 404) return t("err_expired");
  try {
    const e = JSON.parse(body).error;
    return (st.lang === "zh" ? e.message_zh : e.message) || t("err_net");
  } catch { return t("err_net"); }
}

function complaintText() {
  const parts = SYMPTOMS.filter((s) => st.picked.has(s.id)).map((s) => s.phrase);
  const d = DURATIONS.find((x) => x.id === st.duration);
  if (d && parts.length) parts.push(d.phrase);
  const typed = $("text").value.trim();
  if (typed) parts.push(typed);
  return parts.join("，");
}

async function submitComplaint() {
  const v = visit;
  busy(true);
  try {
    let status, body, turn;
    if (st.rephrase && st.session) {
      [status, body] = await call("/v1/triage/sessions/" + st.session + "/messages", { question_id: "rephrase", text: complaintText() });
      if (v !== visit) return;
      if (status === 200) turn = sseTurn(body);
    } else {
      const intake = { text: complaintText() };
      if (st.age) intake.age = Number(st.age);
      if (st.sex) intake.sex = st.sex;
      [status, body] = await call("/v1/triage/sessions", intake);
      if (v !== visit) return;
      if (status === 201) { const s = JSON.parse(body); st.session = s.id; turn = s.turn; }
    }
    if (!turn) { showError(errorText(status, body)); return; }
    st.rephrase = false;
    $("rephrase").hidden = true;
    if (turn.kind === "question" && turn.question.id !== "rephrase") st.asked++;
    show(turn);
  } catch (e) {
    if (v === visit) showError(t("err_net"));
  } finally { if (v === visit) busy(false); }
}

async function answer(choice) {
  const q = st.turn && st.turn.question;
  if (!q) return;
  const v = visit;
  busy(true);
  try {
    const [status, body] = await call("/v1/triage/sessions/" + st.session + "/messages", { question_id: q.id, choice });
    if (v !== visit) return;
    if (status !== 200) { showError(errorText(status, body)); return; }
    const turn = sseTurn(body);
    if (turn.kind === "question" && turn.question.id !== "rephrase") st.asked++;
    show(turn);
  } catch (e) {
    if (v === visit) showError(t("err_net"));
  } finally { if (v === visit) busy(false); }
}

function restart() {
  visit++;
  busy(false);
  Object.assign(st, { picked: new Set(), duration: "", age: "", sex: "", session: "", turn: null, asked: 0, rephrase: false });
  $("text").value = "";
  $("rephrase").hidden = true;
  showError("");
  renderChoices();
  screen("start");
}

let idleTimer = 0;
function touched() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => { if (st.session || st.picked.size) restart(); }, IDLE_RESET_MS);
}

for (const b of document.querySelectorAll("#lang, [data-action=lang]")) b.onclick = () => { st.lang = st.lang === "zh" ? "en" : "zh"; applyLang(); };
$("next").onclick = () => { if (st.rephrase && st.session) submitComplaint(); else screen("about"); };
$("go").onclick = submitComplaint;
for (const b of document.querySelectorAll("[data-action=back]")) b.onclick = () => screen("start");
$("text").oninput = renderChoices;
for (const b of document.querySelectorAll("[data-choice]")) b.onclick = () => answer(b.dataset.choice);
for (const b of document.querySelectorAll("[data-action=restart]")) b.onclick = restart;
document.addEventListener("pointerdown", touched, true);
applyLang();
token().catch(() => showError(t("err_net")));
