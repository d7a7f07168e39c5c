// Small DOM helpers shared by the views. Everything is built with
// createElement and textContent: no HTML strings, so event data can never
// inject markup. Labels come from the catalog (i18n.js); dates in the
// page's language.

import { fmtPercent, lang, t } from "./i18n.js";

/**
 * h builds an element: h("button", {class: "btn", onclick: fn}, "Text", child).
 * Attributes starting with "on" become listeners; false/null/undefined
 * attributes and children are skipped; "dataset" and "style" take objects.
 */
export function h(tag, attrs, ...children) {
  const el = tag.includes(":")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.split(":")[1])
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v);
    } else if (k === "dataset") {
      Object.assign(el.dataset, v);
    } else if (k === "style") {
      for (const [prop, val] of Object.entries(v)) el.style.setProperty(prop, val);
    } else if (k === "class" && !(el instanceof SVGElement)) {
      el.className = v;
    } else if (v === true) {
      el.setAttribute(k, "");
    } else {
      el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** clear empties an element and appends children. */
export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

// States, in the order of the machine, with their labels.
export const STATES = {
  inactive: t("state.inactive"),
  initializing: t("state.initializing"),
  qr_pending: t("state.qr_pending"),
  authenticating: t("state.authenticating"),
  connecting: t("state.connecting"),
  active: t("state.active"),
  disconnected: t("state.disconnected"),
  logged_out: t("state.logged_out"),
  banned: t("state.banned"),
  error: t("state.error"),
};

const REASONS = {
  start_requested: t("reason.start_requested"),
  stop_requested: t("reason.stop_requested"),
  restart_requested: t("reason.restart_requested"),
  logout_requested: t("reason.logout_requested"),
  resumed_by_worker: t("reason.resumed_by_worker"),
  qr_issued: t("reason.qr_issued"),
  pairing_code_issued: t("reason.pairing_code_issued"),
  paired: t("reason.paired"),
  connected: t("reason.connected"),
  qr_attempts_exhausted: t("reason.qr_attempts_exhausted"),
  pair_failed: t("reason.pair_failed"),
  connection_closed: t("reason.connection_closed"),
  logged_out_from_phone: t("reason.logged_out_from_phone"),
  stream_replaced: t("reason.stream_replaced"),
  temporary_ban: t("reason.temporary_ban"),
  client_outdated: t("reason.client_outdated"),
  whatsapp_unreachable: t("reason.whatsapp_unreachable"),
  reconnecting: t("reason.reconnecting"),
  reconnect_attempts_exhausted: t("reason.reconnect_attempts_exhausted"),
  driver_unavailable: t("reason.driver_unavailable"),
  device_missing: t("reason.device_missing"),
  proxy_unreachable: t("reason.proxy_unreachable"),
  proxy_unreadable: t("reason.proxy_unreadable"),
};

// An unknown state or reason (a newer server) shows as its code.
export function stateLabel(s) { return STATES[s] || s || t("state.unknown"); }
export function reasonLabel(r) { return REASONS[r] || (r || "").replaceAll("_", " "); }

// Why a sent message failed, by its stable code (message.failed and the
// message log, pkg/session FailureCode). A message that failed before the
// log kept codes has only the driver's error text, whose sentinel is
// recognised; any other text shows as it came.
const FAILURES = {
  not_on_whatsapp: t("failure.not_on_whatsapp"),
  rejected_by_server: t("failure.rejected_by_server"),
  invalid_media: t("failure.invalid_media"),
  invalid_request: t("failure.invalid_request"),
  unsupported: t("failure.unsupported"),
  send_retries_exhausted: t("failure.send_retries_exhausted"),
  undeliverable: t("failure.undeliverable"),
};
const FAILURE_SENTINELS = [
  ["session: recipient is not on WhatsApp", "not_on_whatsapp"],
  ["session: invalid media", "invalid_media"],
  ["session: unsupported by this driver", "unsupported"],
  ["session: invalid request", "invalid_request"],
];
export function failureText(code, reason) {
  if (FAILURES[code]) return FAILURES[code];
  const known = FAILURE_SENTINELS.find(([s]) => (reason || "").includes(s));
  return known ? FAILURES[known[1]] : reason || "";
}

// Why a webhook endpoint is disabled, in the dispatcher's and the API's
// fixed sentences (pkg/webhook); another shows as it came.
export function disabledReason(r) {
  let m;
  if (r === "receiver answered 410 Gone") return t("hook_reason.gone");
  if (r === "disabled through the API") return t("hook_reason.api");
  if (r === "created disabled") return t("hook_reason.created");
  if ((m = /^failing without a success since (\S+) \(longer than [^)]+\)$/.exec(r || ""))) return t("hook_reason.failing", { since: fmtDateTime(m[1]) });
  return r || "";
}

// Health bands as the API names them.
const BANDS = { good: t("health.band_good"), fair: t("health.band_fair"), poor: t("health.band_poor") };
export function bandLabel(b) { return BANDS[b] || b || ""; }

// The API explains a health score in English sentences of a few fixed
// shapes (pkg/messaging ComputeHealth); they are shown in the page's
// language, and a sentence of an unknown shape as it came.
const UNITS = { h: "hour", min: "minute", s: "second" };
function span(n, unit) {
  return new Intl.NumberFormat(lang, { style: "unit", unit: UNITS[unit], unitDisplay: "long" }).format(Number(n));
}
export function healthReason(s) {
  let m;
  if (s === "never connected yet") return t("health.r_never_connected");
  if (s.startsWith("temporarily banned in the last 7 days")) return t("health.r_banned");
  if ((m = /^active (\d+)% of the last (\d+) (h|min|s)$/.exec(s))) return t("health.r_uptime", { percent: fmtPercent(m[1] / 100), window: span(m[2], m[3]) });
  if ((m = /^(\d+) disconnects in the last (\d+) (h|min|s)$/.exec(s))) return t("health.r_disconnects", { count: Number(m[1]), window: span(m[2], m[3]) });
  if ((m = /^(\d+)% of today's sends failed$/.exec(s))) return t("health.r_failed", { percent: fmtPercent(m[1] / 100) });
  return s;
}

// Errors the page explains itself, by the API's stable codes; any other
// shows the server's message.
const ERRORS = {
  network_error: t("error.network"),
  unauthorized: t("error.unauthorized"),
  forbidden: t("error.forbidden"),
  not_found: t("error.not_found"),
  channel_not_found: t("error.channel_not_found"),
  too_many_auth_failures: t("error.too_many_auth_failures"),
  rate_limited: t("error.rate_limited"),
  internal_error: t("error.internal"),
  store_unavailable: t("error.unavailable"),
  cache_unavailable: t("error.unavailable"),
  bus_unavailable: t("error.unavailable"),
  redis_unavailable: t("error.unavailable"),
  channel_not_active: t("error.channel_not_active"),
  already_paired: t("error.already_paired"),
  queue_full: t("error.queue_full"),
  media_pending: t("error.media_pending"),
  media_not_found: t("error.media_not_found"),
  url_not_allowed: t("error.url_not_allowed"),
  url_unresolvable: t("error.url_unresolvable"),
  invalid_proxy: t("error.invalid_proxy"),
  invalid_grace_period: t("error.invalid_grace_period"),
  webhook_limit_reached: t("error.webhook_limit_reached"),
  webhook_disabled: t("error.webhook_disabled"),
  webhook_not_found: t("error.webhook_not_found"),
  delivery_not_found: t("error.delivery_not_found"),
  invalid_body: t("error.invalid_body"),
  invalid_json: t("error.invalid_body"),
  body_too_large: t("error.body_too_large"),
  idempotency_key_reused: t("error.idempotency_key_reused"),
  invalid_recipient: t("field.to"),
};

// What the dashboard's forms may get wrong, by the field the API names
// (error.details.field): one sentence each, in place of the server's
// English. The limits are the API's (pkg/api, pkg/webhook, pkg/messaging).
const FIELDS = {
  name: () => t("field.name", { max: 100 }),
  url: () => t("field.url"),
  description: () => t("field.description", { max: 500 }),
  events: () => t("field.events"),
  max_in_flight: () => t("field.max_in_flight", { max: 64 }),
  grace_period: () => t("field.grace_period"),
  phone: () => t("field.phone"),
  phones: () => t("field.phones", { max: 500 }),
  to: () => t("field.to"),
  text: () => t("field.text"),
  "settings.send_rate": () => t("field.send_rate"),
  "settings.warmup_days": () => t("field.whole_number", { min: 0, max: 365 }),
  "settings.max_queue": () => t("field.whole_number", { min: 1, max: 100000 }),
  "settings.typing_ms": () => t("field.whole_number", { min: 0, max: 30000 }),
  "settings.history_days": () => t("field.whole_number", { min: 0, max: 3650 }),
  "settings.reject_calls_reply": () => t("field.reject_calls_reply"),
  "settings.media.auto_download.max_bytes": () => t("field.media_max"),
  "settings.proxy": () => t("error.invalid_proxy"),
};

function fieldText(e) {
  const f = e.details && typeof e.details === "object" ? e.details.field || "" : "";
  let m;
  if (f === "headers" && e.details.header) return t("field.header", { header: e.details.header });
  if (f === "headers") return t("field.headers");
  if ((m = /^phones\[(\d+)\]$/.exec(f))) return t("field.phones_entry", { line: Number(m[1]) + 1 });
  if (FIELDS[f]) return FIELDS[f]();
  return f ? t("error.invalid_field", { field: f }) : t("error.invalid_input");
}

/**
 * errorText is what to tell the user about an API error: the page's
 * sentence for a code or a field it knows, else (a newer server's code)
 * the server's message.
 */
export function errorText(e) {
  if (!e) return t("error.unexpected");
  if (ERRORS[e.code]) return ERRORS[e.code];
  if (e.code === "validation_failed" || e.code === "invalid_field_type") return fieldText(e);
  if (/^http_\d+$/.test(e.code || "")) return t("error.http", { status: String(e.status) });
  return e.message || t("error.unexpected");
}

/** badge is the colour-coded state pill; colour is never the only cue. */
export function badge(state) {
  return h("span", { class: `badge st-${state}`, "data-state": state }, stateLabel(state));
}

export function setBadge(el, state) {
  if (el.dataset.state === state) return;
  el.className = `badge st-${state}`;
  el.dataset.state = state;
  el.textContent = stateLabel(state);
  el.classList.remove("changed");
  void el.offsetWidth; // restart the animation
  el.classList.add("changed");
}

const timeFmt = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dateTimeFmt = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "medium" });
const rel = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });

export function fmtTime(t) { return t ? timeFmt.format(new Date(t)) : ""; }
export function fmtDateTime(t) { return t ? dateTimeFmt.format(new Date(t)) : ""; }
export function fmtAgo(t) {
  if (!t) return "";
  const s = Math.round((new Date(t).getTime() - Date.now()) / 1000);
  const a = Math.abs(s);
  if (a < 60) return rel.format(s, "second");
  if (a < 3600) return rel.format(Math.round(s / 60), "minute");
  if (a < 86400) return rel.format(Math.round(s / 3600), "hour");
  return rel.format(Math.round(s / 86400), "day");
}
export function fmtPhone(p) {
  if (!p) return "";
  return p.startsWith("+") ? p : "+" + p;
}
export function timeEl(t, text) {
  return h("time", { datetime: t, title: fmtDateTime(t) }, text ?? fmtTime(t));
}

// Toasts: short-lived notices in an aria-live region.
export function toast(message, kind = "info", ms = 5000) {
  const el = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, message);
  $("#toasts").append(el);
  setTimeout(() => el.remove(), ms);
}

// Dialogs: native <dialog> traps focus and closes on Escape; this returns
// focus to the element that opened it.
export function openDialog(dlg, focusEl) {
  const opener = document.activeElement;
  dlg.addEventListener("close", () => {
    // The opener may have gone (a re-rendered row) or sit in a dialog that
    // closed meanwhile: then the page itself takes the focus.
    if (opener && document.contains(opener) && !opener.closest("dialog:not([open])")) opener.focus();
    else if (!document.querySelector("dialog[open]")) document.getElementById("main").focus();
  }, { once: true });
  if (!dlg.open) dlg.showModal();
  if (focusEl) focusEl.focus();
}

// Every [data-close] button closes its dialog.
export function wireDialogs() {
  for (const dlg of $$("dialog")) {
    dlg.addEventListener("click", (e) => {
      if (e.target.closest("[data-close]")) dlg.close("cancel");
      // A click on the backdrop (the dialog element itself) closes it.
      else if (e.target === dlg) dlg.close("cancel");
    });
  }
}

/** confirm asks in the confirm dialog; resolves true on OK. */
export function confirmAction(title, text, okLabel = t("action.confirm")) {
  const dlg = $("#confirm-dialog");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = okLabel;
  return new Promise((resolve) => {
    dlg.returnValue = "";
    dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok"), { once: true });
    openDialog(dlg);
  });
}

/** busy marks a button as working while fn runs. */
export async function busy(btn, fn) {
  if (!btn) return fn();
  btn.setAttribute("aria-busy", "true");
  btn.disabled = true;
  try {
    return await fn();
  } finally {
    btn.removeAttribute("aria-busy");
    btn.disabled = false;
  }
}

/**
 * menu builds an accessible action menu: a button that opens a list of
 * menuitems, with arrow keys, Home/End, Escape and outside clicks.
 */
export function menu(label, items) {
  const id = "m" + Math.random().toString(36).slice(2, 9);
  const btn = h("button", { type: "button", class: "btn btn-small", "aria-haspopup": "menu", "aria-expanded": "false", "aria-controls": id, "aria-label": label }, "⋯");
  const list = h("ul", { class: "menu", role: "menu", id, hidden: true });
  const wrap = h("div", { class: "menu-wrap" }, btn, list);
  const entries = items.filter(Boolean).map((it) => {
    const b = h("button", { type: "button", role: "menuitem", tabindex: "-1", class: it.danger ? "danger" : "" }, it.label);
    b.addEventListener("click", () => { close(true); it.onclick(); });
    list.append(h("li", { role: "none" }, b));
    return b;
  });
  const onOutside = (e) => { if (!wrap.contains(e.target)) close(false); };
  // The list is placed against the viewport (position: fixed), so no
  // scrolling or clipping ancestor (a table's wrapper) cuts it; it opens
  // upwards when there is no room below, and follows its button when the
  // page scrolls.
  const onMove = () => place();
  function place() {
    const r = btn.getBoundingClientRect();
    list.style.right = `${Math.max(4, document.documentElement.clientWidth - r.right)}px`;
    const below = window.innerHeight - r.bottom;
    const height = list.offsetHeight;
    list.style.top = `${below < height + 8 && r.top > below ? Math.max(4, r.top - height - 4) : r.bottom + 4}px`;
  }
  function open() {
    list.hidden = false;
    place();
    btn.setAttribute("aria-expanded", "true");
    entries[0]?.focus({ preventScroll: true });
    document.addEventListener("pointerdown", onOutside);
    window.addEventListener("scroll", onMove, true);
    window.addEventListener("resize", onMove);
  }
  function close(focusButton) {
    list.hidden = true;
    btn.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", onOutside);
    window.removeEventListener("scroll", onMove, true);
    window.removeEventListener("resize", onMove);
    if (focusButton) btn.focus();
  }
  btn.addEventListener("click", () => (list.hidden ? open() : close(false)));
  btn.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") { e.preventDefault(); open(); }
  });
  list.addEventListener("keydown", (e) => {
    const i = entries.indexOf(document.activeElement);
    if (e.key === "ArrowDown") { e.preventDefault(); entries[(i + 1) % entries.length].focus(); }
    else if (e.key === "ArrowUp") { e.preventDefault(); entries[(i - 1 + entries.length) % entries.length].focus(); }
    else if (e.key === "Home") { e.preventDefault(); entries[0].focus(); }
    else if (e.key === "End") { e.preventDefault(); entries[entries.length - 1].focus(); }
    else if (e.key === "Escape") { e.preventDefault(); close(true); }
    else if (e.key === "Tab") { close(false); }
  });
  return wrap;
}

/** debounce calls fn once after ms of quiet, per key. */
export function debouncer(ms) {
  const timers = new Map();
  return (key, fn) => {
    clearTimeout(timers.get(key));
    timers.set(key, setTimeout(() => { timers.delete(key); fn(); }, ms));
  };
}

// A channel that has never run has nothing to score yet.
export function neverStarted(ch) {
  return ch.state === "inactive" && !ch.state_reason && !ch.paired_at;
}
