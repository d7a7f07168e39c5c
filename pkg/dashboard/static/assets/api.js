// The REST API client. The token lives in sessionStorage (gone when the
// tab closes) and only ever travels in the Authorization header.

import { t } from "./i18n.js";

const KEY = "wagate.session";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Session is who the dashboard acts as. */
export function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || "null");
    return s && s.token ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s) { sessionStorage.setItem(KEY, JSON.stringify(s)); }
export function dropSession() { sessionStorage.removeItem(KEY); }

export class Api {
  constructor(session, onUnauthorized) {
    this.session = session;
    this.onUnauthorized = onUnauthorized;
  }

  get admin() { return !this.session.channelId; }

  // blob fetches a media file with the bearer token (an <img src> cannot
  // carry it); 202 means the worker is still fetching it from WhatsApp.
  async blob(path) {
    let resp;
    try {
      resp = await fetch(path, { headers: { Authorization: "Bearer " + this.session.token }, cache: "no-store" });
    } catch {
      throw new ApiError(0, "network_error", t("error.network"));
    }
    if (resp.status === 202) throw new ApiError(202, "media_pending", t("error.media_pending"));
    if (!resp.ok) throw new ApiError(resp.status, "http_" + resp.status, t("error.file", { status: String(resp.status) }));
    return resp.blob();
  }

  async request(method, path, body, { quiet401 = false } = {}) {
    const headers = { Authorization: "Bearer " + this.session.token, Accept: "application/json" };
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(path, init);
    } catch {
      throw new ApiError(0, "network_error", t("error.network"));
    }
    const text = await resp.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
    if (!resp.ok) {
      const e = data && data.error ? data.error : {};
      const err = new ApiError(resp.status, e.code || "http_" + resp.status, e.message || t("error.request", { method, path, status: String(resp.status) }), e.details);
      if (resp.status === 401 && !quiet401 && this.onUnauthorized) this.onUnauthorized(err);
      throw err;
    }
    return data;
  }

  get(path, opts) { return this.request("GET", path, undefined, opts); }
  post(path, body, opts) { return this.request("POST", path, body === undefined ? {} : body, opts); }
  del(path) { return this.request("DELETE", path); }

  /** channels lists every channel the session reaches. */
  async channels() {
    if (!this.admin) return [await this.get(`/v1/channels/${enc(this.session.channelId)}`)];
    const out = [];
    let after = "";
    for (;;) {
      const page = await this.get(`/v1/channels?limit=500${after ? "&after=" + enc(after) : ""}`);
      out.push(...page.data);
      if (!page.next_after) return out;
      after = page.next_after;
    }
  }
}

export const enc = encodeURIComponent;
