package webpushtest

import (
	"crypto/ecdh"
	"testing"
)

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeRFC8188 reads the two examples of RFC 8188 §3: one record
// without a key id, and two 25-byte records with key id "a1" and padding.
func TestDecodeRFC8188(t *testing.T) {
	for _, c := range []struct{ name, ikm, body, keyID string }{
		{"3.1", "yqdlZ-tYemfogSmv7Ws5PQ", "I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg", ""},
		{"3.2", "BO3ZVPxUlnLORbVGMpbT1Q", "uNCkWiNYzKTnBN9ji3-qWAAAABkCYTHOG8chz_gnvgOqdGYovxyjuqRyJFjEDyoF1Fvkj6hQPdPHI51OEUKEpgz3SsLWIqS_uA", "a1"},
	} {
		plain, keyID, err := Decode(mustB64(t, c.ikm), mustB64(t, c.body))
		if err != nil {
			t.Fatalf("§%s: %v", c.name, err)
		}
		if string(plain) != "I am the walrus" || string(keyID) != c.keyID {
			t.Errorf("§%s: got %q with key id %q, want \"I am the walrus\" and %q", c.name, plain, keyID, c.keyID)
		}
		body := mustB64(t, c.body)
		body[len(body)-1] ^= 1
		if _, _, err := Decode(mustB64(t, c.ikm), body); err == nil {
			t.Errorf("§%s: a changed tag decoded", c.name)
		}
	}
}

// TestDecryptRFC8291 reads the message of RFC 8291 Appendix A with the
// user agent's private key and auth secret.
func TestDecryptRFC8291(t *testing.T) {
	ua, err := ecdh.P256().NewPrivateKey(mustB64(t, "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Decrypt(ua, mustB64(t, "BTBZMqHH6r4Tts7J_aSIgg"), mustB64(t, RFC8291Body))
	if err != nil {
		t.Fatal(err)
	}
	if string(plain) != "When I grow up, I want to be a watermelon" {
		t.Errorf("plaintext %q", plain)
	}
}
