// The page: four forms over the API (/v1/hide, /v1/reveal, /v1/seal, /v1/unseal), no framework, no build step.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const urls = [];  // object URLs of the last results, released before the next
let lastHide = null;  // {stego: Blob, secret: File}: a reveal of this very stego is compared with its secret

// --- tabs: click, or arrow keys / Home / End on the tab list -------------------------------------------------
const tabs = $$("[role=tab]");
function select(tab) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute("aria-selected", on);
    t.tabIndex = on ? 0 : -1;
    document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
  }
  clearResults();
}
tabs.forEach((tab, i) => {
  tab.addEventListener("click", () => select(tab));
  tab.addEventListener("keydown", (e) => {
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    const t = tabs[(next + tabs.length) % tabs.length];
    select(t);
    t.focus();
  });
});

// --- files: pick or drop; a preview in the drop zone ----------------------------------------------------------
for (const drop of $$(".drop")) {
  const input = $("input", drop);
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) { input.files = e.dataTransfer.files; input.dispatchEvent(new Event("change")); }
  });
  input.addEventListener("change", () => {
    $(".preview", drop)?.remove();
    const file = input.files[0];
    if (!file) return;
    const view = viewOf(file, file.name);
    if (view) { view.classList.add("preview"); drop.append(view); }
  });
}

function viewOf(blob, name) {
  const type = blob.type || "";
  const tag = type.startsWith("image/") ? "img" : type.startsWith("audio/") ? "audio"
    : type.startsWith("video/") ? "video" : null;
  if (!tag) return null;
  const el = document.createElement(tag);
  const url = URL.createObjectURL(blob);
  urls.push(url);
  el.src = url;
  if (tag === "img") el.alt = name; else el.controls = true;
  return el;
}

// --- models for the select boxes -------------------------------------------------------------------------------
async function loadModels() {
  const r = await fetch("/v1/models", { headers: auth() });
  if (!r.ok) { if (r.status === 401) $("#token-box").hidden = false; return; }
  const models = await r.json();
  for (const select of $$("select.models")) {
    for (const [name, card] of Object.entries(models)) {
      if (name.startsWith("seal")) continue;  // the seal's own models: chosen by its mode
      const option = new Option(`${name}: ${card.pairing || card.purpose || ""}`.slice(0, 80), name);
      select.append(option);
    }
  }
}
$("#token").addEventListener("change", () => { for (const s of $$("select.models")) s.length = 1; loadModels(); });
function auth() {
  const token = $("#token").value;
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// --- a job: post the form, show progress, then the result or the server's one-line error --------------------
for (const form of $$("form")) form.addEventListener("submit", (e) => { e.preventDefault(); run(form); });

function run(form) {
  clearResults();
  const button = $("button[type=submit]", form);
  const progress = $("#status progress");
  const say = (text) => { $("#status span").textContent = text; };
  const xhr = new XMLHttpRequest();
  xhr.open("POST", form.dataset.endpoint);
  for (const [k, v] of Object.entries(auth())) xhr.setRequestHeader(k, v);
  xhr.responseType = "blob";
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) { progress.max = e.total; progress.value = e.loaded; }
  };
  xhr.upload.onload = () => { progress.removeAttribute("value"); say("Working…"); };
  xhr.onloadend = async () => {
    button.disabled = false;
    progress.hidden = true;
    say("");
    if (xhr.status === 200) return show(form, xhr.response, nameOf(xhr.getResponseHeader("Content-Disposition")));
    let message = xhr.status ? `the server answered ${xhr.status}` : "the server cannot be reached";
    try { message = JSON.parse(await xhr.response.text()).error || message; } catch (_) { /* not JSON */ }
    if (xhr.status === 401) $("#token-box").hidden = false;
    showError(message);
  };
  button.disabled = true;
  progress.hidden = false;
  progress.value = 0;
  say("Sending…");
  xhr.send(new FormData(form));
}

function nameOf(disposition) {
  const utf8 = /filename\*=UTF-8''([^;]+)/i.exec(disposition || "");
  if (utf8) return decodeURIComponent(utf8[1]);
  const plain = /filename="([^"]*)"/i.exec(disposition || "");
  return plain ? plain[1] : "result";
}

async function show(form, blob, name) {
  const files = Object.fromEntries($$("input[type=file]", form).map((i) => [i.name, i.files[0]]));
  const views = $("#results .views");
  const add = (what, b, label) => {
    const figure = document.createElement("figure");
    const view = viewOf(b, label);
    if (view) figure.append(view);
    const caption = document.createElement("figcaption");
    caption.textContent = `${label} (${what}, ${size(b.size)})`;
    figure.append(caption);
    views.append(figure);
  };
  const kind = form.dataset.result;
  let psnrLine = "";
  if (kind === "stego") {
    add(files.cover.name, files.cover, "cover");
    if (files.secret) add(files.secret.name, files.secret, "secret");
    add(name, blob, "stego");
    if (files.secret) lastHide = { stego: blob, secret: files.secret };
    const db = await psnr(files.cover, blob);
    if (db !== null) psnrLine = `Cover PSNR ${db.toFixed(2)} dB (stego against cover)`;
  } else if (kind === "revealed") {
    add(files.stego.name, files.stego, "stego");
    const secret = lastHide && await sameBytes(lastHide.stego, files.stego) ? lastHide.secret : null;
    if (secret) add(secret.name, secret, "secret");
    add(name, blob, "revealed");
    const db = secret ? await psnr(secret, blob) : null;
    if (db !== null) psnrLine = `Secret PSNR ${db.toFixed(2)} dB (revealed against secret)`;
  } else {
    add(files.stego.name, files.stego, "stego");
    add(name, new File([blob], name, { type: typeOf(name) }), "unsealed file");
  }
  $("#results .psnr").textContent = psnrLine;
  const link = $("#results .download");
  const url = URL.createObjectURL(blob);
  urls.push(url);
  link.href = url;
  link.download = name;
  link.textContent = `Download ${name}`;
  link.hidden = false;
  $("#results").hidden = false;
}

function typeOf(name) {
  const ext = name.split(".").pop().toLowerCase();
  return { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", avif: "image/avif", webp: "image/webp",
           gif: "image/gif", wav: "audio/wav", txt: "text/plain" }[ext] || "application/octet-stream";
}

function size(n) { return n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1048576).toFixed(1)} MB`; }

function showError(message) {
  const box = $("#error");
  box.textContent = message;
  box.hidden = false;
}

function clearResults() {
  $("#error").hidden = true;
  $("#results").hidden = true;
  $("#results .views").replaceChildren();
  $("#results .download").hidden = true;
  while (urls.length > 8) URL.revokeObjectURL(urls.shift());
}

async function sameBytes(a, b) {
  if (a.size !== b.size) return false;
  const [x, y] = await Promise.all([a.arrayBuffer(), b.arrayBuffer()]).then((v) => v.map((u) => new Uint8Array(u)));
  return x.every((v, i) => v === y[i]);
}

// PSNR in RGB over 8-bit values, as exypno evaluate reports it; null unless both are pictures of one size.
async function psnr(a, b) {
  if (!(a.type || "").startsWith("image/") || !(b.type || "").startsWith("image/")) return null;
  let x, y;
  try { [x, y] = await Promise.all([pixels(a), pixels(b)]); } catch (_) { return null; }
  if (x.width !== y.width || x.height !== y.height) return null;
  let sum = 0, n = 0;
  for (let i = 0; i < x.data.length; i += 4) {
    for (let c = 0; c < 3; c++) { const d = x.data[i + c] - y.data[i + c]; sum += d * d; }
    n += 3;
  }
  return sum === 0 ? Infinity : 10 * Math.log10(255 * 255 / (sum / n));
}

async function pixels(blob) {
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
}

loadModels();
