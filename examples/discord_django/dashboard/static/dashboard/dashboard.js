// The demo dashboard: polls the JSON endpoints and draws with hand-written SVG (no libraries,
// nothing from a CDN). /api/demo/metrics/ gives the time series; the guide's own endpoints give
// the leaderboard with display names (/api/leaderboard/) and the live stats (/api/dashboard/stats/).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const fmt = new Intl.NumberFormat("en-US");
const $ = (id) => document.getElementById(id);

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

// A line chart with a soft fill, horizontal grid lines and y labels. values: numbers or null.
function lineChart(svg, values, opts) {
  // Drawn in the element's own pixels (viewBox = its size), so text is never stretched.
  const W = svg.clientWidth || 600, H = svg.clientHeight || 150;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const pad = { l: 44, r: 8, t: 10, b: opts.noAxis ? 4 : 18 };
  const points = values.map((v, i) => [i, v]).filter(([, v]) => v !== null && v !== undefined);
  const max = niceMax(Math.max(opts.minMax || 0, ...points.map(([, v]) => v)));
  const n = Math.max(values.length - 1, 1);
  const x = (i) => pad.l + (W - pad.l - pad.r) * (i / n);
  const y = (v) => H - pad.b - (H - pad.t - pad.b) * (v / max);
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const defs = el("defs", {}, svg);
  const grad = el("linearGradient", { id: svg.id + "-fill", x1: 0, y1: 0, x2: 0, y2: 1 }, defs);
  el("stop", { offset: "0%", "stop-color": opts.color, "stop-opacity": 0.45 }, grad);
  el("stop", { offset: "100%", "stop-color": opts.color, "stop-opacity": 0.02 }, grad);
  const ticks = opts.ticks || 4;
  for (let k = 0; k <= ticks; k++) {
    const v = (max * k) / ticks, yy = y(v);
    el("line", { x1: pad.l, x2: W - pad.r, y1: yy, y2: yy, stroke: "#3f4147", "stroke-width": 1 }, svg);
    const label = el("text", { x: pad.l - 6, y: yy + 4, "text-anchor": "end" }, svg);
    label.textContent = opts.format ? opts.format(v) : fmt.format(Math.round(v));
  }
  if (!opts.noAxis) {
    const axis = el("text", { x: W - pad.r, y: H - 3, "text-anchor": "end" }, svg);
    axis.textContent = "now";
    const start = el("text", { x: pad.l, y: H - 3 }, svg);
    start.textContent = `-${values.length}s`;
  }
  if (points.length < 2) return;
  const d = points.map(([i, v], k) => `${k ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
  const first = points[0][0], last = points[points.length - 1][0];
  el("path", { d: `${d}L${x(last).toFixed(1)},${y(0)}L${x(first).toFixed(1)},${y(0)}Z`, fill: `url(#${svg.id}-fill)` }, svg);
  el("path", { d, fill: "none", stroke: opts.color, "stroke-width": 2, "stroke-linejoin": "round", class: "series" }, svg);
  const [li, lv] = points[points.length - 1];
  el("circle", { cx: x(li), cy: y(lv), r: 3.5, fill: opts.color }, svg);
}

function sparkline(svg, values, color) {
  const box = svg.viewBox.baseVal, W = box.width, H = box.height;
  const vals = values.filter((v) => v !== null && v !== undefined).slice(-60);
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  if (vals.length < 2) return;
  const max = Math.max(...vals, 1), min = Math.min(...vals, 0);
  const d = vals.map((v, i) => `${i ? "L" : "M"}${(W * i / (vals.length - 1)).toFixed(1)},${(H - 2 - (H - 4) * (v - min) / (max - min || 1)).toFixed(1)}`).join("");
  el("path", { d, fill: "none", stroke: color, "stroke-width": 1.5 }, svg);
}

function renderChannels(channels) {
  const box = $("channels");
  const max = Math.max(1, ...channels.map((c) => c.count));
  box.innerHTML = "";
  for (const c of channels) {
    const row = document.createElement("div");
    row.className = "bar";
    row.innerHTML = `<span class="name"></span><span class="track"><span class="fill"></span></span><span class="count"></span>`;
    row.querySelector(".name").textContent = "#" + c.name;
    row.querySelector(".fill").style.width = `${(100 * c.count / max).toFixed(1)}%`;
    row.querySelector(".count").textContent = fmt.format(c.count);
    box.appendChild(row);
  }
}

let previousScores = {};
function renderLeaderboard(rows) {
  const body = document.querySelector("#leaderboard tbody");
  body.innerHTML = "";
  const scores = {};
  for (const r of rows) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td><span class="rank r${r.rank}"></span></td><td class="member"></td><td class="uni muted"></td><td class="num score"></td>`;
    tr.querySelector(".rank").textContent = r.rank;
    tr.querySelector(".member").textContent = r.display_name;
    tr.querySelector(".uni").textContent = r.university;
    tr.querySelector(".score").textContent = r.score.toFixed(1);
    if (previousScores[r.discord_id] !== undefined && previousScores[r.discord_id] !== r.score) tr.className = "moved";
    scores[r.discord_id] = r.score;
    body.appendChild(tr);
  }
  previousScores = scores;
}

async function getJSON(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function setStatus(ok, text) {
  $("live-dot").className = "dot " + (ok ? "live" : "down");
  $("status-text").textContent = text;
}

async function refreshMetrics() {
  const m = await getJSON("/api/demo/metrics/");
  const c = m.current, s = m.series;
  $("kpi-rate").textContent = fmt.format(Math.round(c.events_per_s));
  $("kpi-unique").textContent = fmt.format(c.unique_users);
  $("kpi-processed").textContent = fmt.format(c.processed);
  $("kpi-processed-sub").textContent = `${fmt.format(c.awards)} points awards`;
  $("kpi-rows").textContent = fmt.format(c.rows);
  $("kpi-rows-sub").textContent = `${fmt.format(c.batches)} batches · ${fmt.format(c.pending)} pending`;
  $("kpi-drop").textContent = `${(100 * c.drop_rate).toFixed(2)}%`;
  $("kpi-drop-sub").textContent = `${fmt.format(c.dropped)} dropped`;
  $("kpi-flush").textContent = c.flush_ms_p50 === null ? "–" : `${c.flush_ms_p50.toFixed(1)} ms`;
  $("kpi-flush-sub").textContent = c.flush_ms_max === null ? "no batch in 10 s" : `max ${c.flush_ms_max.toFixed(1)} ms (10 s)`;
  $("ranked").textContent = `${fmt.format(c.ranked_users)} ranked`;
  lineChart($("chart-rate"), s.events_per_s, { color: "#5865f2", minMax: 10 });
  lineChart($("chart-rows"), s.rows, { color: "#23a55a", format: (v) => v >= 1e6 ? (v / 1e6).toFixed(1) + "M" : v >= 1e3 ? +(v / 1e3).toFixed(1) + "k" : String(Math.round(v)) });
  lineChart($("chart-flush"), s.flush_ms_p50, { color: "#f0b232", minMax: 1, format: (v) => v.toFixed(v < 10 ? 1 : 0) });
  sparkline($("spark-rate"), s.events_per_s, "#5865f2");
  sparkline($("spark-unique"), s.unique_users, "#3ec2c9");
  lineChart($("chart-unique"), s.unique_users, { color: "#3ec2c9", ticks: 1, noAxis: true });
  renderChannels(c.top_channels);
  $("pipe-batches").textContent = fmt.format(c.batches);
  $("pipe-avg").textContent = c.batches ? fmt.format(Math.round(c.rows_this_run / c.batches)) : "–";
  $("pipe-pending").textContent = fmt.format(c.pending);
  $("pipe-awards").textContent = fmt.format(c.awards);
  const up = Math.round(c.uptime_s);
  setStatus(true, `live · up ${Math.floor(up / 60)}m ${up % 60}s`);
}

async function refreshLeaderboard() {
  renderLeaderboard(await getJSON("/api/leaderboard/?limit=10"));
}

function every(ms, fn) {
  const run = async () => {
    try { await fn(); } catch (err) { setStatus(false, "disconnected: " + err.message); }
    setTimeout(run, ms);
  };
  run();
}

every(1000, refreshMetrics);
every(2000, refreshLeaderboard);
