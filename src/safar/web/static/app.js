/* Safar dashboard behaviour: charts (ECharts), copy buttons, auto-submitting selects. */
(function () {
  "use strict";
  var html = document.documentElement;
  var rtl = html.dir === "rtl";
  var lang = html.lang || "en";
  var numberFormat = new Intl.NumberFormat(lang === "fa" ? "fa-IR" : "en-US");
  var font = "Vazirmatn, system-ui, sans-serif";
  var palette = ["#1f6feb", "#7c3aed", "#f59e0b", "#10b981", "#0ea5e9", "#e11d48",
    "#a855f7", "#f97316", "#6366f1", "#64748b", "#94a3b8"];

  function fmt(v) { return typeof v === "number" ? numberFormat.format(v) : v; }

  /* Build an ECharts option from a small spec {kind, categories, series}; RTL-aware. */
  function option(spec) {
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
      base.tooltip = { trigger: "item", valueFormatter: fmt };
      base.series = spec.series.map(function (s) {
        return { type: "funnel", name: s.name, data: s.data, sort: "none", top: 40, bottom: 10,
          label: { formatter: function (p) { return p.name + ": " + fmt(p.value); } } };
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
      base.series = [{ type: "graph", layout: "force", roam: true, draggable: true,
        data: spec.nodes, links: spec.links, force: { repulsion: 260, edgeLength: 120 },
        edgeSymbol: ["none", "arrow"], label: { show: true },
        lineStyle: { curveness: 0.15, opacity: 0.6 } }];
      return base;
    }
    if (spec.kind === "pie") {
      base.series = spec.series.map(function (s) {
        return { type: "pie", name: s.name, data: s.data, radius: ["40%", "70%"], top: 30,
          label: { formatter: "{b}" } };
      });
      return base;
    }
    var category = { type: "category", data: spec.categories, inverse: rtl && spec.kind !== "hbar",
      axisLabel: { fontFamily: font, hideOverlap: true } };
    var value = { type: "value", position: rtl ? "right" : "left",
      axisLabel: { formatter: fmt, fontFamily: font } };
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
        stack: spec.kind === "stacked-bar" ? "total" : undefined, smooth: true };
    });
    return base;
  }

  function drawCharts() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart-for]").forEach(function (el) {
      var spec = JSON.parse(document.getElementById(el.dataset.chartFor).textContent);
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option(spec));
      el.dataset.drawn = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  function wire() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
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
