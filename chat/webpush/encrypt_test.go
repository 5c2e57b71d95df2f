package webpush_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/kindred-health/kindred/chat/webpush"
	"github.com/kindred-health/kindred/chat/webpush/webpushtest"
)

var b64 = base64.RawURLEncoding

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEncryptRFC8291 reproduces RFC 8291 Appendix A byte for byte: its
// sender key pair and salt, the user agent's public key and auth secret,
// and its plaintext give its body.
func TestEncryptRFC8291(t *testing.T) {
	as, err := ecdh.P256().NewPrivateKey(mustB64(t, "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
	if err != nil {
		t.Fatal(err)
	}
	if got := b64.EncodeToString(as.PublicKey().Bytes()); got != "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8" {
		t.Fatalf("sender public key %s", got)
	}
	body, err := webpush.EncryptWith(as, mustB64(t, "DGv6ra1nlYgDCS1FRnbzlw"),
		mustB64(t, "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
		mustB64(t, "BTBZMqHH6r4Tts7J_aSIgg"), []byte("When I grow up, I want to be a watermelon"))
	if err != nil {
		t.Fatal(err)
	}
	if got := b64.EncodeToString(body); got != webpushtest.RFC8291Body {
		t.Errorf("body\n got %s\nwant %s", got, webpushtest.RFC8291Body)
	}
}

// TestEncryptFresh: each message has its own sender key and salt, and the
// subscriber reads it.
func TestEncryptFresh(t *testing.T) {
	ua, _ := ecdh.P256().GenerateKey(rand.Reader)
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	payload := []byte(`{"type":"escalation","id":"esc_1","severity":"high"}`)
	a, err := webpush.Encrypt(ua.PublicKey().Bytes(), auth, payload)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := webpush.Encrypt(ua.PublicKey().Bytes(), auth, payload)
	if bytes.Equal(a[:16], b[:16]) || bytes.Equal(a[21:86], b[21:86]) {
		t.Error("two messages share a salt or a sender key")
	}
	plain, err := webpushtest.Decrypt(ua, auth, a)
	if err != nil || !bytes.Equal(plain, payload) {
		t.Fatalf("Decrypt = %q, %v", plain, err)
	}
	if _, err := webpush.Encrypt(ua.PublicKey().Bytes(), auth, make([]byte, webpush.MaxPayload+1)); err == nil {
		t.Error("a payload larger than one message was encrypted")
	}
	if body, err := webpush.Encrypt(ua.PublicKey().Bytes(), auth, make([]byte, webpush.MaxPayload)); err != nil || len(body) != 4096 {
		t.Errorf("the largest payload gives %d bytes (%v), want 4096", len(body), err)
	}
	if _, err := webpush.Encrypt(ua.PublicKey().Bytes()[:64], auth, payload); err == nil {
		t.Error("a truncated p256dh key was taken")
	}
}
