/* Safar survey widget: shows a personal survey link in an accessible overlay.
   Embed: <script src="https://SAFAR/s/widget.js" data-token="TOKEN" async></script>
   or, for a survey's open link (anyone may answer),
   <script src="https://SAFAR/s/widget.js" data-open="https://SAFAR/s/p/TOKEN" async></script>
   or call SafarSurvey.open({token: "...", onComplete: fn}) yourself. No dependencies. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var current = null;

  function close() {
    if (!current) return;
    window.removeEventListener("message", current.onMessage);
    document.removeEventListener("keydown", current.onKey);
    current.root.parentNode && current.root.parentNode.removeChild(current.root);
    if (current.previous && current.previous.focus) current.previous.focus();
    current = null;
  }

  function open(opts) {
    opts = opts || {};
    if (!opts.token && !opts.url) throw new Error("SafarSurvey.open: token or url is required");
    close();
    var rtl = (opts.lang || document.documentElement.lang || "fa").slice(0, 2) === "fa";
    var root = document.createElement("div");
    root.setAttribute("role", "dialog");
    root.setAttribute("aria-modal", "true");
    root.setAttribute("aria-label", opts.title || (rtl ? "نظرسنجی" : "Survey"));
    root.style.cssText = "position:fixed;inset:0;z-index:2147483000;background:rgba(0,0,0,.45);" +
      "display:flex;align-items:flex-end;justify-content:center";
    var box = document.createElement("div");
    box.style.cssText = "position:relative;background:#fff;width:100%;max-width:34rem;height:80vh;" +
      "max-height:40rem;border-radius:14px 14px 0 0;overflow:hidden;box-shadow:0 -4px 24px rgba(0,0,0,.2)";
    var btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = "\u00d7";
    btn.setAttribute("aria-label", rtl ? "بستن" : "Close");
    btn.style.cssText = "position:absolute;top:.4rem;" + (rtl ? "left" : "right") + ":.4rem;" +
      "width:2.75rem;height:2.75rem;font-size:1.5rem;border:0;background:transparent;cursor:pointer";
    btn.onclick = close;
    var frame = document.createElement("iframe");
    frame.src = opts.url ? opts.url + "?embed=1" : base + "/s/" + encodeURIComponent(opts.token) + "?embed=1";
    frame.title = opts.title || (rtl ? "نظرسنجی" : "Survey");
    frame.style.cssText = "border:0;width:100%;height:100%;padding-top:2.5rem";
    box.appendChild(btn);
    box.appendChild(frame);
    root.appendChild(box);
    root.addEventListener("click", function (e) { if (e.target === root) close(); });
    var onMessage = function (e) {
      if (e.origin !== base || !e.data || e.data.safar !== "survey-complete") return;
      if (typeof opts.onComplete === "function") opts.onComplete();
      setTimeout(close, 1500);
    };
    var onKey = function (e) { if (e.key === "Escape") close(); };
    window.addEventListener("message", onMessage);
    document.addEventListener("keydown", onKey);
    current = { root: root, onMessage: onMessage, onKey: onKey, previous: document.activeElement };
    document.body.appendChild(root);
    btn.focus();
    return { close: close };
  }

  window.SafarSurvey = { open: open, close: close };
  if (script && (script.getAttribute("data-token") || script.getAttribute("data-open"))) {
    var go = function () {
      open({ token: script.getAttribute("data-token"), url: script.getAttribute("data-open"), lang: script.getAttribute("data-lang") });
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", go); else go();
  }
})();
