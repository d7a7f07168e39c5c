// Small DOM helpers shared by the views. Everything is built with
// createElement and textContent: no HTML strings, so event data can never
// inject markup.

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
  inactive: "Inactive",
  initializing: "Starting",
  qr_pending: "Waiting for scan",
  authenticating: "Authenticating",
  connecting: "Connecting",
  active: "Active",
  disconnected: "Disconnected",
  logged_out: "Logged out",
  banned: "Banned",
  error: "Error",
};

const REASONS = {
  start_requested: "start requested",
  stop_requested: "stopped",
  restart_requested: "restart requested",
  logout_requested: "logged out",
  resumed_by_worker: "resumed",
  qr_issued: "QR code issued",
  pairing_code_issued: "pairing code issued",
  paired: "paired",
  connected: "connected",
  qr_attempts_exhausted: "QR code not scanned in time",
  pair_failed: "pairing failed",
  connection_closed: "connection closed",
  logged_out_from_phone: "unlinked from the phone",
  stream_replaced: "replaced by another connection",
  temporary_ban: "temporarily banned",
  client_outdated: "client outdated",
  whatsapp_unreachable: "WhatsApp unreachable",
  reconnecting: "reconnecting",
  reconnect_attempts_exhausted: "reconnect attempts exhausted",
  driver_unavailable: "driver unavailable",
  device_missing: "device missing",
};

export function stateLabel(s) { return STATES[s] || s || "unknown"; }
export function reasonLabel(r) { return REASONS[r] || (r || "").replaceAll("_", " "); }

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

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const rel = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

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
export function confirmAction(title, text, okLabel = "Confirm") {
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
