// Phopy's progressive enhancements. Every page works without this file: forms post
// normally, links open photos. With it: toasts, loading buttons, inline checks,
// selfie previews, upload and indexing progress, and a photo lightbox.
(function () {
  "use strict";

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const csrfToken = $('meta[name="csrf-token"]')?.content || "";
  let STRINGS = {};
  try { STRINGS = JSON.parse($("#phopy-strings")?.textContent || "{}"); } catch (e) { STRINGS = {}; }

  /** A message from the page's strings with {placeholders} filled in. */
  function t(key, vars) {
    let text = STRINGS[key] || key;
    Object.entries(vars || {}).forEach(([k, v]) => { text = text.split("{" + k + "}").join(String(v)); });
    return text;
  }

  const IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif"];
  const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif"];

  function isImage(file) {
    const name = (file.name || "").toLowerCase();
    return IMAGE_TYPES.includes(file.type) || IMAGE_EXTENSIONS.some((ext) => name.endsWith(ext));
  }

  function formatBytes(n) {
    if (n < 1024 * 1024) return Math.max(1, Math.round(n / 1024)) + " KB";
    return (n / (1024 * 1024)).toFixed(1) + " MB";
  }

  function formatDuration(seconds) {
    const s = Math.max(1, Math.round(seconds));
    return s < 60 ? t("seconds", { n: s }) : t("minutes", { m: Math.floor(s / 60), s: s % 60 });
  }

  // ---- Toasts -------------------------------------------------------------------
  const toastBox = $("#toasts");

  function armToast(el) {
    if (el.querySelector(".toast-close")) return;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", t("dismiss"));
    close.textContent = "×";
    close.addEventListener("click", () => dismiss(el));
    el.appendChild(close);
    const isError = el.classList.contains("error");
    setTimeout(() => dismiss(el), isError ? 10000 : 6000);
  }

  function dismiss(el) {
    if (!el.isConnected) return;
    el.classList.add("leaving");
    setTimeout(() => el.remove(), 260);
  }

  /** Show a toast: kind is "success", "error" or "info". */
  function toast(message, kind) {
    if (!toastBox || !message) return null;
    const el = document.createElement("div");
    el.className = "toast " + (kind || "info");
    if (kind === "error") el.setAttribute("role", "alert");
    const text = document.createElement("span");
    text.className = "toast-text";
    text.textContent = message;
    el.appendChild(text);
    toastBox.appendChild(el);
    armToast(el);
    return el;
  }
  window.phopyToast = toast;
  $$(".toast", toastBox || document).forEach(armToast);

  // A toast saved before a reload (e.g. "indexing complete") shows after it.
  try {
    const saved = JSON.parse(sessionStorage.getItem("phopy-toast") || "null");
    if (saved) { sessionStorage.removeItem("phopy-toast"); toast(saved.message, saved.kind); }
  } catch (e) { /* storage may be off */ }

  function toastAfterReload(message, kind) {
    try { sessionStorage.setItem("phopy-toast", JSON.stringify({ message, kind })); } catch (e) { /* ignore */ }
  }

  // ---- Loading state on buttons -------------------------------------------------
  function setBusy(button, busy) {
    if (!button) return;
    if (busy) {
      if (!button.dataset.label) button.dataset.label = button.innerHTML;
      button.classList.add("loading");
      button.setAttribute("aria-busy", "true");
      if (button.dataset.busy) button.textContent = button.dataset.busy;
    } else {
      button.classList.remove("loading");
      button.removeAttribute("aria-busy");
      if (button.dataset.label) button.innerHTML = button.dataset.label;
    }
  }

  $$("form[data-busy-form]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (event.defaultPrevented) return;
      const button = event.submitter || $('button[type="submit"]', form);
      setBusy(button, true);
      // Disable after the browser has collected the form, so a second tap does nothing.
      setTimeout(() => { if (button) button.disabled = true; }, 0);
    });
  });
  // Coming back with the Back button shows the page as it was: undo loading states.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    $$("button.loading").forEach((b) => { setBusy(b, false); b.disabled = false; });
  });

  $$("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (e) => { if (!confirm(form.dataset.confirm)) e.preventDefault(); });
  });

  $$("[data-back]").forEach((button) => {
    if (history.length > 1) button.hidden = false;
    button.addEventListener("click", () => history.back());
  });

  $$("[data-copy]").forEach((button) => {
    if (!navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try { await navigator.clipboard.writeText(button.dataset.copy); toast(t("copied"), "success"); }
      catch (e) { toast(t("copy_failed"), "error"); }
    });
  });

  // ---- New event: inline check of the name ---------------------------------------
  const eventForm = $("#event-form");
  if (eventForm) {
    const name = $("#name", eventForm);
    const error = $("#name-error", eventForm);
    let touched = false;
    const check = () => {
      const length = name.value.trim().replace(/\s+/g, " ").length;
      const ok = length >= 3 && length <= 100;
      error.textContent = ok || !touched ? "" : name.dataset.msg;
      name.setAttribute("aria-invalid", ok || !touched ? "false" : "true");
      return ok;
    };
    name.addEventListener("input", () => { if (touched) check(); });
    name.addEventListener("blur", () => { touched = name.value.length > 0 || touched; check(); });
    eventForm.addEventListener("submit", (e) => {
      touched = true;
      if (!check()) { e.preventDefault(); e.stopImmediatePropagation(); name.focus(); }
    }, true);
  }

  // Progress bars carry their width in data-percent (the CSP forbids inline styles).
  $$("[data-percent]").forEach((bar) => { bar.style.width = (parseFloat(bar.dataset.percent) || 0) + "%"; });

  // ---- Dashboard: upload photos with progress -----------------------------------
  const uploadForm = $("#upload-form");
  const progressCard = $("#progress-card");
  let startPolling = () => {};

  if (progressCard) {
    const bar = $("#progress-bar");
    const barWrap = $("#progress");
    const percent = $("#progress-percent");
    const state = $("#task-state");
    const count = $("#progress-count");
    const current = $("#progress-current");
    const currentItem = $("#current-item");
    const faces = $("#progress-faces");
    const facesFound = $("#faces-found");
    const eta = $("#progress-eta");
    let last = progressCard.dataset.status;
    let timer = null;

    const setText = (id, value) => { const el = document.getElementById(id); if (el) el.textContent = value; };

    const render = (task) => {
      const pct = Math.floor(task.progress_percent || 0);
      bar.style.width = (task.progress_percent || 0) + "%";
      barWrap.setAttribute("aria-valuenow", String(task.progress_percent || 0));
      barWrap.classList.toggle("active", task.status === "running" || task.status === "pending");
      percent.textContent = pct + "%";
      const running = task.status === "running";
      if (task.status === "pending") {
        state.innerHTML = "";
        const badge = document.createElement("span");
        badge.className = "badge info";
        badge.textContent = t("indexing_pending");
        state.appendChild(badge);
      } else if (running) {
        state.innerHTML = "";
        const badge = document.createElement("span");
        badge.className = "badge info";
        badge.textContent = t("indexing_running", { done: task.progress, total: task.total });
        state.appendChild(badge);
      }
      count.hidden = true;
      current.hidden = !(running && task.current_item);
      currentItem.textContent = task.current_item || "";
      faces.hidden = !running;
      facesFound.textContent = task.faces_found;
      eta.hidden = !running;
      eta.textContent = task.eta_seconds != null ? t("eta", { time: formatDuration(task.eta_seconds) }) : t("eta_unknown");
    };

    const tick = async () => {
      timer = null;
      try {
        const [task, status] = await Promise.all([
          fetch(progressCard.dataset.taskUrl, { headers: { Accept: "application/json" } }).then((r) => (r.ok ? r.json() : null)),
          fetch(progressCard.dataset.statusUrl, { headers: { Accept: "application/json" } }).then((r) => (r.ok ? r.json() : null)),
        ]);
        if (status) {
          setText("count-photos", status.total_photos);
          setText("count-scanned", status.scanned);
          setText("count-faces", status.faces);
          setText("count-errors", status.error);
        }
        if (task) {
          render(task);
          const wasActive = last === "running" || last === "pending";
          if (wasActive && task.status === "completed") {
            toastAfterReload(t("indexing_done", { faces: task.faces_found }), "success");
            window.location.reload();
            return;
          }
          if (wasActive && task.status === "failed") {
            toastAfterReload(t("indexing_failed", { error: task.error || "" }), "error");
            window.location.reload();
            return;
          }
          last = task.status;
          if (task.status !== "running" && task.status !== "pending") return;  // nothing to watch
        }
      } catch (err) { /* try again on the next tick */ }
      timer = setTimeout(tick, 2000);
    };

    startPolling = (status) => {
      if (status) last = status;
      if (timer) clearTimeout(timer);
      timer = setTimeout(tick, 300);
    };
    if (last === "running" || last === "pending") startPolling();
  }

  if (uploadForm) {
    const input = $("#photo-input", uploadForm);
    const zone = $("#dropzone", uploadForm);
    const summary = $("#file-summary", uploadForm);
    const button = $("#upload-button", uploadForm);
    const box = $("#upload-progress", uploadForm);
    const bar = $("#upload-bar", uploadForm);
    const barWrap = $("#upload-bar-wrap", uploadForm);
    const status = $("#upload-status", uploadForm);
    const maxBytes = Number(uploadForm.dataset.maxBytes);
    let files = [];

    const choose = (list) => {
      files = [];
      const skipped = [];
      Array.from(list || []).forEach((f) => {
        if (!isImage(f)) skipped.push(t("photos_skipped", { name: f.name, reason: t("photo_type") }));
        else if (f.size > maxBytes) skipped.push(t("photos_skipped", { name: f.name, reason: t("photo_size") }));
        else files.push(f);
      });
      const total = files.reduce((n, f) => n + f.size, 0);
      summary.textContent = files.length ? t("photos_chosen", { n: files.length, size: formatBytes(total) }) : "";
      skipped.forEach((m) => toast(m, "error"));
    };

    input.addEventListener("change", () => choose(input.files));
    ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (e) => {
      e.preventDefault();
      zone.classList.add("over");
    }));
    ["dragleave", "dragend"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      if (e.dataTransfer?.files?.length) choose(e.dataTransfer.files);
    });

    const finish = () => {
      setBusy(button, false);
      button.disabled = false;
      box.hidden = true;
      input.value = "";
      files = [];
      summary.textContent = "";
    };

    uploadForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!files.length) { toast(t("choose_photos"), "error"); return; }
      const data = new FormData();
      data.append("csrf_token", $('input[name="csrf_token"]', uploadForm).value);
      files.forEach((f) => data.append("photos", f, f.name));
      const xhr = new XMLHttpRequest();
      xhr.open("POST", uploadForm.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", csrfToken);
      xhr.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable) return;
        const pct = Math.round((100 * e.loaded) / e.total);
        bar.style.width = pct + "%";
        barWrap.setAttribute("aria-valuenow", String(pct));
        status.textContent = t("uploading", { percent: pct });
      });
      xhr.addEventListener("load", () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        finish();
        if (!body) { toast(t("server_error"), "error"); return; }
        if (xhr.status >= 400 && !body.rejected) { toast(body.message || t("server_error"), "error"); return; }
        if (body.added) toast(body.message, "success");
        (body.rejected || []).forEach((r) => toast(r.error, "error"));
        if (body.duplicates) toast(t("duplicates", { n: body.duplicates }), "info");
        if (body.task_id) {
          toast(t("upload_done"), "info");
          startPolling("pending");
        } else {
          startPolling();
        }
      });
      xhr.addEventListener("error", () => { finish(); toast(t("network_error"), "error"); });
      setBusy(button, true);
      button.disabled = true;
      box.hidden = false;
      bar.style.width = "0%";
      status.textContent = t("uploading", { percent: 0 });
      xhr.send(data);
    });
  }

  // ---- Attendee: choose 1–3 selfies with previews --------------------------------
  const selfieForm = $("#selfie-form");
  if (selfieForm && window.DataTransfer) {
    const input = $("#selfies", selfieForm);
    const previews = $("#selfie-previews", selfieForm);
    const error = $("#selfie-error", selfieForm);
    const counter = $("#selfie-count", selfieForm);
    const button = $("#search-button", selfieForm);
    const maxFiles = Number(selfieForm.dataset.maxFiles) || 3;
    const maxBytes = Number(selfieForm.dataset.maxBytes);
    let chosen = [];  // {file, url}

    const sync = () => {
      const transfer = new DataTransfer();
      chosen.forEach((c) => transfer.items.add(c.file));
      input.files = transfer.files;
      input.required = chosen.length === 0;
      previews.innerHTML = "";
      chosen.forEach((c, i) => {
        const li = document.createElement("li");
        const img = document.createElement("img");
        img.src = c.url;
        img.alt = t("selfie_alt", { name: c.file.name });
        img.addEventListener("error", () => { img.removeAttribute("src"); });
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "remove";
        remove.textContent = "×";
        remove.setAttribute("aria-label", t("remove_selfie", { name: c.file.name }));
        remove.addEventListener("click", () => {
          URL.revokeObjectURL(chosen[i].url);
          chosen.splice(i, 1);
          error.textContent = "";
          sync();
          (previews.querySelector(".remove") || input).focus();
        });
        const name = document.createElement("span");
        name.className = "name";
        name.textContent = c.file.name;
        li.append(img, remove, name);
        previews.appendChild(li);
      });
      counter.textContent = chosen.length ? t("selfie_count", { n: chosen.length, max: maxFiles }) : "";
      button.disabled = chosen.length === 0;
      button.setAttribute("aria-disabled", chosen.length === 0 ? "true" : "false");
    };

    input.addEventListener("change", () => {
      const problems = [];
      Array.from(input.files).forEach((file) => {
        if (chosen.some((c) => c.file.name === file.name && c.file.size === file.size)) return;
        if (!isImage(file)) problems.push(t("selfie_type", { name: file.name }));
        else if (file.size > maxBytes) problems.push(t("selfie_size", { name: file.name }));
        else if (chosen.length >= maxFiles) {
          if (!problems.includes(t("selfie_max"))) problems.push(t("selfie_max"));
        } else chosen.push({ file, url: URL.createObjectURL(file) });
      });
      error.textContent = problems.join(" ");
      sync();
    });

    selfieForm.addEventListener("submit", (e) => {
      if (!chosen.length) {
        e.preventDefault();
        e.stopImmediatePropagation();
        error.textContent = t("selfie_none");
      }
    }, true);

    // Start disabled: the button waits for a valid selfie (without JavaScript the
    // browser's own `required` check does this job).
    sync();
    if (selfieForm.dataset.resetOnShow !== "no") {
      window.addEventListener("pageshow", (ev) => { if (ev.persisted) { chosen = []; sync(); } });
    }
  }

  // ---- Results: lightbox ----------------------------------------------------------
  const box = $("#lightbox");
  const links = $$(".lightbox-link");
  if (box && links.length) {
    const img = $("#lightbox-img");
    const caption = $("#lightbox-caption");
    const download = $("#lightbox-download");
    const prev = $("#lightbox-prev");
    const next = $("#lightbox-next");
    const close = $("#lightbox-close");
    let index = 0;
    let opener = null;

    const show = (i) => {
      index = (i + links.length) % links.length;
      const link = links[index];
      img.src = link.dataset.full;
      img.alt = link.querySelector("img")?.alt || "";
      caption.textContent = t("lightbox_title", { i: index + 1, n: links.length }) + " · " + (link.dataset.name || "");
      download.href = link.dataset.download;
      prev.hidden = next.hidden = links.length < 2;
    };
    const open = (i) => {
      opener = document.activeElement;
      show(i);
      box.hidden = false;
      document.body.style.overflow = "hidden";
      close.focus();
    };
    const hide = () => {
      box.hidden = true;
      img.removeAttribute("src");
      document.body.style.overflow = "";
      if (opener) opener.focus();
    };
    links.forEach((link, i) => link.addEventListener("click", (e) => { e.preventDefault(); open(i); }));
    close.addEventListener("click", hide);
    prev.addEventListener("click", () => show(index - 1));
    next.addEventListener("click", () => show(index + 1));
    box.addEventListener("click", (e) => { if (e.target === box) hide(); });
    download.addEventListener("click", () => toast(t("download_started"), "success"));
    document.addEventListener("keydown", (e) => {
      if (box.hidden) return;
      if (e.key === "Escape") hide();
      else if (e.key === "ArrowLeft") show(index - 1);
      else if (e.key === "ArrowRight") show(index + 1);
    });
  }
})();
