// ECG monitor: the live waveform of every stream the service analyses
// (server-sent events from /v1/ecg/monitor) with beat marks, heart rate,
// rhythm and signal quality, and the critical-alert list (/v1/alerts and
// /v1/alerts/stream) with acknowledgement. All text from the service is
// set with textContent, never as HTML.
"use strict";

const WINDOW_S = 10; // seconds of signal on screen
const state = { token: "", streams: new Map(), alerts: new Map(), mon: null, al: null };
const LABEL_COLOUR = { N: "#455a64", V: "#c62828", S: "#d97000", Q: "#9e9e9e" };
const RHYTHM_ZH = {
  sinus: "窦性心律", sinus_bradycardia: "窦性心动过缓", sinus_tachycardia: "窦性心动过速",
  atrial_fibrillation: "心房颤动/扑动", ventricular_tachycardia: "室性心动过速",
  ventricular_fibrillation: "心室颤动/扑动", asystole: "心脏停搏", bigeminy: "二联律",
  trigeminy: "三联律", unreadable: "信号不可读",
};

// api calls the service with the token; it throws an Error carrying the
// service's bilingual message.
async function api(method, path, body) {
  const resp = await authFetch(state.token, method, path, body);
  const text = await resp.text();
  let json = null;
  try { json = JSON.parse(text); } catch (_) { /* not JSON */ }
  if (!resp.ok) {
    const e = json && json.error;
    throw new Error(e ? e.message_zh + " / " + e.message : resp.status + " " + resp.statusText);
  }
  return json;
}

function fmtTime(iso) {
  const d = new Date(iso);
  return isNaN(d) ? "" : d.toLocaleTimeString("zh-CN", { hour12: false });
}

// ---- streams ----

function streamView(id, info) {
  let s = state.streams.get(id);
  if (s) return s;
  const el = $("stream-tpl").content.firstElementChild.cloneNode(true);
  el.dataset.id = id;
  el.querySelector(".sid").textContent = id;
  s = { id, el, canvas: el.querySelector("canvas"), rate: 0, pts: [], beats: [], dirty: true, ended: false };
  if (info) updateInfo(s, info);
  $("streams").appendChild(el);
  state.streams.set(id, s);
  countStreams();
  return s;
}

function updateInfo(s, info) {
  if (info.rate_hz) s.rate = info.rate_hz;
  if (info.lead) s.el.querySelector(".lead").textContent = "导联 Lead " + info.lead;
  if (info.hr_bpm) s.el.querySelector(".hr").textContent = Math.round(info.hr_bpm) + " /min";
  if (info.rhythm) setRhythm(s, info.rhythm);
}

function setRhythm(s, r) {
  s.el.querySelector(".rhythm").textContent = (RHYTHM_ZH[r] || r) + " " + r;
}

function countStreams() {
  const n = [...state.streams.values()].filter((s) => !s.ended).length;
  $("nstreams").textContent = String(n);
  $("nostreams").hidden = state.streams.size > 0;
}

function onMonitor(type, ev) {
  if (type === "streams") {
    for (const st of ev.streams || []) streamView(st.id, { rate_hz: st.rate_hz, hr_bpm: st.hr_bpm, rhythm: st.rhythm });
    return;
  }
  const s = streamView(ev.stream_id);
  switch (type) {
    case "started":
      s.ended = false;
      s.el.classList.remove("ended");
      updateInfo(s, ev);
      break;
    case "samples": {
      if (!s.rate) s.rate = ev.source_rate_hz;
      if (!s.rate) break; // the stream's rate is needed to place samples and beats
      const t0 = (ev.sample || 0) / s.rate;
      ev.data.forEach((v, i) => s.pts.push([t0 + i / ev.rate_hz, v]));
      s.el.querySelector(".lead").textContent = "导联 Lead " + ev.lead;
      trim(s);
      break;
    }
    case "beats":
      if (!s.rate) break;
      for (const b of ev.beats) s.beats.push([b.sample / s.rate, b.label]);
      if (ev.hr_bpm) s.el.querySelector(".hr").textContent = Math.round(ev.hr_bpm) + " /min";
      trim(s);
      break;
    case "rhythm":
      setRhythm(s, ev.rhythm);
      break;
    case "quality": {
      const q = s.el.querySelector(".quality");
      q.textContent = ev.quality === "good" ? "" : "信号质量 " + (ev.lead || "") + " " + ev.quality;
      q.classList.toggle("bad", ev.quality !== "good");
      break;
    }
    case "alert":
      s.el.classList.add("critical");
      break;
    case "ended":
      s.ended = true;
      s.el.classList.add("ended");
      s.el.querySelector(".rhythm").textContent += " · 已结束 ended";
      countStreams();
      break;
  }
  s.dirty = true;
}

// trim keeps a little more than the window on screen.
function trim(s) {
  if (!s.pts.length) return;
  const from = s.pts[s.pts.length - 1][0] - WINDOW_S - 1;
  while (s.pts.length && s.pts[0][0] < from) s.pts.shift();
  while (s.beats.length && s.beats[0][0] < from) s.beats.shift();
}

function draw(s) {
  const c = s.canvas, g = c.getContext("2d");
  const W = c.width, H = c.height, mv = H / 4; // 4 mV tall
  g.clearRect(0, 0, W, H);
  g.strokeStyle = "#f4c7c7";
  g.lineWidth = 0.5;
  g.beginPath();
  for (let i = 0; i <= WINDOW_S * 5; i++) { const x = (i / (WINDOW_S * 5)) * W; g.moveTo(x, 0); g.lineTo(x, H); }
  for (let v = -2; v <= 2; v += 0.5) { const y = H / 2 - v * mv; g.moveTo(0, y); g.lineTo(W, y); }
  g.stroke();
  let shown = 0;
  if (s.pts.length) {
    const tEnd = s.pts[s.pts.length - 1][0], tStart = tEnd - WINDOW_S;
    const x = (t) => ((t - tStart) / WINDOW_S) * W;
    const y = (v) => H / 2 + 10 - Math.max(-1.9, Math.min(1.9, v)) * mv;
    g.strokeStyle = "#111";
    g.lineWidth = 1.2;
    g.beginPath();
    let first = true;
    for (const [t, v] of s.pts) {
      if (t < tStart) continue;
      if (first) { g.moveTo(x(t), y(v)); first = false; } else g.lineTo(x(t), y(v));
    }
    g.stroke();
    g.font = "bold 12px sans-serif";
    g.textAlign = "center";
    for (const [t, label] of s.beats) {
      if (t < tStart || t > tEnd) continue;
      shown++;
      g.fillStyle = g.strokeStyle = LABEL_COLOUR[label] || "#9e9e9e";
      g.beginPath();
      g.moveTo(x(t), 14);
      g.lineTo(x(t), 24);
      g.stroke();
      g.fillText(label, x(t), 11);
    }
  }
  c.dataset.beats = String(shown);
  c.dataset.points = String(s.pts.length);
}

function frame() {
  for (const s of state.streams.values()) {
    if (s.dirty) { s.dirty = false; draw(s); }
  }
  requestAnimationFrame(frame);
}

// ---- alerts ----

function renderAlert(a) {
  let li = state.alerts.get(a.id);
  const isNew = !li;
  // An acknowledgement is never undone: an alert without one comes from a
  // list fetched before it and must not turn the item back to unacknowledged.
  if (!isNew && li.classList.contains("is-acked") && !a.acked_by) return;
  if (isNew) {
    li = $("alert-tpl").content.firstElementChild.cloneNode(true);
    li.dataset.id = a.id;
    li.querySelector(".ack").addEventListener("click", () => ack(a.id, li));
    state.alerts.set(a.id, li);
    $("alerts").prepend(li);
  }
  li.querySelector(".title").textContent = a.title;
  li.querySelector(".meta").textContent = a.subject + " · " + fmtTime(a.raised_at) +
    " · " + a.start_s + "–" + a.end_s + " s";
  const vals = Object.entries(a.values || {}).map(([k, v]) => k + " " + v).join(", ");
  li.querySelector(".evidence").textContent = [(a.leads || []).join(" "), vals, a.source].filter(Boolean).join(" · ");
  const acked = !!a.acked_by;
  li.classList.toggle("is-acked", acked);
  li.querySelector(".acked").textContent = acked ? "已确认 Acknowledged · " + a.acked_by + " " + fmtTime(a.acked_at) : "";
  $("nalerts").textContent = String([...state.alerts.values()].filter((x) => !x.classList.contains("is-acked")).length);
}

async function ack(id, li) {
  const b = li.querySelector(".ack");
  b.disabled = true;
  try {
    renderAlert(await api("POST", "/v1/alerts/" + encodeURIComponent(id) + "/ack"));
    say("已确认 " + id);
  } catch (e) {
    say("确认失败 " + e.message, "error");
  } finally {
    b.disabled = false;
  }
}

async function loadAlerts() {
  const { alerts } = await api("GET", "/v1/alerts?limit=50");
  for (const a of alerts.slice().reverse()) renderAlert(a);
}

// ---- connection ----

function listen(path, handlers, onopen) {
  const es = new EventSource(path + "?access_token=" + encodeURIComponent(state.token));
  for (const [name, fn] of Object.entries(handlers)) {
    es.addEventListener(name, (m) => fn(name, JSON.parse(m.data)));
  }
  es.onopen = () => { $("conn").textContent = "已连接 live"; $("conn").className = "pill ready"; if (onopen) onopen(); };
  es.onerror = () => { $("conn").textContent = "重连中 reconnecting"; $("conn").className = "pill degraded"; };
  return es;
}

// connSeq numbers connects: when Connect is pressed again before the
// alert list of the first has come, only the newest opens event streams
// (two would draw every sample twice).
let connSeq = 0;

async function connect() {
  state.token = $("token").value.trim();
  if (!state.token) return;
  const seq = ++connSeq;
  sessionStorage.setItem(TOKEN_KEY, state.token);
  for (const es of [state.mon, state.al]) if (es) es.close();
  state.mon = state.al = null;
  try {
    await loadAlerts();
  } catch (e) {
    if (seq === connSeq) say("无法加载危急值 " + e.message, "error");
    return;
  }
  if (seq !== connSeq) return;
  say("");
  const mon = {};
  for (const t of ["streams", "started", "samples", "beats", "rhythm", "quality", "alert", "ended"]) mon[t] = onMonitor;
  state.mon = listen("/v1/ecg/monitor", mon);
  state.al = listen("/v1/alerts/stream", { alert: (_, a) => renderAlert(a), ack: (_, a) => renderAlert(a) },
    () => loadAlerts().catch(() => {}));
}

$("setup").addEventListener("submit", (e) => { e.preventDefault(); connect(); });
$("token").value = sessionStorage.getItem(TOKEN_KEY) || "";
requestAnimationFrame(frame);
if ($("token").value) connect();
