// The ECG monitor page: a simulated device (a second tab with TOKEN_ECG)
// streams a synthetic two-lead ECG with a 4 s asystole over the device
// WebSocket; the monitor (TOKEN_DOCTOR) draws the live waveform with beat
// marks, lists the critical pause alert, and acknowledges it.
import { baseURL, shotDir, run, check } from "./lib.mjs";

const doctor = process.env.TOKEN_DOCTOR;
const device = process.env.TOKEN_ECG;
check(doctor && device, "TOKEN_DOCTOR and TOKEN_ECG must be set");
const streamID = "sim-ambulance-1";

// simulate runs in the device tab: it opens the stream WebSocket and sends
// 0.5 s chunks (250 Hz, leads II and V1) five times faster than real time:
// 12 s of sinus rhythm at 75/min, 4 s without beats, 8 s of sinus again.
// Samples are sums of Gaussian P, Q, R, S and T waves plus seeded noise.
async function simulate({ token, id }) {
  const fs = 250, step = 125;
  const segs = [["sinus", 12], ["asystole", 4], ["sinus", 8]];
  const total = segs.reduce((a, s) => a + s[1], 0) * fs;
  const shape = { II: [1, 1, 1], V1: [0.5, -0.8, -0.2] };
  const leads = { II: new Float32Array(total), V1: new Float32Array(total) };
  let seed = 12345;
  const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const beats = [];
  let t = 0;
  for (const [kind, secs] of segs) {
    const end = t + secs;
    if (kind === "sinus") { for (let r = t + 0.4; r < end - 0.3; r += 0.8) beats.push(r); }
    t = end;
  }
  const waves = [[-0.17, 0.15, 0.022, 0], [-0.03, -0.1, 0.01, 1], [0, 1.0, 0.012, 1], [0.03, -0.25, 0.012, 1], [0.25, 0.3, 0.045, 2]];
  for (const [name, sh] of Object.entries(shape)) {
    const x = leads[name];
    for (let i = 0; i < total; i++) x[i] = 0.01 * gauss();
    for (const r of beats) {
      for (let k = Math.max(0, Math.floor((r - 0.4) * fs)); k < Math.min(total, (r + 0.6) * fs); k++) {
        const dt = k / fs - r;
        for (const [wt, a, w, part] of waves) x[k] += a * sh[part] * Math.exp(-((dt - wt) ** 2) / (2 * w * w));
      }
    }
  }
  const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/v1/ecg/streams?access_token=" + encodeURIComponent(token));
  const got = { beats: 0, alerts: 0, errors: [] };
  const done = new Promise((resolve, reject) => {
    ws.onmessage = (m) => {
      const ev = JSON.parse(m.data);
      if (ev.type === "beats") got.beats += ev.beats.length;
      if (ev.type === "alert") got.alerts++;
      if (ev.type === "error") got.errors.push(ev.error.message);
      if (ev.type === "ended") resolve(got);
    };
    ws.onerror = () => reject(new Error("device WebSocket failed"));
  });
  await new Promise((resolve) => { ws.onopen = resolve; });
  ws.send(JSON.stringify({ type: "start", stream_id: id, rate_hz: fs, leads: ["II", "V1"], sex: "M", age: 64 }));
  for (let seq = 0, off = 0; off < total; seq++, off += step) {
    const samples = [Array.from(leads.II.subarray(off, off + step)), Array.from(leads.V1.subarray(off, off + step))];
    ws.send(JSON.stringify({ type: "chunk", seq, samples }));
    await new Promise((r) => setTimeout(r, 100));
  }
  ws.send(JSON.stringify({ type: "end" }));
  return done;
}

await run({ width: 1400, height: 900 }, async (page) => {
  await page.goto(baseURL + "/ecg.html");
  await page.fill("#token", doctor);
  await page.click("#connect");
  await page.waitForFunction(() => document.getElementById("conn").textContent.includes("已连接"));

  const tab = await page.context().browser().newPage();
  await tab.goto(baseURL + "/healthz");
  const deviceRun = tab.evaluate(simulate, { token: device, id: streamID });

  // The live waveform shows the stream with its beats marked.
  const canvas = `.stream[data-id="${streamID}"] canvas`;
  await page.waitForSelector(canvas, { timeout: 15000 });
  await page.waitForFunction((sel) => Number(document.querySelector(sel).dataset.beats) >= 5, canvas, { timeout: 20000 });
  const hr = await page.textContent(`.stream[data-id="${streamID}"] .hr`);
  const bpm = parseInt(hr, 10);
  check(bpm >= 65 && bpm <= 85, "heart rate shown as " + hr);

  // The 4 s pause raises a critical alert, listed on the page.
  const got = await deviceRun;
  check(got.errors.length === 0, "device got errors: " + got.errors.join("; "));
  check(got.beats >= 20 && got.alerts >= 1, `device saw ${got.beats} beats and ${got.alerts} alerts`);
  // Wait for this stream's alert, not for whatever alert the list held.
  const item = page.locator("#alerts .alert:not(.is-acked)").filter({ has: page.locator(".meta", { hasText: streamID }) }).first();
  await item.waitFor({ timeout: 10000 });
  const title = await item.locator(".title").textContent();
  check(/停搏|pause|asystole/i.test(title), "alert title " + title);
  const meta = await item.locator(".meta").textContent();
  check(meta.includes(streamID), "alert does not name the stream: " + meta);
  await page.screenshot({ path: shotDir + "/ecg-alert.png" });

  // Acknowledge it: the item turns grey and the service records who did.
  const id = await item.getAttribute("data-id");
  await page.click(`#alerts .alert[data-id="${id}"] .ack`);
  await page.waitForSelector(`#alerts .alert.is-acked[data-id="${id}"]`, { timeout: 10000 });
  const resp = await fetch(baseURL + "/v1/alerts?subject=" + streamID, { headers: { Authorization: "Bearer " + doctor } });
  const { alerts } = await resp.json();
  const stored = alerts.find((a) => a.id === id);
  check(stored && stored.acked_by === "test.doctor", "stored alert not acknowledged: " + JSON.stringify(stored));
  await page.screenshot({ path: shotDir + "/ecg.png" });
});
