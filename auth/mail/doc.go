// Package mail sends Kindred's transactional email, in practice the
// single-use sign-in links that let peers (who have no clinic account) sign
// in, through the clinic's SMTP submission server.
//
// Configuration is one URL, so it fits in one environment variable or flag:
//
//	smtp://user:password@mail.clinic.example:587?from=Kindred%20%3Cno-reply%40clinic.example%3E
//	smtps://user:password@mail.clinic.example:465?from=no-reply%40clinic.example
//	smtp+insecure://127.0.0.1:25?from=no-reply%40clinic.example
//
// smtp:// requires STARTTLS and refuses a server that does not offer it
// (no silent downgrade); smtps:// is implicit TLS; smtp+insecure:// sends in
// clear text and is accepted only for a loopback relay. Credentials are only
// ever sent over TLS (AUTH PLAIN). See ParseURL, Config and Config.Redacted.
//
// # Why go-smtp and not net/smtp
//
// The standard library's net/smtp is frozen: it accepts no new features,
// has no context or deadline support, and its documentation points to
// third-party packages. This package uses github.com/emersion/go-smtp,
// which is maintained, supports STARTTLS, implicit TLS and SASL (through
// github.com/emersion/go-sasl) and bounds every command with a deadline.
// Kindred dials the TCP connection itself, so cancellation of the caller's
// context (and Config.Timeout) closes the socket whatever phase the SMTP
// conversation is in.
//
// # Secrets
//
// The SMTP password and the message body are secrets: the body carries a
// sign-in link, which is a bearer credential. Neither is ever logged by
// this package or included in an error's text; errors say which step failed
// ("dial", "tls", "starttls", "hello", "auth", "mail from", "rcpt", "data") and
// why. Recipient addresses are personal data and are not included either.
// In case a server echoes them, error text is also scrubbed of the
// password, the recipient address and any long token of the body.
package mail
