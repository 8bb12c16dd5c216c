// Doctor review page: loads an encounter's dialogue, drafts a note with the
// scribe agent (SSE), shows each statement's sources on hover, lets the
// doctor edit statements inline, save (optimistic locking) and sign.
"use strict";

const stageZH = {
  validate: "校验输入", extract: "提取对话要点", llm: "大模型撰写", fallback: "大模型不可用，改用内置引擎",
  section: "撰写段落", verify: "逐条核对来源", save: "保存草稿", done: "完成",
};
const speakerZH = { patient: "患者", doctor: "医生", companion: "家属", other: "其他" };
const typeZH = {
  outpatient: "门诊病历", admission: "入院记录", first_course: "首次病程记录", progress: "日常病程记录",
  discharge: "出院记录", operation: "手术记录", rescue: "抢救记录",
};

const state = {
  token: "", encounter: "", note: null, problems: [], data: [], dirty: false, busy: false,
};

// viewSeq counts the loads of an encounter or note. Every request that
// renders notes its value when it starts and renders nothing when a newer
// load has come since, so a slow answer about an older encounter or note
// never replaces the one on the page.
let viewSeq = 0;

// api calls the service with the doctor's token; it throws an Error whose
// message is the service's Chinese message, with .status and .body.
async function api(method, path, body) {
  const resp = await authFetch(state.token, method, path, body);
  if (resp.ok) {
    const ct = resp.headers.get("Content-Type") || "";
    return ct.includes("json") ? resp.json() : resp.text();
  }
  throw await apiError(resp);
}

async function apiError(resp) {
  let body = null;
  try { body = await resp.json(); } catch (_) { /* not JSON */ }
  let msg = (body && body.error && body.error.message_zh) || "请求失败（" + resp.status + "）";
  if (resp.status === 401) msg = "令牌无效或已过期，请重新粘贴医师令牌";
  if (resp.status === 403) msg = "当前令牌没有医师权限";
  const fields = body && body.error && body.error.fields;
  if (resp.status !== 409 && fields && fields.length) {
    msg += "：" + fields.map((f) => f.field + " " + f.reason_zh).join("；");
  }
  const err = new Error(msg);
  err.status = resp.status;
  err.body = body;
  return err;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// --- dialogue and data -----------------------------------------------------

function renderDialogue(us) {
  const ol = $("dialogue");
  ol.replaceChildren();
  for (const u of us) {
    const li = el("li", u.speaker);
    li.id = "u-" + u.id;
    li.dataset.id = u.id;
    li.append(el("span", "seq", "#" + u.seq), el("span", "who", speakerZH[u.speaker] || u.speaker), document.createTextNode(u.text));
    ol.append(li);
  }
  $("turns").textContent = us.length ? "共 " + us.length + " 轮" : "暂无对话";
}

// renderData lists the attached results and, when the draft read one,
// the triage pre-consultation summary (cited as "triage-summary").
function renderData(items, summary) {
  state.data = (items || []).slice();
  if (summary) {
    const text = [summary.chief_complaint_zh, summary.patient_text].filter(Boolean).join("；");
    state.data.unshift({ id: "triage-summary", name: "预检分诊摘要", kind: "triage", text: text || "（无）" });
  }
  const ul = $("data");
  ul.replaceChildren();
  for (const d of state.data) {
    const li = el("li");
    li.id = "d-" + d.id;
    li.dataset.id = d.id;
    li.append(el("b", "", (d.name || d.kind) + "："), document.createTextNode(d.text));
    ul.append(li);
  }
  $("data-box").hidden = state.data.length === 0;
}

function sourceNodes(sources) {
  const out = [];
  for (const s of sources || []) {
    const node = document.getElementById((s.kind === "utterance" ? "u-" : "d-") + s.id);
    if (node) out.push(node);
  }
  return out;
}

function highlight(span, on) {
  span.classList.toggle("active", on);
  const nodes = sourceNodes(span._sources);
  for (const n of nodes) n.classList.toggle("hl", on);
  if (on && nodes.length) nodes[0].scrollIntoView({ block: "nearest", behavior: "smooth" });
}

// --- the note --------------------------------------------------------------

function problemFor(key, index) {
  return state.problems.find((p) => p.section === key && p.index === index);
}

function renderNote() {
  const n = state.note;
  const art = $("note");
  art.replaceChildren();
  const banner = $("banner");
  banner.replaceChildren();
  if (!n) {
    art.append(el("p", "empty", "加载就诊后，可生成或打开病历草稿。"));
    $("actions").hidden = true;
    return;
  }
  const signed = n.status === "signed";
  art.classList.toggle("signed", signed);
  art.dataset.noteId = n.id;
  art.dataset.status = n.status;
  const h = el("h2", "", typeZH[n.type] || n.type);
  h.append(el("span", "en", signed ? " · 已签名" : " · 草稿"));
  art.append(h);
  let unsupported = 0;
  for (const sec of n.sections) {
    const h3 = el("h3", "", sec.title);
    h3.dataset.key = sec.key;
    const p = el("p");
    p.dataset.key = sec.key;
    sec.statements.forEach((st, i) => {
      const span = el("span", "st", st.text);
      span._sources = st.sources || [];
      span._orig = st.text;
      span.dataset.sources = span._sources.map((s) => s.id).join(" ");
      span.tabIndex = 0;
      if (!signed) span.contentEditable = "true";
      const prob = problemFor(sec.key, i);
      if (st.unsupported) {
        unsupported++;
        span.classList.add("unsupported");
        const conflict = (st.reason || "").startsWith("conflict");
        const flag = el("mark", conflict ? "flag conflict" : "flag", conflict ? "矛盾" : "待核实");
        flag.title = (prob && prob.detail_zh) || st.reason || "未能与来源核对";
        flag.contentEditable = "false";
        p.append(span, flag);
      } else {
        p.append(span);
      }
      if (span._sources.length) {
        const c = el("span", "src-count", "[" + span._sources.length + "]");
        c.title = "来源：" + span._sources.map((s) => (s.kind === "utterance" ? "对话 " : "结果 ") + s.id).join("，");
        p.append(c);
      }
      span.addEventListener("mouseenter", () => highlight(span, true));
      span.addEventListener("mouseleave", () => highlight(span, false));
      span.addEventListener("focus", () => highlight(span, true));
      span.addEventListener("blur", () => highlight(span, false));
      span.addEventListener("input", () => {
        span.classList.toggle("edited", span.textContent !== span._orig);
        setDirty(true);
      });
    });
    if (sec.statements.length === 0) p.append(el("span", "empty", "（未提及）"));
    art.append(h3, p);
  }
  if (signed) {
    banner.append(el("div", "banner signed", "已签名 · 签名医师 " + n.signed_by + " · " + new Date(n.signed_at).toLocaleString("zh-CN")));
  }
  if (n.fallback) {
    banner.append(el("div", "banner fallback", "大模型调用失败（" + (n.fallback_reason || "未知原因") + "），本草稿由内置引擎生成。"));
  }
  if (unsupported > 0 && !signed) {
    banner.append(el("div", "banner problems", "有 " + unsupported + " 条陈述未能与来源核实（红色波浪线标出），请核对后修改或删除。"));
  }
  $("actions").hidden = false;
  $("version").textContent = "第 " + n.version + " 版 · " + (n.author || "");
  $("version").dataset.version = n.version;
  $("sign").disabled = signed;
  setDirty(false);
}

function setDirty(d) {
  state.dirty = d;
  const signed = state.note && state.note.status === "signed";
  $("save").disabled = !d || signed || state.busy;
}

// sectionsFromPage reads the edited statements back; emptied statements
// are dropped, sources of kept statements travel with them.
function sectionsFromPage() {
  const out = [];
  for (const sec of state.note.sections) {
    const p = $("note").querySelector('p[data-key="' + CSS.escape(sec.key) + '"]');
    const sts = [];
    for (const span of p ? p.querySelectorAll(".st") : []) {
      const text = span.textContent.replace(/\s+/g, " ").trim();
      if (text) sts.push({ text, sources: span._sources.length ? span._sources : undefined });
    }
    out.push({ key: sec.key, title: sec.title, statements: sts });
  }
  return out;
}

// --- actions -----------------------------------------------------------------

async function load(ev) {
  if (ev) ev.preventDefault();
  state.token = $("token").value.trim();
  state.encounter = $("encounter").value.trim();
  if (!state.token || !state.encounter) return;
  sessionStorage.setItem(TOKEN_KEY, state.token);
  const url = new URL(location.href);
  url.searchParams.set("encounter", state.encounter);
  history.replaceState(null, "", url);
  const seq = ++viewSeq;
  say("加载中…");
  $("reload").hidden = true;
  try {
    const [us, notes] = await Promise.all([
      api("GET", "/v1/encounters/" + encodeURIComponent(state.encounter) + "/utterances"),
      api("GET", "/v1/encounters/" + encodeURIComponent(state.encounter) + "/notes"),
    ]);
    if (seq !== viewSeq) return;
    renderDialogue(us.utterances);
    $("who").textContent = "已登录";
    $("draft").disabled = false;
    const want = url.searchParams.get("note");
    const ns = notes.notes || [];
    const pick = ns.find((n) => n.id === want) || ns[ns.length - 1];
    if (pick) {
      if (!(await openNote(pick, seq))) return;
    } else {
      state.note = null;
      renderData([]);
      renderNote();
    }
    say(pick ? "已打开" + (typeZH[pick.type] || "病历") + "（第 " + pick.version + " 版）" : "已加载对话，可生成草稿", "ok");
  } catch (e) {
    if (seq === viewSeq) say(e.message, "error");
  }
}

// openNote shows note n for the load numbered seq; it returns false, and
// shows nothing, when a newer load has come meanwhile.
async function openNote(n, seq) {
  let data = [], summary = null, problems = [];
  try {
    const info = await api("GET", "/v1/notes/" + encodeURIComponent(n.id) + "/draft");
    data = info.data || [];
    summary = info.summary || null;
    if (n.version === 1) problems = info.problems || [];
  } catch (e) {
    if (e.status !== 404) throw e;
  }
  if (seq !== viewSeq) return false;
  state.note = n;
  state.problems = problems;
  renderData(data, summary);
  renderNote();
  $("diff").hidden = true;
  if (n.status === "signed") await showDiff(seq);
  return seq === viewSeq;
}

function progress(p) {
  const box = $("progress");
  box.hidden = false;
  let text = stageZH[p.stage] || p.stage;
  if (p.section) text += " · " + p.section;
  if (p.total) text += "（" + p.done + "/" + p.total + "）";
  $("progress-text").textContent = text;
  $("progress-text").dataset.stage = p.stage;
  const order = ["validate", "extract", "llm", "fallback", "section", "verify", "save", "done"];
  let frac = (order.indexOf(p.stage) + 1) / order.length;
  if (p.stage === "section" && p.total) frac = (4 + p.done / p.total) / order.length;
  box.querySelector(".bar-fill").style.width = Math.round(Math.min(1, frac) * 100) + "%";
}

// draft asks for a new draft and reads the SSE stream of the response.
async function draft() {
  const body = { type: $("type").value };
  if ($("lang").value) body.language = $("lang").value;
  if ($("triage").value.trim()) body.triage_session_id = $("triage").value.trim();
  const seq = viewSeq;
  state.busy = true;
  $("draft").disabled = true;
  say("正在生成草稿…");
  try {
    const resp = await authFetch(state.token, "POST", "/v1/encounters/" + encodeURIComponent(state.encounter) + "/drafts", body,
      { Accept: "text/event-stream" });
    if (!resp.ok) throw await apiError(resp);
    const reader = resp.body.getReader();
    const dec = new TextDecoder();
    let buf = "", done = false;
    while (!done) {
      const chunk = await reader.read();
      if (chunk.done) break;
      buf += dec.decode(chunk.value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let event = "message", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        const v = data ? JSON.parse(data) : null;
        // Another encounter or note loaded meanwhile: this draft is saved
        // but no longer shown.
        if (seq !== viewSeq) { if (event === "draft" || event === "error") done = true; continue; }
        if (event === "progress") progress(v);
        else if (event === "error") throw new Error((v && v.error && v.error.message_zh) || "草稿生成失败");
        else if (event === "draft") {
          progress({ stage: "done" });
          state.note = v.note;
          state.problems = v.problems || [];
          renderData(v.data || [], v.summary);
          renderNote();
          $("diff").hidden = true;
          done = true;
          say("草稿已生成并保存（第 " + v.note.version + " 版），请逐条审核", "ok");
          const url = new URL(location.href);
          url.searchParams.set("note", v.note.id);
          history.replaceState(null, "", url);
        }
      }
    }
    if (!done) throw new Error("连接中断，草稿未完成");
  } catch (e) {
    if (seq === viewSeq) say(e.message, "error");
  } finally {
    state.busy = false;
    $("draft").disabled = false;
    setDirty(state.dirty);
  }
}

// uncheckedFlags counts unsupported statements the doctor left as drafted:
// once saved, the doctor's version carries no machine flags, so saving
// them is taking responsibility for them.
function uncheckedFlags() {
  let n = 0;
  for (const span of $("note").querySelectorAll(".st.unsupported")) {
    if (span.textContent === span._orig) n++;
  }
  return n;
}

async function save() {
  if (!state.note || !state.dirty) return true;
  const left = uncheckedFlags();
  if (left > 0 && !confirm("还有 " + left + " 条标为“待核实/矛盾”的陈述未修改。保存后视为您已核实这些内容，确定保存吗？")) {
    say("未保存：请先核实或修改标记的陈述", "error");
    return false;
  }
  const seq = viewSeq;
  state.busy = true;
  setDirty(state.dirty);
  try {
    const n = await api("PUT", "/v1/notes/" + encodeURIComponent(state.note.id),
      { version: state.note.version, sections: sectionsFromPage() });
    if (seq !== viewSeq) return false;
    state.note = n;
    state.problems = [];
    renderNote();
    say("已保存为第 " + n.version + " 版", "ok");
    return true;
  } catch (e) {
    if (seq === viewSeq) staleOr(e);
    return false;
  } finally {
    state.busy = false;
    setDirty(state.dirty);
  }
}

function staleOr(e) {
  say(e.message, "error");
  if (e.status === 409) $("reload").hidden = false;
}

// sign saves pending edits and signs the note. The button stays disabled
// from the first click on, so a second click cannot send a second save
// of the same version (which the service would refuse as stale).
async function sign() {
  if (!state.note) return;
  const seq = viewSeq;
  $("sign").disabled = true;
  if (state.dirty && !(await save())) {
    if (seq === viewSeq) $("sign").disabled = false;
    return;
  }
  $("sign").disabled = true;
  try {
    const r = await api("POST", "/v1/notes/" + encodeURIComponent(state.note.id) + "/sign", { version: state.note.version });
    if (seq !== viewSeq) return;
    const checks = r.checks || {};
    delete r.checks;
    state.note = r;
    renderNote();
    say("签名成功，病历已生效", "ok");
    if (checks.scribe) renderDiff(checks.scribe); else await showDiff(seq);
  } catch (e) {
    if (seq !== viewSeq) return;
    $("sign").disabled = false;
    staleOr(e);
  }
}

async function reloadNote() {
  if (!state.note) return load();
  const seq = ++viewSeq;
  try {
    const n = await api("GET", "/v1/notes/" + encodeURIComponent(state.note.id));
    if (seq !== viewSeq || !(await openNote(n, seq))) return;
    $("reload").hidden = true;
    say("已加载最新版本（第 " + n.version + " 版），请重新审阅", "ok");
  } catch (e) {
    if (seq === viewSeq) say(e.message, "error");
  }
}

// showDiff shows the note's edit distance unless a newer load than seq
// has come meanwhile.
async function showDiff(seq) {
  try {
    const d = await api("GET", "/v1/notes/" + encodeURIComponent(state.note.id) + "/diff");
    if (seq === viewSeq) renderDiff(d);
  } catch (e) {
    if (e.status !== 404 && seq === viewSeq) say(e.message, "error");
  }
}

function renderDiff(d) {
  const box = $("diff");
  box.replaceChildren();
  const pct = (x) => Math.round((x || 0) * 100) + "%";
  box.append(el("h3", "", "AI 草稿修改量 " + (d.signed ? "（签名时）" : "（当前）")));
  box.append(el("p", "", "共修改 " + d.distance + " 字，占 " + pct(d.ratio) + "；" + d.unchanged + "/" + d.sections.length + " 段未改动。"));
  const t = el("table");
  const head = el("tr");
  for (const h of ["段落", "草稿字数", "终稿字数", "编辑距离", "修改比例"]) head.append(el("th", "", h));
  t.append(head);
  for (const s of d.sections) {
    const tr = el("tr");
    tr.append(el("td", "", s.title), el("td", "num", s.draft_len), el("td", "num", s.signed_len), el("td", "num", s.distance), el("td", "num", pct(s.ratio)));
    t.append(tr);
  }
  box.append(t);
  box.hidden = false;
}

async function exportNote(kind) {
  const n = state.note; // the file is named after the note asked for
  if (!n) return;
  const path = "/v1/notes/" + encodeURIComponent(n.id) + (kind === "fhir" ? "/fhir" : "/export?format=md");
  try {
    const resp = await authFetch(state.token, "GET", path);
    if (!resp.ok) throw await apiError(resp);
    const blob = await resp.blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "note-" + n.id + "-v" + n.version + (kind === "fhir" ? ".fhir.json" : ".md");
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  } catch (e) {
    say(e.message, "error");
  }
}

$("setup").addEventListener("submit", load);
$("draft").addEventListener("click", draft);
$("save").addEventListener("click", save);
$("sign").addEventListener("click", sign);
$("reload").addEventListener("click", reloadNote);
$("export-md").addEventListener("click", () => exportNote("md"));
$("export-fhir").addEventListener("click", () => exportNote("fhir"));
window.addEventListener("beforeunload", (e) => { if (state.dirty) e.preventDefault(); });

// Start: the token from this tab's session, the encounter from the URL.
{
  const params = new URLSearchParams(location.search);
  $("token").value = sessionStorage.getItem(TOKEN_KEY) || "";
  $("encounter").value = params.get("encounter") || "";
  if ($("token").value && $("encounter").value) load();
}
