// The webhook editor of the channel page: create and edit an endpoint
// (URL, description, event filters, custom headers, max_in_flight,
// enabled) and rotate its signing secret, as pkg/webhook/handlers.go
// defines them. The secret is shown once, in its own dialog, with a copy
// button; validation errors of the API appear next to their field.

import { enc } from "./api.js";
import { t } from "./i18n.js";
import { clearErrors, copyButton, field, showError } from "./forms.js";
import { busy, fmtDateTime, h, openDialog, toast } from "./ui.js";

// The grace periods offered when rotating (the API takes 0s to 168h).
const graces = () => [
  ["24h", t("hook_rotate.grace_24h")],
  ["1h", t("hook_rotate.grace_1h")],
  ["168h", t("hook_rotate.grace_168h")],
  ["0s", t("hook_rotate.grace_0s")],
];

export class WebhookEditor {
  /** base is the endpoints' collection path; done runs after a change. */
  constructor(api, base, done) {
    this.api = api;
    this.base = base;
    this.done = done;
  }

  // dialog builds a dialog in the page, removed when it closes.
  dialog(id, labelId, ...body) {
    document.getElementById(id)?.remove();
    const dlg = h("dialog", { id, class: "dialog dialog-wide", "aria-labelledby": labelId }, ...body);
    dlg.addEventListener("click", (e) => {
      if (e.target.closest("[data-close]") || e.target === dlg) dlg.close("cancel");
    });
    dlg.addEventListener("close", () => setTimeout(() => dlg.remove(), 0), { once: true });
    document.body.append(dlg);
    return dlg;
  }

  /** open edits endpoint e, or creates one when e is null. */
  open(e) {
    const editing = !!e;
    const url = h("input", { id: "hook-url", type: "url", required: true, autocomplete: "off", spellcheck: "false", placeholder: "https://example.com/wagate", value: e?.url || "" });
    const desc = h("input", { id: "hook-description", autocomplete: "off", maxlength: 500, value: e?.description || "" });
    const events = h("input", { id: "hook-events", autocomplete: "off", spellcheck: "false", placeholder: "message.*, connection.status_changed", value: (e?.events || []).join(", ") });
    const max = h("input", { id: "hook-max", type: "number", min: 1, step: 1, inputmode: "numeric", placeholder: t("hook_form.max_default"), value: e && e.max_in_flight ? String(e.max_in_flight) : "" });
    const enabled = h("input", { id: "hook-enabled", type: "checkbox", checked: editing ? e.enabled : true });
    const rows = h("div", { class: "header-rows", id: "hook-headers" });
    const addRow = (name = "", value = "") => {
      const n = h("input", { class: "header-name", autocomplete: "off", spellcheck: "false", placeholder: "X-Api-Key", value: name, "aria-label": t("hook_form.header_name") });
      const v = h("input", { class: "header-value", autocomplete: "off", spellcheck: "false", value, "aria-label": t("hook_form.header_value") });
      const row = h("div", { class: "header-row" }, n, v,
        h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-label": t("hook_form.header_remove"), onclick: () => row.remove() }, "✕"));
      rows.append(row);
      return n;
    };
    for (const [k, v] of Object.entries(e?.headers || {})) addRow(k, v);
    const headersBox = h("div", { class: "field" },
      h("span", { class: "label", id: "hook-headers-label" }, t("hook_form.headers")),
      h("p", { class: "field-hint small muted" }, t("hook_form.headers_hint")),
      rows,
      h("button", { type: "button", class: "btn btn-small", id: "hook-header-add", onclick: () => addRow().focus() }, t("hook_form.header_add")),
      h("p", { class: "field-error", role: "alert", hidden: true, "data-error-for": "headers" }));
    rows.dataset.field = "headers";
    const general = h("p", { class: "form-error", id: "hook-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: "btn btn-primary", id: "hook-submit" }, editing ? t("hook_form.save") : t("hook_form.create"));
    const form = h("form", { class: "dialog-body", id: "hook-form", novalidate: true },
      h("h2", { id: "hook-title" }, editing ? t("hook_form.edit_title") : t("hook_form.new_title")),
      field("url", t("hook_form.url"), url, t("hook_form.url_hint")),
      field("description", t("hook_form.description"), desc),
      field("events", t("hook_form.events"), events, t("hook_form.events_hint")),
      headersBox,
      field("max_in_flight", t("hook_form.max"), max, t("hook_form.max_hint")),
      field("enabled", t("hook_form.enabled"), enabled),
      general,
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "btn", "data-close": true }, t("action.cancel")),
        submit));
    const dlg = this.dialog("hook-dialog", "hook-title", form);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const headers = {};
      for (const row of rows.querySelectorAll(".header-row")) {
        const name = row.querySelector(".header-name").value.trim();
        if (name) headers[name] = row.querySelector(".header-value").value;
      }
      const body = {
        url: url.value.trim(),
        description: desc.value.trim(),
        events: events.value.split(/[\s,]+/).filter(Boolean),
        headers,
        enabled: enabled.checked,
        max_in_flight: max.value.trim() === "" ? null : Number(max.value),
      };
      if (!editing && body.max_in_flight === null) delete body.max_in_flight;
      await busy(submit, async () => {
        try {
          if (editing) {
            await this.api.request("PATCH", `${this.base}/${enc(e.id)}`, body);
            dlg.close("saved");
            toast(t("webhooks.saved"));
          } else {
            const got = await this.api.post(this.base, body);
            dlg.close("created");
            this.showSecret(got, t("hook_secret.created_title"));
          }
          this.done();
        } catch (err) {
          showError(form, err, general);
        }
      });
    });
    openDialog(dlg, url);
  }

  /** rotate asks for the grace period, rotates and shows the new secret. */
  rotate(e) {
    const grace = h("select", { id: "rotate-grace" }, graces().map(([g, label]) => h("option", { value: g }, label)));
    const general = h("p", { class: "form-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: "btn btn-primary", id: "rotate-submit" }, t("hook_rotate.submit"));
    const form = h("form", { class: "dialog-body", id: "rotate-form" },
      h("h2", { id: "rotate-title" }, t("hook_rotate.title")),
      h("p", {}, t("hook_rotate.text", { url: e.url })),
      field("grace_period", t("hook_rotate.grace"), grace, t("hook_rotate.grace_hint")),
      general,
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "btn", "data-close": true }, t("action.cancel")),
        submit));
    const dlg = this.dialog("rotate-dialog", "rotate-title", form);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      await busy(submit, async () => {
        try {
          const got = await this.api.post(`${this.base}/${enc(e.id)}/rotate`, { grace_period: grace.value });
          dlg.close("rotated");
          this.showSecret(got, t("hook_secret.rotated_title"));
          this.done();
        } catch (err) {
          showError(form, err, general);
        }
      });
    });
    openDialog(dlg, grace);
  }

  // showSecret shows an endpoint's signing secret, once.
  showSecret(e, title) {
    const secret = e.secret || "";
    const code = h("code", { id: "hook-secret", class: "mono" }, secret);
    const dlg = this.dialog("secret-dialog", "secret-title",
      h("div", { class: "dialog-body" },
        h("h2", { id: "secret-title" }, title),
        h("p", {}, t("hook_secret.once")),
        h("div", { class: "copy-field" }, code,
          copyButton(() => secret, { copy: t("action.copy"), copied: t("action.copied") },
            (ok) => toast(ok ? t("hook_secret.copied") : t("hook_secret.copy_failed"), ok ? "info" : "error"))),
        e.previous_secret_expires_at
          ? h("p", { class: "muted small", id: "hook-secret-grace" }, t("hook_secret.previous", { at: fmtDateTime(e.previous_secret_expires_at) }))
          : null,
        h("div", { class: "dialog-actions" }, h("button", { type: "button", class: "btn btn-primary", "data-close": true, id: "secret-close" }, t("action.done")))));
    openDialog(dlg, dlg.querySelector("#secret-close"));
  }
}
