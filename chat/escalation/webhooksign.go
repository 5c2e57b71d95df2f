package escalation

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Webhook headers.
const (
	SignatureHeader = "X-Kindred-Signature"
	TimestampHeader = "X-Kindred-Timestamp"
	DeliveryHeader  = "X-Kindred-Delivery"
	EventHeader     = "X-Kindred-Event"
)

// SignatureTolerance is how far from its own clock a receiver should
// accept a delivery's timestamp (docs/deploy.md): past it, a captured
// delivery replayed later is refused.
const SignatureTolerance = 5 * time.Minute

// Sign returns the X-Kindred-Signature value of a delivery sent at ts
// (Unix seconds, as in X-Kindred-Timestamp): "sha256=" and the hex
// HMAC-SHA256 with secret of ts, ".", and the exact body bytes. The time
// is signed so that a receiver can refuse an old delivery replayed.
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Signature check failures (VerifySignature).
var (
	ErrBadSignature = errors.New("webhook: the signature does not match")
	ErrStale        = errors.New("webhook: the timestamp is outside the tolerance")
)

// VerifySignature is the receiver's check of a delivery: sig and ts are
// its X-Kindred-Signature and X-Kindred-Timestamp, body its raw bytes.
// It fails when the signature does not match (compared in constant time)
// or when ts is more than tolerance away from now, either way.
func VerifySignature(secret []byte, sig, ts string, body []byte, now time.Time, tolerance time.Duration) error {
	if !hmac.Equal([]byte(sig), []byte(Sign(secret, ts, body))) {
		return ErrBadSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	return nil
}

// CheckWebhookURL accepts an absolute https URL with a host, or an http one
// when allowHTTP (development).
func CheckWebhookURL(raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("escalation: the webhook URL is not an absolute URL")
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && allowHTTP:
		return nil
	case u.Scheme == "http":
		return errors.New("escalation: the webhook URL must be https (plain http only when allowed, for development)")
	}
	return fmt.Errorf("escalation: the webhook URL has scheme %q; want https", u.Scheme)
}
