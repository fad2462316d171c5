/* The survey builder: questions edited as forms (type, required, fa/en texts, choices, scale,
   display logic with selects), the live preview of the unsaved draft in Persian or English,
   saving with errors shown beside the field the server names, and the distribution tab's copy
   buttons and segment send. The definition's shape is safar.surveys.schemas. */
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("sb-state").textContent);
  var T = S.ui, def = S.definition, csrf = document.querySelector("input[name=csrf_token]").value;
  var list = document.getElementById("sb-questions"), dirty = false, timer = null;
  var previewLang = "fa", SCALES = { nps: [0, 10], csat: [1, 5], ces: [1, 7] };
  var SCORED = ["nps", "csat", "ces", "rating"], CHOICE = ["single", "multiple"];

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === null || attrs[k] === undefined || attrs[k] === false) { return; }
      if (k === "text") { e.textContent = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
    });
    (kids || []).forEach(function (c) { if (c) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return e;
  }
  function num(n) { return S.lang === "fa" ? String(n).replace(/\d/g, function (d) { return "۰۱۲۳۴۵۶۷۸۹"[d]; }) : String(n); }
  function uid(prefix) { return prefix + "-" + Math.random().toString(36).slice(2, 8); }
  function changed() { dirty = true; clearTimeout(timer); timer = setTimeout(preview, 400); }
  function texts(obj, key) { obj[key] = obj[key] || { fa: "", en: "" }; return obj[key]; }

  /* -- inputs bound to the definition ---------------------------------------------------------- */
  function field(label, input, path) {
    var id = input.id || uid("f");
    input.id = id;
    return el("div", { class: "sb-field", "data-path": path }, [el("label", { for: id, text: label }), input]);
  }
  function textInput(obj, key, path, lang) {
    var input = el("input", { value: obj[key] || "", dir: lang === "fa" ? "rtl" : (lang === "en" ? "ltr" : "auto"), lang: lang || null, maxlength: "1000", "data-path": path });
    input.addEventListener("input", function () { obj[key] = input.value; changed(); });
    return input;
  }
  function pair(obj, key, path, labelFa, labelEn) {
    var t = texts(obj, key);
    return el("div", { class: "sb-pair", "data-path": path }, [
      field(labelFa, textInput(t, "fa", path + ".fa", "fa"), path + ".fa"),
      field(labelEn, textInput(t, "en", path + ".en", "en"), path + ".en")
    ]);
  }
  function select(options, value, onChange, path) {
    var s = el("select", { "data-path": path });
    Object.keys(options).forEach(function (k) {
      s.appendChild(el("option", { value: k, selected: String(k) === String(value) ? "selected" : null, text: options[k] }));
    });
    s.addEventListener("change", function () { onChange(s.value); });
    return s;
  }
  function button(label, onClick, cls) {
    var b = el("button", { type: "button", class: cls || "small", text: label });
    b.addEventListener("click", onClick);
    return b;
  }

  /* -- one question ----------------------------------------------------------------------------- */
  function retype(q, type) {
    q.type = type;
    if (CHOICE.indexOf(type) >= 0) {
      q.choices = q.choices && q.choices.length ? q.choices : [{ id: "a", label: { fa: "", en: "" } }, { id: "b", label: { fa: "", en: "" } }];
    } else { delete q.choices; }
    if (type === "rating") { q.scale = q.scale || 5; } else { delete q.scale; }
    if (SCORED.indexOf(type) < 0) { delete q.style; delete q.low_label; delete q.high_label; }
    if (type !== "date") { delete q.calendar; }
  }
  function bounds(q) {
    if (SCALES[q.type]) { return SCALES[q.type]; }
    return q.type === "rating" ? [1, q.scale || 5] : null;
  }
  function opsFor(src) {
    var keys = SCORED.indexOf(src.type) >= 0 ? ["lte", "gte", "eq", "ne", "answered"]
      : src.type === "single" ? ["eq", "ne", "in", "answered"]
      : src.type === "multiple" ? ["in", "answered"] : ["answered"];
    var out = {};
    keys.forEach(function (k) { out[k] = S.operators[k]; });
    return out;
  }
  function choiceLabel(c) { return (c.label && (c.label[S.lang] || c.label.fa || c.label.en)) || c.id; }
  function qLabel(q, i) { return num(i + 1) + ". " + ((q.text && (q.text[S.lang] || q.text.fa || q.text.en)) || q.id); }

  function valueEditor(q, i, src) {
    var cond = q.show_if, path = "questions." + i + ".show_if.value";
    if (cond.op === "answered") { cond.value = null; return null; }
    if (CHOICE.indexOf(src.type) >= 0) {
      var choices = src.choices || [];
      if (cond.op === "in") {
        var picked = Array.isArray(cond.value) ? cond.value : (cond.value ? [cond.value] : []);
        cond.value = picked;
        return el("div", { class: "sb-checks", "data-path": path }, choices.map(function (c) {
          var box = el("input", { type: "checkbox", id: uid("v"), checked: picked.indexOf(c.id) >= 0 ? "checked" : null });
          box.addEventListener("change", function () {
            var at = picked.indexOf(c.id);
            if (box.checked && at < 0) { picked.push(c.id); } else if (!box.checked && at >= 0) { picked.splice(at, 1); }
            changed();
          });
          return el("label", {}, [box, " ", el("bdi", { text: choiceLabel(c) })]);
        }));
      }
      var opts = {};
      choices.forEach(function (c) { opts[c.id] = choiceLabel(c); });
      if (Array.isArray(cond.value) || opts[cond.value] === undefined) { cond.value = choices.length ? choices[0].id : null; }
      var s = select(opts, cond.value, function (v) { cond.value = v; changed(); }, path);
      s.setAttribute("aria-label", T.value);
      return s;
    }
    var b = bounds(src) || [0, 10];
    if (typeof cond.value !== "number") { cond.value = b[0] + Math.floor((b[1] - b[0]) / 2); }
    var n = el("input", { type: "number", min: String(b[0]), max: String(b[1]), value: String(cond.value), "aria-label": T.value, "data-path": path, class: "sb-num" });
    n.addEventListener("input", function () { cond.value = n.value === "" ? null : Number(n.value); changed(); });
    return n;
  }
  function logic(q, i) {
    var box = el("div", { class: "sb-logic", "data-path": "questions." + i + ".show_if" }, [el("h4", { text: T.logic })]);
    var earlier = def.questions.slice(0, i);
    if (!earlier.length) { box.appendChild(el("p", { class: "small muted", text: T.no_earlier })); return box; }
    var sources = { "": T.always };
    earlier.forEach(function (e, j) { sources[e.id] = T.only_if + " " + qLabel(e, j); });
    var pick = select(sources, q.show_if ? q.show_if.question : "", function (v) {
      if (!v) { delete q.show_if; } else {
        var src = earlier.filter(function (e) { return e.id === v; })[0];
        q.show_if = { question: v, op: Object.keys(opsFor(src))[0], value: null };
      }
      renderAll(); changed();
    }, "questions." + i + ".show_if.question");
    pick.setAttribute("aria-label", T.logic);
    pick.className = "sb-source";
    box.appendChild(pick);
    if (q.show_if) {
      var src = earlier.filter(function (e) { return e.id === q.show_if.question; })[0];
      if (src) {
        var ops = opsFor(src);
        if (!ops[q.show_if.op]) { q.show_if.op = Object.keys(ops)[0]; }
        var op = select(ops, q.show_if.op, function (v) { q.show_if.op = v; renderAll(); changed(); }, "questions." + i + ".show_if.op");
        op.setAttribute("aria-label", T.logic);
        op.className = "sb-op";
        box.appendChild(op);
        var v = valueEditor(q, i, src);
        if (v) { box.appendChild(v); }
      }
    }
    return box;
  }
  function choicesEditor(q, i) {
    var path = "questions." + i + ".choices";
    var box = el("div", { class: "sb-choices", "data-path": path }, [el("h4", { text: T.choices })]);
    q.choices.forEach(function (c, k) {
      var cp = path + "." + k, lab = texts(c, "label");
      var idIn = el("input", { value: c.id, dir: "ltr", class: "sb-id", "aria-label": T.choice_id, "data-path": cp + ".id", maxlength: "60" });
      idIn.addEventListener("input", function () { c.id = idIn.value.trim(); changed(); });
      var fa = textInput(lab, "fa", cp + ".label.fa", "fa"), en = textInput(lab, "en", cp + ".label.en", "en");
      fa.setAttribute("aria-label", T.label_fa); en.setAttribute("aria-label", T.label_en);
      fa.placeholder = T.label_fa; en.placeholder = T.label_en;
      box.appendChild(el("div", { class: "sb-choice", "data-path": cp }, [idIn, fa, en,
        button(T.remove, function () { q.choices.splice(k, 1); renderAll(); changed(); }, "small danger")]));
    });
    box.appendChild(button(T.add_choice, function () {
      var n = q.choices.length + 1;
      while (q.choices.some(function (c) { return c.id === "c" + n; })) { n++; }
      q.choices.push({ id: "c" + n, label: { fa: "", en: "" } });
      renderAll(); changed();
    }, "small sb-add-choice"));
    return box;
  }
  function renameRefs(from, to) {
    def.questions.forEach(function (q) { if (q.show_if && q.show_if.question === from) { q.show_if.question = to; } });
  }
  function question(q, i) {
    var path = "questions." + i;
    var head = el("div", { class: "sb-qhead" }, [
      el("strong", { text: T.question + " " + num(i + 1) }),
      button(T.up, function () { move(i, -1); }, "small sb-up"),
      button(T.down, function () { move(i, 1); }, "small sb-down"),
      button(T.remove, function () {
        var id = q.id;
        def.questions.splice(i, 1);
        def.questions.forEach(function (o) { if (o.show_if && o.show_if.question === id) { delete o.show_if; } });
        renderAll(); changed();
      }, "small danger sb-remove")
    ]);
    var type = select(S.types, q.type, function (v) { retype(q, v); renderAll(); changed(); }, path + ".type");
    type.className = "sb-type";
    var idIn = el("input", { value: q.id, dir: "ltr", maxlength: "60", class: "sb-id", "data-path": path + ".id" });
    idIn.addEventListener("change", function () { var old = q.id; q.id = idIn.value.trim(); renameRefs(old, q.id); renderAll(); changed(); });
    var req = el("input", { type: "checkbox", id: uid("r"), checked: q.required ? "checked" : null, class: "sb-required" });
    req.addEventListener("change", function () { q.required = req.checked; changed(); });
    var card = el("fieldset", { class: "sb-q", "data-path": path, "data-index": String(i) }, [
      el("legend", { class: "sr-only", text: T.question + " " + num(i + 1) }),
      head,
      el("div", { class: "sb-row" }, [field(T.type, type, path + ".type"), field(T.id, idIn, path + ".id"),
        el("label", { class: "sb-check", for: req.id }, [req, " ", T.required])]),
      pair(q, "text", path + ".text", T.text_fa, T.text_en)
    ]);
    if (q.type === "rating") {
      var scale = el("input", { type: "number", min: "2", max: "10", value: String(q.scale || 5), class: "sb-num", "data-path": path + ".scale" });
      scale.addEventListener("input", function () { q.scale = Number(scale.value) || null; changed(); });
      card.appendChild(field(T.scale, scale, path + ".scale"));
    }
    if (SCORED.indexOf(q.type) >= 0) {
      card.appendChild(field(T.style, select(S.styles, q.style || "numbers", function (v) { q.style = v; changed(); }, path + ".style"), path + ".style"));
      var ends = el("details", { class: "sb-ends" }, [el("summary", { text: T.ends })]);
      ends.appendChild(pair(q, "low_label", path + ".low_label", T.low_fa, T.low_en));
      ends.appendChild(pair(q, "high_label", path + ".high_label", T.high_fa, T.high_en));
      card.appendChild(ends);
    }
    if (q.type === "date") {
      card.appendChild(field(T.calendar, select(S.calendars, q.calendar || "jalali", function (v) { q.calendar = v; changed(); }, path + ".calendar"), path + ".calendar"));
    }
    if (CHOICE.indexOf(q.type) >= 0) { card.appendChild(choicesEditor(q, i)); }
    card.appendChild(logic(q, i));
    return card;
  }
  function move(i, by) {
    var j = i + by;
    if (j < 0 || j >= def.questions.length) { return; }
    var q = def.questions.splice(i, 1)[0];
    def.questions.splice(j, 0, q);
    renderAll(); changed();
  }
  function renderAll() {
    list.textContent = "";
    def.questions.forEach(function (q, i) { list.appendChild(question(q, i)); });
    document.getElementById("sb-json-text").textContent = JSON.stringify(clean(), null, 2);
  }

  /* -- the definition the server gets: empty texts dropped ------------------------------------- */
  function cleanTexts(t) {
    if (!t) { return null; }
    var out = {};
    ["fa", "en"].forEach(function (l) { if (t[l] && t[l].trim()) { out[l] = t[l]; } });
    return out;
  }
  function clean() {
    var out = JSON.parse(JSON.stringify(def));
    out.title = cleanTexts(out.title) || {};
    ["intro", "thanks", "email_subject", "sms_text"].forEach(function (k) {
      var t = cleanTexts(out[k]);
      if (t && Object.keys(t).length) { out[k] = t; } else { delete out[k]; }
    });
    out.questions.forEach(function (q) {
      q.text = cleanTexts(q.text) || {};
      ["low_label", "high_label"].forEach(function (k) {
        var t = cleanTexts(q[k]);
        if (t && Object.keys(t).length) { q[k] = t; } else { delete q[k]; }
      });
      (q.choices || []).forEach(function (c) { c.label = cleanTexts(c.label) || {}; });
      if (q.choices && !q.choices.length && CHOICE.indexOf(q.type) < 0) { delete q.choices; }
    });
    return out;
  }

  /* -- errors beside their field ----------------------------------------------------------------- */
  function clearErrors() {
    document.querySelectorAll(".sb-field-error").forEach(function (e) { e.parentNode.removeChild(e); });
    document.querySelectorAll("[aria-invalid]").forEach(function (e) { e.removeAttribute("aria-invalid"); });
    var top = document.getElementById("sb-error");
    top.hidden = true; top.textContent = "";
  }
  function target(path) {
    var parts = path.split(".");
    while (parts.length) {
      var found = document.querySelector('#builder [data-path="' + parts.join(".") + '"]');
      if (found) { return found; }
      parts.pop();
    }
    return null;
  }
  function showError(data) {
    var path = String(data.field || "").replace(/^definition\./, ""), message = data.message || data.detail || "";
    var top = document.getElementById("sb-error");
    top.textContent = T.not_saved + " " + message;
    top.hidden = false;
    var at = target(path);
    if (!at) { return; }
    var note = el("p", { class: "error sb-field-error", role: "alert", "data-error-for": path, text: message });
    var input = at.matches("input,select,textarea") ? at : at.querySelector("input,select,textarea");
    if (input) { input.setAttribute("aria-invalid", "true"); }
    if (at.matches("input,select,textarea")) { at.insertAdjacentElement("afterend", note); } else { at.appendChild(note); }
    (input || at).scrollIntoView({ block: "center" });
    if (input) { input.focus(); }
  }

  /* -- server calls ------------------------------------------------------------------------------ */
  function send(method, url, body) {
    return fetch(url, { method: method, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf } });
  }
  function preview() {
    var frame = document.getElementById("preview-frame"), err = document.getElementById("preview-error");
    document.getElementById("sb-json-text").textContent = JSON.stringify(clean(), null, 2);
    send("POST", "/surveys/preview", { definition: clean(), lang: previewLang }).then(function (r) {
      if (r.ok) {
        return r.text().then(function (html) { err.hidden = true; frame.srcdoc = html; frame.dataset.lang = previewLang; });
      }
      return r.json().then(function (data) { err.textContent = T.preview_failed + " " + data.message; err.hidden = false; });
    }, function () { err.textContent = T.network; err.hidden = false; });
  }
  function save() {
    clearErrors();
    var status = document.getElementById("sb-status");
    status.className = "muted"; status.textContent = T.saving;
    var body = {
      name: document.getElementById("s-name").value, touchpoint: document.getElementById("s-touchpoint").value,
      status: document.getElementById("s-status").value, definition: clean()
    };
    send("POST", "/surveys/" + S.survey_id + "/definition", body).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) { status.textContent = ""; status.className = ""; showError(data); return; }
        dirty = false; status.className = "notice"; status.textContent = data.message;
      });
    }, function () { status.className = "error"; status.textContent = T.network; });
  }

  /* -- page wiring ------------------------------------------------------------------------------- */
  function settings() {
    var box = document.getElementById("sb-texts");
    box.appendChild(pair(def, "title", "title", box.dataset.titleFa, box.dataset.titleEn));
    box.appendChild(pair(def, "intro", "intro", box.dataset.introFa, box.dataset.introEn));
    box.appendChild(pair(def, "thanks", "thanks", box.dataset.thanksFa, box.dataset.thanksEn));
    ["s-name", "s-touchpoint", "s-status"].forEach(function (id) {
      document.getElementById(id).addEventListener("input", function () { dirty = true; });
    });
  }
  function tabs() {
    var buttons = document.querySelectorAll("[role=tab]");
    function show(name) {
      buttons.forEach(function (b) {
        var on = b.dataset.tab === name;
        b.setAttribute("aria-selected", on ? "true" : "false");
        document.getElementById(b.getAttribute("aria-controls")).hidden = !on;
      });
    }
    buttons.forEach(function (b) { b.addEventListener("click", function () { show(b.dataset.tab); history.replaceState(null, "", "#" + b.dataset.tab); }); });
    var wanted = (location.hash || "").slice(1);
    show([].some.call(buttons, function (b) { return b.dataset.tab === wanted; }) ? wanted : "questions");
  }
  function copyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (b) {
      b.addEventListener("click", function () {
        var source = document.querySelector(b.dataset.copy), note = b.parentNode.querySelector(".copy-status");
        function done(ok) { note.className = "copy-status " + (ok ? "notice" : "error"); note.textContent = ok ? T.copied : T.copy_failed; }
        source.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(source.value).then(function () { done(true); }, function () { done(document.execCommand("copy")); });
        } else { done(document.execCommand("copy")); }
      });
    });
  }
  function segmentSend() {
    var form = document.getElementById("send-form");
    if (!form) { return; }
    var seg = document.getElementById("send-segment"), reach = document.getElementById("send-reach");
    var err = document.getElementById("send-error"), report = document.getElementById("send-report");
    function fail(data) {
      err.textContent = data.message || T.network; err.hidden = false;
      var input = form.querySelector('[name="' + (data.field || "").split(".")[0] + '"]');
      if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    }
    seg.addEventListener("change", function () {
      err.hidden = true; reach.textContent = "";
      if (!seg.value) { return; }
      fetch("/surveys/" + S.survey_id + "/audience?segment_id=" + encodeURIComponent(seg.value), { credentials: "same-origin" })
        .then(function (r) { return r.json().then(function (d) { if (r.ok) { reach.textContent = d.shown + " " + T.reach; } else { fail(d); } }); });
    });
    function show(d) {
      report.hidden = false;
      ["total", "sent", "waiting", "failed"].forEach(function (k) { report.querySelector('[data-count="' + k + '"]').textContent = d.shown[k]; });
      var ul = report.querySelector("[data-skipped]");
      ul.textContent = "";
      Object.keys(d.skipped).forEach(function (k) {
        ul.appendChild(el("li", { "data-reason": k }, [d.skipped_labels[k] + ": ", el("bdi", { text: d.shown_skipped[k] })]));
      });
    }
    function poll(id, left) {
      fetch("/surveys/" + S.survey_id + "/sends/" + id, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) { if (d) { show(d); if (d.waiting && left > 0) { setTimeout(function () { poll(id, left - 1); }, 1500); } } });
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      err.hidden = true;
      form.querySelectorAll("[aria-invalid]").forEach(function (x) { x.removeAttribute("aria-invalid"); });
      var body = {
        segment_id: seg.value, channel: document.getElementById("send-channel").value,
        fatigue_days: Number(document.getElementById("send-fatigue").value || 0),
        require_consent: document.getElementById("send-consent").checked
      };
      reach.textContent = T.sending;
      send("POST", "/surveys/" + S.survey_id + "/send", body).then(function (r) {
        return r.json().then(function (d) {
          reach.textContent = "";
          if (!r.ok) { fail(d); return; }
          show(d); poll(d.send_id, 40);
        });
      }, function () { fail({}); });
    });
  }

  document.getElementById("sb-add").addEventListener("click", function () {
    var n = def.questions.length + 1;
    while (def.questions.some(function (q) { return q.id === "q" + n; })) { n++; }
    def.questions.push({ id: "q" + n, type: "text", required: false, text: { fa: "", en: "" } });
    renderAll(); changed();
    var cards = list.querySelectorAll(".sb-q");
    cards[cards.length - 1].querySelector("input[lang=fa]").focus();
  });
  document.getElementById("sb-save").addEventListener("click", save);
  document.querySelectorAll("[data-preview-lang]").forEach(function (b) {
    b.addEventListener("click", function () {
      previewLang = b.dataset.previewLang;
      document.querySelectorAll("[data-preview-lang]").forEach(function (o) { o.setAttribute("aria-pressed", o === b ? "true" : "false"); });
      preview();
    });
  });
  window.addEventListener("beforeunload", function (e) { if (dirty) { e.preventDefault(); e.returnValue = ""; } });
  settings(); tabs(); copyButtons(); segmentSend(); renderAll(); preview();
})();
