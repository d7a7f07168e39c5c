// "Send a test message" on the page of an active channel: to and text,
// then the message's status as it changes (message.sent, delivered, read,
// failed arrive on the live stream; the message is read once more when the
// stream was not live).

import { enc } from "./api.js";
import { t } from "./i18n.js";
import { clearErrors, field, showError } from "./forms.js";
import { busy, clear, failureText, h } from "./ui.js";

const FINAL = new Set(["read", "played", "failed"]);
// Status only moves forward: a late answer never takes it back.
const RANK = { queued: 0, sending: 1, sent: 2, delivered: 3, read: 4, played: 5, failed: 6 };
const statusLabels = () => ({
  queued: t("msg_status.queued"),
  sending: t("msg_status.sending"),
  sent: t("msg_status.sent"),
  delivered: t("msg_status.delivered"),
  read: t("msg_status.read"),
  played: t("msg_status.played"),
  failed: t("msg_status.failed"),
});

export class SendPanel {
  constructor(page, el) {
    this.page = page;
    this.el = el;
    this.msgId = "";
  }

  get api() { return this.page.app.api; }

  render() {
    const to = h("input", { id: "send-to", type: "tel", inputmode: "tel", autocomplete: "off", required: true, placeholder: "+1 555 010 2030" });
    const text = h("textarea", { id: "send-text", rows: 3, required: true, maxlength: 65536 }, t("send.default_text"));
    const general = h("p", { class: "form-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: "btn btn-primary", id: "send-submit" }, t("send.submit"));
    this.result = h("div", { class: "send-result", id: "send-result", role: "status", "aria-live": "polite" });
    const form = h("form", { id: "send-form", novalidate: true },
      field("to", t("send.to"), to, t("send.to_hint")),
      field("text", t("send.text"), text),
      general,
      h("div", { class: "toolbar" }, submit));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearErrors(form);
      await busy(submit, async () => {
        try {
          const m = await this.api.post(`/v1/channels/${enc(this.page.id)}/messages`, { to: to.value.trim(), type: "text", text: text.value });
          this.msgId = m.id;
          this.status = "";
          this.show(m.status, m.reason || "", m.code || "");
          this.follow(m.id);
        } catch (err) {
          showError(form, err, general);
        }
      });
    });
    clear(this.el,
      h("div", { class: "panel-head" }, h("h2", { id: "h-send" }, t("send.title"))),
      form, this.result);
  }

  show(status, reason, code) {
    if (this.status && (RANK[status] ?? 0) < (RANK[this.status] ?? 0)) return;
    this.status = status;
    clear(this.result,
      h("span", {}, t("send.message"), " ", h("code", {}, this.msgId)), " ",
      h("span", { class: `chip ${status === "failed" ? "chip-bad" : status === "queued" || status === "sending" ? "chip-wait" : "chip-ok"}`, id: "send-status", "data-status": status }, statusLabels()[status] || status),
      reason || code ? h("span", { class: "small muted", id: "send-reason", title: reason }, " ", failureText(code, reason)) : null);
  }

  // follow reads the message while the stream is not live, until its
  // status is final (the stream brings the rest).
  async follow(id) {
    for (let i = 0; i < 30 && id === this.msgId && !this.page.gone; i++) {
      await new Promise((r) => setTimeout(r, 2000));
      if (this.page.app.live === "live" && i > 0) continue;
      try {
        const m = await this.api.get(`/v1/channels/${enc(this.page.id)}/messages/${enc(id)}`);
        if (id !== this.msgId) return;
        this.show(m.status, m.reason || "", m.code || "");
        if (FINAL.has(m.status)) return;
      } catch { /* the next round */ }
    }
  }

  onEvent(env) {
    const d = env.data || {};
    if (!this.msgId || d.message_id !== this.msgId) return;
    const status = d.status || env.type.replace("message.", "");
    this.show(status, d.reason || "", d.code || "");
  }
}
