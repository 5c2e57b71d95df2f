// Package webpush sends Web Push notifications to browsers whose tab is
// closed: the message encryption of RFC 8291 (content coding aes128gcm,
// RFC 8188), the VAPID identification of RFC 8292 (an ES256 JWT per push
// service origin) and delivery to a push service as RFC 8030 says, by a
// Sender whose bounded queue and workers keep the network off its
// callers' goroutines.
//
// It knows nothing of escalations: the server's pager hands it a user and
// a payload that says only that something is waiting; what was written
// never leaves the server this way.
package webpush

import (
	"context"
	"crypto/ecdh"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// Subscription is one browser's push subscription (PushSubscription in
// the Push API), held for the user who made it.
type Subscription struct {
	User     string    `json:"-"`
	Endpoint string    `json:"endpoint"` // the push service's URL for this browser
	P256DH   string    `json:"p256dh"`   // the browser's ECDH public key, base64url
	Auth     string    `json:"auth"`     // the browser's auth secret, base64url
	Created  time.Time `json:"created_at"`
}

// MaxEndpointBytes bounds a subscription's endpoint URL (the push
// services in use give a few hundred bytes).
const MaxEndpointBytes = 2048

// Store keeps subscriptions and the deployment's VAPID key. Both SQL
// stores implement it (migration 0017); chat/storetest checks it with
// chat.Store.
type Store interface {
	// PutPushSubscription records s for s.User. An endpoint belongs to
	// one browser, so a subscription to an endpoint already held (by this
	// user or another who used the same browser before) replaces it. A
	// user keeps at most limit subscriptions: the oldest beyond it are
	// removed.
	PutPushSubscription(ctx context.Context, s Subscription, limit int) error
	// PushSubscriptions lists user's subscriptions, oldest first.
	PushSubscriptions(ctx context.Context, user string) ([]Subscription, error)
	// DeletePushSubscription removes user's subscription to endpoint and
	// reports whether there was one.
	DeletePushSubscription(ctx context.Context, user, endpoint string) (bool, error)
	// InitSetting stores value under name unless a value is stored there
	// already, and returns the stored value: of nodes starting together,
	// every one gets the same.
	InitSetting(ctx context.Context, name, value string) (string, error)
}

// keySetting is the setting that holds a generated VAPID private key.
const keySetting = "vapid_private_key"

// StoredKeys returns the deployment's VAPID key pair kept in st,
// generating and storing it on first use; every node sharing the store
// gets the same pair.
func StoredKeys(ctx context.Context, st Store) (*Keys, error) {
	k, err := GenerateKeys()
	if err != nil {
		return nil, err
	}
	stored, err := st.InitSetting(ctx, keySetting, k.Private())
	if err != nil {
		return nil, err
	}
	return ParseKeys(stored)
}

// Check validates a subscription's fields as a browser gives them: an
// https endpoint (plain http only to a loopback address, and only when
// loopbackHTTP is set: tests run their push service so), a p256dh key
// that is a P-256 point and a 16-byte auth secret, both base64url.
func Check(s Subscription, loopbackHTTP bool) error {
	if err := checkEndpoint(s.Endpoint, loopbackHTTP); err != nil {
		return err
	}
	pub, err := decodeKey(s.P256DH)
	if err != nil || len(pub) != 65 {
		return chat.Errorf(chat.CodeInvalidField, "p256dh must be the subscription's P-256 public key, base64url")
	}
	if _, err := ecdh.P256().NewPublicKey(pub); err != nil {
		return chat.Errorf(chat.CodeInvalidField, "p256dh is not a point on P-256")
	}
	if auth, err := decodeKey(s.Auth); err != nil || len(auth) != 16 {
		return chat.Errorf(chat.CodeInvalidField, "auth must be the subscription's 16-byte secret, base64url")
	}
	return nil
}

func checkEndpoint(endpoint string, loopbackHTTP bool) error {
	if endpoint == "" {
		return chat.Errorf(chat.CodeMissingField, "the endpoint field is required")
	}
	if len(endpoint) > MaxEndpointBytes {
		return chat.Errorf(chat.CodeInvalidField, "the endpoint is longer than %d bytes", MaxEndpointBytes)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return chat.Errorf(chat.CodeInvalidField, "the endpoint must be an absolute https URL")
	}
	if u.Scheme == "https" || (u.Scheme == "http" && loopbackHTTP && isLoopback(u.Hostname())) {
		return nil
	}
	return chat.Errorf(chat.CodeInvalidField, "the endpoint must be an https URL")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// decodeKey reads base64url, with or without padding.
func decodeKey(s string) ([]byte, error) {
	return b64.DecodeString(strings.TrimRight(s, "="))
}
