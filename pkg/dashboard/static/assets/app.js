// wagate dashboard: sign-in, the channel list with live badges and bulk
// actions, and the router to the channel page. State comes from the REST
// API once and then from the relay's event stream.

import { Api, ApiError, dropSession, enc, loadSession, saveSession } from "./api.js";
import { fmtNum, picker, t, translate } from "./i18n.js";
import { LiveStream } from "./stream.js";
import { LinkDialog } from "./link.js";
import { ChannelPage } from "./channel.js";
import { MonitorView } from "./monitor.js";
import {
  $, $$, badge, bandLabel, busy, clear, confirmAction, debouncer, errorText, fmtAgo, fmtPhone, h, healthReason, menu,
  openDialog, neverStarted, reasonLabel, setBadge, STATES, toast, wireDialogs,
} from "./ui.js";

// How often the admin's list is read again (channels created elsewhere).
const LIST_POLL_MS = 5000;

// States in which a session runs (desired running).
const RUNNING = new Set(["initializing", "qr_pending", "authenticating", "connecting", "active", "disconnected"]);

class App {
  constructor() {
    this.api = null;
    this.features = {};
    this.channels = new Map();
    this.health = new Map();
    this.stream = null;
    this.live = "connecting";
    this.view = null;
    this.selected = new Set();
    // Channels deleted from this tab: their last events are no news.
    this.deleted = new Set();
    // The newest state event of each channel not on the list yet (created
    // elsewhere): a list read under way may be older than it.
    this.unseen = new Map();
    this.debounce = debouncer(600);
    this.link = new LinkDialog(this);
    wireDialogs();
    $("#signout").addEventListener("click", () => this.signOut());
    window.addEventListener("hashchange", () => this.route());
    this.wireCreate();
  }

  async boot() {
    const s = loadSession();
    if (!s) return this.showSignIn();
    await this.signIn(s, false);
  }

  // ---- session -----------------------------------------------------------

  showSignIn(message) {
    this.teardown();
    $("#session").hidden = true;
    const tokenIn = h("input", { id: "signin-token", type: "password", autocomplete: "off", spellcheck: "false", required: true, "aria-describedby": "signin-help" });
    const chanIn = h("input", { id: "signin-channel", autocomplete: "off", spellcheck: "false", placeholder: "ch_…" });
    const more = h("details", {},
      h("summary", {}, t("signin.channel_token")),
      h("label", { for: "signin-channel" }, t("signin.channel_id")),
      chanIn,
      h("p", { class: "muted small" }, t("signin.channel_token_help")));
    const err = h("p", { class: "form-error", id: "signin-error", role: "alert", hidden: !message }, message || "");
    const submit = h("button", { type: "submit", class: "btn btn-primary", id: "signin-submit" }, t("signin.submit"));
    const form = h("form", { class: "panel signin", "aria-labelledby": "signin-title" },
      h("h1", { id: "signin-title" }, t("signin.title")),
      h("p", { class: "muted", id: "signin-help" }, t("signin.help")),
      h("label", { for: "signin-token" }, t("signin.token")),
      tokenIn, more, err, submit);
    tokenIn.addEventListener("input", () => {
      if (tokenIn.value.trim().startsWith("wgc_")) more.open = true;
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      err.hidden = true;
      const token = tokenIn.value.trim();
      const channelId = chanIn.value.trim();
      if (token.startsWith("wgc_") && !channelId) {
        more.open = true;
        err.textContent = t("signin.need_channel");
        err.hidden = false;
        chanIn.focus();
        return;
      }
      await busy(submit, () => this.signIn({ token, channelId }, true, err));
    });
    clear($("#main"), form);
    document.title = t("signin.page_title");
    tokenIn.focus();
  }

  async signIn(session, interactive, errEl) {
    const api = new Api(session, () => this.signOut(t("signin.token_rejected")));
    try {
      if (session.channelId) await api.get(`/v1/channels/${enc(session.channelId)}`, { quiet401: true });
      else await api.get("/v1/channels?limit=1", { quiet401: true });
    } catch (e) {
      if (!interactive) return this.showSignIn(e.status === 401 ? t("signin.expired") : errorText(e));
      errEl.textContent = e.status === 401
        ? (session.channelId ? t("signin.wrong_channel") : t("signin.not_admin"))
        : errorText(e);
      errEl.hidden = false;
      return;
    }
    saveSession(session);
    this.api = api;
    try {
      const r = await fetch("/dashboard/features", { cache: "no-store" });
      this.features = r.ok ? await r.json() : {};
    } catch {
      this.features = {};
    }
    $("#session").hidden = false;
    $("#who").textContent = session.channelId ? t("app.who_channel", { id: session.channelId }) : t("app.who_admin");
    // The admin's live event monitor (#/events).
    $("#nav-events")?.remove();
    if (api.admin && this.features.streams) {
      $("#who").before(h("a", { class: "btn btn-ghost", id: "nav-events", href: "#/events" }, t("monitor.nav")));
    }
    $("#create-driver-field").hidden = !this.features.sim;
    this.stream = new LiveStream(api, {
      onEvent: (env, id) => this.onEvent(env, id),
      onReset: () => this.resync(),
      onState: (s) => this.setLive(s),
      onReady: () => this.catchUp(),
    });
    this.stream.start();
    await this.loadChannels();
    // A channel created elsewhere sends no event until it starts: the
    // admin's list is read again every few seconds while the tab is seen.
    clearInterval(this.poll);
    if (api.admin) {
      this.poll = setInterval(() => {
        if (document.visibilityState === "visible" && this.api === api) this.reloadList();
      }, LIST_POLL_MS);
    }
    this.route();
  }

  signOut(message) {
    dropSession();
    this.api = null;
    for (const d of $$("dialog[open]")) d.close();
    if (location.hash && location.hash !== "#/") history.replaceState(null, "", "#/");
    this.showSignIn(message);
  }

  teardown() {
    clearInterval(this.poll);
    if (this.stream) this.stream.stop();
    this.stream = null;
    if (this.view && this.view.destroy) this.view.destroy();
    this.view = null;
    this.channels.clear();
    this.unseen.clear();
    this.health.clear();
    this.selected.clear();
  }

  setLive(state) {
    this.live = state;
    const el = $("#live");
    el.dataset.state = state;
    $(".live-text", el).textContent = state === "live" ? t("live.live") : state === "reconnecting" ? t("live.reconnecting") : t("live.connecting");
  }

  // ---- data --------------------------------------------------------------

  async loadChannels() {
    try {
      const list = await this.api.channels();
      // Events that came during the read may be newer than it.
      this.channels = new Map(list.map((c) => [c.id, this.newest(c, this.channels.get(c.id))]));
      for (const id of this.selected) if (!this.channels.has(id)) this.selected.delete(id);
    } catch (e) {
      if (e.status !== 401) toast(errorText(e), "error");
    }
    this.refreshHealth();
  }

  // reloadList reads the list again and shows channels created or deleted
  // elsewhere.
  async reloadList() {
    let list;
    try {
      list = await this.api.channels();
    } catch {
      return; // the next round tries again
    }
    if (!this.api) return;
    const seen = new Set(list.map((c) => c.id));
    const fresh = list.filter((c) => !this.channels.has(c.id) && !this.deleted.has(c.id));
    const gone = [...this.channels.keys()].filter((id) => !seen.has(id));
    // Known channels keep their record: events may be newer than this read.
    for (const c of fresh) this.channels.set(c.id, this.newest(c));
    for (const id of gone) { this.channels.delete(id); this.selected.delete(id); }
    if (!fresh.length && !gone.length) return;
    if (this.view && this.view.refresh) this.view.refresh();
    for (const id of gone) if (this.view && this.view.removed) this.view.removed(id);
    this.refreshHealth(fresh.map((c) => c.id));
  }

  // newest is the record c of a list read, with the state of held or of an
  // event of the channel while it was not on the list, if either is newer.
  newest(c, held) {
    const event = this.unseen.get(c.id);
    this.unseen.delete(c.id);
    for (const o of [held, event]) {
      if (o && o.state_changed_at && (!c.state_changed_at || new Date(o.state_changed_at) > new Date(c.state_changed_at))) {
        c = { ...c, state: o.state, state_reason: o.state_reason, state_changed_at: o.state_changed_at };
        // The rest of the record (phone, jid) follows the state.
        this.debounce("ch:" + c.id, () => this.refetchChannel(c.id));
      }
    }
    return c;
  }

  // catchUp reads the list again once the stream is live: a channel that
  // changed state between the first read and the relay's subscription
  // sent its event to no one. A record newer than the one held replaces it.
  // The open view reads its own parts again too (a channel's messages).
  async catchUp() {
    let list = null;
    try {
      list = await this.api.channels();
    } catch {
      // the list poll and the stream's next events go on
    }
    if (!this.api) return;
    if (list) {
      for (const c of list) {
        const held = this.channels.get(c.id);
        if (!held || this.deleted.has(c.id)) continue;
        if (held.state_changed_at && new Date(c.state_changed_at) <= new Date(held.state_changed_at)) continue;
        this.channels.set(c.id, c);
        this.channelChanged(c.id, false);
      }
      this.reloadList();
    }
    if (this.view && this.view.catchUp) this.view.catchUp();
  }

  // A gap in the stream: reload what it would have told us.
  async resync() {
    await this.loadChannels();
    if (this.view && this.view.resync) this.view.resync();
    else this.route();
  }

  refreshHealth(ids) {
    if (!this.features.health) return;
    const list = ids || [...this.channels.keys()];
    let i = 0;
    const next = async () => {
      while (i < list.length) {
        const id = list[i++];
        if (!this.channels.has(id) || this.deleted.has(id)) continue; // deleted meanwhile
        try {
          this.health.set(id, await this.api.get(`/v1/channels/${enc(id)}/health`));
          this.channelChanged(id, false);
        } catch { /* channel gone or health unavailable */ }
      }
    };
    for (let k = 0; k < 4; k++) next();
  }

  async refetchChannel(id) {
    if (!this.channels.has(id) || this.deleted.has(id)) return; // deleted meanwhile
    try {
      const ch = await this.api.get(`/v1/channels/${enc(id)}`);
      // The whole record: fields a logout clears (phone, jid) are absent.
      this.channels.set(id, ch);
      this.channelChanged(id, false);
    } catch (e) {
      if (e.status === 404) {
        this.channels.delete(id);
        this.selected.delete(id);
        if (this.view && this.view.removed) this.view.removed(id);
      }
    }
  }

  onEvent(env) {
    if (!env || !env.channel_id) return;
    const id = env.channel_id;
    const ch = this.channels.get(id);
    if (!ch && this.deleted.has(id)) {
      // The last events of a channel deleted from here.
    } else if (!ch) {
      // A channel this tab has not seen yet (created elsewhere).
      if (env.type === "connection.status_changed") {
        const d = env.data || {};
        const at = d.at || env.created_at;
        const seen = this.unseen.get(id);
        if (!seen || new Date(at) >= new Date(seen.state_changed_at)) {
          this.unseen.set(id, { state: d.to, state_reason: d.reason || "", state_changed_at: at });
        }
      }
      this.debounce("reload", () => this.reloadList());
    } else if (env.type === "connection.status_changed") {
      const d = env.data || {};
      const at = d.at || env.created_at;
      // Keep the newest: a REST read may already have a later state.
      if (!ch.state_changed_at || new Date(at) >= new Date(ch.state_changed_at)) {
        ch.state = d.to;
        ch.state_reason = d.reason || "";
        ch.state_changed_at = at;
        this.channelChanged(id, true);
      }
      if (d.to === "active" || d.to === "logged_out" || d.to === "authenticating") this.debounce("ch:" + id, () => this.refetchChannel(id));
      this.debounce("health:" + id, () => this.refreshHealth([id]));
    } else if (env.type.startsWith("message.")) {
      this.debounce("health:" + id, () => this.refreshHealth([id]));
    }
    this.link.onEvent(env);
    if (this.view && this.view.onEvent) this.view.onEvent(env);
  }

  channelChanged(id, flash) {
    const ch = this.channels.get(id);
    if (!ch) return;
    this.link.onChannel(ch);
    if (this.view && this.view.onChannel) this.view.onChannel(ch, flash);
  }

  // ---- actions -----------------------------------------------------------

  async action(id, verb, btn) {
    const ch = this.channels.get(id);
    const name = ch ? ch.name : id;
    if (verb === "delete" || verb === "logout") {
      const ok = await confirmAction(
        verb === "delete" ? t("confirm.delete_title", { name }) : t("confirm.logout_title", { name }),
        verb === "delete" ? t("confirm.delete_text") : t("confirm.logout_text"),
        verb === "delete" ? t("confirm.delete_ok") : t("action.logout"));
      if (!ok) return;
    }
    await busy(btn, async () => {
      try {
        if (verb === "delete") {
          this.deleted.add(id);
          try {
            await this.api.del(`/v1/channels/${enc(id)}`);
          } catch (e) {
            this.deleted.delete(id);
            throw e;
          }
        } else await this.api.post(`/v1/channels/${enc(id)}/${verb}`);
        toast(queuedOne(verb, name));
        if (verb === "delete") {
          this.channels.delete(id);
          this.selected.delete(id);
          if (this.view && this.view.removed) this.view.removed(id);
        }
      } catch (e) {
        toast(errorText(e), "error");
      }
    });
  }

  async bulk(verb, btn) {
    const ids = [...this.selected];
    if (!ids.length) return;
    if (verb === "delete" || verb === "logout") {
      const ok = await confirmAction(
        verb === "delete" ? t("confirm.bulk_delete_title", { count: ids.length }) : t("confirm.bulk_logout_title", { count: ids.length }),
        verb === "delete" ? t("confirm.bulk_delete_text") : t("confirm.bulk_logout_text"),
        verb === "delete" ? t("action.delete") : t("action.logout"));
      if (!ok) return;
    }
    await busy(btn, async () => {
      try {
        const r = await this.api.post("/v1/channels/bulk", { action: verb, ids });
        const ok = r.results.filter((x) => x.status === "accepted");
        const bad = r.results.length - ok.length;
        toast(queuedMany(verb, ok.length) + (bad ? " " + t("toast.bulk_failed", { count: bad }) : ""), bad ? "error" : "info");
        if (verb === "delete") {
          for (const x of ok) { this.deleted.add(x.id); this.channels.delete(x.id); this.selected.delete(x.id); }
          if (this.view && this.view.refresh) this.view.refresh();
        }
      } catch (e) {
        toast(errorText(e), "error");
      }
    });
  }

  /** connect starts a channel and opens the link dialog on it. */
  connect(id, tab = "qr") {
    this.link.open(id, { tab, start: true });
  }

  wireCreate() {
    const dlg = $("#create-dialog");
    const form = $("#create-form");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const err = $("#create-error");
      err.hidden = true;
      const name = $("#create-name").value.trim();
      if (!name) {
        err.textContent = t("create.need_name");
        err.hidden = false;
        $("#create-name").focus();
        return;
      }
      const body = { name };
      const driver = $("#create-driver").value;
      if (this.features.sim && driver) body.driver = driver;
      await busy($("#create-submit"), async () => {
        try {
          const ch = await this.api.post("/v1/channels", body);
          const token = ch.token;
          delete ch.token;
          this.channels.set(ch.id, ch);
          dlg.close("created");
          form.reset();
          if (this.view && this.view.refresh) this.view.refresh();
          this.showToken(ch, token);
        } catch (ex) {
          err.textContent = errorText(ex);
          err.hidden = false;
        }
      });
    });
  }

  openCreate() {
    $("#create-error").hidden = true;
    openDialog($("#create-dialog"), $("#create-name"));
  }

  showToken(ch, token) {
    const dlg = $("#token-dialog");
    $("#token-value").textContent = token;
    $("#token-copy").onclick = async () => {
      try {
        await navigator.clipboard.writeText(token);
        toast(t("token.copied"));
      } catch {
        toast(t("token.copy_failed"), "error");
      }
    };
    $("#token-connect").onclick = () => {
      dlg.close();
      this.connect(ch.id);
    };
    openDialog(dlg, $("#token-connect"));
  }

  // ---- routing -----------------------------------------------------------

  route() {
    if (!this.api) return;
    if (this.view && this.view.destroy) this.view.destroy();
    const m = location.hash.match(/^#\/channels\/([^/]+)$/);
    if (location.hash === "#/events") this.view = new MonitorView(this);
    else this.view = m ? new ChannelPage(this, decodeURIComponent(m[1])) : new ListView(this);
    this.view.mount($("#main"));
  }
}

function reasonText(ch) {
  return ch.state_reason ? `${reasonLabel(ch.state_reason)} · ${fmtAgo(ch.state_changed_at)}` : "";
}

// What a toast says once an action on one channel was accepted.
function queuedOne(verb, name) {
  switch (verb) {
    case "start": return t("toast.start_queued", { name });
    case "stop": return t("toast.stop_queued", { name });
    case "restart": return t("toast.restart_queued", { name });
    case "logout": return t("toast.logout_queued", { name });
    default: return t("toast.delete_queued", { name });
  }
}

// What a toast says once a bulk action was accepted for count channels.
function queuedMany(verb, count) {
  switch (verb) {
    case "start": return t("toast.bulk_start_queued", { count });
    case "stop": return t("toast.bulk_stop_queued", { count });
    case "restart": return t("toast.bulk_restart_queued", { count });
    case "logout": return t("toast.bulk_logout_queued", { count });
    default: return t("toast.bulk_delete_queued", { count });
  }
}

// ListView is the channel list with filters, live badges and bulk actions.
class ListView {
  constructor(app) {
    this.app = app;
    this.rows = new Map();
    this.filter = "";
    this.state = "";
  }

  mount(main) {
    const app = this.app;
    const admin = app.api.admin;
    document.title = t("list.page_title");
    this.count = h("span", { class: "muted" });
    const search = h("input", { type: "search", placeholder: t("list.search_placeholder"), "aria-label": t("list.search"), id: "search" });
    search.addEventListener("input", () => { this.filter = search.value.trim().toLowerCase(); this.applyFilter(); });
    const stateSel = h("select", { "aria-label": t("list.filter_state"), id: "state-filter" },
      h("option", { value: "" }, t("list.all_states")),
      Object.entries(STATES).map(([v, l]) => h("option", { value: v }, l)));
    stateSel.addEventListener("change", () => { this.state = stateSel.value; this.applyFilter(); });
    const create = admin && h("button", { type: "button", class: "btn btn-primary", id: "new-channel", onclick: () => app.openCreate() }, t("list.new_channel"));

    this.bulkbar = h("div", { class: "bulkbar", role: "region", "aria-label": t("list.bulk_actions"), hidden: true });
    this.checkAll = h("input", { type: "checkbox", "aria-label": t("list.select_all"), id: "select-all" });
    this.checkAll.addEventListener("change", () => {
      const visible = [...this.rows.entries()].filter(([, r]) => !r.hidden).map(([id]) => id);
      for (const id of visible) {
        if (this.checkAll.checked) app.selected.add(id); else app.selected.delete(id);
      }
      this.syncSelection();
    });
    const health = app.features.health;
    this.tbody = h("tbody");
    this.table = h("table", { class: "channels", "aria-describedby": "channels-count" },
      h("caption", { class: "sr-only" }, t("list.title")),
      h("thead", {}, h("tr", {},
        admin ? h("th", { class: "col-check", scope: "col" }, this.checkAll) : null,
        h("th", { scope: "col" }, t("list.col_channel")),
        h("th", { scope: "col" }, t("list.col_state")),
        h("th", { scope: "col" }, t("list.col_phone")),
        health ? h("th", { scope: "col" }, t("list.col_health")) : null,
        health ? h("th", { scope: "col" }, t("list.col_sent_today")) : null,
        h("th", { scope: "col" }, h("span", { class: "sr-only" }, t("list.col_actions"))))),
      this.tbody);
    this.empty = h("div", { class: "empty", hidden: true },
      h("p", {}, t("list.empty")),
      create ? h("button", { type: "button", class: "btn btn-primary", onclick: () => app.openCreate() }, t("list.create_first")) : null);
    this.nomatch = h("p", { class: "empty", hidden: true }, t("list.no_match"));

    clear(main,
      h("div", { class: "page-head" },
        h("div", {}, h("h1", {}, t("list.title")), h("p", { class: "muted", id: "channels-count" }, this.count)),
        h("div", { class: "toolbar" }, search, stateSel, create)),
      this.bulkbar,
      h("div", { class: "table-wrap" }, this.table, this.empty, this.nomatch));
    this.refresh();
    this.ticker = setInterval(() => this.tickTimes(), 10000);
  }

  refresh() {
    const ids = [...this.app.channels.keys()].sort((a, b) => {
      const ca = this.app.channels.get(a);
      const cb = this.app.channels.get(b);
      return (ca.name || "").localeCompare(cb.name || "") || a.localeCompare(b);
    });
    for (const [id, row] of this.rows) {
      if (!this.app.channels.has(id)) { row.remove(); this.rows.delete(id); }
    }
    for (const id of ids) {
      let row = this.rows.get(id);
      if (!row) {
        row = this.renderRow(this.app.channels.get(id));
        this.rows.set(id, row);
      }
      this.tbody.append(row); // keeps order; moving keeps focus inside
    }
    this.applyFilter();
    this.syncSelection();
  }

  removed() { this.refresh(); }

  // Relative times ("3 minutes ago") are rewritten as time passes.
  tickTimes() {
    for (const [id, row] of this.rows) {
      const ch = this.app.channels.get(id);
      if (ch) row._cells.reason.textContent = reasonText(ch);
    }
  }

  destroy() { clearInterval(this.ticker); }

  applyFilter() {
    let shown = 0;
    for (const [id, row] of this.rows) {
      const ch = this.app.channels.get(id);
      const hay = `${ch.name} ${ch.id} ${ch.phone || ""}`.toLowerCase();
      const ok = (!this.filter || hay.includes(this.filter)) && (!this.state || ch.state === this.state);
      row.hidden = !ok;
      if (ok) shown++;
    }
    const n = this.rows.size;
    // Totals across every channel: sent today and the ones failing.
    let sent = 0;
    let failing = 0;
    for (const ch of this.app.channels.values()) {
      sent += this.app.health.get(ch.id)?.metrics?.sent_today ?? 0;
      if (ch.state === "error" || ch.state === "banned" || ch.state === "logged_out") failing++;
    }
    this.count.textContent = [
      n === shown ? t("list.count", { count: n }) : t("list.count_filtered", { count: n, shown }),
      this.app.features.health ? t("list.sent_today", { count: sent }) : null,
      t("list.failing", { count: failing }),
    ].filter(Boolean).join(" · ");
    this.count.dataset.failing = String(failing);
    this.empty.hidden = n > 0;
    this.table.hidden = n === 0;
    this.nomatch.hidden = n === 0 || shown > 0;
  }

  renderRow(ch) {
    const app = this.app;
    const admin = app.api.admin;
    const row = h("tr", { dataset: { id: ch.id } });
    const check = admin && h("input", { type: "checkbox", class: "row-check", "aria-label": t("list.select", { name: ch.name }) });
    if (check) {
      check.addEventListener("change", () => {
        if (check.checked) app.selected.add(ch.id); else app.selected.delete(ch.id);
        this.syncSelection();
      });
    }
    const link = h("a", { class: "ch-name", href: `#/channels/${enc(ch.id)}`, translate: "no" }, ch.name);
    row._cells = {
      check,
      link,
      badge: badge(ch.state),
      reason: h("span", { class: "reason" }),
      phone: h("td", { "data-label": t("list.col_phone") }),
      health: app.features.health ? h("td", { "data-label": t("list.col_health") }) : null,
      today: app.features.health ? h("td", { "data-label": t("list.col_sent_today"), class: "num" }) : null,
      actions: h("div", { class: "row-actions" }),
    };
    const c = row._cells;
    row.append(
      admin ? h("td", { class: "col-check" }, check) : null,
      h("td", { class: "cell-name", "data-label": t("list.col_channel") }, link, h("span", { class: "ch-id", translate: "no" }, ch.id)),
      h("td", { class: "cell-state", "data-label": t("list.col_state") }, c.badge, c.reason),
      c.phone,
      c.health,
      c.today,
      h("td", { class: "cell-actions" }, c.actions));
    this.updateRow(row, ch, false);
    return row;
  }

  updateRow(row, ch, flash) {
    const app = this.app;
    const c = row._cells;
    c.link.textContent = ch.name;
    setBadge(c.badge, ch.state);
    c.reason.textContent = reasonText(ch);
    clear(c.phone, ch.phone ? h("span", { translate: "no" }, fmtPhone(ch.phone)) : h("span", { class: "muted" }, "—"));
    const hl = neverStarted(ch) ? null : app.health.get(ch.id);
    if (c.health) {
      clear(c.health, neverStarted(ch)
        ? h("span", { class: "muted no-data", title: t("health.never_run_short") }, t("health.no_data"))
        : hl
        ? h("span", { class: "health", title: (hl.reasons || []).map(healthReason).join("\n") || t("health.no_issues") },
          h("span", { class: `chip chip-${hl.band || "good"}` }, h("span", { class: "score" }, fmtNum(hl.score)), " ", bandLabel(hl.band)),
          hl.warming ? h("span", { class: "chip chip-warm", title: t("health.warming_title", { day: hl.warming.day, count: hl.warming.daily_limit }) }, t("health.warming_chip", { day: hl.warming.day })) : null)
        : h("span", { class: "muted" }, "—"));
    }
    if (c.today) {
      clear(c.today, hl ? fmtNum(hl.metrics?.sent_today ?? 0) + (hl.warming ? ` / ${fmtNum(hl.warming.daily_limit)}` : "") : h("span", { class: "muted" }, "—"));
    }
    clear(c.actions, ...this.actions(ch));
    if (flash) {
      row.classList.remove("flash");
      void row.offsetWidth;
      row.classList.add("flash");
    }
  }

  actions(ch) {
    const app = this.app;
    const id = ch.id;
    const paired = !!ch.jid;
    const out = [];
    if (!paired && (ch.state === "qr_pending" || ch.state === "initializing")) {
      out.push(h("button", { type: "button", class: "btn btn-small btn-primary", "data-action": "qr", onclick: () => app.link.open(id) }, t("action.show_qr")));
    } else if (!paired && !RUNNING.has(ch.state)) {
      out.push(h("button", { type: "button", class: "btn btn-small btn-primary", "data-action": "connect", onclick: () => app.connect(id) }, t("action.connect")));
    } else if (!RUNNING.has(ch.state)) {
      out.push(h("button", { type: "button", class: "btn btn-small btn-primary", "data-action": "start", onclick: (e) => app.action(id, "start", e.currentTarget) }, t("action.start")));
    } else {
      out.push(h("button", { type: "button", class: "btn btn-small", "data-action": "stop", onclick: (e) => app.action(id, "stop", e.currentTarget) }, t("action.stop")));
    }
    out.push(menu(t("list.more_actions", { name: ch.name }), [
      { label: t("action.open_details"), onclick: () => { location.hash = `#/channels/${enc(id)}`; } },
      !paired && { label: t("link.tab_phone"), onclick: () => app.connect(id, "phone") },
      { label: t("action.start"), onclick: () => app.action(id, "start") },
      { label: t("action.stop"), onclick: () => app.action(id, "stop") },
      { label: t("action.restart"), onclick: () => app.action(id, "restart") },
      paired && { label: t("action.logout"), onclick: () => app.action(id, "logout"), danger: true },
      app.api.admin && { label: t("action.delete"), onclick: () => app.action(id, "delete"), danger: true },
    ]));
    return out;
  }

  onChannel(ch, flash) {
    const row = this.rows.get(ch.id);
    if (!row) return this.refresh();
    const focused = row.contains(document.activeElement) ? document.activeElement.dataset.action : null;
    this.updateRow(row, ch, flash);
    if (focused) $(`[data-action="${focused}"]`, row)?.focus();
    this.applyFilter(); // the filter and the totals
  }

  syncSelection() {
    const app = this.app;
    if (!app.api.admin) return;
    for (const [id, row] of this.rows) {
      if (row._cells.check) row._cells.check.checked = app.selected.has(id);
    }
    const n = app.selected.size;
    const visible = [...this.rows.values()].filter((r) => !r.hidden).length;
    this.checkAll.checked = n > 0 && n >= visible;
    this.checkAll.indeterminate = n > 0 && n < visible;
    if (!n) {
      this.bulkbar.hidden = true;
      return;
    }
    this.bulkbar.hidden = false;
    const btn = (verb, label, cls = "btn btn-small") => h("button", { type: "button", class: cls, "data-bulk": verb, onclick: (e) => app.bulk(verb, e.currentTarget) }, label);
    clear(this.bulkbar,
      h("strong", {}, t("list.selected", { count: n })),
      btn("start", t("action.start")), btn("stop", t("action.stop")), btn("restart", t("action.restart")), btn("logout", t("action.logout")),
      btn("delete", t("action.delete"), "btn btn-small btn-danger"),
      h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: () => { app.selected.clear(); this.syncSelection(); } }, t("list.clear_selection")));
  }
}

translate();
picker($("#lang-picker"));
const app = new App();
window.addEventListener("unhandledrejection", (e) => {
  // Every API call handles its errors; anything left is a bug: tell the
  // user, and leave it in the console for whoever debugs it.
  toast(e.reason instanceof ApiError ? errorText(e.reason) : t("error.unexpected"), "error");
});
app.boot();
