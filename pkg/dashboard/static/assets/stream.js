// LiveStream keeps one Server-Sent Events connection to the relay.
//
// EventSource cannot send an Authorization header, so the stream is opened
// with a short-lived stream token (POST /v1/stream-tokens) in the query.
// EventSource reconnects by itself with Last-Event-ID while the token is
// valid; once it gives up (the token expired, the server refused), a new
// token is fetched and the stream reopened with ?last_event_id=, so no
// event is missed either way. A "reset" event means the relay could not
// fill the gap: the caller reloads its state from the REST API. So does
// onReady, called when a stream that resumes nothing is ready: anything
// that changed between the caller's first REST read and the relay's
// subscription came on no stream.

import { enc } from "./api.js";

export class LiveStream {
  constructor(api, { onEvent, onReset, onState, onReady }) {
    this.api = api;
    this.onEvent = onEvent;
    this.onReset = onReset;
    this.onState = onState;
    this.onReady = onReady || (() => {});
    this.lastId = "";
    this.es = null;
    this.retry = 0;
    this.timer = 0;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.es) this.es.close();
    this.es = null;
  }

  async connect() {
    if (this.stopped) return;
    this.onState(this.lastId ? "reconnecting" : "connecting");
    const channel = this.api.session.channelId;
    let tok;
    try {
      tok = await this.api.post("/v1/stream-tokens", channel ? { channel_id: channel } : {});
    } catch (err) {
      if (err.status !== 401) this.later();
      return;
    }
    if (this.stopped) return;
    const path = channel ? `/v1/channels/${enc(channel)}/events` : "/v1/events";
    // Every event, whatever its type, goes to onmessage: unnamed events.
    let url = `${path}?event_names=false&stream_token=${enc(tok.token)}`;
    if (this.lastId) url += `&last_event_id=${enc(this.lastId)}`;
    const es = new EventSource(url);
    this.es = es;
    es.onmessage = (e) => {
      if (e.lastEventId) this.lastId = e.lastEventId;
      let env;
      try { env = JSON.parse(e.data); } catch { return; }
      this.onEvent(env, e.lastEventId);
    };
    es.addEventListener("ready", (e) => {
      // The first ready of a fresh stream (nothing to resume from):
      // what changed before the relay subscribed came on no stream.
      const fresh = !this.lastId;
      if (e.lastEventId) this.lastId = e.lastEventId;
      this.retry = 0;
      this.onState("live");
      if (fresh) this.onReady();
    });
    es.addEventListener("reset", (e) => {
      if (e.lastEventId) this.lastId = e.lastEventId;
      this.onReset();
    });
    es.onerror = () => {
      if (this.es !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        this.es = null;
        this.later();
      } else {
        this.onState("reconnecting");
      }
    };
  }

  later() {
    if (this.stopped) return;
    this.onState("reconnecting");
    const delay = Math.min(30000, 1000 * 2 ** this.retry) * (0.5 + Math.random() / 2);
    this.retry = Math.min(this.retry + 1, 5);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
