// Translations. Every string the dashboard shows comes from a catalog,
// /assets/locales/<lang>.json: a flat object of key → text, where a text
// may hold {name} parameters and **bold** spans, and a plural text is an
// object of Intl.PluralRules categories ({"one": …, "other": …}) chosen by
// the count parameter.
//
// The language is the one picked in the page (kept in localStorage), else
// the one the server negotiated from Accept-Language and wrote into
// <html lang>, else English. This module loads its catalog with a
// top-level await, so every module that imports it can call t() as soon
// as it runs. Dates and numbers are formatted with Intl in the same locale.

// LANGUAGES are the catalogs, each named in its own language.
export const LANGUAGES = [
  ["en", "English"],
  ["pt-BR", "Português (Brasil)"],
  ["es", "Español"],
  ["id", "Bahasa Indonesia"],
];

const KEY = "wagate.lang";
const known = (l) => LANGUAGES.some(([code]) => code === l);

function stored() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: the negotiated language then
  }
}

/** lang is the language of the page. */
export const lang = [stored(), document.documentElement.lang].find(known) || "en";
document.documentElement.lang = lang;

async function load(code) {
  const resp = await fetch(`/assets/locales/${code}.json`);
  if (!resp.ok) throw new Error(`catalog ${code}: HTTP ${resp.status}`);
  return resp.json();
}

// The English catalog backs up a string missing from another (the tests
// keep the catalogs complete; a newer page against an older server may not).
const [catalog, fallback] = await Promise.all([
  load(lang),
  lang === "en" ? Promise.resolve({}) : load("en").catch(() => ({})),
]);

const plurals = new Intl.PluralRules(lang);
const numbers = new Intl.NumberFormat(lang);
const percents = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });

/** setLang remembers a language and reloads the page in it. */
export function setLang(code) {
  if (!known(code) || code === lang) return;
  try { localStorage.setItem(KEY, code); } catch { /* not remembered */ }
  location.reload();
}

/** fmtNum formats a number in the page's locale (1234 → "1.234" in pt-BR). */
export function fmtNum(n) { return numbers.format(n); }

/** fmtPercent formats a share (0.125 → "12,5 %" in es). */
export function fmtPercent(x) { return percents.format(x); }

/**
 * t returns the text of key with {name} parameters filled in; numbers are
 * formatted in the page's locale, and params.count picks the plural form.
 */
export function t(key, params) {
  let v = catalog[key] ?? fallback[key];
  if (v === undefined) {
    console.warn(`i18n: no text for ${key}`);
    return key;
  }
  if (typeof v === "object") v = v[plurals.select(params?.count ?? 0)] ?? v.other;
  v = v.replaceAll("**", "");
  return params ? fill(v, params) : v;
}

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (m, k) => {
    if (!(k in params)) return m;
    const p = params[k];
    return typeof p === "number" ? numbers.format(p) : String(p);
  });
}

/**
 * tNodes is t for text with **bold** spans: text nodes and <strong>
 * elements, never parsed HTML.
 */
export function tNodes(key, params) {
  let v = catalog[key] ?? fallback[key] ?? key;
  if (typeof v === "object") v = v[plurals.select(params?.count ?? 0)] ?? v.other;
  return v.split("**").map((part, i) => {
    const text = params ? fill(part, params) : part;
    if (i % 2 === 0) return document.createTextNode(text);
    const b = document.createElement("strong");
    b.textContent = text;
    return b;
  });
}

// Attributes translated by data-i18n-<attribute>.
const ATTRS = ["title", "aria-label", "placeholder", "alt"];

/**
 * translate fills the static markup under root: the key in data-i18n
 * gives the content, the one in data-i18n-title / -aria-label /
 * -placeholder / -alt the attribute.
 */
export function translate(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.replaceChildren(...tNodes(el.dataset.i18n));
  for (const a of ATTRS) {
    for (const el of root.querySelectorAll(`[data-i18n-${a}]`)) el.setAttribute(a, t(el.getAttribute(`data-i18n-${a}`)));
  }
}

/** picker is the language select: it switches and remembers the language. */
export function picker(sel) {
  sel.replaceChildren(...LANGUAGES.map(([code, name]) => {
    const o = document.createElement("option");
    o.value = code;
    o.lang = code;
    o.textContent = name;
    o.selected = code === lang;
    return o;
  }));
  sel.addEventListener("change", () => setLang(sel.value));
}
