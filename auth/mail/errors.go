package mail

import (
	"context"
	"errors"
	"strings"
	"time"
)

// sendError is a failed step of a delivery attempt. Its text is
// "mail: <step>: <reason>", scrubbed of secrets; Unwrap gives the context
// error (when the context ended) and the underlying network or SMTP error,
// so errors.Is(err, context.DeadlineExceeded) and errors.As with the
// underlying types work.
type sendError struct {
	step string
	err  error
	ctx  error  // set by finish when the context had ended
	text string // set by finish
}

func (e *sendError) Error() string {
	if e.text == "" {
		return "mail: " + e.step + ": " + e.err.Error()
	}
	return e.text
}

func (e *sendError) Unwrap() []error {
	if e.ctx != nil {
		return []error{e.ctx, e.err}
	}
	return []error{e.err}
}

// stepError labels err with the step that failed.
func stepError(step string, err error) error {
	return &sendError{step: step, err: err}
}

// finish turns the error of a delivery attempt into what Send returns:
// when ctx has ended the reason is the context's error (the underlying
// error is then only "use of closed network connection"); otherwise it is
// the underlying error's text with the password, the recipient (servers
// often quote it when refusing RCPT) and long body tokens removed.
func (s *Sender) finish(ctx context.Context, err error, env *envelope, body string) error {
	var se *sendError
	if !errors.As(err, &se) {
		se = &sendError{step: "send", err: err}
	}
	reason := se.err.Error()
	cerr := ctx.Err()
	if d, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(d) {
		cerr = context.DeadlineExceeded // a socket deadline beat ctx's timer
	}
	if cerr != nil {
		se.ctx = cerr
		reason = cerr.Error()
	}
	se.text = "mail: " + se.step + ": " + scrub(reason, s.set.cfg.Password, env.to, body)
	return se
}

// scrub removes password, the recipient address and every
// whitespace-separated field of body at least minSecretToken bytes long
// (sign-in URLs and tokens) from text.
func scrub(text, password, recipient, body string) string {
	if password != "" {
		text = strings.ReplaceAll(text, password, redactedPassword)
	}
	if recipient != "" {
		text = strings.ReplaceAll(text, recipient, "[recipient]")
	}
	for _, f := range strings.Fields(body) {
		if len(f) >= minSecretToken {
			text = strings.ReplaceAll(text, f, "[redacted]")
		}
	}
	return text
}
