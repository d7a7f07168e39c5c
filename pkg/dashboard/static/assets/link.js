// The "link a phone" dialog: the live QR code with its countdown and
// attempt counter, the progress steps, the error with a retry when the
// codes ran out, and the phone-number tab with the pairing code.

import { $, $$, busy, errorText, openDialog, reasonLabel, fmtPhone, toast } from "./ui.js";
import { t } from "./i18n.js";
import { enc } from "./api.js";

const STEPS = ["qr_pending", "authenticating", "connecting", "active"];
// States the session passes through while linking.
const LINKING = new Set(["initializing", "qr_pending", "authenticating", "connecting"]);

export class LinkDialog {
  constructor(app) {
    this.app = app;
    this.dlg = $("#qr-dialog");
    this.id = "";
    this.qr = null;
    this.pairing = null;
    this.waitingCode = false;
    // awaiting is set by a start until the channel's next status change, so
    // the failure of the previous attempt is not shown as the new one's.
    this.awaiting = false;
    this.tick = 0;
    this.dlg.addEventListener("close", () => this.closed());
    $("#qr-retry").addEventListener("click", (e) => this.retry(e.currentTarget));
    $("#sim-scan").addEventListener("click", (e) => this.simulate(e.currentTarget, {}));
    $("#sim-code").addEventListener("click", (e) => this.simulate(e.currentTarget, { code: this.pairing?.code || "" }));
    $("#phone-form").addEventListener("submit", (e) => { e.preventDefault(); this.requestCode(); });
    for (const tab of $$('[role="tab"]', this.dlg)) {
      tab.addEventListener("click", () => this.selectTab(tab.id === "tab-phone" ? "phone" : "qr", true));
      tab.addEventListener("keydown", (e) => {
        if (e.key === "ArrowRight" || e.key === "ArrowLeft" || e.key === "Home" || e.key === "End") {
          e.preventDefault();
          const next = tab.id === "tab-qr" ? "phone" : "qr";
          this.selectTab(e.key === "Home" ? "qr" : e.key === "End" ? "phone" : next, true);
        }
      });
    }
  }

  get channel() { return this.app.channels.get(this.id); }

  /** open shows the dialog for channel id; start asks the worker for codes first. */
  async open(id, { tab = "qr", start = false } = {}) {
    this.id = id;
    this.qr = null;
    this.pairing = null;
    this.waitingCode = false;
    this.awaiting = false;
    $("#qr-error").hidden = true;
    $("#qr-done").hidden = true;
    const ch = this.channel;
    $("#qr-title").textContent = t("link.title_channel", { name: ch ? ch.name : id });
    const sim = this.app.features.sim && ch && ch.driver === "sim";
    $("#qr-sim").hidden = !sim;
    $("#phone-sim").hidden = !sim;
    $("#phone-error").hidden = true;
    $("#phone-form").hidden = false;
    $("#phone-done").hidden = true;
    $("#pairing").hidden = true;
    $("#pairing-wait").hidden = true;
    $("#pairing-wait-text").textContent = t("link.asking");
    this.showQR(null);
    this.selectTab(tab, false);
    openDialog(this.dlg, tab === "phone" ? $("#phone-input") : $("#tab-qr"));
    this.tick = setInterval(() => this.countdown(), 250);
    this.render();
    if (start && ch && !LINKING.has(ch.state) && ch.state !== "active") {
      await this.start();
    } else if (ch && ch.state === "qr_pending") {
      this.fetchCurrent();
    }
  }

  closed() {
    clearInterval(this.tick);
    this.id = "";
  }

  async start() {
    this.awaiting = true;
    this.render();
    try {
      await this.app.api.post(`/v1/channels/${enc(this.id)}/start`);
    } catch (err) {
      this.awaiting = false;
      this.fail(errorText(err));
    }
  }

  /** fetchCurrent shows the code already issued, when the dialog opens late. */
  async fetchCurrent() {
    const id = this.id;
    try {
      const qr = await this.app.api.get(`/v1/channels/${enc(id)}/qr`);
      if (this.id === id && !this.qr) this.showQR(qr);
    } catch {
      // None now: one comes as an event, or the codes ran out and the
      // channel stopped — its record says which, should this tab's be old.
      if (this.id === id) this.app.refetchChannel(id);
    }
    try {
      const pc = await this.app.api.get(`/v1/channels/${enc(id)}/pairing-code`);
      if (this.id === id && !this.pairing) this.showPairing(pc);
    } catch { /* no pairing code requested */ }
  }

  selectTab(which, focus) {
    const qr = which === "qr";
    for (const [tab, panel, on] of [["#tab-qr", "#panel-qr", qr], ["#tab-phone", "#panel-phone", !qr]]) {
      const t = $(tab);
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(panel).hidden = !on;
      if (on && focus) t.focus();
    }
  }

  /** onEvent receives every event of the stream. */
  onEvent(env) {
    if (!this.dlg.open || env.channel_id !== this.id) return;
    const d = env.data || {};
    switch (env.type) {
      case "connection.qr":
        this.showQR(d);
        break;
      case "connection.pairing_code":
        this.showPairing(d);
        break;
      case "connection.status_changed":
        this.awaiting = false;
        if (d.to === "error" || d.to === "logged_out" || d.to === "banned") this.fail(null, d.to, d.reason);
        this.render();
        break;
    }
  }

  /** onChannel is called when the channel's record changed. */
  onChannel(ch) {
    if (this.dlg.open && ch.id === this.id) this.render();
  }

  showQR(q) {
    const img = $("#qr-img");
    const frame = $("#qr-frame");
    if (!q || !q.image_png_base64) {
      img.hidden = true;
      $("#qr-placeholder").hidden = false;
      $("#qr-countdown-wrap").hidden = true;
      frame.dataset.state = "waiting";
      return;
    }
    const changed = !this.qr || this.qr.code !== q.code;
    this.qr = { ...q, received: Date.now() };
    img.src = "data:image/png;base64," + q.image_png_base64;
    img.alt = t("link.qr_alt", { attempt: q.attempt || 1, max: q.max_attempts || "?" });
    img.dataset.code = q.code;
    img.hidden = false;
    if (changed) {
      img.classList.remove("fresh");
      void img.offsetWidth;
      img.classList.add("fresh");
    }
    $("#qr-placeholder").hidden = true;
    $("#qr-countdown-wrap").hidden = false;
    frame.dataset.state = "live";
    $("#qr-attempt").textContent = q.attempt && q.max_attempts ? t("link.attempt", { attempt: q.attempt, max: q.max_attempts }) : "";
    if (changed && q.attempt > 1) $("#qr-announce").textContent = t("link.new_qr", { attempt: q.attempt, max: q.max_attempts });
    this.countdown();
  }

  countdown() {
    if (!this.qr) return;
    const exp = new Date(this.qr.expires_at).getTime();
    const left = Math.max(0, exp - Date.now());
    const total = Math.max(1, exp - this.qr.received);
    const s = Math.ceil(left / 1000);
    const el = $("#qr-countdown");
    const bar = $("#qr-meter");
    el.dataset.left = String(s);
    if (left <= 0) {
      el.textContent = this.qr.attempt >= this.qr.max_attempts ? t("link.code_expired") : t("link.refreshing");
      $("#qr-frame").dataset.state = "expired";
    } else {
      el.textContent = t("link.expires_in", { time: clock(s) });
    }
    bar.style.width = `${Math.min(100, (left / total) * 100)}%`;
    bar.classList.toggle("low", left < 5000);
    if (this.pairing) {
      const pl = Math.max(0, new Date(this.pairing.expires_at).getTime() - Date.now());
      const ps = Math.ceil(pl / 1000);
      $("#pairing-expiry").textContent = pl > 0 ? t("link.valid_for", { time: clock(ps) }) : t("link.pairing_expired");
    }
  }

  showPairing(p) {
    if (!p || !p.code) return;
    this.pairing = p;
    this.waitingCode = false;
    $("#pairing-wait").hidden = true;
    $("#pairing").hidden = false;
    $("#pairing-code").textContent = p.code;
    this.countdown();
  }

  async requestCode() {
    const input = $("#phone-input");
    const err = $("#phone-error");
    err.hidden = true;
    const phone = input.value.trim();
    if (!phone) {
      err.textContent = t("link.need_phone");
      err.hidden = false;
      input.focus();
      return;
    }
    await busy($("#phone-submit"), async () => {
      // The code may come on the live stream before the POST answers:
      // wait for it from now on, and keep it if it is already here when
      // the answer comes.
      const id = this.id;
      const before = this.channel?.state;
      this.pairing = null;
      this.waitingCode = true;
      $("#pairing").hidden = true;
      $("#pairing-wait-text").textContent = t("link.asking");
      $("#pairing-wait").hidden = false;
      try {
        await this.app.api.post(`/v1/channels/${enc(id)}/pair-phone`, { phone });
      } catch (e) {
        this.waitingCode = false;
        $("#pairing-wait").hidden = true;
        err.textContent = errorText(e);
        err.hidden = false;
        input.focus();
        return;
      }
      if (this.id !== id) return;
      if (!this.pairing && !LINKING.has(before)) {
        this.awaiting = true;
        this.render();
      }
      if (this.waitingCode) this.pollCode(id, 0);
    });
  }

  // The code comes as an event; should the event be missed (no live
  // stream, a reconnect in between), the code is read from the API too.
  pollCode(id, n) {
    if (!this.waitingCode || this.id !== id || n > 15) return;
    setTimeout(async () => {
      if (!this.waitingCode || this.id !== id) return;
      try {
        const pc = await this.app.api.get(`/v1/channels/${enc(id)}/pairing-code`);
        if (this.waitingCode && this.id === id) this.showPairing(pc);
        return;
      } catch { /* not yet */ }
      this.pollCode(id, n + 1);
    }, n === 0 ? 500 : 1500);
  }

  async simulate(btn, args) {
    await busy(btn, async () => {
      try {
        await this.app.api.post(`/v1/sim/channels/${enc(this.id)}/scan`, args);
      } catch (e) {
        toast(errorText(e), "error");
      }
    });
  }

  async retry(btn) {
    $("#qr-error").hidden = true;
    this.qr = null;
    this.showQR(null);
    await busy(btn, () => this.start());
    $("#tab-qr").focus();
  }

  fail(message, state, reason) {
    const box = $("#qr-error");
    let title = t("link.failed");
    let text = message || "";
    if (reason === "qr_attempts_exhausted") {
      title = t("help.qr_exhausted_title");
      text = t("link.qr_exhausted_text");
    } else if (state === "logged_out") {
      title = t("help.logged_out_title");
      text = t("link.logged_out_text");
    } else if (state === "banned") {
      title = t("help.banned_title");
      text = t("link.banned_text");
    } else if (reason) {
      text = t("link.reason", { reason: reasonLabel(reason) });
    }
    $("#qr-error-title").textContent = title;
    $("#qr-error-text").textContent = text;
    box.hidden = false;
    $("#qr-frame").dataset.state = "error";
    $("#qr-countdown-wrap").hidden = true;
    this.qr = null;
  }

  /** render updates the progress steps and the final states from the channel. */
  render() {
    const ch = this.channel;
    if (!ch) return;
    const st = this.awaiting ? "initializing" : ch.state;
    let idx = STEPS.indexOf(st);
    if (st === "initializing") idx = 0;
    const failed = st === "error" || st === "logged_out" || st === "banned";
    const done = st === "active";
    for (const li of $$("#qr-steps li")) {
      const i = STEPS.indexOf(li.dataset.step);
      li.classList.toggle("done", idx >= 0 && (i < idx || (st === "active" && i === idx)));
      li.classList.toggle("current", idx >= 0 && i === idx && st !== "active");
      li.classList.toggle("failed", failed && i === 0);
      if (i === idx) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    }
    if (failed && $("#qr-error").hidden) this.fail(null, st, ch.state_reason);
    if (!failed && !done && !this.qr) $("#qr-frame").dataset.state = "waiting";
    if (!failed) $("#qr-error").hidden = true;
    $("#qr-done").hidden = !done;
    $("#phone-done").hidden = !done;
    const linking = st === "authenticating" || st === "connecting";
    if (failed) $("#pairing-wait").hidden = true;
    if (done || linking) {
      // The code was entered: the phone tab follows the steps too.
      this.waitingCode = false;
      $("#pairing").hidden = true;
      $("#phone-form").hidden = done;
      $("#pairing-wait").hidden = done;
      $("#pairing-wait-text").textContent = t("link.linked_connecting");
    }
    if (done) {
      const text = ch.phone
        ? (ch.push_name ? t("link.linked_to_name", { phone: fmtPhone(ch.phone), name: ch.push_name }) : t("link.linked_to", { phone: fmtPhone(ch.phone) }))
        : t("link.linked");
      $("#qr-done-text").textContent = text;
      $("#phone-done-text").textContent = text;
      $("#qr-frame").dataset.state = "done";
      $("#qr-countdown-wrap").hidden = true;
      $("#qr-sim").hidden = true;
      $("#phone-sim").hidden = true;
      this.qr = null;
    }
    const placeholder = $("#qr-placeholder-text");
    if (st === "authenticating" || st === "connecting") placeholder.textContent = t("link.linked_connecting");
    else if (done) placeholder.textContent = t("link.step_connected");
    else placeholder.textContent = t("link.generating");
    if (st === "authenticating" || st === "connecting" || done) {
      $("#qr-img").hidden = true;
      $("#qr-placeholder").hidden = false;
      $("#qr-countdown-wrap").hidden = true;
    }
  }
}

// clock shows seconds as m:ss.
function clock(s) {
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
