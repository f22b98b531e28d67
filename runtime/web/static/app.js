// The history page: streams with live state and a score timeline each, a filterable
// highlight list, a clip player, live updates over server-sent events, and recaps
// (a short video of the filtered highlights, made by the server in the background).
// Plain DOM, no build step. Text goes in through textContent only (stored fields are data).
"use strict";

const PAGE = 50;
const DAY = 86400;
const SVG = "http://www.w3.org/2000/svg";
const page = { next: null, asOf: null, rows: new Map(), streams: new Map(), timers: new Map(), recap: null };
const RECAP_POLL_MS = 1000;
const FINISHED = ["done", "failed", "empty"];
// timelines wait for the first list: the list is what an owner looks at first
page.firstList = new Promise((resolve) => (page.listed = resolve));
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    if (key === "class") node.setAttribute("class", value);
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

async function getJSON(url) {
  const reply = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error(body.error || `${url}: HTTP ${reply.status}`);
  return body;
}

function showProblem(text) {
  const box = $("#problem");
  box.hidden = !text;
  box.textContent = text || "";
}

const clock = (wall) => new Date(wall * 1000).toLocaleString();
const seconds = (s) => `${s.toFixed(1)} s`;

// ---------------------------------------------------------------- filters

function filters() {
  const form = new FormData($("#filters"));
  const out = {};
  for (const key of ["stream", "object", "zone", "query"]) {
    const value = String(form.get(key) || "").trim();
    if (value) out[key] = value;
  }
  for (const key of ["since", "until"]) {
    const value = String(form.get(key) || "");
    if (value) out[key] = new Date(value).getTime() / 1000;
  }
  return out;
}

function matches(h, f) {
  if (f.stream && h.stream_id !== f.stream) return false;
  if (f.since !== undefined && h.wall_end < f.since) return false;
  if (f.until !== undefined && h.wall_start >= f.until) return false;
  if (f.object && !(f.object in (h.objects || {}))) return false;
  if (f.zone && !(h.zones || []).includes(f.zone)) return false;
  if (f.query && !(h.query || "").toLowerCase().includes(f.query.toLowerCase())) return false;
  return true;
}

// newest first, ties by id (the server's order)
const newer = (a, b) => a.wall_start > b.wall_start || (a.wall_start === b.wall_start && a.id > b.id);

function withinLoaded(h) {
  if (!page.next) return true;
  const comma = page.next.indexOf(",");
  return newer(h, { wall_start: Number(page.next.slice(0, comma)), id: page.next.slice(comma + 1) });
}

// ---------------------------------------------------------------- highlight list

function objectsText(objects) {
  return Object.entries(objects || {})
    .sort((a, b) => b[1] - a[1])
    .map(([label, n]) => (n > 1 ? `${label} ×${n}` : label))
    .join(", ");
}

function renderItem(h) {
  const picture = h.thumbnail_url
    ? el("img", { src: h.thumbnail_url, alt: "", loading: "lazy" })
    : el("span", { class: "noimg" });
  const item = el(
    "li",
    { class: "highlight", "data-id": h.id, "data-stream": h.stream_id, onclick: () => play(h) },
    picture,
    el(
      "div",
      {},
      el("div", { class: "when", text: `${clock(h.wall_start)} · ${h.stream_id}` }),
      el("div", {
        class: "objects",
        text: `${seconds(h.end - h.start)} at ${seconds(h.start)} · ${objectsText(h.objects) || "no objects"}`,
      }),
      h.query ? el("div", { class: "query", text: `“${h.query}”` }) : null,
      (h.zones || []).length ? el("div", { class: "zones", text: `in ${h.zones.join(", ")}` }) : null,
      h.closed ? null : el("div", { class: "open", text: "still open" }),
    ),
    el("span", { class: "score-badge", text: h.score.toFixed(2) }),
  );
  item.highlight = h;
  return item;
}

function upsert(h, live) {
  const list = $("#highlights");
  const old = page.rows.get(h.id);
  if (old && old.highlight.updated_at === h.updated_at) return; // the feed sends at least once
  if (!old && live && !(matches(h, filters()) && withinLoaded(h))) return;
  const item = renderItem(h);
  if (live) item.classList.add("fresh");
  if (old) {
    if (old.classList.contains("playing")) item.classList.add("playing");
    old.replaceWith(item);
  } else {
    const after = [...list.children].find((child) => newer(h, child.highlight));
    list.insertBefore(item, after || null);
  }
  page.rows.set(h.id, item);
}

function updateCount() {
  const n = page.rows.size;
  $("#count").textContent = n ? `${n} highlight${n > 1 ? "s" : ""}${page.next ? " (more below)" : ""}` : "No highlights.";
}

async function loadHighlights(reset) {
  const params = new URLSearchParams({ ...filters(), limit: String(PAGE) });
  if (!reset && page.next) params.set("before", page.next);
  const data = await getJSON(`/api/highlights?${params}`);
  if (reset) {
    $("#highlights").replaceChildren();
    page.rows.clear();
  }
  for (const h of data.highlights) upsert(h, false);
  page.next = data.next;
  $("#more").hidden = !data.next;
  showProblem(data.history);
  updateCount();
  if (!performance.getEntriesByName("list-rendered").length) performance.mark("list-rendered"); // vgsum bench web
  page.listed();
  if (page.asOf === null) {
    page.asOf = data.as_of;
    openFeed();
  }
}

function play(h) {
  const player = $("#player");
  const caption = $("#player-caption");
  document.querySelectorAll(".highlight.playing").forEach((n) => n.classList.remove("playing"));
  page.rows.get(h.id)?.classList.add("playing");
  const text = `${h.stream_id} · ${clock(h.wall_start)} · ${seconds(h.end - h.start)} · score ${h.score.toFixed(2)}`;
  if (!h.clip_url) {
    player.removeAttribute("src");
    player.load();
    caption.textContent = `${text} — no clip stored for this highlight`;
    return;
  }
  player.src = h.clip_url;
  caption.textContent = text;
  player.play().catch((err) => (caption.textContent = `${text} — cannot play: ${err.message}`));
}

// ---------------------------------------------------------------- streams and timelines

function renderStreams(data) {
  showProblem(data.history);
  const box = $("#streams");
  const select = $("#filters select[name=stream]");
  for (const s of data.streams) {
    let card = page.streams.get(s.stream_id);
    if (!card) {
      card = el("div", { class: "stream", "data-stream": s.stream_id });
      box.append(card);
      page.streams.set(s.stream_id, card);
      select.append(el("option", { value: s.stream_id, text: s.stream_id }));
      card.append(el("div", { class: "stream-head" }), el("div", { class: "timeline-box" }));
      scheduleTimeline(s.stream_id, 0);
    }
    card.stream = s;
    const state = s.state || "unknown";
    const head = [
      el("span", { class: "stream-id", text: s.stream_id }),
      el("span", { class: `state ${state}`, text: s.live ? state : `${state} (last known)` }),
      s.url ? el("span", { class: "url", text: s.url }) : null,
      s.last_error ? el("span", { class: "url", text: s.last_error }) : null,
    ];
    card.querySelector(".stream-head").replaceChildren(...head.filter(Boolean));
    drawRegions(card, s);
  }
  if (!data.streams.length) box.replaceChildren(el("p", { class: "caption", text: "No streams yet." }));
}

// a tuned camera's motion masks and zones over its latest picture, so an owner can check where they lie
function drawRegions(card, s) {
  const old = card.querySelector("figure.regions");
  if (!s.regions || !s.picture_url) {
    if (old) old.remove();
    return;
  }
  const key = JSON.stringify([s.regions, s.picture_url]);
  if (old && old.dataset.key === key) return;
  const svg = el("svg:svg", { class: "regions", viewBox: "0 0 1 1", preserveAspectRatio: "none" });
  const points = (polygon) => polygon.map(([x, y]) => `${x},${y}`).join(" ");
  for (const mask of s.regions.masks || []) {
    svg.append(el("svg:polygon", { class: "mask", points: points(mask) }, el("svg:title", { text: "motion mask" })));
  }
  for (const zone of s.regions.zones || []) {
    svg.append(el("svg:polygon", { class: "zone", "data-zone": zone.name, points: points(zone.polygon) },
                  el("svg:title", { text: `zone ${zone.name}` })));
  }
  const figure = el("figure", { class: "regions", "data-key": key },
    el("img", { src: s.picture_url, alt: `latest picture of ${s.stream_id}` }), svg,
    el("figcaption", { class: "caption", text: "motion masks (hatched) and zones over the latest highlight" }));
  if (old) old.replaceWith(figure);
  else card.querySelector(".stream-head").after(figure);
}

function scheduleTimeline(streamId, delayMs) {
  if (page.timers.has(streamId)) return;
  page.timers.set(
    streamId,
    setTimeout(() => {
      page.timers.delete(streamId);
      drawTimeline(streamId).catch((err) => console.error(err));
    }, delayMs),
  );
}

async function drawTimeline(streamId) {
  await page.firstList;
  const card = page.streams.get(streamId);
  if (!card) return;
  const f = filters();
  const s = card.stream || {};
  const until = f.until ?? (s.live ? Date.now() / 1000 + 60 : (s.updated_at ?? Date.now() / 1000) + 60);
  const since = f.since ?? until - DAY;
  const range = new URLSearchParams({ stream: streamId, since, until });
  const [scores, spans] = await Promise.all([
    getJSON(`/api/scores?${range}&max_points=800`),
    getJSON(`/api/highlights?${range}&limit=500`),
  ]);
  const points = scores.points;
  const highlights = spans.highlights;
  const box = card.querySelector(".timeline-box");
  if (!points.length && !highlights.length) {
    box.replaceChildren(el("p", { class: "caption", text: "No scores in the last day of this stream." }));
    return;
  }
  const walls = [...points.map((p) => p[0]), ...highlights.flatMap((h) => [h.wall_start, h.wall_end])];
  const x0 = Math.min(...walls);
  const x1 = Math.max(...walls, x0 + 1);
  const W = 800, TOP = 6, H = 70, THUMB = 36;
  const x = (wall) => ((wall - x0) / (x1 - x0)) * W;
  const y = (score) => TOP + (1 - score) * H;
  const svg = el("svg:svg", { class: "timeline", viewBox: `0 0 ${W} 120`, preserveAspectRatio: "none" });
  svg.append(el("svg:line", { class: "base", x1: 0, x2: W, y1: TOP + H, y2: TOP + H }));
  let lastThumb = -Infinity;
  for (const h of [...highlights].reverse()) {
    const left = x(h.wall_start);
    const rect = el("svg:rect", {
      class: "span", x: left, y: TOP, width: Math.max(2, x(h.wall_end) - left), height: H,
      "data-id": h.id, onclick: () => play(h),
    });
    rect.append(el("svg:title", { text: `${clock(h.wall_start)} · ${objectsText(h.objects)} · ${h.score.toFixed(2)}` }));
    svg.append(rect);
    if (h.thumbnail_url && left - lastThumb >= THUMB * 1.8) {
      svg.append(el("svg:image", {
        href: h.thumbnail_url, x: left, y: TOP + H + 4, width: THUMB * 1.7, height: THUMB,
        preserveAspectRatio: "xMidYMid slice", onclick: () => play(h),
      }));
      lastThumb = left;
    }
  }
  if (points.length) {
    svg.append(el("svg:polyline", { class: "score", points: points.map((p) => `${x(p[0])},${y(p[2])}`).join(" ") }));
  }
  svg.append(el("svg:text", { class: "axis", x: 2, y: 118, text: clock(x0) }));
  svg.append(el("svg:text", { class: "axis", x: W - 2, y: 118, "text-anchor": "end", text: clock(x1) }));
  box.replaceChildren(svg);
}

// ---------------------------------------------------------------- live feed

function openFeed() {
  const feed = $("#feed");
  const source = new EventSource(`/api/events?after=${page.asOf}`);
  source.addEventListener("open", () => {
    feed.textContent = "live";
    feed.classList.add("on");
  });
  source.addEventListener("error", () => {
    feed.textContent = "reconnecting…";
    feed.classList.remove("on");
  });
  source.addEventListener("streams", (e) => renderStreams(JSON.parse(e.data)));
  source.addEventListener("highlight", (e) => {
    const h = JSON.parse(e.data);
    upsert(h, true);
    updateCount();
    scheduleTimeline(h.stream_id, 1000);
  });
  // scores arrive without highlights: redraw the timelines of live streams now and then
  setInterval(() => {
    for (const [id, card] of page.streams) if (card.stream && card.stream.live) scheduleTimeline(id, 0);
  }, 15000);
}

// ---------------------------------------------------------------- recaps

// m:ss of a time in the recap video
const mmss = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;

async function setupRecaps() {
  const data = await getJSON("/api/recaps");
  $("#recap-controls").hidden = !data.service; // no recap service on this server: no Recap control
  renderRecapList(data.recaps);
}

function renderRecapList(recaps) {
  $("#recap-history").hidden = !recaps.length;
  $("#recap-list").replaceChildren(...recaps.map((r) => {
    const what = (r.streams || ["all streams"]).join(", ");
    const length = r.duration !== undefined ? ` · ${seconds(r.duration)}` : "";
    return el("li", { class: `recap-item${r.id === page.recap ? " current" : ""}`, "data-id": r.id,
                      onclick: () => followRecap(r.id).catch((err) => recapStatus(err.message)) },
      el("span", { text: `${clock(r.until)} · ${what}${length}${r.origin === "daily" ? " · daily" : ""}` }),
      el("span", { class: `state ${r.state}`, text: r.state }));
  }));
}

function recapStatus(text) {
  $("#recap").hidden = false;
  $("#recap-status").textContent = text;
}

async function askRecap() {
  const f = filters();
  const body = { budget: String(new FormData($("#filters")).get("budget") || "").trim() || "3m" };
  if (f.stream) body.streams = [f.stream];
  if (f.since !== undefined) body.since = f.since;
  if (f.until !== undefined) body.until = f.until;
  if (f.query) body.query = f.query;
  if (f.object) body.object = f.object;
  recapStatus("Asking for a recap…");
  const reply = await fetch("/api/recaps", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  const data = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error(data.error || `recap: HTTP ${reply.status}`);
  await followRecap(data.id);
}

// poll the recap until it is finished; a newer one asked for meanwhile takes over
async function followRecap(id) {
  page.recap = id;
  while (page.recap === id) {
    const r = await getJSON(`/api/recaps/${encodeURIComponent(id)}`);
    if (page.recap !== id) return;
    showRecap(r);
    if (FINISHED.includes(r.state)) {
      setupRecaps().catch((err) => console.error(err));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, RECAP_POLL_MS));
  }
}

function showRecap(r) {
  const what = (r.streams || ["all streams"]).join(", ");
  if (r.state === "queued") recapStatus(`Recap of ${what}: waiting for its turn…`);
  else if (r.state === "running") recapStatus(`Recap of ${what}: ${r.stage || "starting"} (${r.steps || 0})…`);
  else if (r.state === "failed") recapStatus(`Recap failed: ${r.error}`);
  else if (r.state === "empty") recapStatus(r.message || "Nothing to recap.");
  else {
    const parts = r.parts || [];
    const shown = [...new Set(parts.map((p) => p.stream))].join(", ") || what; // the streams it holds
    recapStatus(`${shown} · ${clock(r.since)} – ${clock(r.until)} · ${parts.length} part${parts.length === 1 ? "" : "s"}` +
                ` · ${seconds(r.duration)}`);
    if ($("#recap-player").dataset.id !== r.id) playRecap(r);
  }
}

// a fresh <video> per recap: its captions track loads with it, and no cue of the last one lingers
function playRecap(r) {
  const video = el("video", { id: "recap-player", controls: "", playsinline: "", preload: "auto", "data-id": r.id });
  video.muted = true;
  video.append(el("track", { kind: "captions", label: "Parts", srclang: "en", src: r.captions_url, default: "" }));
  video.src = r.video_url;
  $("#recap-player").replaceWith(video);
  const chapters = (r.parts || []).map((p, i) => el(
    "li",
    { class: "chapter", "data-index": i, "data-start": p.recap_start,
      onclick: () => {
        video.currentTime = p.recap_start;
        video.play().catch(() => {});
      } },
    el("span", { class: "chapter-time", text: mmss(p.recap_start) }),
    el("span", { class: "chapter-caption", text: p.caption || `${p.stream} · ${clock(p.wall_start)}` }),
  ));
  $("#recap-chapters").replaceChildren(...chapters);
  video.addEventListener("timeupdate", () => {
    const t = video.currentTime;
    for (const [i, item] of chapters.entries()) {
      const part = r.parts[i];
      item.classList.toggle("current", t >= part.recap_start && t < part.recap_end);
    }
  });
  video.play().catch((err) => recapStatus(`${$("#recap-status").textContent} — cannot play: ${err.message}`));
}

// ---------------------------------------------------------------- start

function reload() {
  loadHighlights(true).catch((err) => showProblem(err.message));
  for (const id of page.streams.keys()) scheduleTimeline(id, 0);
}

document.addEventListener("DOMContentLoaded", () => {
  $("#filters").addEventListener("submit", (e) => {
    e.preventDefault();
    reload();
  });
  $("#filters").addEventListener("reset", () => setTimeout(reload, 0));
  $("#more").addEventListener("click", () => loadHighlights(false).catch((err) => showProblem(err.message)));
  $("#recap-button").addEventListener("click", () => askRecap().catch((err) => recapStatus(err.message)));
  setupRecaps().catch((err) => console.error(err));
  loadHighlights(true).catch((err) => {
    showProblem(err.message);
    page.listed();
  });
  getJSON("/api/streams").then(renderStreams).catch((err) => showProblem(err.message));
});
