// Channel settings on the channel page: the name and every override of
// PATCH /v1/channels/{id} (send rate, warm-up, queue bound, typing, online
// presence, history window, call rejection with its reply, media
// auto-download). Only what changed is sent; an emptied field returns to
// the fleet default (null). API errors appear next to their field.

import { enc } from "./api.js";
import { t } from "./i18n.js";
import { clearErrors, field, showError } from "./forms.js";
import { busy, clear, h, toast } from "./ui.js";

const MEDIA_TYPES = ["image", "audio", "document", "video", "sticker"];
const mediaLabels = () => ({
  image: t("settings.media_image"),
  audio: t("settings.media_audio"),
  document: t("settings.media_document"),
  video: t("settings.media_video"),
  sticker: t("settings.media_sticker"),
});
const MEDIA_DEFAULT = ["image", "audio", "document"];
const MB = 1024 * 1024;

export class SettingsPanel {
  constructor(page, el) {
    this.page = page;
    this.el = el;
  }

  get api() { return this.page.app.api; }

  render() {
    const ch = this.page.ch;
    const s = ch.settings || {};
    const num = (id, key, min, max) => h("input", { id, type: "number", min, max, step: 1, inputmode: "numeric", placeholder: t("settings.default"), value: s[key] ?? "" });
    this.inputs = {
      name: h("input", { id: "set-name", required: true, maxlength: 100, autocomplete: "off", value: ch.name }),
      send_rate: h("input", { id: "set-send-rate", autocomplete: "off", spellcheck: "false", placeholder: t("settings.send_rate_placeholder"), value: s.send_rate ?? "" }),
      warmup_days: num("set-warmup", "warmup_days", 0, 365),
      max_queue: num("set-max-queue", "max_queue", 1, 100000),
      typing_ms: num("set-typing", "typing_ms", 0, 30000),
      history_days: num("set-history", "history_days", 0, 3650),
      online: h("input", { id: "set-online", type: "checkbox", checked: s.presence?.online ?? true }),
      reject_calls: h("input", { id: "set-reject-calls", type: "checkbox", checked: !!s.reject_calls }),
      reject_calls_reply: h("textarea", { id: "set-reject-reply", rows: 2, maxlength: 1000 }, s.reject_calls_reply ?? ""),
      proxy: h("input", { id: "set-proxy", autocomplete: "off", spellcheck: "false", placeholder: "socks5://user:password@host:1080", value: s.proxy ?? "" }),
      max_mb: h("input", { id: "set-media-max", type: "number", min: 0, max: 2048, step: "any", inputmode: "decimal", placeholder: "16",
        value: s.media?.auto_download?.max_bytes != null ? String(+(s.media.auto_download.max_bytes / MB).toFixed(3)) : "" }),
    };
    const types = s.media?.auto_download?.types ?? MEDIA_DEFAULT;
    this.typeBoxes = MEDIA_TYPES.map((ty) => h("input", { type: "checkbox", value: ty, checked: types.includes(ty), class: "media-type", id: `set-media-${ty}` }));
    const i = this.inputs;
    const replyField = field("settings.reject_calls_reply", t("settings.reject_reply"), i.reject_calls_reply, t("settings.reject_reply_hint"));
    const syncReply = () => { replyField.hidden = !i.reject_calls.checked; };
    i.reject_calls.addEventListener("change", syncReply);
    syncReply();
    const typesField = h("fieldset", { class: "field media-types", "data-field": "settings.media.auto_download.types" },
      h("legend", {}, t("settings.media_types")),
      h("div", { class: "check-row" }, this.typeBoxes.map((b) => h("label", { class: "check", for: b.id }, b, " ", mediaLabels()[b.value]))),
      h("p", { class: "field-error", role: "alert", hidden: true, "data-error-for": "settings.media" }));
    this.general = h("p", { class: "form-error", id: "settings-error", role: "alert", hidden: true });
    this.submit = h("button", { type: "submit", class: "btn btn-primary", id: "settings-save" }, t("settings.save"));
    this.form = h("form", { id: "settings-form", novalidate: true },
      h("div", { class: "form-grid" },
        field("name", t("settings.name"), i.name),
        field("settings.send_rate", t("settings.send_rate"), i.send_rate, t("settings.send_rate_hint")),
        field("settings.warmup_days", t("settings.warmup"), i.warmup_days, t("settings.warmup_hint")),
        field("settings.max_queue", t("settings.max_queue"), i.max_queue, t("settings.max_queue_hint")),
        field("settings.typing_ms", t("settings.typing"), i.typing_ms, t("settings.typing_hint")),
        field("settings.history_days", t("settings.history"), i.history_days, t("settings.history_hint")),
        field("settings.presence", t("settings.online"), i.online, t("settings.online_hint")),
        field("settings.reject_calls", t("settings.reject_calls"), i.reject_calls, t("settings.reject_calls_hint")),
        replyField,
        typesField,
        field("settings.media.auto_download.max_bytes", t("settings.media_max"), i.max_mb, t("settings.media_max_hint")),
        field("settings.proxy", t("settings.proxy"), i.proxy, t("settings.proxy_hint"))),
      this.general,
      h("div", { class: "toolbar" }, this.submit));
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.save(); });
    clear(this.el,
      h("div", { class: "panel-head" }, h("h2", { id: "h-settings" }, t("settings.title"))),
      h("details", { id: "settings-details", open: this.open || false,
        ontoggle: (e) => { this.open = e.currentTarget.open; } },
      h("summary", {}, t("settings.summary")), this.form));
  }

  // patch is what changed against the channel's current record.
  patch() {
    const ch = this.page.ch;
    const s = ch.settings || {};
    const i = this.inputs;
    const out = {};
    const settings = {};
    const name = i.name.value.trim();
    if (name !== ch.name) out.name = name;
    const text = i.send_rate.value.trim();
    if (text !== (s.send_rate ?? "")) settings.send_rate = text === "" ? null : text;
    for (const key of ["warmup_days", "max_queue", "typing_ms", "history_days"]) {
      const v = i[key].value.trim();
      const now = s[key] ?? "";
      if (v !== String(now)) settings[key] = v === "" ? null : Number(v);
    }
    if (i.online.checked !== (s.presence?.online ?? true)) settings.presence = { online: i.online.checked };
    if (i.reject_calls.checked !== !!s.reject_calls) settings.reject_calls = i.reject_calls.checked;
    const reply = i.reject_calls_reply.value.trim();
    if (reply !== (s.reject_calls_reply ?? "")) settings.reject_calls_reply = reply === "" ? null : reply;
    // The proxy comes back masked (password ***): unchanged, it is not sent.
    const proxy = i.proxy.value.trim();
    if (proxy !== (s.proxy ?? "")) settings.proxy = proxy === "" ? null : proxy;
    const types = this.typeBoxes.filter((b) => b.checked).map((b) => b.value);
    const oldTypes = s.media?.auto_download?.types ?? MEDIA_DEFAULT;
    const mb = i.max_mb.value.trim();
    const oldMax = s.media?.auto_download?.max_bytes;
    const max = mb === "" ? undefined : Math.round(Number(mb) * MB);
    const same = (x, y) => [...x].sort().join() === [...y].sort().join();
    if (!same(types, oldTypes) || max !== oldMax) {
      const ad = {};
      if (!same(types, MEDIA_DEFAULT) || s.media?.auto_download?.types) ad.types = types;
      if (max !== undefined) ad.max_bytes = max;
      settings.media = { auto_download: ad };
    }
    if (Object.keys(settings).length) out.settings = settings;
    return out;
  }

  async save() {
    clearErrors(this.form);
    const body = this.patch();
    if (!Object.keys(body).length) {
      toast(t("settings.unchanged"));
      return;
    }
    await busy(this.submit, async () => {
      try {
        const ch = await this.api.request("PATCH", `/v1/channels/${enc(this.page.id)}`, body);
        this.page.app.channels.set(ch.id, ch);
        this.page.renderHead();
        this.render();
        const ok = this.el.querySelector("#settings-save");
        ok?.focus();
        toast(t("settings.saved"));
        this.el.dataset.saved = String(Date.now());
      } catch (err) {
        showError(this.form, err, this.general);
      }
    });
  }
}
