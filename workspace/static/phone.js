/* The workspace's phone page: one person's DingTalk, drawn from the /_ws JSON API.
 *
 * State comes from GET /_ws/feed (polled about once a second with a sequence cursor); cards are
 * drawn generically from their template specs (GET /_ws/specs); every action goes through the same
 * /_ws calls a test would make (say, send_media, card_action). No libraries, no build step.
 */
"use strict";
(function () {
  const BOT = document.body.dataset.botName || "查一次";
  const POLL_MS = 1000;
  const DEV_POLL_MS = 1500;
  const DEV_KEEP = 150;
  const MAX_UPLOAD = 10 * 1024 * 1024;
  const $ = (id) => document.getElementById(id);

  const S = {
    me: null, users: {}, specs: {}, convs: {}, msgs: {}, cards: {}, seq: 0, now: Date.now(),
    open: null, drafts: {}, expanded: {}, toasts: {}, gen: 0, first: true, specWait: {}, cardWait: {},
    dev: { open: false, tab: "callbacks", since: { callbacks: 0, calls: 0 }, items: { callbacks: [], calls: [] } },
  };

  /* ---------- small helpers ---------- */
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "html") el.innerHTML = v; // only ever the output of md(), which escapes first
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat(3)) {
      if (kid !== null && kid !== undefined && kid !== false) el.append(kid.nodeType ? kid : String(kid));
    }
    return el;
  }

  async function api(method, path, body) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      return { error: "连接工作台失败", _status: 0 };
    }
    let data = {};
    try { data = await res.json(); } catch (e) { data = {}; }
    if (!res.ok && !data.error) data.error = "请求失败（HTTP " + res.status + "）";
    data._status = res.status;
    return data;
  }

  const enc = encodeURIComponent;
  const pad = (n) => String(n).padStart(2, "0");
  function bj(ms) { // Beijing time, whatever the browser's zone
    const d = new Date(ms + 8 * 3600 * 1000);
    return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds() };
  }
  function when(ms) {
    const t = bj(ms), n = bj(S.now || ms);
    const hm = pad(t.h) + ":" + pad(t.mi);
    if (t.y === n.y && t.mo === n.mo && t.d === n.d) return hm;
    return (t.y === n.y ? "" : t.y + "年") + t.mo + "月" + t.d + "日 " + hm;
  }
  function hms(ms) { const t = bj(ms); return pad(t.h) + ":" + pad(t.mi) + ":" + pad(t.s); }
  function json(text, fallback) {
    if (typeof text !== "string" || !text) return fallback;
    try { const v = JSON.parse(text); return v === null ? fallback : v; } catch (e) { return fallback; }
  }
  function truthy(v) { return !!v && !["false", "0", "[]", "{}"].includes(String(v)); }
  function visible(cond, p) {
    if (!cond) return true;
    const neg = cond.startsWith("!");
    const ok = truthy(p[neg ? cond.slice(1) : cond]);
    return neg ? !ok : ok;
  }
  function fill(text, p) { return String(text || "").replace(/\$\{([^}]+)\}/g, (_, k) => (p[k] ?? "")); }

  /* ---------- names and avatars ---------- */
  function nameOf(id) {
    if (id === "bot") return BOT;
    if (id && id.startsWith("customRobot:")) return id.slice(12);
    const u = S.users[id];
    return u ? u.name : id;
  }
  const COLORS = ["#3370ff", "#00a870", "#e37318", "#7f3bf5", "#e5484d", "#1e9fda", "#b5651d", "#4e6ef2", "#0f9d8f"];
  function colorOf(key) {
    let n = 7;
    for (const ch of String(key)) n = (n * 31 + ch.codePointAt(0)) >>> 0;
    return COLORS[n % COLORS.length];
  }
  function initials(name) {
    const s = String(name || "?").trim();
    if (/^[\x20-\x7e]+$/.test(s)) return s.split(/[\s_-]+/).map((w) => w[0] || "").join("").slice(0, 2).toUpperCase();
    return [...s].slice(-2).join(""); // DingTalk shows the last two characters of a Chinese name
  }
  function avatar(name, key, cls) {
    const el = h("span", { class: "avatar " + (cls || ""), "aria-hidden": "true" }, initials(name));
    el.style.background = colorOf(key || name);
    return el;
  }
  function convAvatar(c) {
    if (c.kind === "private") return h("span", { class: "avatar bot", "aria-hidden": "true" }, [...BOT][0]);
    if (c.kind === "work") return h("span", { class: "avatar work", "aria-hidden": "true" }, "工作");
    const el = h("span", { class: "avatar group", "aria-hidden": "true" }, [...(c.title || "群")].slice(0, 2).join(""));
    el.style.background = colorOf(c.conversationId);
    return el;
  }
  function senderAvatar(id) {
    if (id === "bot") return h("span", { class: "avatar bot small", "aria-hidden": "true" }, [...BOT][0]);
    return avatar(nameOf(id), id, "small");
  }
  function convTitle(c) { return c.kind === "private" ? BOT : c.kind === "work" ? "工作通知" : c.title; }

  /* ---------- markdown (escape first, then a few safe rules) ---------- */
  function esc(s) {
    return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function safeUrl(u) { // u is already escaped
    return /^(https?:|mailto:|\/(?!\/)|#|data:image\/(png|jpe?g|gif|webp);base64,)/i.test(u) ? u : null;
  }
  function inline(s) {
    const codes = [];
    s = s.replace(/`([^`]+)`/g, (_, c) => { codes.push(c); return "\u0000" + (codes.length - 1) + "\u0000"; });
    s = s.replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (m, alt, url) => {
      const u = safeUrl(url);
      if (!u) return alt || "";
      if (/^(data:|\/)/i.test(u)) return '<img src="' + u + '" alt="' + alt + '">';
      return '<a href="' + u + '" target="_blank" rel="noopener noreferrer">' + (alt || "图片") + "</a>";
    });
    s = s.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (m, text, url) => {
      const u = safeUrl(url);
      return u ? '<a href="' + u + '" target="_blank" rel="noopener noreferrer">' + text + "</a>" : text;
    });
    s = s.replace(/\*\*(.+?)\*\*|__(.+?)__/g, (_, a, b) => "<b>" + (a || b) + "</b>");
    s = s.replace(/(^|[^*\w])\*([^*\s](?:[^*]*[^*\s])?)\*(?!\w)/g, "$1<i>$2</i>");
    return s.replace(/\u0000(\d+)\u0000/g, (_, i) => "<code>" + codes[+i] + "</code>");
  }
  function md(src) {
    const out = [];
    let para = [], list = null;
    const flushPara = () => { if (para.length) out.push("<p>" + para.join("<br>") + "</p>"); para = []; };
    const flushList = () => {
      if (list) out.push("<" + list.tag + ">" + list.items.map((i) => "<li>" + i + "</li>").join("") + "</" + list.tag + ">");
      list = null;
    };
    const flush = () => { flushPara(); flushList(); };
    for (const raw of esc(src).split(/\r?\n/)) {
      const line = raw.replace(/\s+$/, "");
      let m;
      if (!line.trim()) { flush(); continue; }
      if (/^\s{0,3}([-*_])(\s*\1){2,}$/.test(line)) { flush(); out.push("<hr>"); continue; }
      if ((m = line.match(/^\s{0,3}(#{1,6})\s+(.*)$/))) {
        flush();
        const lv = Math.min(6, m[1].length + 2);
        out.push("<h" + lv + ">" + inline(m[2]) + "</h" + lv + ">");
        continue;
      }
      const ul = line.match(/^\s*[-*+]\s+(.*)$/), ol = line.match(/^\s*\d+[.)]\s+(.*)$/);
      if (ul || ol) {
        flushPara();
        const tag = ul ? "ul" : "ol";
        if (!list || list.tag !== tag) { flushList(); list = { tag, items: [] }; }
        list.items.push(inline((ul || ol)[1]));
        continue;
      }
      if ((m = line.match(/^\s*&gt;\s?(.*)$/))) { flush(); out.push("<blockquote>" + inline(m[1]) + "</blockquote>"); continue; }
      flushList();
      para.push(inline(line.trim()));
    }
    flush();
    return out.join("");
  }
  function mdNode(text, cls) { return h("div", { class: "md " + (cls || ""), html: md(text) }); }

  /* ---------- toast, lightbox ---------- */
  let toastTimer = 0;
  function toast(text, kind) {
    const el = $("toast");
    el.textContent = text;
    el.className = "toast" + (kind ? " " + kind : "");
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, Math.min(6000, 1800 + 60 * String(text).length));
  }
  function zoomable(img) {
    img.addEventListener("click", () => { $("lightbox-img").src = img.src; $("lightbox").hidden = false; });
    return img;
  }
  function imageSrc(value) {
    const v = String(value || "");
    if (/^data:image\/(png|jpe?g|gif|webp);base64,/i.test(v)) return v;
    if (v.startsWith("@")) return "/_ws/media/" + enc(v);
    if (v.startsWith("/") && !v.startsWith("//")) return v;
    if (/^https?:\/\/[^\s"'<>]+$/i.test(v)) return v;  // a picture by its address (the QR of a 行政行为码)
    return null;
  }

  /* ---------- cards ---------- */
  const uid = (() => { let n = 0; return () => "f" + (++n); })();
  function statusClass(s) {
    if (/退回|撤销|拒绝|不参与|失败|逾期|不合格|失效|驳回|作废/.test(s)) return "bad";
    if (/批准|完成|确认|同意|办结|合格|已创建|归档|通过|已提交|已接收|已派发/.test(s)) return "good";
    if (/待|中|未/.test(s)) return "wait";
    return "";
  }
  function draftKey(otid, name) { return otid + "\u0001" + name; }

  function options(f, p) {
    const list = Array.isArray(f.options) ? f.options : json(p[f.options_source], []);
    return (Array.isArray(list) ? list : []).map((o) => (typeof o === "object" && o !== null
      ? { value: String(o.value ?? ""), label: String(o.label ?? o.value ?? "") }
      : { value: String(o), label: String(o) }));
  }

  function fieldNode(f, card, p, errs) {
    const key = draftKey(card.outTrackId, f.name);
    let def = S.drafts[key];
    if (def === undefined) def = f.default_source ? (p[f.default_source] ?? "") : (f.default ?? "");
    const id = uid();
    const save = (v) => { S.drafts[key] = v; };
    let control, read;
    switch (f.kind) {
      case "textarea":
        control = h("textarea", { id, name: f.name, rows: 3 });
        control.value = def;
        read = () => control.value;
        break;
      case "select": {
        control = h("select", { id, name: f.name },
          h("option", { value: "" }, "请选择"),
          options(f, p).map((o) => h("option", { value: o.value, selected: o.value === String(def) }, o.label)));
        read = () => control.value;
        break;
      }
      case "multiselect": {
        const chosen = Array.isArray(def) ? def.map(String) : json(def, String(def || "").split(",").filter(Boolean));
        const boxes = options(f, p).map((o) => h("input", { type: "checkbox", value: o.value, checked: chosen.includes(o.value) }));
        control = h("fieldset", { id, name: f.name, "aria-label": f.label },
          boxes.map((b, i) => h("label", { class: "field check" }, b, options(f, p)[i].label)));
        read = () => boxes.filter((b) => b.checked).map((b) => b.value);
        break;
      }
      case "checkbox":
        control = h("input", { id, name: f.name, type: "checkbox", checked: truthy(def) });
        read = () => (control.checked ? "true" : "false");
        break;
      case "datetime":
        control = h("input", { id, name: f.name, type: "datetime-local", value: String(def).replace(" ", "T").slice(0, 16) });
        read = () => control.value.replace("T", " ");
        break;
      case "date":
        control = h("input", { id, name: f.name, type: "date", value: def });
        read = () => control.value;
        break;
      case "number":
        control = h("input", { id, name: f.name, type: "number", inputmode: "decimal", step: "any", value: def });
        read = () => control.value;
        break;
      default:
        control = h("input", { id, name: f.name, type: "text", value: def });
        read = () => control.value;
    }
    control.addEventListener("input", () => save(read()));
    control.addEventListener("change", () => save(read()));
    const err = errs[f.name];
    const label = h(f.kind === "multiselect" ? "span" : "label", f.kind === "multiselect" ? {} : { for: id },
      (f.label_source && p[f.label_source]) || f.label || f.name, f.required ? h("span", { class: "req", "aria-hidden": "true" }, "*") : null);
    const row = f.kind === "checkbox"
      ? h("div", { class: "field check" + (err ? " bad" : "") }, control, label)
      : h("div", { class: "field" + (err ? " bad" : "") }, label, control);
    const errNode = h("div", { class: "err", role: "alert" }, err || "");
    errNode.hidden = !err;
    row.append(errNode);
    row.dataset.field = f.name;
    return { f, row, read, errNode, control, key };
  }

  function cardParams(card) { return Object.assign({}, card.params || {}, card.mine || {}); }

  function fillCard(wrap, otid, cid) {
    const card = S.cards[otid];
    if (!card) {
      wrap.replaceChildren(h("div", { class: "card-body muted" }, "卡片加载中…"));
      fetchCard(otid);
      return;
    }
    const key = card.templateKey;
    if (key && S.specs[key] === undefined) {
      wrap.replaceChildren(h("div", { class: "card-body muted" }, "卡片加载中…"));
      loadSpec(key);
      return;
    }
    const spec = key ? S.specs[key] : null;
    const p = cardParams(card);
    wrap.dataset.template = key || card.cardTemplateId || "";
    wrap.dataset.version = card.version;
    if (!spec) { wrap.replaceChildren(...rawCard(card, p)); return; }

    const errs = json(p.errors, {}) || {};
    const known = new Set();
    const head = [], body = [];
    let lastForm = null;
    for (const block of spec.layout || []) {
      if (!visible(block.visible_if, p)) continue;
      let node = null, form = null;
      switch (block.type) {
        case "header": {
          const status = fill(block.status, p);
          head.push(h("header", { class: "card-head" }, h("b", {}, fill(block.text, p) || "（无标题）"),
            status ? h("span", { class: "pill " + statusClass(status) }, status) : null));
          break;
        }
        case "markdown": {
          const text = fill(block.text, p);
          if (text.trim()) node = mdNode(text);
          break;
        }
        case "note": {
          const text = block.source ? (p[block.source] || "") : fill(block.text, p);
          if (text.trim()) node = mdNode(text, "note");
          break;
        }
        case "fields": {
          const items = json(p[block.source], []);
          if (Array.isArray(items) && items.length) {
            node = h("dl", { class: "fields" }, items.map((it) => [h("dt", {}, it.label ?? ""), h("dd", {}, it.value ?? "")]));
          }
          break;
        }
        case "table": {
          const rows = json(p[block.source], []);
          const cols = block.columns || [];
          if (Array.isArray(rows) && rows.length) {
            node = h("div", { class: "table-wrap" }, h("table", {},
              h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, c.label || c.key)))),
              h("tbody", {}, rows.map((r) => h("tr", {}, cols.map((c) => h("td", {}, r[c.key] ?? "")))))));
          }
          break;
        }
        case "image": {
          const src = imageSrc(p[block.source]);
          if (src) node = h("figure", { class: "figure" }, zoomable(h("img", { src, alt: block.alt || "图片" })), block.alt ? h("figcaption", {}, block.alt) : null);
          else if (p[block.source]) node = h("div", { class: "muted" }, "[" + (block.alt || "图片") + "] " + p[block.source]);
          break;
        }
        case "form": {
          const fields = (block.fields || []).filter((f) => visible(f.visible_if, p)).map((f) => fieldNode(f, card, p, errs));
          fields.forEach((x) => known.add(x.f.name));
          const submit = block.submit || {};
          const button = h("button", { type: "submit", class: "btn " + (submit.style || "primary"), "data-action": submit.actionId }, submit.label || "提交");
          node = h("form", { class: "card-form", novalidate: true }, optionalFields(otid, submit.actionId, fields, errs), h("div", { class: "actions" }, button));
          form = { fields, values: () => formValues(fields) };
          node.addEventListener("submit", (e) => {
            e.preventDefault();
            let missing = null;
            for (const x of fields) {
              const v = x.read();
              const empty = Array.isArray(v) ? !v.length : (x.f.kind === "checkbox" ? v !== "true" : !String(v).trim());
              x.errNode.hidden = !(x.f.required && empty);
              if (x.f.required && empty) { x.errNode.textContent = "请填写" + (x.f.label || ""); missing = missing || x; }
            }
            if (missing) { missing.control.focus(); return; }
            act(otid, cid, submit.actionId, Object.assign(form.values(), fillParams(submit.params, p)), button, fields);
          });
          break;
        }
        case "actions": {
          const above = lastForm; // "buttons send their params plus the values of the form right above them"
          const buttons = (block.buttons || []).filter((b) => visible(b.visible_if, p)).map((b) => {
            const btn = h("button", { type: "button", class: "btn " + (b.style || ""), "data-action": b.actionId }, b.label || b.actionId);
            btn.addEventListener("click", () => act(otid, cid, b.actionId,
              Object.assign(above ? above.values() : {}, fillParams(b.params, p)), btn, above ? above.fields : []));
            return btn;
          });
          if (buttons.length) node = h("div", { class: "actions" }, buttons);
          break;
        }
        default:
          break;
      }
      if (node) { body.push(node); lastForm = form; }
    }
    const stray = Object.entries(errs).filter(([k]) => !known.has(k));
    if (stray.length) body.push(h("ul", { class: "errs", role: "alert" }, stray.map(([k, v]) => h("li", {}, v))));
    wrap.replaceChildren(...head, body.length ? h("div", { class: "card-body" }, body) : "");
  }

  // A form with no required field folds its fields away (cards stay short, as on a phone); it opens
  // by itself when the bot reports an error in it or something was typed, and stays as the user left it.
  function optionalFields(otid, actionId, fields, errs) {
    const rows = fields.map((x) => x.row);
    if (!fields.length || fields.some((x) => x.f.required)) return rows;
    const key = otid + "\u0001" + actionId;
    const typed = fields.some((x) => errs[x.f.name] || (S.drafts[x.key] !== undefined && String(S.drafts[x.key]) !== ""));
    const first = String(fields[0].f.label || fields[0].f.name).replace(/（[^）]*）|\([^)]*\)/g, "");
    const more = h("details", { class: "more", open: typed || !!S.expanded[key] },
      h("summary", {}, "填写" + first + (fields.length > 1 ? "等 " + fields.length + " 项" : "")), rows);
    more.addEventListener("toggle", () => { S.expanded[key] = more.open; });
    return [more];
  }

  function fillParams(params, p) {
    const out = {};
    for (const [k, v] of Object.entries(params || {})) out[k] = fill(v, p);
    return out;
  }
  function formValues(fields) {
    const out = {};
    for (const x of fields) out[x.f.name] = x.read();
    return out;
  }
  function rawCard(card, p) {
    const title = (card.view && card.view.title) || p.title || card.cardTemplateId;
    const status = (card.view && card.view.status) || p.status || "";
    const rows = Object.entries(card.params || {}).filter(([k]) => k !== "title" && k !== "status");
    return [
      h("header", { class: "card-head" }, h("b", {}, title), status ? h("span", { class: "pill " + statusClass(status) }, status) : null),
      h("div", { class: "card-body" }, h("div", { class: "muted" }, "模板 " + card.cardTemplateId + "（工作台没有它的规格，按原始参数显示）"),
        h("div", { class: "table-wrap" }, h("table", { class: "raw" }, rows.map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, v)))))),
    ];
  }

  function cardNode(otid, cid) {
    const wrap = h("div", { class: "card", "data-otid": otid });
    fillCard(wrap, otid, cid);
    return wrap;
  }
  function rerenderCard(otid) {
    for (const wrap of document.querySelectorAll(".card[data-otid]")) {
      if (wrap.dataset.otid !== otid) continue;
      const msg = wrap.closest("[data-cid]");
      const active = document.activeElement;
      const focus = active && wrap.contains(active) && active.name
        ? { name: active.name, start: active.selectionStart, end: active.selectionEnd } : null;
      fillCard(wrap, otid, msg ? msg.dataset.cid : S.open);
      if (focus) {
        const again = [...wrap.querySelectorAll("[name]")].find((el) => el.name === focus.name);
        if (again) {
          again.focus();
          try { if (focus.start !== null) again.setSelectionRange(focus.start, focus.end); } catch (e) { /* not a text field */ }
        }
      }
    }
  }

  function viewOf(c) { // a card from /_ws/card_action (full record) as the feed gives it
    return {
      outTrackId: c.outTrackId, cardTemplateId: c.cardTemplateId, templateKey: c.templateKey,
      params: c.params || {}, mine: (c.private || {})[S.me] || {}, spaces: c.spaces || [],
      version: c.version, seq: c.seq, view: c.view,
    };
  }

  async function act(otid, cid, actionId, params, button, fields) {
    const card = S.cards[otid];
    const space = card && (card.spaces || []).find((s) => s.conversationId === cid);
    const wrap = button.closest(".card");
    const label = button.textContent;
    wrap.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    button.textContent = "处理中…";
    const me = S.me;
    const res = await api("POST", "/_ws/card_action", {
      staffId: me, outTrackId: otid, actionId, params, spaceId: space ? space.spaceId : undefined,
    });
    if (me !== S.me) return;
    button.textContent = label;
    wrap.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    if (res.card) S.cards[otid] = viewOf(res.card);
    const answer = res.response || {};
    const own = (answer.userPrivateData && answer.userPrivateData.cardParamMap)
      || (answer.privateData && answer.privateData[me] && answer.privateData[me].cardParamMap) || {};
    const mine = (S.cards[otid] && S.cards[otid].mine) || {};
    S.toasts[otid] = mine.toast || "";
    if (res.error) toast(res.error, "bad");
    else if (res.status !== 200) toast("机器人没有处理这次操作（" + (res.status || "无响应") + "）", "bad");
    else if (own.toast) toast(own.toast, json(own.errors, null) ? "bad" : "");
    if (!res.error && res.status === 200 && !Object.keys(json(mine.errors, {}) || {}).length) {
      for (const x of fields || []) delete S.drafts[x.key];
    }
    rerenderCard(otid);
    poll();
  }

  async function loadSpec(key) {
    if (S.specWait[key]) return;
    S.specWait[key] = true;
    const res = await api("GET", "/_ws/specs/" + enc(key));
    S.specs[key] = res.error ? null : res;
    for (const [otid, c] of Object.entries(S.cards)) if (c.templateKey === key) rerenderCard(otid);
  }
  async function fetchCard(otid) {
    if (S.cardWait[otid]) return;
    S.cardWait[otid] = true;
    const res = await api("GET", "/_ws/cards/" + enc(otid));
    if (!res.error) { S.cards[otid] = viewOf(res); rerenderCard(otid); }
  }

  /* ---------- messages ---------- */
  function fileUrl(code) { return "/_ws/files/" + enc(code); }
  function sizeText(n) { return n > 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB"; }
  function linkButton(title, url) {
    const u = safeUrl(esc(url || ""));
    return u ? h("a", { class: "btn", href: url, target: "_blank", rel: "noopener noreferrer" }, title)
      : h("span", { class: "btn", title: url || "" }, title);
  }

  function bodyOf(m, conv) {
    const c = m.content || {};
    const group = conv && conv.kind === "group";
    switch (m.msgtype) {
      case "text": {
        const at = group && m.sender !== "bot" && S.users[m.sender] && m.atBot !== false;
        return h("div", { class: "bubble text" }, at ? h("span", { class: "at" }, "@" + BOT + " ") : null, c.content ?? "");
      }
      case "markdown":
        return h("div", { class: "bubble" }, mdNode(c.text ?? c.content ?? ""));
      case "actionCard":
      case "action_card": {
        const buttons = [];
        if (c.singleTitle || c.single_title) buttons.push(linkButton(c.singleTitle || c.single_title, c.singleURL || c.single_url));
        for (const b of c.btns || json(c.btn_json_list, []) || []) buttons.push(linkButton(b.title, b.actionURL || b.action_url));
        return h("div", { class: "bubble" }, c.title ? h("b", {}, c.title) : null, mdNode(c.text ?? c.markdown ?? ""),
          buttons.length ? h("div", { class: "btns" }, buttons) : null);
      }
      case "link":
        return h("div", { class: "bubble" }, h("b", {}, c.title || ""), h("div", { class: "muted" }, c.text || ""),
          h("div", { class: "btns" }, linkButton("查看", c.messageUrl || c.message_url)));
      case "image": {
        const src = imageSrc(c.photoURL || c.media_id || c.mediaId || "");
        return src ? h("div", { class: "bubble pic" }, zoomable(h("img", { src, alt: "图片" })))
          : h("div", { class: "bubble muted" }, "[图片] " + (c.photoURL || ""));
      }
      case "picture":
        return h("div", { class: "bubble pic" }, zoomable(h("img", { src: fileUrl(c.downloadCode), alt: c.fileName || "图片" })));
      case "richText":
        return h("div", { class: "bubble" }, (c.richText || []).map((it) => (it.downloadCode
          ? zoomable(h("img", { src: fileUrl(it.downloadCode), alt: "图片" })) : h("div", { class: "text" }, it.text || ""))));
      case "file": {
        const href = c.downloadCode ? fileUrl(c.downloadCode) : c.mediaId || c.media_id ? "/_ws/media/" + enc(c.mediaId || c.media_id) : null;
        const label = (c.fileName || "文件") + (c.size ? " · " + sizeText(c.size) : "");
        return h("div", { class: "bubble" }, href ? h("a", { class: "file-link", href, download: c.fileName || "" }, label) : label);
      }
      case "audio":
      case "voice":
        return h("div", { class: "bubble" }, "[语音] " + (c.recognition || ""));
      case "video":
        return h("div", { class: "bubble" }, "[视频]");
      case "feedCard":
        return h("div", { class: "bubble" }, (c.links || []).map((l) => h("div", {}, linkButton(l.title, l.messageURL))));
      case "oa": {
        const b = c.body || {};
        return h("div", { class: "bubble" }, h("b", {}, (c.head && c.head.text) || b.title || "通知"),
          b.title ? h("div", {}, b.title) : null, (b.form || []).map((f) => h("div", {}, (f.key || "") + (f.value || ""))),
          b.content ? mdNode(b.content) : null);
      }
      case "interactiveCard":
        return cardNode(c.outTrackId || m.outTrackId, m.conversationId);
      default:
        return h("div", { class: "bubble muted" }, "[" + m.msgtype + "] " + JSON.stringify(c));
    }
  }

  function msgNodes(m, prev) {
    const nodes = [];
    if (!prev || m.time - prev.time >= 5 * 60 * 1000) nodes.push(h("div", { class: "stamp" }, when(m.time)));
    const conv = S.convs[m.conversationId];
    const mine = m.sender === S.me;
    const isCard = m.msgtype === "interactiveCard";
    const showName = conv && conv.kind === "group" && !mine;
    nodes.push(h("div", {
      class: "msg" + (mine ? " mine" : "") + (isCard ? " has-card" : ""), "data-seq": m.seq,
      "data-cid": m.conversationId, "data-sender": m.sender, title: nameOf(m.sender) + " · " + when(m.time),
    }, mine ? null : senderAvatar(m.sender),
    h("div", { class: "msg-main" }, showName ? h("span", { class: "who" }, nameOf(m.sender)) : null, bodyOf(m, conv))));
    return nodes;
  }

  function nearBottom(box) { return box.scrollHeight - box.scrollTop - box.clientHeight < 80; }
  function scrollDown() { const box = $("msgs"); box.scrollTop = box.scrollHeight; }

  function renderChat() {
    const c = S.convs[S.open];
    if (!c) return;
    $("chat-title").textContent = convTitle(c) + (c.kind === "group" ? "（" + c.members.length + "）" : "");
    $("chat-sub").textContent = c.kind === "group" ? "群聊 · 机器人" + BOT + "在群里" : c.kind === "private" ? "机器人 · 单聊" : "系统通知，无法回复";
    $("composer").hidden = c.kind === "work";
    $("at").hidden = c.kind !== "group";
    const box = $("msgs");
    const msgs = S.msgs[S.open] || [];
    const nodes = [];
    msgs.forEach((m, i) => nodes.push(...msgNodes(m, msgs[i - 1])));
    if (!msgs.length) nodes.push(h("p", { class: "empty" }, c.kind === "private" ? "发送「帮助」看看机器人能做什么。" : "暂无消息"));
    box.replaceChildren(...nodes);
    markRead(S.open);
    requestAnimationFrame(scrollDown);
  }

  function appendToChat(cid, added) {
    const box = $("msgs");
    const stick = nearBottom(box) || added.some((m) => m.sender === S.me);
    const all = S.msgs[cid];
    if (box.querySelector(".empty")) { renderChat(); return; }
    for (const m of added) {
      const i = all.indexOf(m);
      box.append(...msgNodes(m, all[i - 1]));
    }
    markRead(cid);
    if (stick) requestAnimationFrame(scrollDown);
  }

  /* ---------- conversation list ---------- */
  function readKey(cid) { return "chayici.read:" + S.me + ":" + cid; }
  function markRead(cid) {
    const msgs = S.msgs[cid] || [];
    if (msgs.length) try { localStorage.setItem(readKey(cid), String(msgs[msgs.length - 1].seq)); } catch (e) { /* private mode */ }
  }
  function unread(cid) {
    let seen = 0;
    try { seen = Number(localStorage.getItem(readKey(cid)) || 0); } catch (e) { seen = 0; }
    return (S.msgs[cid] || []).filter((m) => m.seq > seen && m.sender !== S.me).length;
  }
  const KIND_RANK = { group: 0, private: 1, work: 2 };
  function renderConvs() {
    const list = Object.values(S.convs).sort((a, b) => (b.lastSeq - a.lastSeq) || (KIND_RANK[a.kind] - KIND_RANK[b.kind])
      || String(a.title).localeCompare(String(b.title), "zh"));
    $("convs-empty").hidden = list.length > 0 || S.first;
    $("convs").replaceChildren(...list.map((c) => {
      const n = S.open === c.conversationId ? 0 : unread(c.conversationId);
      let preview = c.preview || (c.kind === "private" ? "发送「帮助」看看机器人能做什么" : "暂无消息");
      if (c.preview && c.kind === "group" && c.lastSender) preview = (c.lastSender === S.me ? "我" : nameOf(c.lastSender)) + "：" + preview;
      return h("li", {}, h("button", {
        type: "button", class: "conv", "data-cid": c.conversationId, "data-kind": c.kind,
        onclick: () => { location.hash = "c=" + enc(c.conversationId); },
      }, convAvatar(c), h("span", { class: "conv-main" },
        h("span", { class: "conv-top" }, h("b", { class: "conv-title" }, convTitle(c),
          c.kind === "group" ? h("small", {}, "（" + c.members.length + "）") : null,
          c.kind === "private" ? h("span", { class: "tag" }, "机器人") : null),
        h("time", {}, c.lastTime ? when(c.lastTime) : "")),
        h("span", { class: "conv-bottom" }, h("span", { class: "conv-preview" }, preview),
          n ? h("span", { class: "badge", "aria-label": n + " 条未读" }, n > 99 ? "99+" : n) : null))));
    }));
  }

  function route() {
    const m = location.hash.match(/^#c=(.+)$/);
    const cid = m ? decodeURIComponent(m[1]) : null;
    if (cid && S.convs[cid]) {
      S.open = cid;
      $("home").hidden = true;
      $("chat").hidden = false;
      renderChat();
    } else {
      S.open = null;
      $("chat").hidden = true;
      $("home").hidden = false;
      renderConvs();
    }
  }

  /* ---------- polling ---------- */
  let timer = 0, inflight = false, again = false;
  function schedule(ms) { clearTimeout(timer); timer = setTimeout(poll, ms); }
  async function poll() {
    if (!S.me) return;
    if (inflight) { again = true; return; }
    inflight = true;
    const gen = S.gen;
    const d = await api("GET", "/_ws/feed?staffId=" + enc(S.me) + "&since=" + S.seq);
    inflight = false;
    if (gen === S.gen) {
      offline(!!d.error && d._status !== 404);
      if (!d.error) ingest(d);
    }
    schedule(again ? 0 : POLL_MS);
    again = false;
  }
  function offline(on) {
    let bar = document.querySelector(".offline");
    if (on && !bar) { bar = h("div", { class: "offline", role: "status" }, "与工作台的连接中断，正在重试…"); $("phone").prepend(bar); }
    if (!on && bar) bar.remove();
  }

  function ingest(d) {
    S.now = d.nowMs || Date.now();
    const convs = {};
    for (const c of d.conversations) convs[c.conversationId] = c;
    S.convs = convs;
    const changed = [];
    for (const c of d.cards) {
      const before = S.toasts[c.outTrackId];
      const now = (c.mine && c.mine.toast) || "";
      if (!S.first && now && now !== before) toast(now);
      S.toasts[c.outTrackId] = now;
      S.cards[c.outTrackId] = c;
      changed.push(c.outTrackId);
    }
    const added = {};
    let unknown = false;
    for (const m of d.messages) {
      const list = (S.msgs[m.conversationId] = S.msgs[m.conversationId] || []);
      if (list.length && list[list.length - 1].seq >= m.seq) continue;
      list.push(m);
      (added[m.conversationId] = added[m.conversationId] || []).push(m);
      if (m.sender !== "bot" && !m.sender.startsWith("customRobot:") && !S.users[m.sender]) unknown = true;
    }
    S.seq = Math.max(S.seq, d.seq);
    const first = S.first;
    S.first = false;
    if (unknown) loadUsers().then(() => (S.open ? renderChat() : renderConvs()));
    if (first) { route(); return; }
    if (S.open && !S.convs[S.open]) { location.hash = ""; return; }
    if (S.open && added[S.open]) appendToChat(S.open, added[S.open]);
    const fresh = new Set((added[S.open] || []).map((m) => m.outTrackId).filter(Boolean));
    for (const otid of changed) if (!fresh.has(otid)) rerenderCard(otid);
    if (!S.open) renderConvs();
  }

  /* ---------- composer ---------- */
  function atOn() { return $("at").getAttribute("aria-pressed") === "true"; }
  function where(body) {
    const c = S.convs[S.open];
    if (c.kind === "group") { body.conversationId = c.conversationId; body.atBot = atOn(); } else body.private = true;
    return body;
  }
  async function send(e) {
    e.preventDefault();
    const box = $("text");
    const text = box.value.trim();
    if (!text || !S.open) return;
    $("send").disabled = true;
    box.value = "";
    grow();
    const res = await api("POST", "/_ws/say", where({ staffId: S.me, text }));
    $("send").disabled = false;
    if (res.error && !res.msgId) { box.value = text; toast(res.error, "bad"); } else if (res.error) toast("机器人没有收到：" + res.error, "bad");
    box.focus();
    poll();
  }
  function grow() { const box = $("text"); box.style.height = "auto"; box.style.height = Math.min(110, box.scrollHeight + 2) + "px"; }
  function sendFile() {
    const input = $("file");
    const file = input.files && input.files[0];
    input.value = "";
    if (!file || !S.open) return;
    const c = S.convs[S.open];
    const picture = /^image\//.test(file.type);
    if (!picture && c.kind === "group") { toast("群聊中只能发图片给机器人；文件请在与机器人的单聊中发送。", "bad"); return; }
    if (file.size > MAX_UPLOAD) { toast("文件太大（不超过 10 MB）", "bad"); return; }
    const reader = new FileReader();
    reader.onload = async () => {
      const data = String(reader.result).split(",", 2)[1] || "";
      const res = await api("POST", "/_ws/send_media", where({
        staffId: S.me, msgtype: picture ? "picture" : "file", data_base64: data, fileName: file.name,
        contentType: file.type || "application/octet-stream",
      }));
      if (res.error) toast(res.error, "bad");
      poll();
    };
    reader.readAsDataURL(file);
  }

  /* ---------- identity ---------- */
  async function loadUsers() {
    const res = await api("GET", "/_ws/users");
    if (!res.error) { S.users = {}; for (const u of res.users) S.users[u.staffId] = u; }
    return S.users;
  }
  function renderPeople() {
    const q = $("picker-search").value.trim().toLowerCase();
    const people = Object.values(S.users).filter((u) => !q || [u.name, u.title, u.staffId].join(" ").toLowerCase().includes(q));
    $("people-empty").hidden = Object.keys(S.users).length > 0;
    $("people").replaceChildren(...people.map((u) => h("li", {}, h("button", {
      type: "button", class: "person" + (u.staffId === S.me ? " current" : ""), "data-staff": u.staffId,
      onclick: () => choose(u.staffId),
    }, avatar(u.name, u.staffId), h("span", {}, h("b", {}, u.name), h("small", {}, u.title || u.staffId))))));
  }
  async function openPicker() {
    $("picker").hidden = false;
    renderPeople();
    await loadUsers();
    renderPeople();
    $("picker-search").focus();
  }
  function choose(staffId, keepHash) {
    const u = S.users[staffId];
    if (!u) return;
    S.me = staffId;
    try { localStorage.setItem("chayici.me", staffId); } catch (e) { /* private mode */ }
    Object.assign(S, { convs: {}, msgs: {}, cards: {}, seq: 0, open: null, drafts: {}, expanded: {}, toasts: {}, first: true });
    S.gen += 1;
    $("me-avatar").replaceWith(Object.assign(avatar(u.name, u.staffId), { id: "me-avatar" }));
    $("me-name").textContent = u.name;
    $("me-title").textContent = u.title || u.staffId;
    document.title = u.name + " · 查一次工作台";
    $("picker").hidden = true;
    $("toast").hidden = true; // a toast belongs to the person who acted
    $("convs").replaceChildren();
    if (location.hash && !keepHash) history.replaceState(null, "", location.pathname + location.search);
    route();
    schedule(0);
  }

  /* ---------- integrator panel ---------- */
  function devEntry(kind, x) {
    const ok = kind === "callbacks" ? x.status === 200 : x.status < 400;
    const what = kind === "callbacks"
      ? x.kind + " → " + String(x.url || "").replace(/^[a-z]+:\/\/[^/]+/i, "") + " " + (x.status ?? x.error ?? "")
      : x.method + " " + x.path + " " + x.status + (x.fault ? " （注入故障 " + x.fault + "）" : "");
    return h("li", {}, h("details", {}, h("summary", {}, h("span", { class: ok ? "ok" : "ko" }, ok ? "●" : "✕"),
      " #" + x.seq + " " + (x.time ? hms(x.time) : "") + " " + what), h("pre", {}, JSON.stringify(x, null, 2))));
  }
  function renderDev() {
    const items = S.dev.items[S.dev.tab];
    $("dev-list").replaceChildren(...(items.length ? items.slice().reverse().map((x) => devEntry(S.dev.tab, x))
      : [h("li", { class: "muted" }, "暂无记录")]));
  }
  async function pollDev() {
    if (!S.dev.open || S.dev.running) return;
    S.dev.running = true;
    let fresh = false;
    for (const kind of ["callbacks", "calls"]) {
      const res = await api("GET", "/_ws/" + kind + "?since=" + S.dev.since[kind]);
      const got = res[kind] || [];
      if (got.length) {
        fresh = true;
        S.dev.since[kind] = got[got.length - 1].seq;
        S.dev.items[kind] = S.dev.items[kind].concat(got).slice(-DEV_KEEP);
      }
    }
    if (fresh || !$("dev-list").children.length) renderDev();
    S.dev.running = false;
    setTimeout(pollDev, DEV_POLL_MS);
  }
  function toggleDev() {
    S.dev.open = !S.dev.open;
    $("dev").classList.toggle("open", S.dev.open);
    $("dev-body").hidden = !S.dev.open;
    $("dev-toggle").setAttribute("aria-expanded", String(S.dev.open));
    $("dev-toggle").textContent = S.dev.open ? "收起开发者面板" : "开发者面板";
    if (S.dev.open) pollDev();
  }

  /* ---------- start ---------- */
  function wire() {
    $("me").addEventListener("click", openPicker);
    $("switch").addEventListener("click", openPicker);
    $("picker-close").addEventListener("click", () => { if (S.me) $("picker").hidden = true; });
    $("picker-search").addEventListener("input", renderPeople);
    $("back").addEventListener("click", () => { location.hash = ""; });
    window.addEventListener("hashchange", route);
    $("composer").addEventListener("submit", send);
    $("text").addEventListener("input", grow);
    $("text").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); $("composer").requestSubmit(); }
    });
    $("at").addEventListener("click", () => {
      const on = !atOn();
      $("at").setAttribute("aria-pressed", String(on));
      $("at").classList.toggle("on", on);
      $("text").placeholder = on ? "发消息…" : "发消息（未@机器人，机器人收不到）";
    });
    $("file").addEventListener("change", sendFile);
    $("lightbox").addEventListener("click", () => { $("lightbox").hidden = true; });
    $("dev-toggle").addEventListener("click", toggleDev);
    $("dev-open").addEventListener("click", toggleDev);
    document.querySelectorAll(".dev-tabs button").forEach((b) => b.addEventListener("click", () => {
      S.dev.tab = b.dataset.tab;
      document.querySelectorAll(".dev-tabs button").forEach((x) => x.classList.toggle("on", x === b));
      renderDev();
    }));
  }

  async function start() {
    wire();
    const [specs] = await Promise.all([api("GET", "/_ws/specs"), loadUsers()]);
    if (!specs.error) S.specs = specs.specs;
    const asked = new URLSearchParams(location.search).get("as");
    let saved = null;
    try { saved = localStorage.getItem("chayici.me"); } catch (e) { saved = null; }
    const who = [asked, saved].find((id) => id && S.users[id]);
    if (who) choose(who, true); else openPicker();
    document.body.dataset.ready = "true"; // for tests and scripts driving the page
  }
  start();
})();
