// Phopy's small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content;

  window.phopyToast = function (message, kind) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const el = document.createElement("div");
    el.className = "toast " + (kind || "");
    el.textContent = message;
    box.appendChild(el);
    setTimeout(() => el.remove(), 5000);
  };

  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (e) => { if (!confirm(form.dataset.confirm)) e.preventDefault(); });
  });

  // Dashboard: poll indexing progress every 2 s while a task is queued or running.
  const card = document.getElementById("progress-card");
  if (card) {
    const bar = document.getElementById("progress-bar");
    const detail = document.getElementById("task-detail");
    const statusEl = document.getElementById("task-status");
    let last = statusEl.dataset.status;
    const tick = async () => {
      try {
        const [t, s] = await Promise.all([
          fetch(card.dataset.taskUrl, { headers: { Accept: "application/json" } }).then((r) => r.ok ? r.json() : null),
          fetch(card.dataset.statusUrl, { headers: { Accept: "application/json" } }).then((r) => r.json()),
        ]);
        document.getElementById("count-photos").textContent = s.total_photos;
        document.getElementById("count-scanned").textContent = s.scanned;
        document.getElementById("count-faces").textContent = s.faces;
        document.getElementById("count-errors").textContent = s.error;
        if (t) {
          bar.style.width = t.progress_percent + "%";
          bar.parentElement.setAttribute("aria-valuenow", t.progress_percent);
          detail.textContent = t.status === "running"
            ? `${t.progress_percent}% · ${t.progress}/${t.total} · ${t.faces_found} faces` +
              (t.eta_seconds != null ? ` · ETA ${Math.round(t.eta_seconds)} s` : "") +
              (t.current_item ? ` · ${t.current_item}` : "")
            : "";
          if ((last === "running" || last === "pending") && (t.status === "completed" || t.status === "failed")) {
            window.location.reload();
            return;
          }
          last = t.status;
        }
      } catch (err) { /* try again on the next tick */ }
      setTimeout(tick, 2000);
    };
    setTimeout(tick, 500);
  }
})();
