// The jobs page: signs in with an API key kept in session storage (never in a URL), lists the gateway's
// jobs with GET /jobs, shows one job's record with GET /jobs/<id>/record (its input, its result's files as
// links, its webhook attempts), and refreshes both every 2 s. The operation filter lists what GET / names.
"use strict";

const KEY = "video-ops-api-key";
const REFRESH_MS = 2000;
const PAGE = 50;
const $ = (id) => document.getElementById(id);
let shown = PAGE;
let chosen = null;
let timer = null;

async function api(path) {
  const response = await fetch(path, { headers: { "X-API-Key": sessionStorage.getItem(KEY) || "" } });
  const body = await response.json();
  if (!response.ok) throw Object.assign(new Error(body.message || response.statusText), { code: response.status });
  return body;
}

function show(element, visible) { element.hidden = !visible; }

function filters(limit) {
  const query = new URLSearchParams({ limit: String(limit) });
  const since = $("filter-since").value;
  for (const [name, value] of [["status", $("filter-status").value], ["operation", $("filter-operation").value],
    ["id_roteiro", $("filter-roteiro").value], ["since", since ? new Date(since).toISOString() : ""]]) {
    if (value.trim()) query.set(name, value.trim());
  }
  return query;
}

function progressText(job) {
  const progress = job.progress;
  if (!progress) return "";
  if (typeof progress.percent === "number") return `${Math.round(progress.percent)} %`;
  if (typeof progress.processed === "number" && progress.total) return `${progress.processed}/${progress.total}`;
  return typeof progress === "object" ? progress.stage || JSON.stringify(progress) : String(progress);
}

function row(job) {
  const tr = document.createElement("tr");
  tr.dataset.jobId = job.jobId;
  tr.dataset.status = job.status;
  if (job.jobId === chosen) tr.className = "chosen";
  const cells = [new Date(job.createdAt).toLocaleString(), job.jobId, job.operation,
    job.idRoteiro === null ? "" : String(job.idRoteiro), job.status, progressText(job),
    job.webhook ? job.webhook.status : ""];
  cells.forEach((text, index) => {
    const td = document.createElement("td");
    td.textContent = text;
    if (index === 4) td.className = `status status-${job.status}`;
    tr.appendChild(td);
  });
  tr.addEventListener("click", () => { chosen = job.jobId; refresh(); });
  return tr;
}

async function loadList() {
  try {
    const page = await api(`/jobs?${filters(shown)}`);
    $("jobs").replaceChildren(...page.jobs.map(row));
    show($("more"), page.nextCursor !== null);
    show($("list-error"), false);
  } catch (error) {
    if (error.code === 401) return signOut("The key was refused.");
    $("list-error").textContent = error.message;
    show($("list-error"), true);
  }
}

function videoUrls(result) {  // a sound file's result (`audio_url`) plays in a <video> element too
  if (!result || typeof result !== "object") return [];
  const urls = [result.video_url, result.audio_url,
    ...(Array.isArray(result.videos) ? result.videos.map((v) => v && v.video_url) : [])];
  return urls.filter((url) => typeof url === "string" && /^https?:\/\//.test(url));
}

function pictureUrls(result) {  // frames: one contact sheet, or its pictures
  if (!result || typeof result !== "object") return [];
  const urls = [result.image_url, ...(Array.isArray(result.images) ? result.images.map((i) => i && i.url) : [])];
  return urls.filter((url) => typeof url === "string" && /^https?:\/\//.test(url));
}

function resultLinks(value, path = "") {  // [where in the result, URL] for every http(s) URL it holds
  if (typeof value === "string") return /^https?:\/\//.test(value) ? [[path, value]] : [];
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, item]) => resultLinks(item, Array.isArray(value)
    ? `${path}[${key}]` : (path ? `${path}.${key}` : key)));
}

function fileName(url) {  // the last part of the URL's path, as the bucket named the file
  const last = new URL(url).pathname.split("/").pop() || "";
  try { return decodeURIComponent(last); } catch { return last; }
}

function linkItem([where, url]) {
  const li = document.createElement("li");
  const a = document.createElement("a");
  a.href = url;  // only http(s) URLs get here, so a link never runs script
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  a.textContent = where;
  a.title = url;
  const file = document.createElement("span");
  file.className = "file";
  file.textContent = fileName(url);
  li.append(a, " ", file);
  return li;
}

function attemptRow(attempt) {
  const tr = document.createElement("tr");
  for (const text of [String(attempt.attempt), new Date(attempt.at).toLocaleString(), attempt.outcome]) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
  }
  return tr;
}

async function loadDetail() {
  if (!chosen) return show($("detail"), false);
  let job;
  try {
    job = await api(`/jobs/${encodeURIComponent(chosen)}/record`);
  } catch (error) {
    if (error.code === 401) return signOut("The key was refused.");
    return;
  }
  $("detail-title").textContent = `${job.operation} ${job.jobId}`;
  const progress = progressText(job);
  $("detail-status").textContent = `${job.status}${progress ? ` (${progress})` : ""}` +
    `, created ${new Date(job.createdAt).toLocaleString()}` + (job.endedAt ? `, ended ${new Date(job.endedAt).toLocaleString()}` : "");
  $("detail-error").textContent = job.error || "";
  show($("detail-error"), Boolean(job.error));
  const urls = videoUrls(job.result);
  const current = [...$("detail-videos").querySelectorAll("video")].map((video) => video.getAttribute("src"));
  if (current.join("\n") !== urls.join("\n")) {  // leave a playing video alone
    $("detail-videos").replaceChildren(...urls.map((url) => {
      const video = document.createElement("video");
      video.controls = true;
      video.preload = "metadata";
      video.src = url;
      return video;
    }));
  }
  const pictures = pictureUrls(job.result);
  const shown = [...$("detail-pictures").querySelectorAll("img")].map((img) => img.getAttribute("src"));
  if (shown.join("\n") !== pictures.join("\n")) {
    $("detail-pictures").replaceChildren(...pictures.map((url) => {
      const img = document.createElement("img");
      img.loading = "lazy";
      img.src = url;
      return img;
    }));
  }
  $("detail-links").replaceChildren(...resultLinks(job.result).map(linkItem));
  $("detail-result").textContent = job.result === null ? "" : JSON.stringify(job.result, null, 2);
  $("detail-input").textContent = JSON.stringify(job.input, null, 2);
  const hook = job.webhook;
  $("detail-webhook").textContent = hook ? `${hook.url}: ${hook.status}, ${hook.attempts} attempt(s)` +
    (hook.last_error ? ` (${hook.last_error})` : "") : "none";
  const history = hook ? hook.history : [];
  $("detail-attempts").replaceChildren(...history.map(attemptRow));
  show($("detail-attempts-table"), history.length > 0);
  show($("detail"), true);
}

async function refresh() {
  clearTimeout(timer);
  await Promise.all([loadList(), loadDetail()]);
  if (sessionStorage.getItem(KEY)) timer = setTimeout(refresh, REFRESH_MS);
}

function signOut(message) {
  clearTimeout(timer);
  sessionStorage.removeItem(KEY);
  chosen = null;
  $("jobs").replaceChildren();
  show($("detail"), false);
  show($("jobs-view"), false);
  show($("sign-out"), false);
  show($("login"), true);
  $("login-error").textContent = message || "";
  show($("login-error"), Boolean(message));
}

async function signIn(key) {
  sessionStorage.setItem(KEY, key);
  try {
    await api("/jobs?limit=1");
  } catch (error) {
    return signOut(error.code === 401 ? "The key was refused." : error.message);
  }
  show($("login"), false);
  show($("login-error"), false);
  show($("jobs-view"), true);
  show($("sign-out"), true);
  refresh();
}

async function loadOperations() {  // the filter offers the operations the service lists (GET /, no key)
  const response = await fetch("/");
  if (!response.ok) return;
  const service = await response.json();
  $("filter-operation").append(...service.operations.map((name) => new Option(name, name)));
}

document.addEventListener("DOMContentLoaded", () => {
  loadOperations();
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("key").value;
    $("key").value = "";
    signIn(key);
  });
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); shown = PAGE; refresh(); });
  $("more").addEventListener("click", () => { shown += PAGE; refresh(); });
  $("sign-out").addEventListener("click", () => signOut(""));
  const kept = sessionStorage.getItem(KEY);
  if (kept) signIn(kept);
});
