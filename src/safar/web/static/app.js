/* Safar dashboard behaviour: charts (ECharts), copy buttons, auto-submitting selects, the filter
   bar and its Jalali date picker. */
(function () {
  "use strict";
  var html = document.documentElement;
  var rtl = html.dir === "rtl";
  var lang = html.lang || "en";
  var locale = lang === "fa" ? "fa-IR" : "en-US";
  /* The page's own digits, minus and percent sign (Persian: ۱۲٫۵٪, with an LRM before −). */
  var numberFormat = new Intl.NumberFormat(locale);
  var percentFormat = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
  var font = "Vazirmatn, system-ui, sans-serif";
  var palette = ["#1f6feb", "#7c3aed", "#f59e0b", "#10b981", "#0ea5e9", "#e11d48",
    "#a855f7", "#f97316", "#6366f1", "#64748b", "#94a3b8"];

  function plain(v) { return typeof v === "number" ? numberFormat.format(v) : v; }
  /* A chart whose spec says unit "percent" holds values already in percent (42.5 for 42.5 %). */
  function pct(v) { return typeof v === "number" ? percentFormat.format(v / 100) : v; }

  /* Build an ECharts option from a small spec {kind, categories, series}; RTL-aware. `width`
     is the chart's width in pixels (labels that wrap need one). */
  function option(spec, width) {
    var fmt = spec.unit === "percent" ? pct : plain;
    var base = {
      color: palette,
      textStyle: { fontFamily: font },
      tooltip: { trigger: spec.kind === "pie" ? "item" : "axis", valueFormatter: fmt },
      legend: { type: "scroll", top: 0, left: rtl ? "right" : "left", align: rtl ? "right" : "left",
        textStyle: { fontFamily: font } },
      grid: { top: 40, bottom: 30, left: rtl ? 20 : 50, right: rtl ? 50 : 20, containLabel: true },
      animation: false
    };
    if (spec.kind === "funnel") {
      /* The funnel takes the half of the chart where a line starts; its labels sit beside it in
         the other half and wrap there, so a long step name is never cut off. */
      var side = Math.max(120, Math.floor(width * 0.42) - 16);
      base.tooltip = { trigger: "item", valueFormatter: fmt };
      base.legend.show = false;  /* the labels name the steps */
      base.series = spec.series.map(function (s) {
        return { type: "funnel", name: s.name, data: s.data, sort: "none", top: 40, bottom: 10,
          left: rtl ? "44%" : "2%", width: "54%", minSize: "12%", gap: 2, cursor: "pointer",
          label: { position: rtl ? "left" : "right", width: side, overflow: "break",
            lineHeight: 18, color: "#1f2937", align: rtl ? "right" : "left",
            formatter: function (p) {
              return p.name + "\n" + fmt(p.value) + (p.data.share ? " · " + p.data.share : "");
            } },
          labelLine: { show: true, length: 10 } };
      });
      return base;
    }
    if (spec.kind === "sankey") {
      base.tooltip = { trigger: "item", valueFormatter: fmt };
      base.series = [{ type: "sankey", data: spec.nodes, links: spec.links, top: 20, bottom: 20,
        orient: "horizontal", nodeAlign: rtl ? "right" : "left", emphasis: { focus: "adjacency" },
        label: { formatter: function (p) { return p.data.label || p.name; } } }];
      return base;
    }
    if (spec.kind === "graph") {
      base.tooltip = { trigger: "item", valueFormatter: fmt };
      var layered = spec.layout === "layers";
      base.series = [{ type: "graph", layout: layered ? "none" : "force", roam: true,
        draggable: !layered, data: spec.nodes, links: spec.links,
        force: { repulsion: 260, edgeLength: 120 }, top: 40, bottom: 30, left: 60, right: 60,
        edgeSymbol: ["none", "arrow"], edgeSymbolSize: [0, 9],
        label: { show: true, position: layered ? "top" : "inside", fontFamily: font },
        edgeLabel: { fontFamily: font, fontSize: 12, color: "#111827",
          backgroundColor: "rgba(255,255,255,0.85)", padding: [1, 3], borderRadius: 3 },
        emphasis: { focus: "adjacency" },
        lineStyle: { curveness: 0.15, opacity: 0.7 } }];
      return base;
    }
    if (spec.kind === "pie") {
      base.series = spec.series.map(function (s) {
        /* Slices too thin to label legibly keep their legend entry and tooltip only. */
        return { type: "pie", name: s.name, data: s.data, radius: ["40%", "70%"], top: 30,
          minShowLabelAngle: 8, labelLayout: { hideOverlap: true },
          label: { formatter: "{b}" } };
      });
      return base;
    }
    var category = { type: "category", data: spec.categories, inverse: rtl && spec.kind !== "hbar",
      axisLabel: { fontFamily: font, hideOverlap: true } };
    var value = { type: "value", position: rtl ? "right" : "left",
      axisLabel: { formatter: fmt, fontFamily: font } };
    if (spec.axes) {
      /* One value axis per measure (NPS -100..100, sentiment -1..1, ...): the first on the
         line's starting side, the others on the far side, each named. */
      base.xAxis = category;
      base.yAxis = spec.axes.map(function (a, i) {
        var far = i > 0;
        var right = rtl ? !far : far;
        return Object.assign({}, value, { name: a.name, min: a.min, max: a.max,
          position: right ? "right" : "left", offset: i > 1 ? 56 * (i - 1) : 0,
          nameGap: i > 1 ? 34 : 14, axisLine: { show: true },
          nameTextStyle: { fontFamily: font, align: right ? "right" : "left" },
          splitLine: { show: i === 0 } });
      });
      var extra = Math.max(0, spec.axes.length - 2) * 56;
      base.grid.left = 20 + (rtl ? extra : 0);
      base.grid.right = 20 + (rtl ? 0 : extra);
      base.grid.top = spec.axes.length > 2 ? 84 : 64;
      base.legend.top = 0;
      base.series = spec.series.map(function (s) {
        return { type: "line", name: s.name, data: s.data, yAxisIndex: s.yAxisIndex || 0,
          connectNulls: true, symbolSize: 8 };
      });
      return base;
    }
    if (spec.kind === "hbar") {
      base.xAxis = Object.assign({}, value, { inverse: rtl, position: "bottom" });
      base.yAxis = Object.assign({}, category, { position: rtl ? "right" : "left" });
      base.legend.show = false;
    } else {
      base.xAxis = category;
      base.yAxis = value;
    }
    base.series = spec.series.map(function (s) {
      return { type: spec.kind === "line" ? "line" : "bar", name: s.name, data: s.data,
        stack: spec.kind === "stacked-bar" ? "total" : undefined, smooth: true,
        itemStyle: s.color ? { color: s.color } : undefined };
    });
    return base;
  }

  function drawCharts() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart-for]").forEach(function (el) {
      var spec = JSON.parse(document.getElementById(el.dataset.chartFor).textContent);
      /* SVG text anchors follow the page's direction, and ECharts places them for
         left-to-right: an SVG chart lays its text out left to right (each label keeps its own
         bidi order). */
      if (spec.renderer === "svg") { el.style.direction = "ltr"; }
      var chart = window.echarts.init(el, null, { renderer: spec.renderer || "canvas" });
      chart.setOption(option(spec, el.clientWidth));
      window.addEventListener("resize", function () {
        chart.setOption(option(spec, el.clientWidth));
      });
      /* A number with the customers behind it links to them (funnel steps, key drivers). */
      chart.on("click", function (p) {
        if (p.data && p.data.href) { window.location.href = p.data.href; }
      });
      el.dataset.drawn = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }


  /* Jalali dates through the browser's own Persian calendar (Intl, ICU): no tables here. */
  var persian = new Intl.DateTimeFormat("en-US-u-ca-persian-nu-latn",
    { timeZone: "UTC", year: "numeric", month: "numeric", day: "numeric" });
  var DAY_MS = 86400000;
  var faDigits = "۰۱۲۳۴۵۶۷۸۹";

  function toJalali(ms) {
    var out = {};
    persian.formatToParts(new Date(ms)).forEach(function (p) {
      if (p.type === "year" || p.type === "month" || p.type === "day") { out[p.type] = parseInt(p.value, 10); }
    });
    return { y: out.year, m: out.month, d: out.day };
  }

  /* Position of a Jalali day within its year (months 1-6 have 31 days, 7-11 have 30). */
  function ordinal(y, m, d) { return y * 366 + (m <= 7 ? (m - 1) * 31 : 186 + (m - 7) * 30) + d; }

  /* The UTC noon (ms) of Jalali y/m/d: start from an estimate and walk to it. */
  function fromJalali(y, m, d) {
    var ms = Date.UTC(y + 621, 2, 21, 12) + (ordinal(0, m, d) - 1) * DAY_MS;
    for (var i = 0; i < 40; i++) {
      var j = toJalali(ms);
      var delta = ordinal(y, m, d) - ordinal(j.y, j.m, j.d);
      if (delta === 0) { return ms; }
      ms += delta * DAY_MS;
    }
    return ms;
  }

  function latin(text) {
    return String(text).replace(/[۰-۹]/g, function (c) { return faDigits.indexOf(c); })
      .replace(/[٠-٩]/g, function (c) { return "٠١٢٣٤٥٦٧٨٩".indexOf(c); });
  }
  function localDigits(text) {
    return lang === "fa" ? String(text).replace(/[0-9]/g, function (c) { return faDigits[c]; }) : String(text);
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function jalaliText(j) { return localDigits(j.y + "/" + pad(j.m) + "/" + pad(j.d)); }

  function parseJalali(text) {
    var m = /^(\d{4})[\/\-.](\d{1,2})[\/\-.](\d{1,2})$/.exec(latin(text).trim());
    return m ? { y: +m[1], m: +m[2], d: +m[3] } : null;
  }

  /* A month grid under a Jalali text field; choosing a day writes yyyy/mm/dd into the field. */
  function jalaliPicker(input, form) {
    var months = form.dataset.months.split(","), weekdays = form.dataset.weekdays.split(",");
    var todayIso = form.dataset.today.split("-");
    var today = toJalali(Date.UTC(+todayIso[0], +todayIso[1] - 1, +todayIso[2], 12));
    var wrap = document.createElement("span");
    wrap.className = "date-field";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    var box = null, shown = null;

    function close() { if (box) { box.remove(); box = null; } }
    function draw() {
      var chosen = parseJalali(input.value);
      box.innerHTML = "";
      var head = document.createElement("header");
      var prev = document.createElement("button"), next = document.createElement("button");
      prev.type = next.type = "button";
      prev.className = "prev"; next.className = "next";
      prev.textContent = rtl ? "›" : "‹"; next.textContent = rtl ? "‹" : "›";
      prev.setAttribute("aria-label", form.dataset.prevLabel);
      next.setAttribute("aria-label", form.dataset.nextLabel);
      var title = document.createElement("span");
      title.className = "month";
      title.textContent = months[shown.m - 1] + " " + localDigits(shown.y);
      prev.addEventListener("click", function () { move(-1); });
      next.addEventListener("click", function () { move(1); });
      head.append(prev, title, next);
      var grid = document.createElement("div");
      grid.className = "days";
      weekdays.forEach(function (w) { var s = document.createElement("span"); s.textContent = w; grid.appendChild(s); });
      var first = fromJalali(shown.y, shown.m, 1);
      var following = shown.m === 12 ? fromJalali(shown.y + 1, 1, 1) : fromJalali(shown.y, shown.m + 1, 1);
      var length = Math.round((following - first) / DAY_MS);
      var lead = (new Date(first).getUTCDay() + 1) % 7;  /* the week starts on Saturday */
      for (var i = 0; i < lead; i++) { grid.appendChild(document.createElement("span")); }
      for (var d = 1; d <= length; d++) {
        var b = document.createElement("button");
        var day = { y: shown.y, m: shown.m, d: d };
        b.type = "button";
        b.textContent = localDigits(d);
        b.dataset.day = day.y + "/" + pad(day.m) + "/" + pad(day.d);
        b.setAttribute("aria-label", localDigits(d) + " " + months[day.m - 1] + " " + localDigits(day.y));
        if (chosen && chosen.y === day.y && chosen.m === day.m && chosen.d === d) { b.className = "chosen"; }
        if (today.y === day.y && today.m === day.m && today.d === d) { b.className += " today"; }
        b.addEventListener("click", pick.bind(null, day));
        grid.appendChild(b);
      }
      box.append(head, grid);
    }
    function move(step) {
      var m = shown.m + step;
      shown = { y: shown.y + (m > 12 ? 1 : m < 1 ? -1 : 0), m: m > 12 ? 1 : m < 1 ? 12 : m };
      draw();
    }
    function pick(day) {
      input.value = jalaliText(day);
      markCustom(form);
      close();
      input.focus();
    }
    function open() {
      if (box) { return; }
      var start = parseJalali(input.value) || today;
      shown = { y: start.y, m: start.m };
      box = document.createElement("div");
      box.className = "jpicker";
      box.setAttribute("role", "dialog");
      /* Moving a month redraws the grid, so the clicked button is gone before the click reaches
         the document: keep the picker's own clicks inside it. */
      box.addEventListener("click", function (e) { e.stopPropagation(); });
      box.setAttribute("aria-label", input.labels && input.labels[0] ? input.labels[0].textContent.trim() : "");
      wrap.appendChild(box);
      draw();
    }
    input.addEventListener("focus", open);
    input.addEventListener("click", open);
    input.addEventListener("input", function () { markCustom(form); if (box) { var j = parseJalali(input.value); if (j) { shown = { y: j.y, m: j.m }; draw(); } } });
    input.addEventListener("keydown", function (e) { if (e.key === "Escape") { close(); } });
    document.addEventListener("click", function (e) { if (box && !wrap.contains(e.target)) { close(); } });
  }

  function markCustom(form) {
    var period = form.querySelector("select[data-period]");
    if (period) { period.value = "custom"; }
  }

  function wireFilters() {
    var form = document.getElementById("filters");
    if (!form) { return; }
    var period = form.querySelector("select[data-period]");
    /* Send only what the server reads: dates only for a custom range, compare=0 only when off
       (without JavaScript both are sent, and the server reads them the same way). */
    function tidy() {
      var custom = !period || period.value === "custom";
      form.querySelectorAll("input[data-date], input[data-jalali]").forEach(function (i) { i.disabled = !custom; });
      var box = form.querySelector("input[type=checkbox][name=compare]");
      var hidden = form.querySelector("input[type=hidden][name=compare]");
      if (box && hidden) { hidden.disabled = box.checked; box.disabled = box.checked; }
    }
    form.addEventListener("submit", tidy);
    window.addEventListener("pageshow", function () {
      form.querySelectorAll("input:disabled").forEach(function (i) { i.disabled = false; });
    });
    if (period) {
      period.addEventListener("change", function () { if (period.value !== "custom") { tidy(); form.submit(); } });
    }
    form.querySelectorAll("input[data-date]").forEach(function (i) {
      i.addEventListener("change", function () { markCustom(form); });
    });
    form.querySelectorAll("input[data-jalali]").forEach(function (i) { jalaliPicker(i, form); });
  }

  /* The account menu (a <details>) closes on Escape, back on its button, and on a click outside. */
  function wireMenus() {
    var menu = document.getElementById("account-menu");
    if (!menu) { return; }
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && menu.open) { menu.open = false; menu.querySelector("summary").focus(); }
    });
    document.addEventListener("click", function (e) {
      if (menu.open && !menu.contains(e.target)) { menu.open = false; }
    });
  }

  /* A file input dressed as a button in the page's language shows the chosen file's name. */
  function wireFilePickers() {
    document.querySelectorAll("input[type=file][data-file-name]").forEach(function (input) {
      var out = document.getElementById(input.dataset.fileName);
      input.addEventListener("change", function () {
        if (input.files.length) { out.querySelector("bdi").textContent = input.files[0].name; }
      });
    });
  }

  function wire() {
    wireFilters();
    wireFilePickers();
    wireMenus();
    document.querySelectorAll("select[data-autosubmit], input[data-autosubmit-radio]").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
    document.querySelectorAll("input[type=range][data-output]").forEach(function (r) {
      var out = document.getElementById(r.dataset.output);
      r.addEventListener("input", function () {
        out.textContent = percentFormat.format(+r.value / 100);
      });
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (!window.confirm(f.dataset.confirm)) { e.preventDefault(); }
      });
    });
    document.querySelectorAll("button[data-copy]").forEach(function (b) {
      b.addEventListener("click", function () {
        var done = function () { b.textContent = b.dataset.copied; };
        var fallback = function () {
          var t = document.createElement("textarea");
          t.value = b.dataset.copy; document.body.appendChild(t); t.select();
          document.execCommand("copy"); t.remove(); done();
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(b.dataset.copy).then(done, fallback);
        } else {
          fallback();
        }
      });
    });
    drawCharts();
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", wire); }
  else { wire(); }
})();
