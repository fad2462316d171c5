/* The automation builder: the journey drawn as boxes and arrows, edited with forms, saved whole.
   The page hands over the definition, the live counts and every word already translated
   (#fb-state); the server checks what is saved and names the field it refuses. Positions are
   logical (x from the start side), so a right-to-left page mirrors the same layout. */
(function () {
  "use strict";
  var stateEl = document.getElementById("fb-state");
  if (!stateEl) { return; }
  var S = JSON.parse(stateEl.textContent);
  var T = S.ui, O = S.options, def = S.definition, stats = S.stats;
  var rtl = document.documentElement.dir === "rtl";
  var nf = new Intl.NumberFormat(document.documentElement.lang === "fa" ? "fa-IR" : "en-US");
  var csrfInput = document.querySelector("input[name=csrf_token]");
  var csrf = csrfInput ? csrfInput.value : "";
  var ENTRY = "__entry__";
  var W = 168, H = 136, COL = 256, ROW = 182, PAD = 20;
  var TYPES = ["send", "delay", "wait", "branch", "split", "survey", "set_trait", "case", "webhook", "exit"];
  var UNITS = [["days", 86400], ["hours", 3600], ["minutes", 60]];
  var PROP_OPS = ["eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "exists", "not_exists"];
  var selected = ENTRY, invalid = null, dirty = false;
  var canvas = document.getElementById("fb-canvas");
  var view = window.SafarFlowView({ viewport: document.getElementById("fb-viewport"), stage: document.getElementById("fb-stage"),
    canvas: canvas, rtl: rtl, locale: document.documentElement.lang === "fa" ? "fa-IR" : "en-US", redraw: function () { draw(); } });
  var form = document.getElementById("fb-form");
  var previewBox = document.getElementById("fb-preview");
  var statusEl = document.getElementById("fb-status");
  var alertEl = document.getElementById("fb-alert");
  var SVG = "http://www.w3.org/2000/svg";

  function num(v) { return nf.format(v); }
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === null || attrs[k] === undefined || attrs[k] === false) { return; }
      if (k === "text") { e.textContent = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
    });
    (kids || []).forEach(function (c) { if (c) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }
  function bdi(text) { return el("bdi", { text: text }); }
  function byId(id) { return def.nodes.filter(function (n) { return n.id === id; })[0]; }
  function getPath(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? undefined : o[k]; }, obj);
  }
  function setPath(obj, path, value) {
    var keys = path.split("."), last = keys.pop();
    keys.reduce(function (o, k) { return o[k]; }, obj)[last] = value;
  }

  /* -- edges: (field, target, label) of a node, as flows.definition reads them ---------------- */
  function slots(n) {
    if (n.type === "exit") { return []; }
    if (n.type === "wait") {
      return [["on_event", T.on_event + ": " + (n.event || "")], ["on_timeout", T.on_timeout]];
    }
    if (n.type === "branch") {
      var out = (n.rules || []).map(function (r, i) { return ["rules." + i + ".next", r.label || T.rule + " " + num(i + 1)]; });
      return out.concat([["otherwise", T.otherwise]]);
    }
    if (n.type === "split") {
      return (n.paths || []).map(function (p, i) { return ["paths." + i + ".next", p.label || num(p.percent || 0) + S.percent_sign]; });
    }
    return [["next", T.next]];
  }
  function edges(n) {
    return slots(n).map(function (s) { return [s[0], getPath(n, s[0]), s[1]]; })
      .filter(function (e) { return e[1]; });
  }

  /* -- layout: by depth from the start (the longest path, so every forward edge points one
     way), unless the node was placed by hand; an edge back up a loop does not deepen it ---- */
  function layout() {
    var depth = {}, rows = {}, pos = {}, order = [], state = {};
    function visit(id) {
      state[id] = 1;
      edges(byId(id)).forEach(function (e) { if (byId(e[1]) && !state[e[1]]) { visit(e[1]); } });
      state[id] = 2;
      order.unshift(id);
    }
    if (byId(def.start)) { visit(def.start); depth[def.start] = 1; }
    order.forEach(function (id) {
      edges(byId(id)).forEach(function (e) {
        var back = order.indexOf(e[1]) <= order.indexOf(id);
        if (byId(e[1]) && !back) { depth[e[1]] = Math.max(depth[e[1]] || 0, depth[id] + 1); }
      });
    });
    var deepest = Math.max.apply(null, [1].concat(Object.keys(depth).map(function (k) { return depth[k]; })));
    def.nodes.forEach(function (n) {
      var d = depth[n.id] === undefined ? deepest + 1 : depth[n.id];
      rows[d] = (rows[d] || 0) + 1;
      var auto = { x: PAD + d * COL, y: PAD + (rows[d] - 1) * ROW };
      pos[n.id] = (n.x != null && n.y != null) ? { x: n.x, y: n.y } : auto;
    });
    var start = pos[def.start];
    pos[ENTRY] = { x: PAD, y: start ? start.y : PAD };
    return pos;
  }

  /* -- drawing --------------------------------------------------------------------------------- */
  function summary(n) {
    if (n.type === "send") { return O[n.channel] || n.channel; }
    if (n.type === "delay") {
      if (n.mode === "duration") { var d = duration(n.seconds || 0); return num(d[0]) + " " + T[d[0] === 1 ? d[1].replace(/s$/, "") : d[1]]; }
      if (n.mode === "time_of_day") { return O.time_of_day + " " + (n.at || ""); }
      return O.trait_date + " " + (n.trait || "");
    }
    if (n.type === "wait") { return n.event || ""; }
    if (n.type === "survey") { return n.survey_id || ""; }
    if (n.type === "set_trait") { return (n.key || "") + " = " + (n.value == null ? "" : String(n.value)); }
    if (n.type === "case") { return n.subject || ""; }
    if (n.type === "webhook") { return n.url || ""; }
    if (n.type === "branch") { return num((n.rules || []).length) + " " + T.rule; }
    return "";
  }
  function triggerName() {
    var t = def.trigger;
    return t.event || t.trait || t.segment_id || t.survey_id || t.cron || O["trigger." + t.type] || O[t.type];
  }
  function counts(id) {
    var c = (stats.nodes || {})[id];
    var box = el("div", { class: "fb-counts", "data-counts": id });
    if (id === ENTRY) {
      box.appendChild(el("span", { class: "fb-count", "data-count": "entered", text: T.entered + " " + stats.summary.entered }));
      return box;
    }
    var zero = num(0);
    box.appendChild(el("span", { class: "fb-count", "data-count": "reached", text: T.reached + " " + (c ? c.reached : zero) }));
    box.appendChild(el("span", { class: "fb-count", "data-count": "waiting", text: T.waiting + " " + (c ? c.waiting : zero) }));
    if (c && c.sent !== null) { box.appendChild(el("span", { class: "fb-count", "data-count": "sent", text: T.sent + " " + c.sent })); }
    if (c && c.held) { box.appendChild(el("span", { class: "fb-count", "data-count": "held", text: T.held + " " + c.held })); }
    return box;
  }
  function draw() {
    var pos = layout(), ids = [ENTRY].concat(def.nodes.map(function (n) { return n.id; }));
    var maxX = 0, maxY = 0;
    ids.forEach(function (id) { maxX = Math.max(maxX, pos[id].x); maxY = Math.max(maxY, pos[id].y); });
    // Room under the lowest row for an edge that dips below the boxes.
    var sized = view.size({ width: maxX + W + 2 * PAD, height: maxY + H + PAD + 40 });
    var width = sized.width, height = sized.height;
    function left(p) { return rtl ? width - p.x - W : p.x; }
    canvas.textContent = "";
    var layer = svg("svg", { class: "fb-edges", width: width, height: height, "aria-hidden": "true" });
    var defs = svg("defs", {}), marker = svg("marker", { id: "fb-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5",
      markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
    marker.appendChild(svg("path", { d: "M0 0L10 5L0 10z", class: "fb-arrowhead" }));
    defs.appendChild(marker); layer.appendChild(defs); canvas.appendChild(layer);  // now, so that the labels can be measured
    var skipped = 0;  // edges that dip under a row so far: each runs at its own depth
    function arrow(from, to, label, i, count, kind) {
      var a = pos[from], b = pos[to];
      if (!a || !b) { return; }
      var off = count > 1 ? (i - (count - 1) / 2) * 16 : 0;
      var x1 = rtl ? left(a) : left(a) + W, y1 = a.y + H / 2 + off;
      var x2 = rtl ? left(b) + W : left(b), y2 = b.y + H / 2;
      var bend = Math.max(50, Math.abs(x2 - x1) / 2) * (rtl ? -1 : 1), cx1 = x1 + bend, cx2 = x2 - bend;
      var cy1 = y1, cy2 = y2, room = COL - W - 12;
      // An edge that skips a column on one row would run through the boxes between: it leaves
      // the source's bottom, runs in the gap under the row and comes up into the target.
      if (Math.abs(b.x - a.x) > COL * 1.5 && Math.abs(b.y - a.y) < H) {
        x1 = cx1 = left(a) + W / 2 + off * 2; x2 = cx2 = left(b) + W / 2 - (rtl ? -1 : 1) * 20;
        y1 = a.y + H; y2 = b.y + H; cy1 = cy2 = Math.max(y1, y2) + (ROW - H) * (0.6 + 0.2 * (skipped++ % 3)); room = Math.abs(x2 - x1) - 16;
      }
      var path = svg("path", { d: "M" + x1 + " " + y1 + " C" + cx1 + " " + cy1 + " " + cx2 + " " + cy2 + " " + x2 + " " + y2,
        class: "fb-edge", "marker-end": "url(#fb-arrow)", "data-edge": from + ">" + to, "data-kind": kind });
      layer.appendChild(path);
      if (label) {
        var mx = (x1 + 3 * cx1 + 3 * cx2 + x2) / 8, my = (y1 + 3 * cy1 + 3 * cy2 + y2) / 8;
        var t = svg("text", { x: mx, y: my - (room > COL ? 3 : 6), class: "fb-edge-label", "text-anchor": "middle", direction: rtl ? "rtl" : "ltr" });
        var words = document.createTextNode(label), tip = svg("title", {}), shown = label;
        tip.textContent = label; t.appendChild(words); t.appendChild(tip);
        layer.appendChild(t);
        // Shortened to the gap between the boxes (the whole label is its tooltip).
        while (shown.length > 1 && t.getComputedTextLength() > room) { shown = shown.slice(0, -1); words.textContent = shown + "…"; }
      }
    }
    arrow(ENTRY, def.start, "", 0, 1, "start");
    def.nodes.forEach(function (n) {
      var es = edges(n);
      es.forEach(function (e, i) { arrow(n.id, e[1], e[2], i, es.length, e[0]); });
    });
    ids.forEach(function (id) {
      var n = id === ENTRY ? null : byId(id), p = pos[id];
      var box = el("div", { class: "fb-node fb-" + (n ? n.type : "entry") + (id === selected ? " fb-selected" : "") + (id === invalid ? " fb-invalid" : ""),
        "data-node": id, tabindex: "0", role: "button" }, [
        el("div", { class: "fb-type", text: n ? O[n.type] : T.trigger + " · " + (O["trigger." + def.trigger.type] || O[def.trigger.type]) }),
        el("div", { class: "fb-name", dir: "auto", title: n ? (n.label || n.id) : triggerName(), text: n ? (n.label || n.id) : triggerName() }),
        el("div", { class: "fb-sub", dir: "auto", text: n ? summary(n) : "" }),
        counts(id)
      ]);
      box.style.left = left(p) + "px";
      box.style.top = p.y + "px";
      box.style.width = W + "px";
      box.style.height = H + "px";
      wireBox(box, id, pos);
      canvas.appendChild(box);
    });
  }

  /* -- selecting and dragging ------------------------------------------------------------------ */
  function wireBox(box, id, pos) {
    box.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(id); } });
    box.addEventListener("pointerdown", function (e) {
      e.stopPropagation();  // a drag on a step moves the step, not the view
      var sx = e.clientX, sy = e.clientY, moved = false, start = pos[id];
      var draggable = S.can_edit && id !== ENTRY;
      function move(ev) {
        var dx = (ev.clientX - sx) / view.zoom(), dy = (ev.clientY - sy) / view.zoom();
        if (!moved && Math.abs(dx) + Math.abs(dy) < 4) { return; }
        moved = true;
        if (!draggable) { return; }
        var x = Math.max(0, start.x + (rtl ? -dx : dx)), y = Math.max(0, start.y + dy);
        box.style.left = (rtl ? canvas.clientWidth - x - W : x) + "px";
        box.style.top = y + "px";
        box.dataset.x = Math.round(x); box.dataset.y = Math.round(y);
      }
      function up() {
        document.removeEventListener("pointermove", move);
        document.removeEventListener("pointerup", up);
        if (!moved) { select(id); return; }
        if (draggable && box.dataset.x) {
          def.nodes.forEach(function (n) { n.x = pos[n.id].x; n.y = pos[n.id].y; });
          var n = byId(id); n.x = Number(box.dataset.x); n.y = Number(box.dataset.y);
          changed(true);
        }
      }
      document.addEventListener("pointermove", move);
      document.addEventListener("pointerup", up);
    });
  }
  function select(id) { selected = id; clearErrors(); draw(); renderForm(); }

  function changed(redraw) {
    dirty = true;
    statusEl.textContent = T.unsaved;
    if (redraw) { draw(); }
  }

  /* -- form controls bound to the definition ---------------------------------------------------- */
  function field(label, input, path) {
    return el("label", { class: "fb-field", "data-path": path }, [el("span", { text: label }), input]);
  }
  function bind(input, obj, key, parse, rerender) {
    input.disabled = !S.can_edit;
    input.addEventListener(input.tagName === "SELECT" || input.type === "checkbox" ? "change" : "input", function () {
      obj[key] = parse(input);
      changed(true);
      if (rerender) { renderForm(); }
    });
    return input;
  }
  function textInput(obj, key, opts) {
    opts = opts || {};
    var input = el(opts.area ? "textarea" : "input", { type: opts.area ? null : (opts.type || "text"), dir: opts.dir || "auto",
      rows: opts.area ? "3" : null, placeholder: opts.placeholder || null });
    input.value = obj[key] == null ? "" : obj[key];
    return bind(input, obj, key, function (i) {
      if (opts.type === "number") { return i.value === "" ? (opts.nullable ? null : 0) : Number(i.value); }
      return opts.nullable && i.value === "" ? null : i.value;
    }, opts.rerender);
  }
  function selectInput(obj, key, values, opts) {
    opts = opts || {};
    var s = el("select", {}, values.map(function (v) {
      var value = Array.isArray(v) ? v[0] : v, label = Array.isArray(v) ? v[1] : (O[v] || v);
      /* Step ids and event names are the builder's own data: each option finds its direction. */
      return el("option", { value: value === null ? "" : value, text: label, dir: "auto" });
    }));
    s.value = obj[key] == null ? "" : String(obj[key]);
    return bind(s, obj, key, function (i) {
      if (i.value === "") { return null; }
      return opts.bool ? i.value === "true" : i.value;
    }, opts.rerender);
  }
  function checkbox(obj, key) {
    var c = el("input", { type: "checkbox" });
    c.checked = !!obj[key];
    return bind(c, obj, key, function (i) { return i.checked; });
  }
  function nodeChoices(except) {
    return [[null, T.none]].concat(def.nodes.filter(function (n) { return n.id !== except; })
      .map(function (n) { return [n.id, (n.label ? n.label + " · " : "") + n.id]; }));
  }
  function button(label, onClick, cls) {
    var b = el("button", { type: "button", class: cls || "small", text: label });
    b.disabled = !S.can_edit;
    b.addEventListener("click", onClick);
    return b;
  }
  function duration(seconds) {
    for (var i = 0; i < UNITS.length; i++) {
      if (seconds >= UNITS[i][1] && seconds % UNITS[i][1] === 0) { return [seconds / UNITS[i][1], UNITS[i][0]]; }
    }
    return [Math.max(1, Math.round(seconds / 60)), "minutes"];
  }
  function durationInputs(obj, key, path, label) {
    var d = duration(obj[key] || 3600), holder = { n: d[0], unit: d[1] };
    function sync() {
      var factor = UNITS.filter(function (u) { return u[0] === holder.unit; })[0][1];
      obj[key] = Math.round(Number(holder.n) * factor);
      changed(true);
    }
    var amount = el("input", { type: "number", min: "1", value: holder.n });
    amount.disabled = !S.can_edit;
    amount.addEventListener("input", function () { holder.n = amount.value; sync(); });
    var unit = el("select", {}, UNITS.map(function (u) { return el("option", { value: u[0], text: T[u[0]] }); }));
    unit.value = holder.unit; unit.disabled = !S.can_edit;
    unit.addEventListener("change", function () { holder.unit = unit.value; sync(); });
    return el("div", { class: "fb-field fb-inline", "data-path": path }, [el("span", { text: label }), amount, unit]);
  }

  /* -- condition rows: property conditions (trigger, wait, goal) and audience ones (branch) ---- */
  function parseValue(op, text) {
    if (op === "exists" || op === "not_exists") { return null; }
    function one(s) {
      s = s.trim();
      if (/^-?\d+(\.\d+)?$/.test(s)) { return Number(s); }
      if (s === "true" || s === "false") { return s === "true"; }
      return s;
    }
    if (op === "in" || op === "not_in") { return text.split(",").map(one).filter(function (v) { return v !== ""; }); }
    return one(text);
  }
  function valueInput(cond) {
    var input = el("input", { type: "text", dir: "auto", class: "fb-value" });
    input.value = Array.isArray(cond.value) ? cond.value.join(", ") : (cond.value == null ? "" : String(cond.value));
    return bind(input, cond, "value", function (i) { return parseValue(cond.op, i.value); });
  }
  function conditionRows(list, path, audience) {
    var box = el("div", { class: "fb-conditions", "data-path": path });
    list.forEach(function (c, j) {
      var p = path + "." + j, row = el("div", { class: "fb-row", "data-path": p });
      if (audience) { kindDefaults(c); }
      if (audience) { row.appendChild(selectInput(c, "kind", ["trait", "event", "segment", "consent"].map(function (k) { return [k, k === "trait" ? T.trait : k === "event" ? T.event : O[k]]; }), { rerender: true })); }
      var kind = audience ? c.kind : "property";
      if (kind === "trait" || kind === "property") {
        row.appendChild(field(T.key, textInput(c, "key", { dir: "ltr" }), p + ".key"));
        row.appendChild(field(T.op, selectInput(c, "op", PROP_OPS), p + ".op"));
        row.appendChild(field(T.value, valueInput(c), p + ".value"));
      } else if (kind === "event") {
        row.appendChild(field(T.event, textInput(c, "event", { dir: "ltr" }), p + ".event"));
        row.appendChild(field(T.performed, checkbox(c, "performed"), p + ".performed"));
        row.appendChild(field(T.within_days, textInput(c, "within_days", { type: "number", nullable: true }), p + ".within_days"));
      } else if (kind === "segment") {
        row.appendChild(field(T.segment_id, textInput(c, "segment_id", { dir: "ltr" }), p + ".segment_id"));
        row.appendChild(field(T.member, checkbox(c, "member"), p + ".member"));
      } else {
        row.appendChild(field(T.purpose, textInput(c, "purpose", { dir: "ltr" }), p + ".purpose"));
        row.appendChild(field(T.channel, selectInput(c, "channel", ["all", "email", "sms", "push", "telegram", "app"]), p + ".channel"));
        row.appendChild(field(T.granted, checkbox(c, "granted"), p + ".granted"));
      }
      row.appendChild(button(T.remove, function () { list.splice(j, 1); changed(true); renderForm(); }));
      box.appendChild(row);
    });
    box.appendChild(button(T.add_condition, function () {
      list.push(audience ? { kind: "trait", key: "", op: "eq", value: "" } : { key: "", op: "eq", value: "" });
      changed(true); renderForm();
    }));
    return box;
  }
  function kindDefaults(c) {
    var keep = { trait: ["kind", "key", "op", "value"], event: ["kind", "event", "performed", "within_days"],
      segment: ["kind", "segment_id", "member"], consent: ["kind", "purpose", "channel", "granted"] }[c.kind];
    var defaults = { event: { event: "", performed: true }, segment: { segment_id: "", member: true },
      consent: { purpose: "marketing", channel: "all", granted: true }, trait: { key: "", op: "eq", value: "" } }[c.kind];
    Object.keys(c).forEach(function (k) { if (keep.indexOf(k) < 0) { delete c[k]; } });
    Object.keys(defaults).forEach(function (k) { if (c[k] === undefined) { c[k] = defaults[k]; } });
  }

  window.SafarFlows = { def: function () { return def; }, select: select, post: post, clean: clean, parts: {
    el: el, field: field, textInput: textInput, selectInput: selectInput, checkbox: checkbox, button: button,
    nodeChoices: nodeChoices, durationInputs: durationInputs, conditionRows: conditionRows, kindDefaults: kindDefaults,
    changed: changed, reveal: view.reveal, byId: byId, getPath: getPath, setPath: setPath, slots: slots, bdi: bdi, svg: svg,
    T: T, O: O, S: S, TYPES: TYPES, ENTRY: ENTRY, COL: COL, ROW: ROW
  } };

  /* -- forms ------------------------------------------------------------------------------------ */
  function renderForm() { window.SafarFlowForms.render(selected, form, previewBox); }

  /* -- errors, saving, publishing, live counts --------------------------------------------------- */
  function clearErrors() {
    invalid = null;
    alertEl.hidden = true; alertEl.textContent = ""; alertEl.removeAttribute("role");
    document.querySelectorAll(".fb-invalid").forEach(function (e) { e.classList.remove("fb-invalid"); });
    document.querySelectorAll(".fb-msg").forEach(function (e) { e.remove(); });
  }
  function showError(err, title) {
    var field = err.field || "definition";
    var m = /^nodes\.([a-z][a-z0-9_]*)/.exec(field);
    var target = m && byId(m[1]) ? m[1] : ENTRY;
    if (selected !== target) { selected = target; draw(); renderForm(); }
    clearErrors();
    invalid = target;
    var box = canvas.querySelector('[data-node="' + target + '"]');
    if (box) { box.classList.add("fb-invalid"); view.reveal(box); }
    var parts = field.split("."), spot = null;
    while (parts.length && !spot) {
      spot = form.querySelector('[data-path="' + parts.join(".") + '"]');
      parts.pop();
    }
    var msg = el("p", { class: "fb-msg", role: "alert" }, [err.message + " ", el("code", { dir: "ltr", text: field })]);
    if (spot) {
      spot.classList.add("fb-invalid");
      spot.appendChild(msg);
      var input = spot.querySelector("input, select, textarea");
      if (input) { input.focus(); }
    } else {
      msg.removeAttribute("role");
      alertEl.setAttribute("role", "alert");
    }
    alertEl.appendChild(el("strong", { text: title + ": " }));
    alertEl.appendChild(document.createTextNode(err.message + " "));
    alertEl.appendChild(el("code", { dir: "ltr", text: field }));
    alertEl.hidden = false;
  }
  function clean() {
    var out = JSON.parse(JSON.stringify(def));
    out.nodes.forEach(function (n) {
      if (n.type === "send") {
        Object.keys(n.texts || {}).forEach(function (lang) {
          var t = n.texts[lang];
          if (!t.body && !t.subject) { delete n.texts[lang]; }
        });
      }
      if (n.type === "delay") {
        if (n.mode === "duration") { n.at = null; n.trait = null; }
        else { n.seconds = null; if (n.mode === "time_of_day") { n.trait = null; } }
      }
    });
    if (out.goal && !out.goal.event) { out.goal = null; }
    return out;
  }
  function post(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf } })
      .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); });
  }
  function submit(url, title, done) {
    clearErrors();
    statusEl.textContent = "…";
    post(url, clean()).then(function (res) {
      if (!res.ok) { statusEl.textContent = ""; showError(res.data, title); return; }
      dirty = false;
      done(res.data);
    }, function () { statusEl.textContent = T.network; });
  }
  var saveBtn = document.getElementById("fb-save"), publishBtn = document.getElementById("fb-publish");
  if (saveBtn) {
    saveBtn.addEventListener("click", function () {
      submit("/automations/" + S.flow_id + "/definition", T.error, function (data) {
        statusEl.textContent = T.saved;
        document.getElementById("fb-meta").textContent = data.meta;
      });
    });
  }
  if (publishBtn) {
    publishBtn.addEventListener("click", function () {
      submit("/automations/" + S.flow_id + "/publish", T.not_published, function (data) {
        statusEl.textContent = T.published;
        document.getElementById("fb-meta").textContent = data.meta;
        var tag = document.getElementById("fb-flow-status");
        tag.textContent = data.label; tag.classList.add("ok");
        poll();
      });
    });
  }
  document.getElementById("fb-settings-button").addEventListener("click", function () { select(ENTRY); });
  document.getElementById("fb-title").textContent = def.name;

  function showStats() {
    document.querySelectorAll("[data-sum]").forEach(function (e) { e.textContent = getPath(stats.summary, e.dataset.sum); });
    ["exits", "messages"].forEach(function (k) {
      var holder = document.querySelector('[data-list="' + k + '"]');
      holder.textContent = "";
      if (!stats.summary[k].length) { holder.textContent = "–"; }
      stats.summary[k].forEach(function (item) {
        holder.appendChild(el("span", { class: "chip" }, [bdi(item.label), ": ", bdi(item.n)]));
      });
    });
    canvas.querySelectorAll("[data-counts]").forEach(function (box) {
      box.parentNode.replaceChild(counts(box.dataset.counts), box);
    });
  }
  function poll() {
    fetch("/automations/" + S.flow_id + "/stats", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { stats = data; showStats(); } }, function () {});
  }
  window.addEventListener("resize", draw);
  // Leaving with unsaved edits asks first (the browser words the question).
  window.addEventListener("beforeunload", function (e) { if (dirty) { e.preventDefault(); e.returnValue = ""; } });
  function start() {
    draw(); renderForm(); showStats();
    setInterval(function () { if (!document.hidden) { poll(); } }, 3000);
  }
  if (window.SafarFlowForms) { start(); } else { window.addEventListener("DOMContentLoaded", start); }
})();
