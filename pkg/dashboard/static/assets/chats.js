// The chats of a channel (GET …/chats with cursor paging; a click opens
// the chat's messages from GET …/chats/{chat}/messages), the names of
// contacts (GET …/contacts) shown instead of raw JIDs, and a number check
// (POST …/contacts/check).

import { enc } from "./api.js";
import { t } from "./i18n.js";
import { clearErrors, field, showError } from "./forms.js";
import { busy, clear, errorText, fmtAgo, fmtDateTime, fmtPhone, h, timeEl } from "./ui.js";

const CHAT_PAGE = 20;
// Contacts whose pictures are read at once.
const PICTURE_FETCHES = 4;
// A user (phone-number JID or LID): they have profile pictures.
const USER_JID = /@(s\.whatsapp\.net|lid)$/;
const MSG_PAGE = 20;
// muted_until this far away means "until unmuted".
const FOREVER = Date.UTC(9000, 0, 1);

/** jidLabel shows a phone-number JID as +digits; other JIDs as they are. */
export function jidLabel(jid) {
  if (!jid) return "";
  const m = /^(\d+)@s\.whatsapp\.net$/.exec(jid);
  return m ? fmtPhone(m[1]) : jid;
}

/** messageText is the readable text of a logged message. */
export function messageText(m) {
  const body = m?.body || {};
  return body.text || body.caption || body.body || (body.latitude ? `📍 ${body.latitude}, ${body.longitude}` : "") || "";
}

/**
 * initials are the first letters of a name's first and last words ("Alice
 * Example" → "AE"); a name without letters (a number) has none.
 */
export function initials(name) {
  const words = String(name || "").split(/\s+/).map((w) => w.replace(/[^\p{L}\p{N}]/gu, "")).filter((w) => /\p{L}/u.test(w));
  if (!words.length) return "";
  const first = (w) => Array.from(w)[0].toLocaleUpperCase();
  return words.length > 1 ? first(words[0]) + first(words[words.length - 1]) : first(words[0]);
}

/**
 * ContactNames knows the names of the channel's contacts (address book
 * name, else push name, else business name) by phone-number JID and LID.
 * The contact store lives on the device: a channel that is not active
 * answers 409 and the names stay unknown until it is.
 */
export class ContactNames {
  constructor(api, channelId) {
    this.api = api;
    this.channelId = channelId;
    this.names = new Map();
    this.loaded = false;
    // Pictures, read once per page: JID → Promise of the picture's URL
    // ("" when the contact has none or hides it).
    this.pictures = new Map();
    this.running = 0;
    this.waiting = [];
    this.observer = null;
    // active says whether the channel can answer now (set by the page).
    this.active = () => true;
  }

  async load() {
    try {
      const page = await this.api.get(`/v1/channels/${enc(this.channelId)}/contacts`);
      const names = new Map();
      for (const c of page.data || []) {
        const name = c.name || c.push_name || c.business_name || c.verified_name || "";
        if (!name) continue;
        if (c.jid) names.set(c.jid, name);
        if (c.lid) names.set(c.lid, name);
        if (c.phone) names.set(`${c.phone}@s.whatsapp.net`, name);
      }
      this.names = names;
      this.loaded = true;
      return true;
    } catch {
      return false;
    }
  }

  /** learn keeps a name another answer told (a chat's push name). */
  learn(jid, name) {
    if (jid && name && !this.names.has(jid)) this.names.set(jid, name);
  }

  name(jid) { return this.names.get(jid) || ""; }

  /** label is an element naming jid: the contact's picture or initials and name, with the number as its title. */
  label(jid, lid) {
    const name = this.name(jid) || (lid && this.name(lid));
    return h("span", { class: "contact" }, this.avatar(jid, name),
      name
        ? h("span", { class: "contact-name", title: jidLabel(jid), "data-jid": jid }, name)
        : h("span", { class: "contact-jid", "data-jid": jid }, jidLabel(jid)));
  }

  /**
   * avatar shows the initials of name and, once the element is in view,
   * the contact's picture if WhatsApp has one (GET …/contacts/{jid}: a
   * picture_id; then GET …/picture?preview=true: its URL on WhatsApp's
   * CDN, which the page's CSP lets images load from). Only an active
   * channel's device can ask, so nothing is asked before the contacts
   * loaded, and only about people known by a name (in the address book
   * or by their push name), who are on WhatsApp; groups and bare numbers
   * keep their initials or a placeholder.
   */
  avatar(jid, name) {
    const text = initials(name);
    const el = h("span", { class: text ? "avatar" : "avatar avatar-none", "aria-hidden": "true", translate: "no", dataset: { jid: jid || "" } }, text);
    if (this.loaded && name && jid && USER_JID.test(jid)) this.observe(el);
    return el;
  }

  observe(el) {
    if (!this.observer) {
      this.observer = new IntersectionObserver((entries) => {
        for (const e of entries) {
          if (!e.isIntersecting) continue;
          this.observer.unobserve(e.target);
          const target = e.target;
          this.picture(target.dataset.jid).then((url) => { if (url) showPicture(target, url); });
        }
      }, { rootMargin: "200px" });
    }
    this.observer.observe(el);
  }

  /** picture is the URL of jid's picture preview, "" without one; read once per page. */
  picture(jid) {
    let p = this.pictures.get(jid);
    if (!p) {
      if (!this.active()) return Promise.resolve(""); // asked once the channel is back
      p = this.limited(() => this.readPicture(jid));
      this.pictures.set(jid, p);
    }
    return p;
  }

  async readPicture(jid) {
    const base = `/v1/channels/${enc(this.channelId)}/contacts/${enc(jid)}`;
    try {
      // Asking for the picture of a contact without one answers 404: the
      // contact's info says first whether there is one.
      const info = await this.api.get(base);
      if (!info.picture_id) return "";
      const pic = await this.api.get(`${base}/picture?preview=true`);
      return pic.url || "";
    } catch {
      return "";
    }
  }

  // limited runs fn with at most PICTURE_FETCHES others at once.
  async limited(fn) {
    while (this.running >= PICTURE_FETCHES) await new Promise((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

// showPicture puts the picture at url in an avatar once it loaded; one
// that does not load (an expired URL) leaves the initials.
function showPicture(el, url) {
  const img = h("img", { alt: "", width: 28, height: 28, decoding: "async", referrerpolicy: "no-referrer" });
  img.addEventListener("load", () => {
    el.replaceChildren(img);
    el.classList.remove("avatar-none");
    el.classList.add("avatar-picture");
  }, { once: true });
  img.src = url;
}

export class ChatsPanel {
  constructor(page, el, contacts) {
    this.page = page;
    this.el = el;
    this.contacts = contacts;
    this.chats = [];
    this.next = "";
    this.open = null; // the chat whose messages are shown
  }

  get api() { return this.page.app.api; }
  get base() { return `/v1/channels/${enc(this.page.id)}`; }

  render() {
    this.listEl = h("ul", { class: "chat-list", id: "chat-list", "aria-label": t("chats.title") });
    this.moreBtn = h("button", { type: "button", class: "btn btn-small", id: "chats-more", hidden: true, onclick: (e) => this.loadChats(false, e.currentTarget) }, t("chats.more"));
    this.viewEl = h("div", { class: "chat-view", id: "chat-view", hidden: true });
    clear(this.el,
      h("div", { class: "panel-head" }, h("h2", { id: "h-chats" }, t("chats.title")), h("span", { class: "muted small", id: "chats-count" })),
      h("div", { class: "chats-layout" },
        h("div", { class: "chats-side" }, this.listEl, this.moreBtn),
        this.viewEl));
    this.loadChats(true);
  }

  // loadChats reads the first page (first) or the next one.
  async loadChats(first, btn) {
    const seq = this.seq = (this.seq || 0) + 1;
    const q = `limit=${CHAT_PAGE}${!first && this.next ? `&after=${enc(this.next)}` : ""}`;
    await busy(btn, async () => {
      let page;
      try {
        page = await this.api.get(`${this.base}/chats?${q}`);
      } catch (e) {
        if (seq === this.seq) clear(this.listEl, h("li", { class: "muted" }, errorText(e)));
        return;
      }
      if (this.page.gone || seq !== this.seq) return;
      for (const c of page.data || []) this.contacts.learn(c.chat, c.name);
      this.chats = first ? page.data || [] : [...this.chats, ...(page.data || [])];
      this.next = page.next_after || "";
      this.renderList();
    });
  }

  // reload reads the chats again after a message, keeping what was paged.
  reload() {
    if (this.chats.length > CHAT_PAGE) return; // paged further: left as the user paged it
    this.loadChats(true);
    if (this.open) this.loadMessages(this.open, true);
  }

  renderList() {
    clear(this.listEl, this.chats.length
      ? this.chats.map((c) => this.chatItem(c))
      : h("li", { class: "muted", id: "chats-empty" }, t("chats.empty")));
    this.moreBtn.hidden = !this.next;
    this.el.querySelector("#chats-count").textContent = t("chats.count", { count: this.chats.length });
  }

  chatName(c) {
    return c.name || this.contacts.name(c.chat) || (c.chat_lid && this.contacts.name(c.chat_lid)) || jidLabel(c.chat);
  }

  chatItem(c) {
    const muted = c.muted_until && new Date(c.muted_until).getTime() > Date.now();
    const last = c.last_message;
    const preview = last ? messageText(last) || t("chats.type", { type: last.type }) : "";
    const name = this.chatName(c);
    const named = name !== jidLabel(c.chat);
    const btn = h("button", { type: "button", class: "chat-item", "aria-current": this.open === c.chat ? "true" : false, onclick: () => this.openChat(c) },
      this.contacts.avatar(c.chat, named ? name : ""),
      h("span", { class: "chat-body" },
        h("span", { class: "chat-top" },
          h("span", { class: "chat-name" }, name),
          c.last_at ? h("span", { class: "small muted" }, timeEl(c.last_at, fmtAgo(c.last_at))) : null),
        h("span", { class: "chat-bottom" },
          h("span", { class: "chat-last small muted" }, last && last.direction === "outbound" ? `↑ ${preview}` : preview),
          h("span", { class: "chat-flags" },
            c.pinned ? h("span", { class: "chip", title: t("chats.pinned") }, t("chats.pinned_short")) : null,
            c.archived ? h("span", { class: "chip", title: t("chats.archived") }, t("chats.archived_short")) : null,
            muted ? h("span", { class: "chip", title: new Date(c.muted_until).getTime() > FOREVER ? t("chats.muted_forever") : t("chats.muted_until", { at: fmtDateTime(c.muted_until) }) }, t("chats.muted_short")) : null,
            c.unread_count ? h("span", { class: "chip chip-ok unread", "aria-label": t("chats.unread", { count: c.unread_count }) }, String(c.unread_count)) : null))));
    return h("li", { dataset: { chat: c.chat } }, btn);
  }

  openChat(c) {
    this.open = c.chat;
    this.openName = this.chatName(c);
    this.before = "";
    this.back = [];
    for (const b of this.listEl.querySelectorAll(".chat-item")) b.removeAttribute("aria-current");
    this.listEl.querySelector(`li[data-chat="${CSS.escape(c.chat)}"] .chat-item`)?.setAttribute("aria-current", "true");
    this.loadMessages(c.chat, true);
  }

  async loadMessages(chat, first) {
    if (first) { this.before = ""; this.back = []; }
    const seq = this.mseq = (this.mseq || 0) + 1;
    let page;
    try {
      page = await this.api.get(`${this.base}/chats/${enc(chat)}/messages?limit=${MSG_PAGE}${this.before ? `&before=${enc(this.before)}` : ""}`);
    } catch (e) {
      if (seq === this.mseq) clear(this.viewEl, h("p", { class: "muted" }, errorText(e)));
      this.viewEl.hidden = false;
      return;
    }
    if (this.page.gone || seq !== this.mseq || chat !== this.open) return;
    const next = page.next_before || "";
    const list = [...(page.data || [])].reverse(); // oldest first, as a conversation reads
    const older = h("button", { type: "button", class: "btn btn-small", id: "chat-older", disabled: !next,
      onclick: () => { this.back.push(this.before); this.before = next; this.loadMessages(chat, false); } }, t("chats.older"));
    const newer = h("button", { type: "button", class: "btn btn-small", id: "chat-newer", disabled: !this.back.length,
      onclick: () => { this.before = this.back.pop() || ""; this.loadMessages(chat, false); } }, t("chats.newer"));
    clear(this.viewEl,
      h("div", { class: "chat-view-head" },
        h("h3", { id: "chat-view-title" }, this.openName),
        h("span", { class: "small muted" }, jidLabel(chat)),
        h("div", { class: "toolbar" }, older, newer,
          h("button", { type: "button", class: "btn btn-small btn-ghost", id: "chat-close", onclick: () => this.closeChat() }, t("action.close")))),
      list.length
        ? h("ol", { class: "bubbles", id: "chat-messages" }, list.map((m) => h("li", { class: `bubble ${m.direction}`, dataset: { id: m.id } },
          m.direction === "inbound" && m.from && m.from !== chat ? h("div", { class: "small bubble-from" }, this.contacts.label(m.from, m.from_lid)) : null,
          h("div", { class: "bubble-text" }, messageText(m) || t("chats.type", { type: m.type })),
          h("div", { class: "small muted bubble-meta" }, timeEl(m.created_at), m.direction === "outbound" ? ` · ${m.status}` : ""))))
        : h("p", { class: "muted" }, t("chats.no_messages")));
    this.viewEl.hidden = false;
  }

  closeChat() {
    this.open = null;
    this.viewEl.hidden = true;
    for (const b of this.listEl.querySelectorAll(".chat-item")) b.removeAttribute("aria-current");
  }
}

/** NumberCheck asks which numbers are on WhatsApp. */
export class NumberCheck {
  constructor(page, el) {
    this.page = page;
    this.el = el;
  }

  render() {
    const phones = h("textarea", { id: "check-phones", rows: 3, spellcheck: "false", placeholder: "+4915112345678\n+15550102030" });
    const general = h("p", { class: "form-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: "btn btn-primary", id: "check-submit" }, t("check.submit"));
    const out = h("div", { id: "check-result", role: "status", "aria-live": "polite" });
    const form = h("form", { id: "check-form", novalidate: true },
      field("phones", t("check.phones"), phones, t("check.phones_hint")), general, h("div", { class: "toolbar" }, submit));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearErrors(form);
      const list = phones.value.split(/[\n,;]+/).map((s) => s.trim()).filter(Boolean);
      if (!list.length) {
        showError(form, { message: t("check.none"), details: { field: "phones" } }, general);
        return;
      }
      await busy(submit, async () => {
        try {
          const r = await this.page.app.api.post(`/v1/channels/${enc(this.page.id)}/contacts/check`, { phones: list });
          clear(out, h("table", { class: "data", id: "check-table" },
            h("thead", {}, h("tr", {}, [t("check.phone"), t("check.exists"), t("check.jid")].map((x) => h("th", { scope: "col" }, x)))),
            h("tbody", {}, (r.data || []).map((x) => h("tr", { dataset: { phone: x.phone, exists: String(x.exists) } },
              h("td", {}, fmtPhone(x.phone)),
              h("td", {}, h("span", { class: `chip ${x.exists ? "chip-ok" : "chip-bad"}` }, x.exists ? t("check.yes") : t("check.no"))),
              h("td", { class: "small" }, x.jid || "", x.lid ? h("div", { class: "muted" }, x.lid) : null))))));
        } catch (err) {
          showError(form, err, general);
        }
      });
    });
    clear(this.el, h("div", { class: "panel-head" }, h("h2", { id: "h-check" }, t("check.title"))), form, out);
  }
}
