package webpush

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
)

// recordSize is the rs of every message's header (RFC 8188 §2.1): one
// record holds the whole payload, which MaxPayload keeps well below it.
const recordSize = 4096

// MaxPayload is the largest payload Encrypt takes: RFC 8030 push services
// must accept 4096 bytes of body, and the header (86 bytes), the padding
// delimiter and the AEAD tag (16 bytes) come out of that.
const MaxPayload = recordSize - 86 - 1 - 16

// errPayloadSize refuses a payload that does not fit one push message.
var errPayloadSize = errors.New("webpush: payload larger than a push message can carry")

// Encrypt seals payload for the user agent whose subscription keys are
// uaPublic (the p256dh key: an uncompressed P-256 point, 65 bytes) and
// authSecret (16 bytes), as RFC 8291 says: a fresh ephemeral key pair and
// salt per message, content coding aes128gcm (RFC 8188), one record. The
// result is the whole request body, header included.
func Encrypt(uaPublic, authSecret, payload []byte) ([]byte, error) {
	as, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	var salt [16]byte
	if _, err := io.ReadFull(rand.Reader, salt[:]); err != nil {
		return nil, err
	}
	return encrypt(as, salt[:], uaPublic, authSecret, payload)
}

// encrypt is Encrypt with the application server's ephemeral key and the
// salt given (RFC 8291 Appendix A fixes both).
func encrypt(as *ecdh.PrivateKey, salt, uaPublic, authSecret, payload []byte) ([]byte, error) {
	if len(payload) > MaxPayload {
		return nil, errPayloadSize
	}
	if len(authSecret) != 16 {
		return nil, errors.New("webpush: the auth secret must be 16 bytes")
	}
	ua, err := ecdh.P256().NewPublicKey(uaPublic)
	if err != nil {
		return nil, errors.New("webpush: the p256dh key is not a P-256 point")
	}
	shared, err := as.ECDH(ua)
	if err != nil {
		return nil, err
	}
	asPublic := as.PublicKey().Bytes()
	// RFC 8291 §3.3: the input keying material mixes the ECDH secret
	// with the auth secret, bound to both public keys.
	keyInfo := make([]byte, 0, 14+65+65)
	keyInfo = append(keyInfo, "WebPush: info\x00"...)
	keyInfo = append(keyInfo, uaPublic...)
	keyInfo = append(keyInfo, asPublic...)
	ikm, err := hkdf.Key(sha256.New, shared, authSecret, string(keyInfo), 32)
	if err != nil {
		return nil, err
	}
	return seal(ikm, salt, asPublic, payload)
}

// seal writes one aes128gcm record (RFC 8188 §2): the header (salt, rs,
// the key id: here the sender's public key), then payload, the last
// record's delimiter 0x02 and no padding, sealed with the content
// encryption key and nonce derived from ikm and salt.
func seal(ikm, salt, keyID, payload []byte) ([]byte, error) {
	cek, nonce, err := recordKeys(ikm, salt)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 16+4+1+len(keyID)+len(payload)+1+gcm.Overhead())
	out = append(out, salt...)
	out = binary.BigEndian.AppendUint32(out, recordSize)
	out = append(out, byte(len(keyID)))
	out = append(out, keyID...)
	plain := make([]byte, 0, len(payload)+1)
	plain = append(append(plain, payload...), 0x02)
	// The sequence number of the first (and only) record is 0: the nonce
	// is used as derived.
	return gcm.Seal(out, nonce, plain, nil), nil
}

// recordKeys derives the content encryption key and the base nonce of
// RFC 8188 §2.2 and §2.3 from the input keying material and the salt.
func recordKeys(ikm, salt []byte) (cek, nonce []byte, err error) {
	key, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, nil, err
	}
	if cek, err = hkdf.Expand(sha256.New, key, "Content-Encoding: aes128gcm\x00", 16); err != nil {
		return nil, nil, err
	}
	if nonce, err = hkdf.Expand(sha256.New, key, "Content-Encoding: nonce\x00", 12); err != nil {
		return nil, nil, err
	}
	return cek, nonce, nil
}
