// Package webpushtest is a push service for tests: an HTTP server that
// takes pushes as a real one would (RFC 8030), checks their VAPID token
// (RFC 8292) and decrypts them with the keys of the browser subscriptions
// it made (RFC 8291), so that a test reads what a browser would. Its
// decryption is written from the receiving side of the RFCs, apart from
// the package under test.
package webpushtest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Decode reads an aes128gcm body (RFC 8188 §2) sealed with input keying
// material ikm: it returns the plaintext of every record, padding and
// delimiters removed, and the key id of the header.
func Decode(ikm, body []byte) (plain, keyID []byte, err error) {
	if len(body) < 21 {
		return nil, nil, errors.New("aes128gcm: body shorter than its header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if rs < 18 || len(body) < 21+idlen {
		return nil, nil, errors.New("aes128gcm: bad header")
	}
	keyID, records := body[21:21+idlen], body[21+idlen:]
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, nil, err
	}
	cek, _ := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	nonce, _ := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, err
	}
	for seq := uint64(0); len(records) > 0; seq++ {
		n := min(int(rs), len(records))
		last := n == len(records)
		rec, err := gcm.Open(nil, recordNonce(nonce, seq), records[:n], nil)
		if err != nil {
			return nil, nil, fmt.Errorf("aes128gcm: record %d: %w", seq, err)
		}
		if rec, err = unpad(rec, last); err != nil {
			return nil, nil, fmt.Errorf("aes128gcm: record %d: %w", seq, err)
		}
		plain = append(plain, rec...)
		records = records[n:]
	}
	return plain, keyID, nil
}

// recordNonce XORs the record's sequence number into the low bytes of the
// base nonce (RFC 8188 §2.3).
func recordNonce(base []byte, seq uint64) []byte {
	n := make([]byte, 12)
	copy(n, base)
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], seq)
	for i := range s {
		n[4+i] ^= s[i]
	}
	return n
}

// unpad strips a record's padding: zeros, then the delimiter, 2 for the
// last record and 1 for the others (RFC 8188 §2).
func unpad(rec []byte, last bool) ([]byte, error) {
	i := len(rec) - 1
	for i >= 0 && rec[i] == 0 {
		i--
	}
	want := byte(1)
	if last {
		want = 2
	}
	if i < 0 || rec[i] != want {
		return nil, errors.New("wrong padding delimiter")
	}
	return rec[:i], nil
}

// Decrypt reads a Web Push message (RFC 8291 §3) as the browser holding
// the subscription's private key ua and auth secret would: the header's
// key id is the sender's ephemeral public key.
func Decrypt(ua *ecdh.PrivateKey, auth, body []byte) ([]byte, error) {
	if len(body) < 21+65 || body[20] != 65 {
		return nil, errors.New("webpush: the header's key id is not a P-256 public key")
	}
	asPublic := body[21 : 21+65]
	as, err := ecdh.P256().NewPublicKey(asPublic)
	if err != nil {
		return nil, err
	}
	shared, err := ua.ECDH(as)
	if err != nil {
		return nil, err
	}
	info := "WebPush: info\x00" + string(ua.PublicKey().Bytes()) + string(asPublic)
	ikm, err := hkdf.Key(sha256.New, shared, auth, info, 32)
	if err != nil {
		return nil, err
	}
	plain, _, err := Decode(ikm, body)
	return plain, err
}

// RFC8291Body is the encrypted message of RFC 8291 Appendix A (header and
// ciphertext, base64url).
const RFC8291Body = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
