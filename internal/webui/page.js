// agegender's try-it page: pick, drop or paste a photo; it goes to this
// server's predict endpoint and every face comes back boxed, labelled and
// listed. No inline handlers (CSP): everything is wired here.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const app = $("app");
  const ui = {
    file: $("file"), status: $("status"), result: $("result"), stage: $("stage"),
    photo: $("photo"), boxes: $("boxes"), caption: $("caption"), rows: $("face-rows"),
    raw: $("raw"), json: $("json"), copy: $("copy"), copyStatus: $("copy-status"),
  };
  const maxUpload = Number(app.dataset.maxUpload) || 0;
  const maxUploadText = app.dataset.maxUploadText || "";
  const formats = "JPEG, PNG, GIF, BMP, TIFF or WebP";

  // What the page shows now; a new photo replaces all of it.
  const state = { url: null, abort: null, pinned: null, faces: [] };

  // --- Picking a photo: the file input, a drop anywhere, a paste. ---

  ui.file.addEventListener("change", () => pick(ui.file.files[0]));

  document.addEventListener("dragover", (e) => {
    if (!hasFiles(e.dataTransfer)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
    document.body.classList.add("dragging");
  });
  document.addEventListener("dragleave", (e) => {
    if (e.relatedTarget === null) document.body.classList.remove("dragging");
  });
  document.addEventListener("drop", (e) => {
    document.body.classList.remove("dragging");
    if (!hasFiles(e.dataTransfer)) return;
    e.preventDefault();
    pick(e.dataTransfer.files[0]);
  });
  document.addEventListener("paste", (e) => {
    const files = Array.from((e.clipboardData && e.clipboardData.files) || []);
    const file = files.find((f) => f.type.startsWith("image/")) || files[0];
    if (!file) return;
    e.preventDefault();
    pick(file);
  });

  function hasFiles(dt) {
    return dt && Array.from(dt.types || []).includes("Files");
  }

  // pick checks what can be checked here, shows the photo at once and sends it.
  function pick(file) {
    if (!file) return;
    performance.clearMarks();
    performance.mark("agegender:picked");
    if (state.abort) state.abort.abort();
    resetResult();
    const name = file.name || "the pasted image";
    if (file.type && !file.type.startsWith("image/")) {
      fail(`${quote(name)} is not an image (it is ${file.type}). Pick a ${formats} photo.`);
      return;
    }
    if (maxUpload > 0 && file.size > maxUpload) {
      fail(`${quote(name)} is too large: ${sizeText(file.size)}, and this server takes photos up to ${maxUploadText}.`);
      return;
    }
    showPhoto(file);
    send(file, name);
  }

  async function send(file, name) {
    const ctl = new AbortController();
    state.abort = ctl;
    setState("busy");
    say(`Looking for faces in ${quote(name)}…`);
    const body = new FormData();
    body.append("file", file, file.name || "pasted.png");
    const started = performance.now();
    let res, text;
    try {
      res = await fetch("predict", { method: "POST", body, signal: ctl.signal });
      text = await res.text();
    } catch (err) {
      if (err.name === "AbortError") return;
      fail(`Could not reach the server: ${err.message}. Is agegender serve still running?`);
      return;
    }
    if (ctl.signal.aborted) return;
    const data = parseJSON(text);
    showRaw(data, text);
    if (res.ok && data && Array.isArray(data.faces)) {
      render(data, name, performance.now() - started);
    } else {
      if (res.status === 422) noFaceRow();
      fail(failureText(res, data, name));
    }
  }

  function parseJSON(text) {
    try { return JSON.parse(text); } catch (_) { return null; }
  }

  // failureText says plainly what went wrong, with the server's own words,
  // which name the limit a photo ran into.
  function failureText(res, data, name) {
    const msg = (data && data.error) || `HTTP ${res.status}`;
    switch (res.status) {
      case 400:
        if (/not a supported image|corrupt|empty file/.test(msg)) {
          return `${quote(name)} is not an image this server can read (${formats}). The server said: ${msg}`;
        }
        return `The server refused ${quote(name)}: ${msg}`;
      case 408:
        return `The upload took too long: ${msg}`;
      case 413:
        return `${quote(name)} is too large for this server: ${msg}`;
      case 422:
        return `No face found in ${quote(name)}.`;
      case 429:
      case 503: {
        const after = Number(res.headers.get("Retry-After"));
        const when = after > 0 ? `in ${after} second${after === 1 ? "" : "s"}` : "in a moment";
        return `The server is busy; try again ${when}. (${res.status}: ${msg})`;
      }
      default:
        return `The server answered ${res.status}: ${msg}`;
    }
  }

  // --- Showing the answer. ---

  function showPhoto(file) {
    if (state.url) URL.revokeObjectURL(state.url);
    state.url = URL.createObjectURL(file);
    ui.stage.hidden = false;
    ui.photo.src = state.url;
    ui.caption.textContent = "";
    ui.result.hidden = false;
  }

  // A TIFF, say, reaches the server but not every browser can show it; the
  // table still lists its faces.
  ui.photo.addEventListener("error", () => {
    if (!ui.photo.getAttribute("src")) return;
    ui.stage.hidden = true;
    ui.caption.textContent = "This browser cannot show this image format; its faces are listed in the table.";
  });

  function render(data, name, ms) {
    state.faces = data.faces;
    const n = data.faces.length;
    data.faces.forEach((f, i) => {
      ui.boxes.append(boxFor(f, i, data.width, data.height));
      ui.rows.append(rowFor(f, i));
    });
    const largest = largestFace(data.faces);
    ui.caption.textContent = `${n} face${n === 1 ? "" : "s"} · ${data.width}×${data.height} px · ` +
      `answered in ${Math.round(ms)} ms` +
      (n > 1 ? ` · the answer's top-level age and gender describe face ${largest + 1}, the largest` : "");
    say(`Found ${n} face${n === 1 ? "" : "s"} in ${quote(name)}.`);
    setState("done");
    // The boxes are on screen at the next frame.
    requestAnimationFrame(() => performance.mark("agegender:boxes"));
  }

  function boxFor(f, i, width, height) {
    const b = clampBox(f.box, width, height);
    const box = document.createElement("div");
    box.className = "box";
    box.id = `box-${i}`;
    box.dataset.index = String(i);
    // The table says the same to a screen reader; the boxes are for the eye.
    box.setAttribute("aria-hidden", "true");
    box.style.left = pct(b.x, width);
    box.style.top = pct(b.y, height);
    box.style.width = pct(b.w, width);
    box.style.height = pct(b.h, height);
    if (b.y < height * 0.07) box.classList.add("tag-inside");
    // A label grows rightwards from its box's left edge, or leftwards from
    // its right edge for a face on the right half, so it stays on the photo.
    if (b.x + b.w / 2 > width / 2) box.classList.add("tag-right");
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = `${i + 1} ${f.gender} ${percent(f.gender_probability)} · age ${ageText(f)}`;
    box.append(tag);
    box.addEventListener("mouseenter", () => highlight(i));
    box.addEventListener("mouseleave", () => highlight(state.pinned));
    box.addEventListener("click", () => pin(i));
    return box;
  }

  function rowFor(f, i) {
    const tr = document.createElement("tr");
    tr.id = `face-${i}`;
    tr.dataset.index = String(i);
    tr.tabIndex = 0;
    tr.append(
      cell(String(i + 1)),
      cell(f.gender, percent(f.gender_probability)),
      cell(String(Math.round(f.age)), interval(f)),
      cell(f.detected ? f.score.toFixed(2) : "whole photo", f.detected ? "" : "no face detected"),
    );
    tr.addEventListener("mouseenter", () => highlight(i));
    tr.addEventListener("mouseleave", () => highlight(state.pinned));
    tr.addEventListener("focus", () => highlight(i));
    tr.addEventListener("blur", () => highlight(state.pinned));
    tr.addEventListener("click", () => pin(i));
    tr.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        pin(i);
      }
    });
    return tr;
  }

  // noFaceRow keeps the table from looking unfinished when nobody is there.
  function noFaceRow() {
    const tr = document.createElement("tr");
    const td = cell("No face found.");
    td.colSpan = 4;
    tr.append(td);
    ui.rows.append(tr);
  }

  function cell(text, sub) {
    const td = document.createElement("td");
    td.textContent = text;
    if (sub) {
      const s = document.createElement("span");
      s.className = "sub";
      s.textContent = ` ${sub}`;
      td.append(s);
    }
    return td;
  }

  // pin keeps face i picked out (a tap has no hover); again unpins it.
  function pin(i) {
    state.pinned = state.pinned === i ? null : i;
    highlight(state.pinned);
  }

  // highlight picks out face i's box and row, or none for null.
  function highlight(i) {
    ui.boxes.classList.toggle("has-active", i !== null);
    for (const el of ui.boxes.children) el.classList.toggle("active", Number(el.dataset.index) === i);
    for (const el of ui.rows.children) {
      const on = Number(el.dataset.index) === i;
      el.classList.toggle("active", on);
      el.setAttribute("aria-current", on && state.pinned === i ? "true" : "false");
    }
  }

  function showRaw(data, text) {
    ui.json.textContent = data ? JSON.stringify(data, null, 2) : text;
    ui.copyStatus.textContent = "";
    ui.raw.hidden = false;
  }

  ui.copy.addEventListener("click", async () => {
    const text = ui.json.textContent;
    try {
      await navigator.clipboard.writeText(text);
      ui.copyStatus.textContent = "Copied.";
    } catch (_) {
      // Plain http to another host is not a secure context: no clipboard API.
      const range = document.createRange();
      range.selectNodeContents(ui.json);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      const ok = document.execCommand && document.execCommand("copy");
      ui.copyStatus.textContent = ok ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.";
    }
  });

  // --- Small helpers. ---

  function resetResult() {
    state.pinned = null;
    state.faces = [];
    ui.boxes.replaceChildren();
    ui.boxes.classList.remove("has-active");
    ui.rows.replaceChildren();
    ui.caption.textContent = "";
    ui.result.hidden = true;
    ui.raw.hidden = true;
    ui.status.classList.remove("error");
  }

  function fail(text) {
    ui.status.classList.add("error");
    ui.status.textContent = text;
    setState("error");
  }

  function say(text) {
    ui.status.classList.remove("error");
    ui.status.textContent = text;
  }

  // setState marks the page busy, done or error, for scripts that drive it.
  function setState(s) {
    app.dataset.state = s;
    app.setAttribute("aria-busy", s === "busy" ? "true" : "false");
  }

  function ageText(f) {
    const range = interval(f);
    return range ? `${Math.round(f.age)} ${range}` : String(Math.round(f.age));
  }

  // interval is "(29–41)" when the model gives one, else "".
  function interval(f) {
    if (typeof f.age_low !== "number" || typeof f.age_high !== "number") return "";
    return `(${Math.round(f.age_low)}–${Math.round(f.age_high)})`;
  }

  function percent(p) {
    return `${Math.round(p * 100)}%`;
  }

  // clampBox keeps a box that reaches past the photo's edge on the photo.
  function clampBox(b, width, height) {
    const x = Math.max(0, b.x), y = Math.max(0, b.y);
    return { x, y, w: Math.min(width, b.x + b.w) - x, h: Math.min(height, b.y + b.h) - y };
  }

  function pct(v, total) {
    return `${(100 * v / total).toFixed(3)}%`;
  }

  // largestFace is the face the answer's top-level fields describe.
  function largestFace(faces) {
    let best = 0;
    faces.forEach((f, i) => {
      if (f.box.w * f.box.h > faces[best].box.w * faces[best].box.h) best = i;
    });
    return best;
  }

  function sizeText(n) {
    return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
  }

  function quote(name) {
    return `“${name}”`;
  }
})();
