// Package dashboard serves wagate's web dashboard at / from files embedded
// in the binary (static/, plain HTML, CSS and JavaScript modules: no build
// step, no CDN). The page talks only to the public API with the token the
// user signs in with, which it keeps in sessionStorage and never puts in a
// URL; live updates come from the relay's Server-Sent Events, opened with
// a short-lived stream token (POST /v1/stream-tokens).
//
// GET /dashboard/features tells the page which optional routes this
// server has (simulator controls, health, usage, messages, webhooks), read
// from the Gin engine's routes, so it never probes endpoints that are not
// there. Every response carries a strict Content-Security-Policy (scripts,
// styles and connections to this origin only, images also from data: for
// QR codes) and Referrer-Policy: no-referrer, so stream-token URLs do not
// leak through Referer.
package dashboard
