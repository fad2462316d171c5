/* The automation builder's view of its graph: the canvas scaled (zoom) inside a box that scrolls
   (pan). Zoom with the toolbar's buttons, Ctrl and the wheel (or a pinch), or the keys +, − and
   0 on the focused box; pan by dragging the background, the wheel, the scroll bars or the arrow
   keys. flows.js draws the graph; this file only sizes and scales what it drew. Distances along
   the line are measured from the start side: a right-to-left box scrolls with a negative
   scrollLeft. */
(function () {
  "use strict";
  var MIN = 0.3, MAX = 1.5, STEP = 1.25, WHEEL_STEP = 1.1;

  /* opts: viewport, stage, canvas (elements), rtl, locale, redraw (draws the graph again). */
  window.SafarFlowView = function (opts) {
    var viewport = opts.viewport, stage = opts.stage, canvas = opts.canvas, rtl = opts.rtl;
    var sign = rtl ? -1 : 1, level = document.getElementById("fb-zoom-level");
    var pf = new Intl.NumberFormat(opts.locale, { style: "percent" });
    var zoom = 1, natural = { width: 0, height: 0 };

    /* The canvas's size for a graph of ``nat`` (unscaled) pixels: at least the box's width, so
       a narrow journey still starts at the start side; the stage around it takes the scaled
       size, which is what the box scrolls over. The box is as tall as the graph, up to its
       CSS max-height. */
    function size(nat) {
      natural = nat;
      var width = Math.max((viewport.clientWidth - 2) / zoom, nat.width), height = nat.height;
      canvas.style.width = width + "px";
      canvas.style.height = height + "px";
      canvas.style.transform = zoom === 1 ? "" : "scale(" + zoom + ")";
      canvas.dataset.zoom = String(zoom);
      stage.style.width = Math.floor(width * zoom) + "px";
      stage.style.height = Math.floor(height * zoom) + "px";
      level.textContent = pf.format(zoom);
      return { width: width, height: height };
    }
    /* Zoom to ``z``, keeping the point ``at`` (client coordinates; the box's middle if none)
       where it was on the screen. */
    function setZoom(z, at) {
      z = Math.min(MAX, Math.max(MIN, Math.round(z * 100) / 100));
      if (z === zoom) { return; }
      var box = viewport.getBoundingClientRect();
      var px = at ? at.x - box.left - viewport.clientLeft : viewport.clientWidth / 2;
      var py = at ? at.y - box.top - viewport.clientTop : viewport.clientHeight / 2;
      var ax = rtl ? viewport.clientWidth - px : px;
      var cx = (sign * viewport.scrollLeft + ax) / zoom, cy = (viewport.scrollTop + py) / zoom;
      zoom = z;
      opts.redraw();
      viewport.scrollLeft = sign * Math.max(0, cx * zoom - ax);
      viewport.scrollTop = Math.max(0, cy * zoom - py);
    }
    /* The whole graph in the box (never larger than its actual size), from its start. */
    function fit() {
      var tallest = parseFloat(getComputedStyle(viewport).maxHeight) || viewport.clientHeight;
      var z = Math.min((viewport.clientWidth - 4) / natural.width, (tallest - 4) / natural.height, 1);
      setZoom(z);
      viewport.scrollLeft = 0;
      viewport.scrollTop = 0;
    }
    /* Scroll the box (only the box, never the page) so that ``el`` shows. */
    function reveal(el) {
      var v = viewport.getBoundingClientRect(), b = el.getBoundingClientRect(), pad = 20;
      if (b.left < v.left) { viewport.scrollLeft -= v.left - b.left + pad; }
      else if (b.right > v.right) { viewport.scrollLeft += b.right - v.right + pad; }
      if (b.top < v.top) { viewport.scrollTop -= v.top - b.top + pad; }
      else if (b.bottom > v.bottom) { viewport.scrollTop += b.bottom - v.bottom + pad; }
    }

    document.getElementById("fb-zoom-in").addEventListener("click", function () { setZoom(zoom * STEP); });
    document.getElementById("fb-zoom-out").addEventListener("click", function () { setZoom(zoom / STEP); });
    level.addEventListener("click", function () { setZoom(1); });
    document.getElementById("fb-fit").addEventListener("click", fit);
    viewport.addEventListener("wheel", function (e) {
      if (!e.ctrlKey) { return; }  // the wheel scrolls; with Ctrl (or a pinch) it zooms at the pointer
      e.preventDefault();
      setZoom(e.deltaY < 0 ? zoom * WHEEL_STEP : zoom / WHEEL_STEP, { x: e.clientX, y: e.clientY });
    }, { passive: false });
    viewport.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) { return; }
      var z = { "+": zoom * STEP, "=": zoom * STEP, "-": zoom / STEP, "0": 1 }[e.key];
      if (z === undefined) { return; }
      e.preventDefault();
      setZoom(z);
    });
    viewport.addEventListener("pointerdown", function (e) {
      // Not with another button, nor on a scroll bar (outside the box's client area).
      var r = viewport.getBoundingClientRect(), x = e.clientX - r.left - viewport.clientLeft, y = e.clientY - r.top - viewport.clientTop;
      if (e.button !== 0 || x < 0 || y < 0 || x > viewport.clientWidth || y > viewport.clientHeight) { return; }
      var sx = e.clientX, sy = e.clientY, left = viewport.scrollLeft, top = viewport.scrollTop;
      viewport.classList.add("fb-panning");
      function move(ev) {
        viewport.scrollLeft = left - (ev.clientX - sx);
        viewport.scrollTop = top - (ev.clientY - sy);
      }
      function up() {
        viewport.classList.remove("fb-panning");
        document.removeEventListener("pointermove", move);
        document.removeEventListener("pointerup", up);
      }
      document.addEventListener("pointermove", move);
      document.addEventListener("pointerup", up);
    });
    return { zoom: function () { return zoom; }, size: size, reveal: reveal };
  };
})();
