/* The import page's progress bar: poll the run's status until it is done or failed. */
(function () {
  "use strict";
  var box = document.getElementById("import-status");
  if (!box || (box.dataset.state !== "queued" && box.dataset.state !== "running")) { return; }
  var lang = document.documentElement.lang || "en";
  var numbers = new Intl.NumberFormat(lang === "fa" ? "fa-IR" : "en-US", { maximumFractionDigits: 0 });
  var bar = document.getElementById("import-progress");
  var percent = document.getElementById("import-percent");

  function show(status) {
    bar.value = status.progress;
    percent.textContent = numbers.format(Math.floor(status.progress * 100)) + box.dataset.percentSign;
    var tag = document.querySelector("#import-meta [data-state]");
    if (tag && status.state === "running" && tag.dataset.state !== "running") {
      tag.dataset.state = "running";
      tag.textContent = box.dataset.runningLabel;
    }
    box.querySelectorAll("[data-count]").forEach(function (el) {
      el.textContent = numbers.format(status[el.dataset.count] || 0);
    });
  }

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (status) {
        show(status);
        /* The finished page (bad rows, re-run) is rendered by the server. */
        if (status.state === "done" || status.state === "failed") { window.location.reload(); }
        else { window.setTimeout(poll, 700); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 300);
})();
