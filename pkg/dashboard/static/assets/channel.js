// The channel page: state and actions, health with its reasons, usage per
// day, the connection history, the live event log, recent messages and
// webhooks with their delivery log. Panels whose API is not on this server
// are not shown.

import { enc } from "./api.js";
import { neverStarted } from "./ui.js";
import {
  $, badge, busy, clear, confirmAction, debouncer, fmtAgo, fmtDateTime, fmtPhone, fmtTime, h, reasonLabel, setBadge,
  stateLabel, timeEl, toast,
} from "./ui.js";

const RUNNING = new Set(["initializing", "qr_pending", "authenticating", "connecting", "active", "disconnected"]);
const MAX_LOG = 200;
const DELIVERY_PAGE = 20;
const DELIVERY_STATUSES = ["pending", "delivering", "failed", "delivered", "dead"];

export class ChannelPage {
  constructor(app, id) {
    this.app = app;
    this.id = id;
    this.paused = false;
    this.logCount = 0;
    this.debounce = debouncer(700);
    this.openDeliveries = new Set();
    this.deliveryPages = new Map();
    this.tick = setInterval(() => this.ticker(), 10000);
  }

  get ch() { return this.app.channels.get(this.id); }

  async mount(main) {
    this.main = main;
    clear(main, h("p", { class: "muted" }, h("span", { class: "spinner", "aria-hidden": "true" }), " Loading…"));
    if (!this.ch) {
      try {
        this.app.channels.set(this.id, await this.app.api.get(`/v1/channels/${enc(this.id)}`));
      } catch (e) {
        clear(main, h("div", { class: "panel" },
          h("h1", {}, "Channel not found"),
          h("p", {}, e.status === 404 ? `There is no channel ${this.id}.` : e.message),
          h("a", { href: "#/" }, "← All channels")));
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
      h("div", { class: "panel-head" }, h("h2", { id: "h-history" }, "Connection history")),
      this.historyList));
    this.log = h("ol", { class: "eventlog", id: "event-log", role: "log", "aria-live": "off", "aria-label": "Live events" });
    this.logEmpty = h("p", { class: "muted", id: "event-log-empty" }, "Events of this channel appear here the moment they happen.");
    this.logCountEl = h("span", { class: "muted small", id: "event-count" }, "0 events");
    const pause = h("button", { type: "button", class: "btn btn-small", "aria-pressed": "false", id: "log-pause" }, "Pause");
    pause.addEventListener("click", () => {
      this.paused = !this.paused;
      pause.setAttribute("aria-pressed", String(this.paused));
      pause.textContent = this.paused ? "Resume" : "Pause";
    });
    const clr = h("button", { type: "button", class: "btn btn-small", onclick: () => { this.log.replaceChildren(); this.logCount = 0; this.logCountEl.textContent = "0 events"; this.logEmpty.hidden = false; } }, "Clear");
    panels.push(h("section", { class: "panel span-7", "aria-labelledby": "h-events" },
      h("div", { class: "panel-head" }, h("h2", { id: "h-events" }, "Live events"), h("div", { class: "log-tools" }, this.logCountEl, pause, clr)),
      this.logEmpty, this.log));
    if (f.messages) panels.push(this.msgPanel = h("section", { class: "panel span-12", "aria-labelledby": "h-messages" }));
    if (f.webhooks) panels.push(this.hookPanel = h("section", { class: "panel span-12", "aria-labelledby": "h-webhooks" }));

    clear(this.main,
      h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "← All channels")),
      h("div", { class: "ch-head" },
        h("div", {},
          h("h1", {}, h("span", { id: "ch-title" }, ch.name), this.badgeEl),
          this.reasonEl, this.metaEl),
        this.actionsEl),
      this.helpEl,
      h("div", { class: "grid" }, panels));
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
      h("span", {}, "ID ", h("code", {}, ch.id)),
      ch.phone ? h("span", {}, "Phone ", h("strong", {}, fmtPhone(ch.phone))) : h("span", {}, "Not linked"),
      ch.push_name ? h("span", {}, ch.push_name) : null,
      h("span", {}, `Driver ${ch.driver}`),
      ch.paired_at ? h("span", {}, "Paired ", timeEl(ch.paired_at, fmtAgo(ch.paired_at))) : null);
    const app = this.app;
    const id = ch.id;
    const paired = !!ch.jid;
    const btns = [];
    const help = stateHelp(ch, this.stateDetail, this.banUntil);
    clear(this.helpEl, help ? [h("strong", {}, help.title), h("p", {}, help.text)] : null);
    this.helpEl.hidden = !help;
    if (ch.state === "banned") {
      // Nothing to start: the ban ends by itself and the worker reconnects.
      btns.push(h("button", { type: "button", class: "btn", "data-action": "restart", onclick: (e) => app.action(id, "restart", e.currentTarget) }, "Try again now"));
    } else if (ch.state === "error" && ch.state_reason === "client_outdated") {
      btns.push(h("button", { type: "button", class: "btn", "data-action": "start", onclick: (e) => app.action(id, "start", e.currentTarget) }, "Start after the upgrade"));
    } else if (ch.state === "error" && ch.state_reason === "whatsapp_unreachable") {
      btns.push(h("button", { type: "button", class: "btn btn-primary", "data-action": "restart", onclick: (e) => app.action(id, "restart", e.currentTarget) }, "Retry now"));
    } else if (ch.state === "logged_out") {
      btns.push(h("button", { type: "button", class: "btn btn-primary", "data-action": "connect", onclick: () => app.connect(id) }, "Link again"));
    } else if (!paired && (ch.state === "qr_pending" || ch.state === "initializing")) {
      btns.push(h("button", { type: "button", class: "btn btn-primary", "data-action": "qr", onclick: () => app.link.open(id) }, "Show QR code"));
    } else if (!paired && !RUNNING.has(ch.state)) {
      btns.push(h("button", { type: "button", class: "btn btn-primary", "data-action": "connect", onclick: () => app.connect(id) }, "Connect"));
    } else if (!RUNNING.has(ch.state)) {
      btns.push(h("button", { type: "button", class: "btn btn-primary", "data-action": "start", onclick: (e) => app.action(id, "start", e.currentTarget) }, "Start"));
    } else {
      btns.push(h("button", { type: "button", class: "btn", "data-action": "stop", onclick: (e) => app.action(id, "stop", e.currentTarget) }, "Stop"));
    }
    if (ch.state !== "banned" && !(ch.state === "error" && ch.state_reason === "whatsapp_unreachable")) {
      btns.push(h("button", { type: "button", class: "btn", "data-action": "restart", onclick: (e) => app.action(id, "restart", e.currentTarget) }, "Restart"));
    }
    if (!paired) btns.push(h("button", { type: "button", class: "btn", "data-action": "phone", onclick: () => app.connect(id, "phone") }, "Link with phone number"));
    if (paired) btns.push(h("button", { type: "button", class: "btn", "data-action": "logout", onclick: (e) => app.action(id, "logout", e.currentTarget) }, "Log out"));
    if (app.api.admin) btns.push(h("button", { type: "button", class: "btn btn-danger", "data-action": "delete", onclick: (e) => app.action(id, "delete", e.currentTarget) }, "Delete"));
    if (f.sim && ch.driver === "sim" && ch.state === "active") {
      btns.push(h("button", { type: "button", class: "btn", id: "sim-inbound", "data-action": "sim-inbound", onclick: (e) => this.simInbound(e.currentTarget) }, "Simulate inbound message"));
    }
    const focused = this.actionsEl.contains(document.activeElement) ? document.activeElement.dataset.action : null;
    clear(this.actionsEl, btns);
    if (focused) $(`[data-action="${focused}"]`, this.actionsEl)?.focus();
  }

  async simInbound(btn) {
    await busy(btn, async () => {
      try {
        await this.app.api.post(`/v1/sim/channels/${enc(this.id)}/inbound`, { from: "+15550001234", text: "Hello from the simulator", push_name: "Sim Friend" });
      } catch (e) {
        toast(e.message, "error");
      }
    });
  }

  loadAll() {
    this.loadHistory();
    if (this.healthPanel) this.loadHealth();
    if (this.usagePanel) this.loadUsage();
    if (this.msgPanel) this.loadMessages();
    if (this.hookPanel) this.loadWebhooks();
  }

  resync() {
    if (!this.ch) return this.mount(this.main);
    this.renderHead();
    this.loadAll();
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
      this.prependHistory({ from: d.from, to: d.to, reason: d.reason, at: d.at || env.created_at });
      if (this.usagePanel) this.debounce("usage", () => this.loadUsage());
    } else if (env.type.startsWith("message.")) {
      if (this.msgPanel) this.debounce("messages", () => this.loadMessages());
      if (this.usagePanel) this.debounce("usage", () => this.loadUsage());
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
          h("span", { class: "chip" }, env.type),
          h("span", { class: "ev-sum" }, summarize(env))),
        h("pre", {}, JSON.stringify(redactQR(env), null, 2))));
    this.log.prepend(li);
    while (this.log.childElementCount > MAX_LOG) this.log.lastElementChild.remove();
    this.logCount++;
    this.logCountEl.textContent = `${this.logCount} event${this.logCount === 1 ? "" : "s"}`;
  }

  // ---- history -----------------------------------------------------------

  async loadHistory() {
    try {
      const page = await this.app.api.get(`/v1/channels/${enc(this.id)}/history?limit=50`);
      if (this.gone) return;
      clear(this.historyList, page.data.length ? page.data.map(historyItem) : h("li", { class: "muted" }, "No transitions yet."));
      const last = page.data[0];
      if (last && this.ch && last.to === this.ch.state && !this.stateDetail) {
        this.stateDetail = last.detail || "";
        this.renderHead();
      }
    } catch (e) {
      clear(this.historyList, h("li", { class: "muted" }, e.message));
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
      clear(this.healthPanel, h("h2", { id: "h-health" }, "Health"), h("p", { class: "muted" }, e.message));
    }
  }

  renderHealth(hl) {
    if (this.gone) return;
    if (this.ch && neverStarted(this.ch)) {
      clear(this.healthPanel, h("div", { class: "panel-head" }, h("h2", { id: "h-health" }, "Health"), h("span", { class: "chip" }, "no data")),
        h("p", { class: "muted no-data" }, "This channel has never run: there is nothing to score yet. Connect it to see its health."));
      return;
    }
    if (!hl) return;
    const band = hl.band || "good";
    const r = 34;
    const circ = 2 * Math.PI * r;
    const gauge = h("svg:svg", { class: `gauge ${band}`, viewBox: "0 0 84 84", role: "img", "aria-label": `Health score ${hl.score} of 100, ${band}` },
      h("svg:circle", { class: "track", cx: 42, cy: 42, r }),
      h("svg:circle", { class: "value", cx: 42, cy: 42, r, "stroke-dasharray": circ.toFixed(1), "stroke-dashoffset": (circ * (1 - hl.score / 100)).toFixed(1) }),
      h("svg:text", { x: 42, y: 50, "text-anchor": "middle" }, String(hl.score)));
    const m = hl.metrics || {};
    clear(this.healthPanel,
      h("div", { class: "panel-head" }, h("h2", { id: "h-health" }, "Health"), h("span", { class: `chip chip-${band}` }, band)),
      h("div", { class: "health-big" }, gauge,
        h("dl", { class: "kv" },
          h("dt", {}, "Uptime (24 h)"), h("dd", {}, `${Math.round((m.uptime_24h || 0) * 1000) / 10}%`),
          h("dt", {}, "Disconnects (24 h)"), h("dd", {}, String(m.disconnects_24h ?? 0)),
          h("dt", {}, "Sent today"), h("dd", {}, String(m.sent_today ?? 0)),
          h("dt", {}, "Failed today"), h("dd", {}, `${m.failed_today ?? 0} (${Math.round((m.failure_rate || 0) * 1000) / 10}%)`))),
      hl.warming
        ? h("p", { class: "chip chip-warm" }, `Warming up · day ${hl.warming.day} · up to ${hl.warming.daily_limit} messages today at ${hl.warming.rate}`)
        : null,
      h("h3", {}, "Why this score"),
      (hl.reasons || []).length
        ? h("ul", { class: "reasons" }, hl.reasons.map((x) => h("li", {}, x)))
        : h("p", { class: "muted" }, "No issues."));
  }

  async loadUsage() {
    const days = 14;
    try {
      const u = await this.app.api.get(`/v1/channels/${enc(this.id)}/usage?days=${days}`);
      if (this.gone) return;
      this.renderUsage([...(u.data || [])].sort((a, b) => a.day.localeCompare(b.day)));
    } catch (e) {
      clear(this.usagePanel, h("h2", { id: "h-usage" }, "Usage"), h("p", { class: "muted" }, e.message));
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
      "aria-label": `Messages per day over ${rows.length} days: ${total.sent} sent, ${total.received} received, ${total.failed} failed` },
      h("svg:line", { class: "axis", x1: 24, x2: W, y1: base, y2: base }),
      h("svg:text", { x: 0, y: 12 }, String(max)),
      h("svg:text", { x: 0, y: base }, "0"));
    rows.forEach((r, i) => {
      const x0 = 30 + i * 36;
      series.forEach((s, k) => {
        const v = r[s] || 0;
        const bh = (v / max) * (base - 10);
        svg.append(h("svg:rect", { class: `bar-${s}`, x: x0 + k * (bw + 1), y: base - bh, width: bw, height: Math.max(bh, v ? 1 : 0), rx: 1 },
          h("svg:title", {}, `${r.day}: ${v} ${s}`)));
      });
      if (rows.length <= 14 || i % 2 === 0) svg.append(h("svg:text", { x: x0, y: H - 4 }, r.day.slice(5)));
    });
    const table = h("table", { class: "data" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Day"), series.map((s) => h("th", { scope: "col" }, s)), h("th", { scope: "col" }, "delivered"), h("th", { scope: "col" }, "read"))),
      h("tbody", {}, [...rows].reverse().map((r) => h("tr", {}, h("td", {}, r.day), series.map((s) => h("td", { class: "num" }, String(r[s] || 0))), h("td", { class: "num" }, String(r.delivered || 0)), h("td", { class: "num" }, String(r.read || 0))))));
    clear(this.usagePanel,
      h("div", { class: "panel-head" }, h("h2", { id: "h-usage" }, "Usage per day"), h("span", { class: "muted small" }, `last ${rows.length} days`)),
      svg,
      h("div", { class: "legend", "aria-hidden": "true" }, h("span", { class: "l-sent" }, "Sent"), h("span", { class: "l-received" }, "Received"), h("span", { class: "l-failed" }, "Failed")),
      h("details", {}, h("summary", {}, "Show as a table"), table));
  }

  // ---- messages ------------------------------------------------------------

  async loadMessages() {
    try {
      const page = await this.app.api.get(`/v1/channels/${enc(this.id)}/messages?limit=20`);
      if (this.gone) return;
      const list = page.data || [];
      clear(this.msgPanel,
        h("div", { class: "panel-head" }, h("h2", { id: "h-messages" }, "Recent messages")),
        list.length
          ? h("div", { class: "table-scroll" }, h("table", { class: "data", id: "messages" },
            h("thead", {}, h("tr", {}, ["Time", "", "Chat", "Type", "Message", "Media", "Status"].map((x) => h("th", { scope: "col" }, x)))),
            h("tbody", {}, list.map((m) => messageRow(m, this.app.api)))))
          : h("p", { class: "muted" }, "No messages yet."));
    } catch (e) {
      clear(this.msgPanel, h("h2", { id: "h-messages" }, "Recent messages"), h("p", { class: "muted" }, e.message));
    }
  }

  // ---- webhooks --------------------------------------------------------------

  async loadWebhooks() {
    try {
      const page = await this.app.api.get(`/v1/channels/${enc(this.id)}/webhooks`);
      if (this.gone) return;
      const list = page.data || [];
      this.endpoints = list;
      clear(this.hookPanel,
        h("div", { class: "panel-head" }, h("h2", { id: "h-webhooks" }, "Webhooks")),
        list.length ? list.map((e) => this.endpointEl(e)) : h("p", { class: "muted" }, "No webhook endpoints. Add one with POST /v1/channels/{id}/webhooks."));
      for (const wid of this.openDeliveries) this.loadDeliveries(wid);
    } catch (e) {
      clear(this.hookPanel, h("h2", { id: "h-webhooks" }, "Webhooks"), h("p", { class: "muted" }, e.message));
    }
  }

  endpointEl(e) {
    const f = this.app.features;
    const box = h("div", { class: "deliveries", id: `deliveries-${e.id}` });
    const toggle = f.deliveries && h("button", { type: "button", class: "btn btn-small", "aria-expanded": String(this.openDeliveries.has(e.id)), "aria-controls": `deliveries-${e.id}` }, "Delivery log");
    if (toggle) {
      toggle.addEventListener("click", () => {
        const open = !this.openDeliveries.has(e.id);
        toggle.setAttribute("aria-expanded", String(open));
        if (open) { this.openDeliveries.add(e.id); this.loadDeliveries(e.id); } else { this.openDeliveries.delete(e.id); box.replaceChildren(); }
      });
    }
    const replayFailed = f.replay && h("button", { type: "button", class: "btn btn-small", onclick: (ev) => this.replay(e.id, { since: new Date(Date.now() - 24 * 3600e3).toISOString(), status: "failed" }, ev.currentTarget) }, "Replay failed (24 h)");
    return h("div", { class: "endpoint", dataset: { id: e.id } },
      h("div", { class: "endpoint-head" },
        h("div", {},
          h("div", { class: "endpoint-url" }, e.url),
          h("div", { class: "small muted" },
            e.enabled ? h("span", { class: "chip chip-ok" }, "enabled") : h("span", { class: "chip chip-bad", title: e.disabled_reason || "" }, `disabled${e.disabled_reason ? ": " + e.disabled_reason : ""}`),
            " ", (e.events || []).join(", ") || "all events",
            e.failing_since ? h("span", { class: "chip chip-bad" }, ` failing since ${fmtAgo(e.failing_since)}`) : null,
            e.backoff_until ? h("span", { class: "chip chip-wait", title: fmtDateTime(e.backoff_until) }, ` next try ${fmtAgo(e.backoff_until)}`) : null)),
        h("div", { class: "toolbar" }, replayFailed, toggle,
          h("button", { type: "button", class: "btn btn-small hook-pause", onclick: (ev) => this.setEnabled(e, !e.enabled, ev.currentTarget) }, e.enabled ? "Pause" : "Resume"),
          h("button", { type: "button", class: "btn btn-small btn-danger hook-delete", onclick: (ev) => this.deleteHook(e, ev.currentTarget) }, "Delete"))),
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
      if (seq === st.seq) clear(box, h("p", { class: "muted small" }, e.message));
      return;
    }
    if (this.gone || seq !== st.seq) return;
    st.next = page.next_before || "";
    const list = page.data || [];
    const statusSel = h("select", { class: "delivery-status", "aria-label": "Filter deliveries by status" },
      h("option", { value: "" }, "All statuses"),
      DELIVERY_STATUSES.map((s) => h("option", { value: s, selected: st.status === s }, s)));
    statusSel.addEventListener("change", () => {
      st.status = statusSel.value;
      st.before = "";
      st.back = [];
      this.loadDeliveries(wid);
    });
    const newer = h("button", { type: "button", class: "btn btn-small delivery-newer", disabled: !st.back.length }, "← Newer");
    newer.addEventListener("click", () => { st.before = st.back.pop() || ""; this.loadDeliveries(wid); });
    const older = h("button", { type: "button", class: "btn btn-small delivery-older", disabled: !st.next }, "Older →");
    older.addEventListener("click", () => { st.back.push(st.before); st.before = st.next; this.loadDeliveries(wid); });
    const tools = h("div", { class: "delivery-tools" }, statusSel,
      h("span", { class: "muted small" }, st.back.length ? `page ${st.back.length + 1}` : "newest first"),
      newer, older);
    const replay = this.app.features.replay;
    clear(box, tools, list.length
      ? h("div", { class: "table-scroll" }, h("table", { class: "data delivery-log" },
        h("thead", {}, h("tr", {}, ["Time", "Event", "Status", "Attempts", "Next attempt", "Last answer", ""].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, list.map((d) => {
          const ans = lastAnswer(d);
          return h("tr", { dataset: { id: d.id, status: d.status } },
            h("td", {}, timeEl(d.created_at)),
            h("td", {}, h("code", {}, d.event_type), h("div", { class: "small muted" }, d.event_id)),
            h("td", {}, h("span", { class: `chip ${deliveryChip(d.status)}` }, d.status)),
            h("td", { class: "num" }, String(d.attempt_count ?? 0)),
            h("td", { class: "next-attempt" }, d.next_attempt_at && (d.status === "pending" || d.status === "failed")
              ? timeEl(d.next_attempt_at, fmtAgo(d.next_attempt_at)) : h("span", { class: "muted" }, "—")),
            h("td", { class: "last-answer trunc", title: ans.title },
              ans.code ? h("span", { class: `chip ${ans.code < 300 ? "chip-ok" : "chip-bad"}` }, `HTTP ${ans.code}`) : null,
              ans.text ? ` ${ans.text}` : (ans.code ? "" : h("span", { class: "muted" }, "—"))),
            h("td", {}, replay
              ? h("button", { type: "button", class: "btn btn-small", "aria-label": `Replay ${d.event_type} ${d.event_id}`, onclick: (ev) => this.replay(wid, { event_id: d.event_id }, ev.currentTarget) }, "Replay")
              : null));
        }))))
      : h("p", { class: "muted small" }, st.status ? `No ${st.status} deliveries.` : "No deliveries yet."));
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
        toast(enabled ? "Webhook resumed." : "Webhook paused: events are not delivered to it until it is resumed.");
        this.loadWebhooks();
      } catch (err) {
        toast(err.message, "error");
      }
    });
  }

  async deleteHook(e, btn) {
    const ok = await confirmAction(`Delete the webhook to ${e.url}?`, "It is removed with its delivery log. This cannot be undone.", "Delete webhook");
    if (!ok) return;
    await busy(btn, async () => {
      try {
        await this.app.api.del(`/v1/channels/${enc(this.id)}/webhooks/${enc(e.id)}`);
        this.openDeliveries.delete(e.id);
        toast("Webhook deleted.");
        this.loadWebhooks();
      } catch (err) {
        toast(err.message, "error");
      }
    });
  }

  async replay(wid, body, btn) {
    await busy(btn, async () => {
      try {
        const r = await this.app.api.post(`/v1/channels/${enc(this.id)}/webhooks/${enc(wid)}/replay`, body);
        toast(`Replay queued (${r && r.replayed != null ? r.replayed : 1} deliver${r && r.replayed === 1 ? "y" : "ies"}).`);
        this.loadDeliveries(wid);
      } catch (e) {
        toast(e.message, "error");
      }
    });
  }
}

// stateHelp says what a failed state means and what to do about it.
function stateHelp(ch, detail, banUntil) {
  const r = ch.state_reason;
  if (ch.state === "banned") {
    return { title: "WhatsApp banned this number for now.",
      text: `${banUntil ? `The ban ends ${fmtDateTime(banUntil)} (${fmtAgo(banUntil)}); ` : "The ban ends by itself; "}the channel reconnects then on its own. Starting it earlier does not help and may lengthen the ban.` };
  }
  if (ch.state === "logged_out") {
    return { title: "The phone unlinked this device.",
      text: "Someone removed it under Linked devices on the phone, or WhatsApp ended the session. Link again with a new QR code or a pairing code." };
  }
  if (ch.state !== "error") return null;
  if (r === "client_outdated") {
    return { title: "WhatsApp rejects this client version.",
      text: "Upgrade wagate (it carries the WhatsApp client) and restart the workers, then start the channel." };
  }
  if (r === "whatsapp_unreachable") {
    return { title: "WhatsApp cannot be reached.",
      text: `The worker could not connect${detail ? `: ${detail}` : ""}. Check the network, DNS and firewall of the workers; it retries on its own, or retry now.` };
  }
  if (r === "qr_attempts_exhausted") {
    return { title: "The QR code was not scanned in time.", text: "Connect again for new codes, or link with a phone number instead." };
  }
  return { title: "The channel stopped with an error.", text: `${reasonLabel(r)}${detail ? `: ${detail}` : ""}. Restart it to try again.` };
}

function historyItem(e) {
  return h("li", { style: { "--dot": `var(--st-${e.to}-dot)` } },
    h("strong", {}, stateLabel(e.to)),
    e.from ? h("span", { class: "muted" }, ` from ${stateLabel(e.from)}`) : null,
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
    md.status === "stored" ? `Download ${name}` : md.status === "pending" ? "Fetch file" : `File ${md.status}`);
  link.addEventListener("click", async (ev) => {
    if (link.dataset.ready) return;
    ev.preventDefault();
    try {
      link.href = URL.createObjectURL(await api.blob(md.url));
      link.dataset.ready = "1";
      link.textContent = `Download ${name}`;
      link.click();
    } catch (e) {
      link.textContent = e.message;
    }
  });
  const cell = h("span", { class: "media" }, link);
  if (md.status === "stored" && (m.type === "image" || m.type === "sticker")) {
    const img = h("img", { class: "media-thumb", alt: name, width: 48, height: 48 });
    cell.prepend(img);
    api.blob(md.url).then((b) => { img.src = URL.createObjectURL(b); }).catch(() => img.remove());
  } else if (md.status === "stored" && m.type === "audio") {
    const au = h("audio", { class: "media-audio", controls: true, preload: "none" });
    cell.prepend(au);
    api.blob(md.url).then((b) => { au.src = URL.createObjectURL(b); }).catch(() => au.remove());
  }
  return cell;
}

function messageRow(m, api) {
  const body = m.body || {};
  const text = body.text || body.caption || body.body || (body.latitude ? `📍 ${body.latitude}, ${body.longitude}` : "") || "";
  return h("tr", {},
    h("td", {}, timeEl(m.created_at)),
    h("td", { "aria-label": m.direction }, m.direction === "inbound" ? "↓" : "↑"),
    h("td", { class: "trunc" }, m.chat),
    h("td", {}, m.type),
    h("td", { class: "trunc", title: text }, text),
    h("td", {}, mediaCell(m, api)),
    h("td", {}, h("span", { class: `chip ${messageChip(m.status)}`, title: m.reason || "" }, m.status)));
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
  return { ...env, data: { ...env.data, image_png_base64: `(${env.data.image_png_base64.length} base64 characters)` } };
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
      return `QR code ${d.attempt || "?"} of ${d.max_attempts || "?"}, expires ${fmtTime(d.expires_at)}`;
    case "connection.pairing_code":
      return `Pairing code for ${fmtPhone(d.phone)}`;
    case "chat.presence": {
      const doing = { composing: "is typing", recording: "is recording a voice note", paused: "stopped typing" }[d.state] || d.state;
      return `${jidLabel(d.from)} ${doing}${d.chat && d.chat !== d.from ? ` in ${jidLabel(d.chat)}` : ""}`;
    }
    case "presence.updated":
      return `${jidLabel(d.from)} is ${d.state === "available" ? "online" : "offline"}${d.last_seen ? `, last seen ${fmtTime(d.last_seen)}` : ""}`;
    case "message.poll_vote":
      return `${jidLabel(d.from)} voted ${(d.selected || []).length ? (d.selected || []).join(", ") : "(vote withdrawn)"}`;
    default: {
      const who = d.from || d.chat || "";
      const text = d.text || d.caption || d.status || d.id || "";
      return [who, text].filter(Boolean).join(": ");
    }
  }
}
