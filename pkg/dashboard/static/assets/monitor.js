// The admin's live event monitor (#/events): every event of the fleet as
// the relay streams it on /v1/events (the app's own stream), filtered by
// channel and event type, with pause and a bounded buffer: the newest
// BUFFER events are kept; older ones drop off and are counted.

import { t } from "./i18n.js";
import { summarize } from "./channel.js";
import { clear, fmtTime, h } from "./ui.js";

export const BUFFER = 500;
// The buffer sizes offered.
const KEEP = [100, 500, 1000, 5000];
// How many of the buffered events are drawn at once.
const SHOWN = 200;

export class MonitorView {
  constructor(app) {
    this.app = app;
    this.buffer = [];
    this.keep = BUFFER;
    this.dropped = 0;
    this.paused = false;
    this.pending = 0; // events received while paused
    this.types = new Set();
    this.channel = "";
    this.type = "";
  }

  mount(main) {
    document.title = `${t("monitor.title")} · wagate`;
    if (!this.app.api.admin) {
      clear(main, h("div", { class: "panel" }, h("h1", {}, t("monitor.title")), h("p", {}, t("monitor.admin_only")), h("a", { href: "#/" }, t("channel.back"))));
      return;
    }
    this.chanSel = h("select", { id: "monitor-channel", "aria-label": t("monitor.filter_channel") });
    this.chanSel.addEventListener("change", () => { this.channel = this.chanSel.value; this.draw(); });
    this.typeSel = h("select", { id: "monitor-type", "aria-label": t("monitor.filter_type") });
    this.typeSel.addEventListener("change", () => { this.type = this.typeSel.value; this.draw(); });
    this.pauseBtn = h("button", { type: "button", class: "btn", id: "monitor-pause", "aria-pressed": "false", onclick: () => this.togglePause() }, t("action.pause"));
    this.keepSel = h("select", { id: "monitor-keep", "aria-label": t("monitor.keep") },
      KEEP.map((n) => h("option", { value: n, selected: n === this.keep }, t("monitor.keep_n", { n }))));
    this.keepSel.addEventListener("change", () => { this.keep = Number(this.keepSel.value); this.trim(); this.draw(); });
    const clr = h("button", { type: "button", class: "btn", id: "monitor-clear", onclick: () => { this.buffer = []; this.dropped = 0; this.pending = 0; this.draw(); } }, t("action.clear"));
    this.countEl = h("p", { class: "muted small", id: "monitor-count", role: "status" });
    this.list = h("ol", { class: "eventlog monitor-log", id: "monitor-log", "aria-label": t("monitor.title"), "aria-live": "off" });
    this.emptyEl = h("p", { class: "muted", id: "monitor-empty" }, t("monitor.empty"));
    clear(main,
      h("nav", { class: "crumbs", "aria-label": t("channel.breadcrumb") }, h("a", { href: "#/" }, t("channel.back"))),
      h("div", { class: "page-head" },
        h("div", {}, h("h1", {}, t("monitor.title")), h("p", { class: "muted" }, t("monitor.lead"))),
        h("div", { class: "toolbar" }, this.chanSel, this.typeSel, this.keepSel, this.pauseBtn, clr)),
      h("section", { class: "panel" }, this.countEl, this.emptyEl, this.list));
    this.fillChannels();
    this.fillTypes();
    this.draw();
  }

  destroy() { this.gone = true; }

  togglePause() {
    this.paused = !this.paused;
    this.pauseBtn.setAttribute("aria-pressed", String(this.paused));
    this.pauseBtn.textContent = this.paused ? t("action.resume") : t("action.pause");
    if (!this.paused) { this.pending = 0; this.draw(); } else this.drawCount();
  }

  // The channel filter lists the channels this tab knows, by name.
  fillChannels() {
    if (!this.chanSel) return;
    const chans = [...this.app.channels.values()].sort((a, b) => (a.name || "").localeCompare(b.name || ""));
    clear(this.chanSel, h("option", { value: "" }, t("monitor.all_channels")),
      chans.map((c) => h("option", { value: c.id, selected: c.id === this.channel }, `${c.name} (${c.id})`)),
      this.channel && !this.app.channels.has(this.channel) ? h("option", { value: this.channel, selected: true }, this.channel) : null);
  }

  // The type filter offers every type seen so far and each family
  // ("message.*").
  fillTypes() {
    if (!this.typeSel) return;
    const types = [...this.types].sort();
    const families = [...new Set(types.map((x) => x.split(".")[0]))].sort();
    clear(this.typeSel, h("option", { value: "" }, t("monitor.all_types")),
      families.map((f) => h("option", { value: `${f}.*`, selected: this.type === `${f}.*` }, `${f}.*`)),
      types.map((x) => h("option", { value: x, selected: this.type === x }, x)));
  }

  refresh() { this.fillChannels(); }
  removed() { this.fillChannels(); }

  onEvent(env) {
    if (this.gone || !env || !env.type) return;
    this.seq = (this.seq || 0) + 1;
    const entry = { env, seq: this.seq };
    this.buffer.push(entry);
    this.trim();
    if (!this.types.has(env.type)) { this.types.add(env.type); this.fillTypes(); }
    if (env.channel_id && !this.app.channels.has(env.channel_id)) this.fillChannels();
    if (this.paused) { this.pending++; this.drawCount(); return; }
    if (this.matches(env)) {
      this.emptyEl.hidden = true;
      this.list.prepend(this.item(entry));
      while (this.list.childElementCount > SHOWN) this.list.lastElementChild.remove();
    }
    // What dropped off the buffer leaves the list too.
    const oldest = this.buffer[0]?.seq ?? Infinity;
    while (this.list.lastElementChild && Number(this.list.lastElementChild.dataset.seq) < oldest) this.list.lastElementChild.remove();
    this.drawCount();
  }

  // trim drops the oldest events beyond the buffer's size.
  trim() {
    if (this.buffer.length > this.keep) this.dropped += this.buffer.splice(0, this.buffer.length - this.keep).length;
  }

  matches(env) {
    if (this.channel && env.channel_id !== this.channel) return false;
    if (!this.type) return true;
    return this.type.endsWith(".*") ? env.type.startsWith(this.type.slice(0, -1)) : env.type === this.type;
  }

  item({ env, seq }) {
    const ch = this.app.channels.get(env.channel_id);
    return h("li", { dataset: { type: env.type, channel: env.channel_id || "", seq: String(seq) } },
      h("details", {},
        h("summary", {},
          h("span", { class: "ev-time" }, fmtTime(env.created_at)),
          h("span", { class: "chip" }, env.type),
          h("a", { class: "ev-channel small", href: `#/channels/${encodeURIComponent(env.channel_id || "")}` }, ch ? ch.name : env.channel_id || ""),
          h("span", { class: "ev-sum" }, summarize(env))),
        h("pre", {}, JSON.stringify(redact(env), null, 2))));
  }

  draw() {
    if (!this.list) return;
    const shown = this.buffer.filter((e) => this.matches(e.env)).slice(-SHOWN).reverse();
    clear(this.list, shown.map((e) => this.item(e)));
    this.emptyEl.hidden = shown.length > 0;
    this.drawCount();
  }

  drawCount() {
    const shown = this.buffer.reduce((n, e) => n + (this.matches(e.env) ? 1 : 0), 0);
    const parts = [t("monitor.count", { shown, total: this.buffer.length })];
    if (this.dropped) parts.push(t("monitor.dropped", { count: this.dropped }));
    if (this.paused) parts.push(t("monitor.paused_count", { count: this.pending }));
    this.countEl.textContent = parts.join(" · ");
    this.countEl.dataset.total = String(this.buffer.length);
  }
}

// The QR image is long and useless in the monitor.
function redact(env) {
  if (env.type !== "connection.qr" || !env.data || !env.data.image_png_base64) return env;
  return { ...env, data: { ...env.data, image_png_base64: `(${env.data.image_png_base64.length})` } };
}
