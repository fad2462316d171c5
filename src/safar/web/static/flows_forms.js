/* The automation builder's side panel: the form of the selected step (or of the entry: trigger,
   goal, holdout, re-entry and send policy), adding, connecting and deleting steps, and the
   preview of a message for a real customer. Drawing and saving live in flows.js. */
(function () {
  "use strict";
  var F = window.SafarFlows, P = F.parts, T = P.T, O = P.O, S = P.S, el = P.el, field = P.field;
  var text = P.textInput, choose = P.selectInput;
  var TRIGGERS = ["event", "absence", "segment", "date", "survey", "text", "schedule", "api"];
  var TRIGGER_DEFAULTS = {
    event: { event: "", where: [] },
    absence: { event: "", where: [], missing: "", within_s: 3600 },
    segment: { segment_id: "", on: "enter" },
    date: { trait: "birthday", offset_days: 0, at: "10:00", calendar: "profile" },
    survey: { survey_id: null, result: "detractor", where: [] },
    text: { sentiment: "negative", category: null },
    schedule: { cron: null, jalali_day: 1, jalali_month: null, at: "09:00", segment_id: null },
    api: {}
  };

  function fresh(type) {
    var def = F.def(), n = 1;
    while (def.nodes.some(function (x) { return x.id === type + "_" + n; })) { n++; }
    // Named in the reader's language ("Send a message 2"); the id stays a code.
    var node = { id: type + "_" + n, type: type, label: O[type] + " " + new Intl.NumberFormat(document.documentElement.lang === "fa" ? "fa-IR" : "en-US").format(n) };
    var extra = {
      send: { channel: "sms", texts: { fa: { subject: "", body: "" }, en: { subject: "", body: "" } }, next: null },
      delay: { mode: "duration", seconds: 3600, next: null },
      wait: { event: "", timeout_s: 86400, where: [], on_event: null, on_timeout: null },
      branch: { rules: [{ conditions: [{ kind: "trait", key: "", op: "eq", value: "" }], match: "all", next: null, label: "" }], otherwise: null },
      split: { paths: [{ percent: 50, next: null, label: "" }, { percent: 50, next: null, label: "" }] },
      survey: { survey_id: "", channel: "email", next: null },
      set_trait: { key: "", value: "", tag: null, next: null },
      "case": { subject: "", priority: "normal", next: null },
      webhook: { url: "https://", method: "POST", body: {}, headers: {}, next: null },
      exit: {}
    }[type];
    Object.keys(extra).forEach(function (k) { node[k] = extra[k]; });
    return node;
  }
  function targets(n) {
    return P.slots(n).map(function (s) { return P.getPath(n, s[0]); }).filter(Boolean);
  }
  /* The slot a step added after ``n`` takes: the first one in use, else the first one. */
  function slotOf(n) {
    var all = P.slots(n);
    var used = all.filter(function (s) { return P.getPath(n, s[0]); })[0];
    return (used || all[0] || [null])[0];
  }
  function connect(n, target) {
    P.slots(n).forEach(function (s) { P.setPath(n, s[0], target); });
  }
  function addAfter(id, type) {
    var def = F.def(), node = fresh(type), src = id === P.ENTRY ? null : P.byId(id);
    if (src) {
      var slot = slotOf(src);
      if (!slot) { return; }
      connect(node, P.getPath(src, slot) || null);
      P.setPath(src, slot, node.id);
      if (src.x != null) { node.x = src.x + P.COL / 2; node.y = src.y + P.ROW; }
      def.nodes.splice(def.nodes.indexOf(src) + 1, 0, node);
    } else {
      connect(node, def.start);
      def.start = node.id;
      def.nodes.unshift(node);
    }
    P.changed(false);
    F.select(node.id);
  }
  function replaceRefs(from, to) {
    var def = F.def();
    def.nodes.forEach(function (n) {
      P.slots(n).forEach(function (s) { if (P.getPath(n, s[0]) === from) { P.setPath(n, s[0], to); } });
    });
    if (def.start === from) { def.start = to; }
  }
  function remove(n) {
    var def = F.def(), next = targets(n).filter(function (t) { return t !== n.id; })[0] || null;
    def.nodes.splice(def.nodes.indexOf(n), 1);
    replaceRefs(n.id, next);
    if (!def.start || !P.byId(def.start)) { def.start = def.nodes[0].id; }
    P.changed(false);
    F.select(P.ENTRY);
  }
  function rename(n, input) {
    var old = n.id, value = input.value.trim();
    if (!value || value === old) { return; }
    n.id = value;
    replaceRefs(old, value);
    P.changed(false);
    F.select(value);
  }

  function heading(textValue, code) {
    return el("h2", {}, [textValue, code ? " " : null, code ? el("code", { dir: "ltr", class: "small", text: code }) : null]);
  }
  function adder(id) {
    var types = el("select", { "aria-label": T.add_after }, P.TYPES.map(function (t) { return el("option", { value: t, text: O[t] }); }));
    types.disabled = !S.can_edit;
    return el("div", { class: "fb-add", id: "fb-add" }, [el("span", { text: T.add_after }), types,
      P.button(T.add, function () { addAfter(id, types.value); }, "primary small")]);
  }

  function entryForm(box) {
    var def = F.def(), tr = def.trigger;
    box.appendChild(heading(T.journey));
    box.appendChild(field(T.name, text(def, "name"), "name"));
    box.appendChild(field(T.description, text(def, "description", { area: true }), "description"));
    box.appendChild(el("h3", { text: T.trigger }));
    var kind = el("select", {}, TRIGGERS.map(function (t) { return el("option", { value: t, text: O["trigger." + t] || O[t] }); }));
    kind.value = tr.type; kind.disabled = !S.can_edit;
    kind.addEventListener("change", function () {
      def.trigger = Object.assign({ type: kind.value }, JSON.parse(JSON.stringify(TRIGGER_DEFAULTS[kind.value])));
      P.changed(true); render(P.ENTRY, box, null);
    });
    box.appendChild(field(T.trigger_type, kind, "trigger.type"));
    triggerFields(box, tr);
    box.appendChild(field(T.start_step, choose(def, "start", P.nodeChoices(null).slice(1)), "start"));
    box.appendChild(adder(P.ENTRY));
    box.appendChild(el("h3", { text: T.goal }));
    if (!def.goal) { def.goal = { event: "", where: [], within_days: 30 }; }
    box.appendChild(field(T.goal_event, text(def.goal, "event", { dir: "ltr" }), "goal.event"));
    box.appendChild(field(T.within_days, text(def.goal, "within_days", { type: "number" }), "goal.within_days"));
    box.appendChild(field(T.holdout, text(def, "holdout_percent", { type: "number" }), "holdout_percent"));
    box.appendChild(el("h3", { text: T.reentry }));
    def.entry = def.entry || { reentry: "once", cooldown_days: 0 };
    box.appendChild(field(T.reentry, choose(def.entry, "reentry", ["once", "cooldown", "always"]), "entry.reentry"));
    box.appendChild(field(T.cooldown_days, text(def.entry, "cooldown_days", { type: "number" }), "entry.cooldown_days"));
    box.appendChild(el("h3", { text: T.policy }));
    var pol = def.policy = def.policy || { topic: "marketing", consent_purpose: "marketing", require_consent: false };
    box.appendChild(field(T.topic, choose(pol, "topic", ["marketing", "transactional"]), "policy.topic"));
    box.appendChild(field(T.consent_purpose, text(pol, "consent_purpose", { dir: "ltr", nullable: true }), "policy.consent_purpose"));
    box.appendChild(field(T.require_consent, P.checkbox(pol, "require_consent"), "policy.require_consent"));
    box.appendChild(field(T.quiet_start, text(pol, "quiet_start", { type: "number", nullable: true }), "policy.quiet_start"));
    box.appendChild(field(T.quiet_end, text(pol, "quiet_end", { type: "number", nullable: true }), "policy.quiet_end"));
  }
  function triggerFields(box, tr) {
    var p = "trigger.";
    function add(key, input) { box.appendChild(field(T[key], input, p + key)); }
    if (tr.type === "event" || tr.type === "absence") { add("event", text(tr, "event", { dir: "ltr" })); }
    if (tr.type === "absence") {
      add("missing", text(tr, "missing", { dir: "ltr" }));
      box.appendChild(P.durationInputs(tr, "within_s", p + "within_s", T.within));
    }
    if (tr.type === "segment") { add("segment_id", text(tr, "segment_id", { dir: "ltr" })); add("on", choose(tr, "on", ["enter", "leave"])); }
    if (tr.type === "date") {
      add("trait", text(tr, "trait", { dir: "ltr" }));
      add("offset_days", text(tr, "offset_days", { type: "number" }));
      add("at", text(tr, "at", { dir: "ltr", placeholder: "10:00" }));
      add("calendar", choose(tr, "calendar", ["profile", "jalali", "gregorian"]));
    }
    if (tr.type === "survey") {
      add("survey_id", text(tr, "survey_id", { dir: "ltr", nullable: true }));
      add("result", choose(tr, "result", ["detractor", "passive", "promoter", "low_csat", "any"]));
    }
    if (tr.type === "text") {
      add("sentiment", choose(tr, "sentiment", ["negative", "positive", "neutral", "any"]));
      add("category", text(tr, "category", { dir: "ltr", nullable: true }));
    }
    if (tr.type === "schedule") {
      add("cron", text(tr, "cron", { dir: "ltr", nullable: true }));
      add("jalali_day", text(tr, "jalali_day", { type: "number", nullable: true }));
      add("jalali_month", text(tr, "jalali_month", { type: "number", nullable: true }));
      add("at", text(tr, "at", { dir: "ltr", placeholder: "09:00" }));
      add("segment_id", text(tr, "segment_id", { dir: "ltr", nullable: true }));
    }
    if (tr.where) {
      box.appendChild(el("h3", { text: T.where }));
      box.appendChild(P.conditionRows(tr.where, p + "where", false));
    }
  }

  function nodeFields(box, n, p) {
    function add(key, input, label) { box.appendChild(field(label || T[key], input, p + key)); }
    if (n.type === "send") {
      add("channel", choose(n, "channel", ["sms", "email", "push", "telegram", "app"]));
      n.texts = n.texts || {};
      ["fa", "en"].forEach(function (lang) {
        var t = n.texts[lang] = n.texts[lang] || { subject: "", body: "" };
        box.appendChild(el("h3", { text: T["text_" + lang] }));
        var dir = lang === "fa" ? "rtl" : "ltr";
        box.appendChild(field(T.subject, text(t, "subject", { dir: dir }), p + "texts." + lang + ".subject"));
        box.appendChild(field(T.body, text(t, "body", { area: true, dir: dir }), p + "texts." + lang + ".body"));
      });
    } else if (n.type === "delay") {
      add("mode", choose(n, "mode", [["duration", T.duration], "time_of_day", "trait_date"], { rerender: true }));
      if ((n.mode === "time_of_day" || n.mode === "trait_date") && !n.at) { n.at = "10:00"; }
      if (n.mode === "duration") {
        n.seconds = n.seconds || 3600;
        box.appendChild(P.durationInputs(n, "seconds", p + "seconds", T.duration));
      } else {
        if (n.mode === "trait_date") {
          add("trait", text(n, "trait", { dir: "ltr" }));
          add("offset_days", text(n, "offset_days", { type: "number" }));
          add("calendar", choose(n, "calendar", ["profile", "jalali", "gregorian"]));
        }
        add("at", text(n, "at", { dir: "ltr", placeholder: "10:00" }));
      }
    } else if (n.type === "wait") {
      add("event", text(n, "event", { dir: "ltr" }));
      box.appendChild(P.durationInputs(n, "timeout_s", p + "timeout_s", T.timeout));
      n.where = n.where || [];
      box.appendChild(el("h3", { text: T.where }));
      box.appendChild(P.conditionRows(n.where, p + "where", false));
    } else if (n.type === "branch") {
      branchFields(box, n, p);
    } else if (n.type === "split") {
      splitFields(box, n, p);
    } else if (n.type === "survey") {
      add("survey_id", text(n, "survey_id", { dir: "ltr" }));
      add("channel", choose(n, "channel", ["email", "sms", "app"]));
    } else if (n.type === "set_trait") {
      add("key", text(n, "key", { dir: "ltr" }), T.trait);
      add("value", text(n, "value"));
      add("tag", choose(n, "tag", [[null, T.none], "add", "remove"]));
    } else if (n.type === "case") {
      add("subject", text(n, "subject"));
      add("priority", choose(n, "priority", ["low", "normal", "high", "urgent"]));
    } else if (n.type === "webhook") {
      add("url", text(n, "url", { dir: "ltr" }));
      n.method = n.method || "POST";
      add("method", choose(n, "method", ["POST", "PUT", "PATCH"]));
      webhookFields(box, n, p);
    }
  }
  /* A webhook's body is one JSON template (an object of templates, as older steps keep it, is
     shown as its JSON; emptied, it is the empty object); its headers are rows of a name and a
     template (a row whose name is emptied is dropped). */
  function webhookFields(box, n, p) {
    var area = el("textarea", { dir: "ltr", rows: "7", class: "fb-code", spellcheck: "false",
      placeholder: '{"order": {{ event.order_id | tojson }}}' });
    var body = n.body == null ? {} : n.body;
    area.value = typeof body === "string" ? body : (Object.keys(body).length ? JSON.stringify(body, null, 2) : "");
    area.disabled = !S.can_edit;
    area.addEventListener("input", function () { n.body = area.value.trim() === "" ? {} : area.value; P.changed(false); });
    var bodyField = field(T.webhook_body, area, p + "body");
    bodyField.appendChild(el("p", { class: "fb-hint" }, [T.webhook_body_hint,
      el("code", { dir: "ltr", text: '"name": {{ first_name | tojson }}' }),
      el("code", { dir: "ltr", text: '"total": {{ event.total | default(0) }}' })]));
    box.appendChild(bodyField);
    n.headers = n.headers || {};
    var holder = el("div", { class: "fb-conditions", "data-path": p + "headers" }, [el("h3", { text: T.headers })]);
    var names = Object.keys(n.headers);
    function rebuild(order) {
      var out = {};
      order.forEach(function (kv) { if (kv[0]) { out[kv[0]] = kv[1]; } });
      n.headers = out;
    }
    names.forEach(function (name, i) {
      var row = el("div", { class: "fb-row fb-header", "data-path": p + "headers." + name });
      var key = el("input", { type: "text", dir: "ltr", value: name, "aria-label": T.header_name });
      var value = el("input", { type: "text", dir: "ltr", value: n.headers[name], "aria-label": T.header_value });
      key.disabled = value.disabled = !S.can_edit;
      key.addEventListener("change", function () {
        var order = names.map(function (k) { return [k, n.headers[k]]; });
        order[i][0] = key.value.trim();
        rebuild(order); P.changed(false); F.select(n.id);
      });
      value.addEventListener("input", function () { n.headers[name] = value.value; P.changed(false); });
      row.appendChild(field(T.header_name, key, p + "headers." + name + ".name"));
      row.appendChild(field(T.header_value, value, p + "headers." + name + ".value"));
      row.appendChild(P.button(T.remove, function () { delete n.headers[name]; P.changed(false); F.select(n.id); }));
      holder.appendChild(row);
    });
    holder.appendChild(P.button(T.add_header, function () {
      var k = 1, name = "X-Header";
      while (name in n.headers) { k++; name = "X-Header-" + k; }
      n.headers[name] = "";
      P.changed(false); F.select(n.id);
    }));
    box.appendChild(holder);
  }
  function branchFields(box, n, p) {
    n.rules.forEach(function (rule, i) {
      var rp = p + "rules." + i + ".", set = el("fieldset", { class: "fb-group", "data-path": p + "rules." + i });
      set.appendChild(el("legend", { text: T.rule + " " + new Intl.NumberFormat(document.documentElement.lang === "fa" ? "fa-IR" : "en-US").format(i + 1) }));
      set.appendChild(field(T.label, text(rule, "label"), rp + "label"));
      set.appendChild(field(T.match, choose(rule, "match", ["all", "any"]), rp + "match"));
      set.appendChild(el("span", { class: "small muted", text: T.conditions }));
      set.appendChild(P.conditionRows(rule.conditions, rp + "conditions", true));
      set.appendChild(field(T.next, choose(rule, "next", P.nodeChoices(n.id)), rp + "next"));
      if (n.rules.length > 1) { set.appendChild(P.button(T.remove, function () { n.rules.splice(i, 1); P.changed(true); F.select(n.id); })); }
      box.appendChild(set);
    });
    box.appendChild(P.button(T.add_rule, function () {
      n.rules.push({ conditions: [{ kind: "trait", key: "", op: "eq", value: "" }], match: "all", next: null, label: "" });
      P.changed(true); F.select(n.id);
    }));
  }
  function splitFields(box, n, p) {
    n.paths.forEach(function (path, i) {
      var pp = p + "paths." + i + ".", set = el("div", { class: "fb-row", "data-path": p + "paths." + i });
      set.appendChild(field(T.percent, text(path, "percent", { type: "number" }), pp + "percent"));
      set.appendChild(field(T.label, text(path, "label"), pp + "label"));
      set.appendChild(field(T.next, choose(path, "next", P.nodeChoices(n.id)), pp + "next"));
      if (n.paths.length > 2) { set.appendChild(P.button(T.remove, function () { n.paths.splice(i, 1); P.changed(true); F.select(n.id); })); }
      box.appendChild(set);
    });
    box.setAttribute("data-path", p + "paths");
    box.appendChild(P.button(T.add_path, function () { n.paths.push({ percent: 0, next: null, label: "" }); P.changed(true); F.select(n.id); }));
  }

  function nodeForm(box, n) {
    var p = "nodes." + n.id + ".";
    box.appendChild(heading(O[n.type], n.id));
    var idInput = el("input", { type: "text", dir: "ltr", value: n.id });
    idInput.disabled = !S.can_edit;
    idInput.addEventListener("change", function () { rename(n, idInput); });
    box.appendChild(field(T.step_id, idInput, p + "id"));
    box.appendChild(field(T.label, text(n, "label"), p + "label"));
    nodeFields(box, n, p);
    var simple = P.slots(n).filter(function (s) { return s[0].indexOf(".") < 0; });
    if (simple.length) {
      box.appendChild(el("h3", { text: T.edges }));
      simple.forEach(function (s) { box.appendChild(field(s[1], choose(n, s[0], P.nodeChoices(n.id)), p + s[0])); });
    }
    if (P.slots(n).length) { box.appendChild(adder(n.id)); }
    var del = P.button(T["delete"], function () { remove(n); }, "small danger");
    del.id = "fb-delete";
    if (F.def().nodes.length < 2) { del.disabled = true; }
    box.appendChild(el("p", {}, [del]));
  }

  function previewForm(holder, n) {
    holder.textContent = "";
    holder.hidden = n.type !== "send";
    if (holder.hidden) { return; }
    var input = el("input", { type: "text", dir: "ltr", id: "fb-preview-profile", placeholder: "prf_…" });
    var out = el("div", { id: "fb-preview-out" });
    var show = el("button", { type: "button", class: "small", text: T.show });
    show.addEventListener("click", function () {
      out.textContent = "…";
      F.post("/automations/" + S.flow_id + "/preview", { definition: F.clean(), node: n.id, profile_id: input.value })
        .then(function (res) {
          out.textContent = "";
          if (!res.ok) { out.appendChild(el("p", { class: "error", role: "alert", text: res.data.message || T.error })); return; }
          ["fa", "en"].forEach(function (lang) {
            var t = res.data.texts[lang];
            if (!t) { return; }
            out.appendChild(el("h4", { text: T["text_" + lang] + (res.data.language === lang ? " ✓" : "") }));
            if (t.error) { out.appendChild(el("p", { class: "error", dir: "auto", text: t.error })); return; }
            if (t.subject) { out.appendChild(el("p", { class: "fb-preview-subject", dir: "auto", text: t.subject })); }
            out.appendChild(el("p", { class: "fb-preview-body", dir: "auto", lang: lang, text: t.body }));
          });
          out.scrollIntoView({ block: "nearest" });
        }, function () { out.textContent = T.network; });
    });
    holder.appendChild(el("h3", { text: T.preview }));
    holder.appendChild(el("div", { class: "fb-add" }, [el("label", { "for": "fb-preview-profile", text: T.profile_id }), input, show]));
    holder.appendChild(out);
  }

  function render(selected, box, previewBox) {
    box.textContent = "";
    box.removeAttribute("data-path");
    var n = selected === P.ENTRY ? null : P.byId(selected);
    if (!n) { entryForm(box); } else { nodeForm(box, n); }
    if (previewBox) { if (n) { previewForm(previewBox, n); } else { previewBox.hidden = true; } }
  }
  window.SafarFlowForms = { render: render };
})();
