// The Google Drive panel of an event page: show sync progress, reload when it ends.
(function () {
  "use strict";
  var card = document.getElementById("drive-card");
  if (!card || !card.dataset.driveStatus || !window.fetch) { return; }
  var line = document.getElementById("drive-sync-state");
  // Drawn while a sync was queued or running: reload when it has ended, however soon.
  var wasRunning = !!(line && line.dataset.syncOpen);
  function poll() {
    fetch(card.dataset.driveStatus, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body || !body.sync) { return; }
        var s = body.sync;
        var running = s.status === "pending" || s.status === "running";
        if (running && line) {
          line.textContent = (s.current_item || "") + (s.total ? " (" + s.progress + "/" + s.total + ")" : "");
        }
        if (wasRunning && !running) { window.location.reload(); return; }
        wasRunning = running;
        setTimeout(poll, running ? 1500 : 5000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  poll();
})();
