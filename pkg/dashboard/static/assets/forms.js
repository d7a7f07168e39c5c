// Form helpers shared by the editors (webhooks, channel settings, test
// send, number check): a labelled field with its own error line, and the
// API's validation errors shown next to the field they name
// (error.details.field).

import { errorText, h } from "./ui.js";

let seq = 0;

/**
 * field builds a labelled control with an error line under it. name is the
 * API's field name ("url", "settings.send_rate"): an error naming it shows
 * there. hint is an optional help line.
 */
export function field(name, label, control, hint) {
  const id = control.id || `f${++seq}`;
  control.id = id;
  control.dataset.field = name;
  const err = h("p", { class: "field-error", id: `${id}-error`, role: "alert", hidden: true, "data-error-for": name });
  const help = hint ? h("p", { class: "field-hint small muted", id: `${id}-hint` }, hint) : null;
  control.setAttribute("aria-describedby", [help && help.id, err.id].filter(Boolean).join(" "));
  if (control.type === "checkbox") {
    return h("div", { class: "field field-check" }, h("label", { for: id, class: "check" }, control, " ", label), help, err);
  }
  return h("div", { class: "field" }, h("label", { for: id }, label), control, help, err);
}

/** clearErrors hides every error line of a form. */
export function clearErrors(form) {
  for (const el of form.querySelectorAll("[data-error-for], .form-error")) {
    el.hidden = true;
    el.textContent = "";
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/**
 * showError puts an API error next to the field it names (the longest
 * field name that prefixes details.field, so "settings.media.auto_download.types"
 * lands on "settings.media"), or in the form's general error line.
 */
export function showError(form, err, general) {
  const name = err && err.details && typeof err.details === "object" ? err.details.field : "";
  if (name) {
    const slots = [...form.querySelectorAll("[data-error-for]")]
      .filter((el) => name === el.dataset.errorFor || name.startsWith(el.dataset.errorFor + "."))
      .sort((a, b) => b.dataset.errorFor.length - a.dataset.errorFor.length);
    const slot = slots[0];
    if (slot) {
      slot.textContent = errorText(err);
      slot.hidden = false;
      const control = form.querySelector(`[data-field="${CSS.escape(slot.dataset.errorFor)}"]`);
      if (control) {
        control.setAttribute("aria-invalid", "true");
        control.focus();
      }
      return;
    }
  }
  general.textContent = errorText(err);
  general.hidden = false;
}

/** copyButton copies text to the clipboard and says so. */
export function copyButton(text, labels, onDone) {
  const btn = h("button", { type: "button", class: "btn btn-small copy" }, labels.copy);
  btn.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text());
      btn.textContent = labels.copied;
      onDone?.(true);
    } catch {
      onDone?.(false);
    }
  });
  return btn;
}
