// The channel page: state and actions, health with its reasons, usage per
// day, the connection history, the live event log, recent messages and
// webhooks with their delivery log. Panels whose API is not on this server
// are not shown.

import { enc } from "./api.js";
import { fmtNum, fmtPercent, lang, t } from "./i18n.js";
import { ChatsPanel, ContactNames, NumberCheck } from "./chats.js";
import { SendPanel } from "./send.js";
import { SettingsPanel } from "./settings.js";
import { WebhookEditor } from "./webhooks.js";
import {
  $, badge, bandLabel, busy, clear, confirmAction, debouncer, disabledReason, errorText, failureText, fmtAgo, fmtDateTime, fmtPhone, fmtTime, h,
  healthReason, neverStarted, reasonLabel, setBadge, stateLabel, timeEl, toast,
} from "./ui.js";

const RUNNING = new Set(["initializing", "qr_pending", "authenticating", "connecting", "active", "disconnected"]);
const MAX_LOG = 200;
const DELIVERY_PAGE = 20;
const DELIVERY_STATUSES = ["pending", "delivering", "failed", "delivered", "dead"];

// Labels of the API's values: delivery and message statuses, message
// types, usage series. An unknown value (a newer server) shows as it is.
const DELIVERY_LABELS = {
  pending: t("delivery.pending"),
  delivering: t("delivery.delivering"),
  failed: t("delivery.failed"),
  delivered: t("delivery.delivered"),
  dead: t("delivery.dead"),
};
const MESSAGE_STATUS = {
  queued: t("msg_status.queued"),
  sending: t("msg_status.sending"),
  sent: t("msg_status.sent"),
  delivered: t("msg_status.delivered"),
  read: t("msg_status.read"),
  played: t("msg_status.played"),
  received: t("msg_status.received"),
  failed: t("msg_status.failed"),
};
const MESSAGE_TYPES = {
  text: t("msg_type.text"),
  image: t("msg_type.image"),
  video: t("msg_type.video"),
  audio: t("msg_type.audio"),
  document: t("msg_type.document"),
  sticker: t("msg_type.sticker"),
  location: t("msg_type.location"),
  contact: t("msg_type.contact"),
  reaction: t("msg_type.reaction"),
  reply: t("msg_type.reply"),
  edit: t("msg_type.edit"),
  delete: t("msg_type.delete"),
  poll: t("msg_type.poll"),
};
const SERIES = {
  sent: t("usage.sent"),
  received: t("usage.received"),
  failed: t("usage.failed"),
  delivered: t("usage.delivered"),
  read: t("usage.read"),
};
const deliveryLabel = (s) => DELIVERY_LABELS[s] || s;

// Days of the usage chart ("2026-12-05") as day and month in the page's
// locale; they are UTC days.
const dayFmt = new Intl.DateTimeFormat(lang, { day: "2-digit", month: "2-digit", timeZone: "UTC" });
const fullDayFmt = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" });
const dayLabel = (d) => dayFmt.format(new Date(d + "T00:00:00Z"));
const fullDay = (d) => fullDayFmt.format(new Date(d + "T00:00:00Z"));

export class ChannelPage {
  constructor(app, id) {
    this.app = app;
    this.id = id;
    this.paused = false;
    this.logCount = 0;
    this.debounce = debouncer(700);
    this.openDeliveries = new Set();
    this.deliveryPages = new Map();
    this.contacts = new ContactNames(app.api, id);
    this.contacts.active = () => this.ch?.state === "active";
    this.tick = setInterval(() => this.ticker(), 10000);
  }

  get ch() { return this.app.channels.get(this.id); }

  async mount(main) {
    this.main = main;
    clear(main, h("p", { class: "muted" }, h("span", { class: "spinner", "aria-hidden": "true" }), " ", t("app.loading")));
    if (!this.ch) {
      try {
        this.app.channels.set(this.id, await this.app.api.get(`/v1/channels/${enc(this.id)}`));
      } catch (e) {
        clear(main, h("div", { class: "panel" },
          h("h1", {}, t("channel.not_found")),
          h("p", {}, e.status === 404 ? t("channel.no_such", { id: this.id }) : errorText(e)),
          h("a", { href: "#/" }, t("channel.back"))));
        return;
      }
    }
    this.render();
  }

  destroy() {
    clearInterval(this.tick);
    this.gone = true;
  }

  render() {
    const ch = this.ch;
    const f = this.app.features;
    document.title = `${ch.name} · wagate`;
    this.badgeEl = badge(ch.state);
    this.reasonEl = h("span", { class: "muted small" });
    this.metaEl = h("div", { class: "ch-meta" });
    this.actionsEl = h("div", { class: "toolbar" });
    this.helpEl = h("div", { class: "alert alert-error state-help", id: "state-help", role: "status", hidden: true });
    const panels = [];
    if (f.health) panels.push(this.healthPanel = h("section", { class: "panel span-5", "aria-labelledby": "h-health" }));
    if (f.usage) panels.push(this.usagePanel = h("section", { class: "panel span-7", "aria-labelledby": "h-usage" }));
    this.historyList = h("ol", { class: "timeline", id: "history" });
    panels.push(h("section", { class: "panel span-5", "aria-labelledby": "h-history" },
      h("div", { class: "panel-head" }, h("h2", { id: "h-history" }, t("channel.history"))),
      this.historyList));
    this.log = h("ol", { class: "eventlog", id: "event-log", role: "log", "aria-live": "off", "aria-label": t("channel.events") });
    this.logEmpty = h("p", { class: "muted", id: "event-log-empty" }, t("channel.events_empty"));
    this.logCountEl = h("span", { class: "muted small", id: "event-count" }, t("channel.event_count", { count: 0 }));
    const pause = h("button", { type: "button", class: "btn btn-small", "aria-pressed": "false", id: "log-pause" }, t("action.pause"));
    pause.addEventListener("click", () => {
      this.paused = !this.paused;
      pause.setAttribute("aria-pressed", String(this.paused));
      pause.textContent = this.paused ? t("action.resume") : t("action.pause");
    });
    const clr = h("button", { type: "button", class: "btn btn-small", onclick: () => { this.log.replaceChildren(); this.logCount = 0; this.logCountEl.textContent = t("channel.event_count", { count: 0 }); this.logEmpty.hidden = false; } }, t("action.clear"));
    panels.push(h("section", { class: "panel span-7", "aria-labelledby": "h-events" },
      h("div", { class: "panel-head" }, h("h2", { id: "h-events" }, t("channel.events")), h("div", { class: "log-tools" }, this.logCountEl, pause, clr)),
      this.logEmpty, this.log));
    if (f.messages) panels.push(this.msgPanel = h("section", { class: "panel span-12", "aria-labelledby": "h-messages" }));
    if (f.chats) panels.push(this.chatsPanel = h("section", { class: "panel span-8", id: "chats", "aria-labelledby": "h-chats" }));
    if (f.check || f.send) {
      panels.push(h("div", { class: "span-4 stack" },
        f.send ? this.sendPanel = h("section", { class: "panel", id: "send", "aria-labelledby": "h-send", hidden: true }) : null,
        f.check ? this.checkPanel = h("section", { class: "panel", id: "check", "aria-labelledby": "h-check" }) : null));
    }
    if (f.webhooks) panels.push(this.hookPanel = h("section", { class: "panel span-12", "aria-labelledby": "h-webhooks" }));
    panels.push(this.settingsPanel = h("section", { class: "panel span-12", id: "settings", "aria-labelledby": "h-settings" }));

    clear(this.main,
      h("nav", { class: "crumbs", "aria-label": t("channel.breadcrumb") }, h("a", { href: "#/" }, t("channel.back"))),
      h("div", { class: "ch-head" },
        h("div", {},
          h("h1", {}, h("span", { id: "ch-title", translate: "no" }, ch.name), this.badgeEl),
          this.reasonEl, this.metaEl),
        this.actionsEl),
      this.helpEl,
      h("div", { class: "grid" }, panels));
    this.settings = new SettingsPanel(this, this.settingsPanel);
    this.settings.render();
    if (this.chatsPanel) this.chats = new ChatsPanel(this, this.chatsPanel, this.contacts);
    if (this.sendPanel) (this.send = new SendPanel(this, this.sendPanel)).render();
    if (this.checkPanel) new NumberCheck(this, this.checkPanel).render();
    this.renderHead();
    this.loadAll();
    this.main.focus({ preventScroll: true });
  }

  renderHead() {
    const ch = this.ch;
    const f = this.app.features;
    $("#ch-title").textContent = ch.name;
    setBadge(this.badgeEl, ch.state);
    this.reasonEl.textContent = ch.state_reason ? `${reasonLabel(ch.state_reason)} · ${fmtAgo(ch.state_changed_at)}` : "";
    clear(this.metaEl,
      h("span", {}, t("channel.id"), " ", h("code", { translate: "no" }, ch.id)),
      ch.phone ? h("span", {}, t("channel.phone"), " ", h("strong", { translate: "no" }, fmtPhone(ch.phone))) : h("span", {}, t("channel.not_linked")),
      ch.push_name ? h("span", { translate: "no" }, ch.push_name) : null,
      h("span", {}, t("channel.driver"), " ", h("span", { translate: "no" }, ch.driver)),
      ch.paired_at ? h("span", {}, t("channel.paired"), " ", timeEl(ch.paired_at, fmtAgo(ch.paired_at))) : null);
    const app = this.app;
    const id = ch.id;
    const paired = !!ch.jid;
    const btns = [];
    // The ban's end: from the live event, else from the channel's record
    // (state_expires_at), which a reload reads.
    const help = stateHelp(ch, this.stateDetail, this.banUntil || ch.state_expires_at);
    if (this.sendPanel) this.sendPanel.hidden = ch.state !== "active";
    clear(this.helpEl, help ? [h("strong", {}, help.title), h("p", {}, help.text)] : null);
    this.helpEl.hidden = !help;
    if (ch.state === "banned") {
      // Nothing to start: the ban ends by itself and the worker reconnects.
      btns.push(h("button", { type: "button", class: "btn", "data-action": "restart", onclick: (e) => app.action(id, "restart", e.currentTarget) }, t("channel.try_now")));
    } else if (ch.state === "error" && ch.state_reason === "client_outdated") {
      btns.push(h("button", { type: "button", class: "btn", "data-action": "start", onclick: (e) => app.action(id, "start", e.currentTarget) }, t("channel.start_after_upgrade")));
    } else if (ch.state === "error" && ch.state_reason === "whatsapp_unreachable") {
      btns.push(h("button", { type: "button", class: "btn btn-primary", "data-action": "restart", onclick: (e) => app.action(id, "restart", e.currentTarget) }, t("channel.retry_now")));
    } else if (ch.state === "logged_out") {
      btns.push(h("button", { type: "button", class: "btn btn-primary", "data-action": "connect", onclick: () => app.connect(id) }, t("channel.link_again")));
    } else if (!paired && (ch.state === "qr_pending" || ch.state === "initializing")) {
      btns.push(h("button", { type: "button", class: "btn btn-primary", "data-action": "qr", onclick: () => app.link.open(id) }, t("channel.show_qr")));
    } else if (!paired && !RUNNING.has(ch.state)) {
      btns.push(h("button", { type: "button", class: "btn btn-primary", "data-action": "connect", onclick: () => app.connect(id) }, t("action.connect")));
    } else if (!RUNNING.has(ch.state)) {
      btns.push(h("button", { type: "button", class: "btn btn-primary", "data-action": "start", onclick: (e) => app.action(id, "start", e.currentTarget) }, t("action.start")));
    } else {
      btns.push(h("button", { type: "button", class: "btn", "data-action": "stop", onclick: (e) => app.action(id, "stop", e.currentTarget) }, t("action.stop")));
    }
    if (ch.state !== "banned" && !(ch.state === "error" && ch.state_reason === "whatsapp_unreachable")) {
      btns.push(h("button", { type: "button", class: "btn", "data-action": "restart", onclick: (e) => app.action(id, "restart", e.currentTarget) }, t("action.restart")));
    }
    if (!paired) btns.push(h("button", { type: "button", class: "btn", "data-action": "phone", onclick: () => app.connect(id, "phone") }, t("link.tab_phone")));
    if (paired) btns.push(h("button", { type: "button", class: "btn", "data-action": "logout", onclick: (e) => app.action(id, "logout", e.currentTarget) }, t("action.logout")));
    if (app.api.admin) btns.push(h("button", { type: "button", class: "btn btn-danger", "data-action": "delete", onclick: (e) => app.action(id, "delete", e.currentTarget) }, t("action.delete")));
    if (f.sim && ch.driver === "sim" && ch.state === "active") {
      btns.push(h("button", { type: "button", class: "btn", id: "sim-inbound", "data-action": "sim-inbound", onclick: (e) => this.simInbound(e.currentTarget) }, t("channel.sim_inbound")));
    }
    const focused = this.actionsEl.contains(document.activeElement) ? document.activeElement.dataset.action : null;
    clear(this.actionsEl, btns);
    if (focused) $(`[data-action="${focused}"]`, this.actionsEl)?.focus();
  }

  async simInbound(btn) {
    await busy(btn, async () => {
      try {
        await this.app.api.post(`/v1/sim/channels/${enc(this.id)}/inbound`, { from: "+15550001234", text: t("channel.sim_inbound_text"), push_name: "Sim Friend" });
      } catch (e) {
        toast(errorText(e), "error");
      }
    });
  }

  loadAll() {
    this.loadHistory();
    if (this.healthPanel) this.loadHealth();
    if (this.usagePanel) this.loadUsage();
    if (this.msgPanel) this.loadMessages();
    if (this.hookPanel) this.loadWebhooks();
    if (this.chats) this.chats.render();
    this.loadContacts();
  }

  // loadContacts reads the contacts' names (an active channel's device
  // knows them) and redraws what shows JIDs.
  async loadContacts() {
    if (!this.app.features.contacts || !this.ch || this.ch.state !== "active") return;
    if (!(await this.contacts.load()) || this.gone) return;
    if (this.msgPanel) this.loadMessages();
    if (this.chats) this.chats.renderList();
  }

  resync() {
    if (!this.ch) return this.mount(this.main);
    this.renderHead();
    this.loadAll();
  }

  // catchUp reads again, once the stream is first live, what an event
  // between the page's first reads and the relay's subscription would
  // have changed; an open chat stays open.
  catchUp() {
    if (!this.ch || this.gone) return;
    this.loadHistory();
    if (this.healthPanel) this.loadHealth();
    if (this.usagePanel) this.loadUsage();
    if (this.msgPanel) this.loadMessages();
    if (this.chats) this.chats.reload();
    this.loadContacts();
  }

  refresh() { if (this.ch) this.renderHead(); }

  removed(id) {
    if (id === this.id) location.hash = "#/";
  }

  ticker() {
    if (this.ch) this.reasonEl.textContent = this.ch.state_reason ? `${reasonLabel(this.ch.state_reason)} · ${fmtAgo(this.ch.state_changed_at)}` : "";
    // Attempts and retries change a delivery without any event of the
    // channel: an open log's first page is re-read on each tick too.
    if (this.hookPanel && this.openDeliveries.size) this.reloadDeliveries();
  }

  // ---- live --------------------------------------------------------------

  onChannel(ch) {
    if (ch.id !== this.id) return;
    this.renderHead();
    if (this.healthPanel) this.renderHealth(this.app.health.get(this.id));
  }

  onEvent(env) {
    if (env.channel_id !== this.id || this.gone) return;
    this.logEvent(env);
    if (env.type === "connection.status_changed") {
      const d = env.data || {};
      this.stateDetail = d.detail || "";
      this.banUntil = d.expires_at || "";
      this.renderHead();
      if (d.to === "active") this.debounce("contacts", () => this.loadContacts());
      this.prependHistory({ from: d.from, to: d.to, reason: d.reason, at: d.at || env.created_at });
      if (this.usagePanel) this.debounce("usage", () => this.loadUsage());
    } else if (env.type.startsWith("message.")) {
      if (this.msgPanel) this.debounce("messages", () => this.loadMessages());
      if (this.usagePanel) this.debounce("usage", () => this.loadUsage());
      if (this.chats) this.debounce("chats", () => this.chats.reload());
      if (this.send) this.send.onEvent(env);
    } else if (env.type === "chat.updated" && this.chats) {
      this.debounce("chats", () => this.chats.reload());
    }
    if (this.hookPanel && this.openDeliveries.size) this.debounce("hooks", () => this.reloadDeliveries());
  }

  logEvent(env) {
    if (this.paused) return;
    this.logEmpty.hidden = true;
    const li = h("li", { class: "new", dataset: { type: env.type } },
      h("details", {},
        h("summary", {},
          h("span", { class: "ev-time" }, fmtTime(env.created_at)),
          h("span", { class: "chip", translate: "no" }, env.type),
          h("span", { class: "ev-sum" }, summarize(env))),
        h("pre", { translate: "no" }, JSON.stringify(redactQR(env), null, 2))));
    this.log.prepend(li);
    while (this.log.childElementCount > MAX_LOG) this.log.lastElementChild.remove();
    this.logCount++;
    this.logCountEl.textContent = t("channel.event_count", { count: this.logCount });
  }

  // ---- history -----------------------------------------------------------

  async loadHistory() {
    try {
      const page = await this.app.api.get(`/v1/channels/${enc(this.id)}/history?limit=50`);
      if (this.gone) return;
      clear(this.historyList, page.data.length ? page.data.map(historyItem) : h("li", { class: "muted" }, t("channel.no_transitions")));
      const last = page.data[0];
      if (last && this.ch && last.to === this.ch.state && !this.stateDetail) {
        this.stateDetail = last.detail || "";
        this.renderHead();
      }
    } catch (e) {
      clear(this.historyList, h("li", { class: "muted" }, errorText(e)));
    }
  }

  prependHistory(e) {
    const first = this.historyList.firstElementChild;
    if (first && first.classList.contains("muted")) first.remove();
    this.historyList.prepend(historyItem(e));
    while (this.historyList.childElementCount > 100) this.historyList.lastElementChild.remove();
  }

  // ---- health and usage ----------------------------------------------------

  async loadHealth() {
    try {
      const hl = await this.app.api.get(`/v1/channels/${enc(this.id)}/health`);
      this.app.health.set(this.id, hl);
      this.renderHealth(hl);
    } catch (e) {
      clear(this.healthPanel, h("h2", { id: "h-health" }, t("list.col_health")), h("p", { class: "muted" }, errorText(e)));
    }
  }

  renderHealth(hl) {
    if (this.gone) return;
    if (this.ch && neverStarted(this.ch)) {
      clear(this.healthPanel, h("div", { class: "panel-head" }, h("h2", { id: "h-health" }, t("list.col_health")), h("span", { class: "chip" }, t("health.no_data"))),
        h("p", { class: "muted no-data" }, t("health.never_run")));
      return;
    }
    if (!hl) return;
    const band = hl.band || "good";
    const r = 34;
    const circ = 2 * Math.PI * r;
    const gauge = h("svg:svg", { class: `gauge ${band}`, viewBox: "0 0 84 84", role: "img", "aria-label": t("health.gauge", { score: hl.score, band: bandLabel(band) }) },
      h("svg:circle", { class: "track", cx: 42, cy: 42, r }),
      h("svg:circle", { class: "value", cx: 42, cy: 42, r, "stroke-dasharray": circ.toFixed(1), "stroke-dashoffset": (circ * (1 - hl.score / 100)).toFixed(1) }),
      h("svg:text", { x: 42, y: 50, "text-anchor": "middle" }, fmtNum(hl.score)));
    const m = hl.metrics || {};
    clear(this.healthPanel,
      h("div", { class: "panel-head" }, h("h2", { id: "h-health" }, t("list.col_health")), h("span", { class: `chip chip-${band}` }, bandLabel(band))),
      h("div", { class: "health-big" }, gauge,
        h("dl", { class: "kv" },
          h("dt", {}, t("health.uptime")), h("dd", {}, fmtPercent(m.uptime_24h || 0)),
          h("dt", {}, t("health.disconnects")), h("dd", {}, fmtNum(m.disconnects_24h ?? 0)),
          h("dt", {}, t("list.col_sent_today")), h("dd", {}, fmtNum(m.sent_today ?? 0)),
          h("dt", {}, t("health.failed_today")), h("dd", {}, `${fmtNum(m.failed_today ?? 0)} (${fmtPercent(m.failure_rate || 0)})`))),
      hl.warming
        ? h("p", { class: "chip chip-warm" }, t("health.warming", { day: hl.warming.day, count: hl.warming.daily_limit, rate: hl.warming.rate }))
        : null,
      h("h3", {}, t("health.why")),
      (hl.reasons || []).length
        ? h("ul", { class: "reasons" }, hl.reasons.map((x) => h("li", {}, healthReason(x))))
        : h("p", { class: "muted" }, t("health.no_issues_long")));
  }

  async loadUsage() {
    const days = 14;
    try {
      const u = await this.app.api.get(`/v1/channels/${enc(this.id)}/usage?days=${days}`);
      if (this.gone) return;
      this.renderUsage([...(u.data || [])].sort((a, b) => a.day.localeCompare(b.day)));
    } catch (e) {
      clear(this.usagePanel, h("h2", { id: "h-usage" }, t("usage.title")), h("p", { class: "muted" }, errorText(e)));
    }
  }

  renderUsage(rows) {
    const series = ["sent", "received", "failed"];
    const max = Math.max(1, ...rows.flatMap((r) => series.map((s) => r[s] || 0)));
    const W = Math.max(rows.length, 1) * 36 + 30;
    const H = 170;
    const base = H - 20;
    const bw = 8;
    const total = Object.fromEntries(series.map((s) => [s, rows.reduce((n, r) => n + (r[s] || 0), 0)]));
    const svg = h("svg:svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img",
      "aria-label": t("usage.chart", { count: rows.length, sent: total.sent, received: total.received, failed: total.failed }) },
      h("svg:line", { class: "axis", x1: 24, x2: W, y1: base, y2: base }),
      h("svg:text", { x: 0, y: 12 }, fmtNum(max)),
      h("svg:text", { x: 0, y: base }, fmtNum(0)));
    rows.forEach((r, i) => {
      const x0 = 30 + i * 36;
      series.forEach((s, k) => {
        const v = r[s] || 0;
        const bh = (v / max) * (base - 10);
        svg.append(h("svg:rect", { class: `bar-${s}`, x: x0 + k * (bw + 1), y: base - bh, width: bw, height: Math.max(bh, v ? 1 : 0), rx: 1 },
          h("svg:title", {}, `${fullDay(r.day)}: ${fmtNum(v)} ${SERIES[s]}`)));
      });
      if (rows.length <= 14 || i % 2 === 0) svg.append(h("svg:text", { x: x0, y: H - 4 }, dayLabel(r.day)));
    });
    const table = h("table", { class: "data" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("usage.day")), [...series, "delivered", "read"].map((s) => h("th", { scope: "col" }, SERIES[s])))),
      h("tbody", {}, [...rows].reverse().map((r) => h("tr", {}, h("td", {}, h("time", { datetime: r.day }, fullDay(r.day))),
        [...series, "delivered", "read"].map((s) => h("td", { class: "num" }, fmtNum(r[s] || 0)))))));
    clear(this.usagePanel,
      h("div", { class: "panel-head" }, h("h2", { id: "h-usage" }, t("usage.per_day")), h("span", { class: "muted small" }, t("usage.last_days", { count: rows.length }))),
      svg,
      h("div", { class: "legend", "aria-hidden": "true" }, series.map((s) => h("span", { class: `l-${s}` }, SERIES[s]))),
      h("details", {}, h("summary", {}, t("usage.as_table")), table));
  }

  // ---- messages ------------------------------------------------------------

  async loadMessages() {
    try {
      const page = await this.app.api.get(`/v1/channels/${enc(this.id)}/messages?limit=20`);
      if (this.gone) return;
      const list = page.data || [];
      clear(this.msgPanel,
        h("div", { class: "panel-head" }, h("h2", { id: "h-messages" }, t("messages.title"))),
        list.length
          ? h("div", { class: "table-scroll" }, h("table", { class: "data", id: "messages" },
            h("thead", {}, h("tr", {}, [t("messages.time"), h("span", { class: "sr-only" }, t("messages.direction")), t("messages.chat"), t("messages.type"), t("messages.message"), t("messages.media"), t("messages.status")].map((x) => h("th", { scope: "col" }, x)))),
            h("tbody", {}, list.map((m) => messageRow(m, this.app.api, this.contacts)))))
          : h("p", { class: "muted" }, t("messages.empty")));
    } catch (e) {
      clear(this.msgPanel, h("h2", { id: "h-messages" }, t("messages.title")), h("p", { class: "muted" }, errorText(e)));
    }
  }

  // ---- webhooks --------------------------------------------------------------

  async loadWebhooks() {
    try {
      const page = await this.app.api.get(`/v1/channels/${enc(this.id)}/webhooks`);
      if (this.gone) return;
      const list = page.data || [];
      this.endpoints = list;
      this.hookEditor ||= new WebhookEditor(this.app.api, `/v1/channels/${enc(this.id)}/webhooks`, () => this.loadWebhooks());
      clear(this.hookPanel,
        h("div", { class: "panel-head" }, h("h2", { id: "h-webhooks" }, t("webhooks.title")),
          h("button", { type: "button", class: "btn btn-small btn-primary", id: "hook-add", onclick: () => this.hookEditor.open(null) }, t("webhooks.add"))),
        list.length ? list.map((e) => this.endpointEl(e)) : h("p", { class: "muted" }, t("webhooks.empty")));
      for (const wid of this.openDeliveries) this.loadDeliveries(wid);
    } catch (e) {
      clear(this.hookPanel, h("h2", { id: "h-webhooks" }, t("webhooks.title")), h("p", { class: "muted" }, errorText(e)));
    }
  }

  endpointEl(e) {
    const f = this.app.features;
    const box = h("div", { class: "deliveries", id: `deliveries-${e.id}` });
    const toggle = f.deliveries && h("button", { type: "button", class: "btn btn-small", "aria-expanded": String(this.openDeliveries.has(e.id)), "aria-controls": `deliveries-${e.id}` }, t("webhooks.delivery_log"));
    if (toggle) {
      toggle.addEventListener("click", () => {
        const open = !this.openDeliveries.has(e.id);
        toggle.setAttribute("aria-expanded", String(open));
        if (open) { this.openDeliveries.add(e.id); this.loadDeliveries(e.id); } else { this.openDeliveries.delete(e.id); box.replaceChildren(); }
      });
    }
    const replayFailed = f.replay && h("button", { type: "button", class: "btn btn-small", onclick: (ev) => this.replay(e.id, { since: new Date(Date.now() - 24 * 3600e3).toISOString(), status: "failed" }, ev.currentTarget) }, t("webhooks.replay_failed"));
    return h("div", { class: "endpoint", dataset: { id: e.id } },
      h("div", { class: "endpoint-head" },
        h("div", {},
          h("div", { class: "endpoint-url", translate: "no" }, e.url),
          h("div", { class: "small muted" },
            e.enabled ? h("span", { class: "chip chip-ok" }, t("webhooks.enabled")) : h("span", { class: "chip chip-bad" }, e.disabled_reason ? t("webhooks.disabled_because", { reason: disabledReason(e.disabled_reason) }) : t("webhooks.disabled")),
            " ", (e.events || []).length ? h("span", { translate: "no" }, e.events.join(", ")) : t("webhooks.all_events"),
            e.failing_since ? h("span", { class: "chip chip-bad" }, " ", t("webhooks.failing_since", { ago: fmtAgo(e.failing_since) })) : null,
            e.backoff_until ? h("span", { class: "chip chip-wait", title: fmtDateTime(e.backoff_until) }, " ", t("webhooks.next_try", { ago: fmtAgo(e.backoff_until) })) : null)),
        h("div", { class: "toolbar" }, replayFailed, toggle,
          h("button", { type: "button", class: "btn btn-small hook-edit", onclick: () => this.hookEditor.open(e) }, t("webhooks.edit")),
          h("button", { type: "button", class: "btn btn-small hook-rotate", onclick: () => this.hookEditor.rotate(e) }, t("webhooks.rotate_secret")),
          h("button", { type: "button", class: "btn btn-small hook-pause", onclick: (ev) => this.setEnabled(e, !e.enabled, ev.currentTarget) }, e.enabled ? t("action.pause") : t("action.resume")),
          h("button", { type: "button", class: "btn btn-small btn-danger hook-delete", onclick: (ev) => this.deleteHook(e, ev.currentTarget) }, t("action.delete")))),
      box);
  }

  // The delivery log of an endpoint: a status filter, pages of 20 (older
  // with the API's next_before cursor), and per row the next attempt and
  // the last answer.
  deliveryState(wid) {
    let st = this.deliveryPages.get(wid);
    if (!st) this.deliveryPages.set(wid, st = { status: "", before: "", back: [], next: "" });
    return st;
  }

  async loadDeliveries(wid) {
    const box = $(`#deliveries-${CSS.escape(wid)}`, this.hookPanel);
    if (!box) return;
    const st = this.deliveryState(wid);
    let q = `limit=${DELIVERY_PAGE}`;
    if (st.status) q += `&status=${enc(st.status)}`;
    if (st.before) q += `&before=${enc(st.before)}`;
    // Only the latest read renders: a live reload of the first page that
    // answers after a click on "Older" must not overwrite it.
    const seq = st.seq = (st.seq || 0) + 1;
    let page;
    try {
      page = await this.app.api.get(`/v1/channels/${enc(this.id)}/webhooks/${enc(wid)}/deliveries?${q}`);
    } catch (e) {
      if (seq === st.seq) clear(box, h("p", { class: "muted small" }, errorText(e)));
      return;
    }
    if (this.gone || seq !== st.seq) return;
    st.next = page.next_before || "";
    const list = page.data || [];
    const statusSel = h("select", { class: "delivery-status", "aria-label": t("deliveries.filter") },
      h("option", { value: "" }, t("deliveries.all_statuses")),
      DELIVERY_STATUSES.map((s) => h("option", { value: s, selected: st.status === s }, deliveryLabel(s))));
    statusSel.addEventListener("change", () => {
      st.status = statusSel.value;
      st.before = "";
      st.back = [];
      this.loadDeliveries(wid);
    });
    const newer = h("button", { type: "button", class: "btn btn-small delivery-newer", disabled: !st.back.length }, t("deliveries.newer"));
    newer.addEventListener("click", () => { st.before = st.back.pop() || ""; this.loadDeliveries(wid); });
    const older = h("button", { type: "button", class: "btn btn-small delivery-older", disabled: !st.next }, t("deliveries.older"));
    older.addEventListener("click", () => { st.back.push(st.before); st.before = st.next; this.loadDeliveries(wid); });
    const tools = h("div", { class: "delivery-tools" }, statusSel,
      h("span", { class: "muted small" }, st.back.length ? t("deliveries.page", { page: st.back.length + 1 }) : t("deliveries.newest_first")),
      newer, older);
    const replay = this.app.features.replay;
    clear(box, tools, list.length
      ? h("div", { class: "table-scroll" }, h("table", { class: "data delivery-log" },
        h("thead", {}, h("tr", {}, [t("messages.time"), t("deliveries.event"), t("messages.status"), t("deliveries.attempts"), t("deliveries.next_attempt"), t("deliveries.last_answer"), h("span", { class: "sr-only" }, t("list.col_actions"))].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, list.map((d) => {
          const ans = lastAnswer(d);
          return h("tr", { dataset: { id: d.id, status: d.status } },
            h("td", {}, timeEl(d.created_at)),
            h("td", {}, h("code", { translate: "no" }, d.event_type), h("div", { class: "small muted", translate: "no" }, d.event_id)),
            h("td", {}, h("span", { class: `chip ${deliveryChip(d.status)}` }, deliveryLabel(d.status))),
            h("td", { class: "num" }, fmtNum(d.attempt_count ?? 0)),
            h("td", { class: "next-attempt" }, d.next_attempt_at && (d.status === "pending" || d.status === "failed")
              ? timeEl(d.next_attempt_at, fmtAgo(d.next_attempt_at)) : h("span", { class: "muted" }, "—")),
            h("td", { class: "last-answer trunc", title: ans.title, translate: "no" },
              ans.code ? h("span", { class: `chip ${ans.code < 300 ? "chip-ok" : "chip-bad"}` }, `HTTP ${ans.code}`) : null,
              ans.text ? ` ${ans.text}` : (ans.code ? "" : h("span", { class: "muted" }, "—"))),
            h("td", {}, replay
              ? h("button", { type: "button", class: "btn btn-small", "aria-label": t("deliveries.replay_label", { type: d.event_type, id: d.event_id }), onclick: (ev) => this.replay(wid, { event_id: d.event_id }, ev.currentTarget) }, t("deliveries.replay"))
              : null));
        }))))
      : h("p", { class: "muted small" }, st.status ? t("deliveries.none_with", { status: deliveryLabel(st.status) }) : t("deliveries.none")));
  }

  // Live updates reload the first page only: a page further back stays
  // as the user paged to it.
  reloadDeliveries() {
    for (const wid of this.openDeliveries) if (!this.deliveryState(wid).before) this.loadDeliveries(wid);
  }

  // setEnabled pauses (enabled: false) or resumes an endpoint.
  async setEnabled(e, enabled, btn) {
    await busy(btn, async () => {
      try {
        await this.app.api.request("PATCH", `/v1/channels/${enc(this.id)}/webhooks/${enc(e.id)}`, { enabled });
        toast(enabled ? t("webhooks.resumed") : t("webhooks.paused"));
        this.loadWebhooks();
      } catch (err) {
        toast(errorText(err), "error");
      }
    });
  }

  async deleteHook(e, btn) {
    const ok = await confirmAction(t("webhooks.delete_title", { url: e.url }), t("webhooks.delete_text"), t("webhooks.delete_ok"));
    if (!ok) return;
    await busy(btn, async () => {
      try {
        await this.app.api.del(`/v1/channels/${enc(this.id)}/webhooks/${enc(e.id)}`);
        this.openDeliveries.delete(e.id);
        toast(t("webhooks.deleted"));
        this.loadWebhooks();
      } catch (err) {
        toast(errorText(err), "error");
      }
    });
  }

  async replay(wid, body, btn) {
    await busy(btn, async () => {
      try {
        const r = await this.app.api.post(`/v1/channels/${enc(this.id)}/webhooks/${enc(wid)}/replay`, body);
        toast(t("webhooks.replay_queued", { count: r && r.replayed != null ? r.replayed : 1 }));
        this.loadDeliveries(wid);
      } catch (e) {
        toast(errorText(e), "error");
      }
    });
  }
}

// stateHelp says what a failed state means and what to do about it.
function stateHelp(ch, detail, banUntil) {
  const r = ch.state_reason;
  if (ch.state === "banned") {
    return { title: t("help.banned_title"),
      text: banUntil ? t("help.banned_until", { at: fmtDateTime(banUntil), ago: fmtAgo(banUntil) }) : t("help.banned") };
  }
  if (ch.state === "logged_out") {
    return { title: t("help.logged_out_title"), text: t("help.logged_out") };
  }
  if (ch.state !== "error") return null;
  if (r === "client_outdated") {
    return { title: t("help.outdated_title"), text: t("help.outdated") };
  }
  if (r === "whatsapp_unreachable") {
    return { title: t("help.unreachable_title"),
      text: detail ? t("help.unreachable_detail", { detail }) : t("help.unreachable") };
  }
  if (r === "qr_attempts_exhausted") {
    return { title: t("help.qr_exhausted_title"), text: t("help.qr_exhausted") };
  }
  return { title: t("help.error_title"),
    text: detail ? t("help.error_detail", { reason: reasonLabel(r), detail }) : t("help.error", { reason: reasonLabel(r) }) };
}

function historyItem(e) {
  return h("li", { style: { "--dot": `var(--st-${e.to}-dot)` } },
    h("strong", {}, stateLabel(e.to)),
    e.from ? h("span", { class: "muted" }, " ", t("history.from", { state: stateLabel(e.from) })) : null,
    e.reason ? h("div", { class: "small" }, reasonLabel(e.reason)) : null,
    timeEl(e.at, fmtDateTime(e.at)));
}

// mediaCell shows the file of a media message: a thumbnail for images, a
// player for audio, a download link for every file (the route needs the
// token, so files are fetched as blobs).
function mediaCell(m, api) {
  const md = (m.body || {}).media;
  if (!md || !md.url) return null;
  const name = md.file_name || `${m.type}-${m.id}`;
  const link = h("a", { class: "media-link", href: "#", download: name, title: md.mime || "" },
    md.status === "stored" ? t("media.download", { name }) : md.status === "pending" ? t("media.fetch") : t("media.status", { status: md.status }));
  link.addEventListener("click", async (ev) => {
    if (link.dataset.ready) return;
    ev.preventDefault();
    try {
      link.href = URL.createObjectURL(await api.blob(md.url));
      link.dataset.ready = "1";
      link.textContent = t("media.download", { name });
      link.click();
    } catch (e) {
      link.textContent = errorText(e);
    }
  });
  const cell = h("span", { class: "media" }, link);
  if (md.status === "stored" && (m.type === "image" || m.type === "sticker")) {
    const img = h("img", { class: "media-thumb", alt: name, width: 48, height: 48 });
    cell.prepend(img);
    api.blob(md.url).then((b) => { img.src = URL.createObjectURL(b); }).catch(() => img.remove());
  } else if (md.status === "stored" && m.type === "audio") {
    const au = h("audio", { class: "media-audio", controls: true, preload: "metadata" });
    cell.prepend(au);
    api.blob(md.url).then((b) => { au.src = URL.createObjectURL(b); }).catch(() => au.remove());
  }
  return cell;
}

function messageRow(m, api, contacts) {
  const body = m.body || {};
  const text = body.text || body.caption || body.body || (body.latitude ? `📍 ${body.latitude}, ${body.longitude}` : "") || "";
  return h("tr", {},
    h("td", {}, timeEl(m.created_at)),
    h("td", {}, m.direction === "inbound"
      ? h("span", { title: t("messages.inbound"), "aria-label": t("messages.inbound") }, "↓")
      : h("span", { title: t("messages.outbound"), "aria-label": t("messages.outbound") }, "↑")),
    h("td", { class: "trunc", translate: "no" }, contacts.label(m.chat, m.chat_lid)),
    h("td", {}, MESSAGE_TYPES[m.type] || m.type),
    h("td", { class: "trunc", title: text, translate: "no" }, text),
    h("td", {}, mediaCell(m, api)),
    h("td", {}, h("span", { class: `chip ${messageChip(m.status)}`, title: m.reason ? failureText(m.code, m.reason) : "" }, MESSAGE_STATUS[m.status] || m.status)));
}

function messageChip(s) {
  if (s === "failed") return "chip-bad";
  if (s === "delivered" || s === "read" || s === "received" || s === "played") return "chip-ok";
  return "chip-wait";
}

// lastAnswer is what the endpoint last said: the status code and the
// response (or the error when there was no answer) of the last attempt.
function lastAnswer(d) {
  const a = (d.attempts || []).at(-1);
  const code = a?.status_code ?? d.last_status_code;
  const err = a?.error || d.last_error || "";
  const text = a?.response_snippet || err;
  return { code, text, title: [code ? `HTTP ${code}` : "", a?.response_snippet || "", err].filter(Boolean).join("\n") };
}

function deliveryChip(s) {
  if (s === "delivered") return "chip-ok";
  if (s === "failed" || s === "dead") return "chip-bad";
  return "chip-wait";
}

// The QR image is long and useless in the log; show its size instead.
function redactQR(env) {
  if (env.type !== "connection.qr" || !env.data || !env.data.image_png_base64) return env;
  return { ...env, data: { ...env.data, image_png_base64: t("channel.qr_redacted", { count: env.data.image_png_base64.length }) } };
}

// jidLabel shows a phone-number JID as +digits; other JIDs as they are.
function jidLabel(jid) {
  if (!jid) return "";
  const m = /^(\d+)@s\.whatsapp\.net$/.exec(jid);
  return m ? fmtPhone(m[1]) : jid;
}

export function summarize(env) {
  const d = env.data || {};
  switch (env.type) {
    case "connection.status_changed":
      return `${stateLabel(d.from)} → ${stateLabel(d.to)}${d.reason ? ` (${reasonLabel(d.reason)})` : ""}`;
    case "connection.qr":
      return t("event.qr", { attempt: d.attempt || "?", max: d.max_attempts || "?", time: fmtTime(d.expires_at) });
    case "connection.pairing_code":
      return t("event.pairing_code", { phone: fmtPhone(d.phone) });
    case "chat.presence": {
      const who = jidLabel(d.from);
      const group = d.chat && d.chat !== d.from;
      const chat = jidLabel(d.chat);
      if (d.state === "composing") return group ? t("event.typing_in", { who, chat }) : t("event.typing", { who });
      if (d.state === "recording") return group ? t("event.recording_in", { who, chat }) : t("event.recording", { who });
      if (d.state === "paused") return group ? t("event.paused_in", { who, chat }) : t("event.paused", { who });
      return `${who}: ${d.state}`;
    }
    case "presence.updated": {
      const who = jidLabel(d.from);
      if (d.state === "available") return t("event.online", { who });
      return d.last_seen ? t("event.offline_seen", { who, time: fmtTime(d.last_seen) }) : t("event.offline", { who });
    }
    case "message.poll_vote":
      return (d.selected || []).length
        ? t("event.voted", { who: jidLabel(d.from), options: d.selected.join(", ") })
        : t("event.vote_withdrawn", { who: jidLabel(d.from) });
    default: {
      const who = d.from || d.chat || "";
      const status = d.status ? [MESSAGE_STATUS[d.status] || d.status, d.status === "failed" ? failureText(d.code, d.reason) : ""].filter(Boolean).join(" — ") : "";
      const text = d.text || d.caption || status || d.id || "";
      return [who, text].filter(Boolean).join(": ");
    }
  }
}
