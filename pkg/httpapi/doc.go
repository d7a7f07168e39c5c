// Package httpapi holds what every HTTP surface of wagate shares: the error
// format {"error": {"code", "message", "details"}}, strict JSON binding with
// a size limit, and bearer-token authentication (the admin token, or a
// channel token that reaches only its channel). Error codes are stable
// snake_case strings; clients branch on them, never on messages.
package httpapi
