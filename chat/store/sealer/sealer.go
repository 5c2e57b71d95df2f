// Package sealer encrypts the text the stores keep at rest (message bodies,
// escalation snapshots) with AES-256-GCM, under a ring of keys that can be
// rotated without downtime.
//
// A Ring holds one or more keys, each named by a short id. The first is the
// active key: every value sealed is sealed with it. The others are kept
// only to open what was sealed before a rotation, until the stores'
// re-encryption job has moved every row to the active key.
//
// A sealed value is the standard base64 (unpadded) of a fresh random
// 12-byte nonce followed by the GCM ciphertext and tag. The key id is not
// in it: the stores keep it in a column of its own (key_id) beside the
// value, which keeps the value column plain text and lets them count and
// find rows by key. The associated data binds a value to the row and the
// column it was written for (see AD): moved to another row, it does not
// open.
package sealer

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"unsafe"
)

// KeySize is the size of a key: AES-256.
const KeySize = 32

// MaxIDLen bounds a key id, which is stored with every sealed row.
const MaxIDLen = 32

// enc is the encoding of sealed values.
var enc = base64.RawStdEncoding

// Ring is a set of keys, the first of them active. A nil *Ring is valid:
// it seals nothing (values are stored as they are) and opens only values
// that were not sealed. A Ring is immutable and safe for concurrent use.
type Ring struct {
	keys []key // keys[0] is the active key
}

type key struct {
	id   string
	aead cipher.AEAD
}

// UnknownKeyError is the failure to open a value sealed with a key the
// ring does not hold. It names the key id, never the value.
type UnknownKeyError struct{ ID string }

func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("sealer: a value is sealed with key %q, which is not among the configured encryption keys", e.ID)
}

// ErrOpen is the failure to open a value with the key it names: the key
// is wrong (same id, other bytes), or the value was altered or moved to
// another row.
var ErrOpen = errors.New("sealer: a sealed value does not open with its key (wrong key for its id, or the value was altered or moved)")

// New returns a ring of the given keys, the first active. Ids must be
// valid (see ValidID) and distinct, and every key KeySize bytes.
func New(ids []string, keys [][]byte) (*Ring, error) {
	if len(ids) == 0 || len(ids) != len(keys) {
		return nil, errors.New("sealer: a key ring needs at least one key, each with an id")
	}
	r := &Ring{keys: make([]key, 0, len(ids))}
	for i, id := range ids {
		if !ValidID(id) {
			return nil, fmt.Errorf("sealer: invalid key id %q: 1 to %d letters, digits, '.', '_' or '-'", id, MaxIDLen)
		}
		if r.find(id) != nil {
			return nil, fmt.Errorf("sealer: key id %q appears twice", id)
		}
		if len(keys[i]) != KeySize {
			return nil, fmt.Errorf("sealer: key %q has %d bytes, want %d (AES-256)", id, len(keys[i]), KeySize)
		}
		block, err := aes.NewCipher(keys[i])
		if err != nil {
			return nil, fmt.Errorf("sealer: key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("sealer: key %q: %w", id, err)
		}
		r.keys = append(r.keys, key{id: id, aead: aead})
	}
	return r, nil
}

// ValidID reports whether id can name a key: 1 to MaxIDLen ASCII letters,
// digits, '.', '_' or '-'.
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (r *Ring) find(id string) *key {
	for i := range r.keys {
		if r.keys[i].id == id {
			return &r.keys[i]
		}
	}
	return nil
}

// Active returns the id of the key values are sealed with; "" for a nil
// ring (values are stored as they are).
func (r *Ring) Active() string {
	if r == nil {
		return ""
	}
	return r.keys[0].id
}

// IDs returns the ids of the ring's keys, the active one first.
func (r *Ring) IDs() []string {
	if r == nil {
		return nil
	}
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

// Has reports whether the ring holds key id.
func (r *Ring) Has(id string) bool { return r != nil && r.find(id) != nil }

// Seal seals plain for the row and column that ad names (see AD) with the
// active key, and returns the key's id and the sealed value. With a nil
// ring, and for an empty plain (nothing to hide: erased text stays ""),
// it returns "" and plain unchanged.
func (r *Ring) Seal(plain string, ad []byte) (keyID, sealed string, err error) {
	if r == nil || plain == "" {
		return "", plain, nil
	}
	k := &r.keys[0]
	ns, over := k.aead.NonceSize(), k.aead.Overhead()
	n := ns + len(plain) + over
	// One allocation per value: nonce, ciphertext and tag at the front
	// (the text is encrypted in place after the nonce), their base64 at
	// the back. The returned string is the back, which nothing writes
	// to again; the front lives as long as it, a few hundred bytes for
	// as long as a write takes.
	buf := make([]byte, n+enc.EncodedLen(n))
	raw, text := buf[:n], buf[n:]
	if _, err := rand.Read(raw[:ns]); err != nil {
		return "", "", fmt.Errorf("sealer: nonce: %w", err)
	}
	copy(raw[ns:], plain)
	k.aead.Seal(raw[ns:ns], raw[:ns], raw[ns:ns+len(plain)], ad)
	enc.Encode(text, raw)
	return k.id, unsafe.String(&text[0], len(text)), nil
}

// Open returns the text that sealed holds, sealed with key keyID for the
// row and column ad names. A keyID of "" means the value was stored as it
// is, and is returned unchanged, as is an empty value (Seal never seals
// one). A key the ring lacks is an
// *UnknownKeyError; a value that does not open, ErrOpen.
func (r *Ring) Open(keyID, sealed string, ad []byte) (string, error) {
	if keyID == "" || sealed == "" {
		return sealed, nil
	}
	var k *key
	if r != nil {
		k = r.find(keyID)
	}
	if k == nil {
		return "", &UnknownKeyError{ID: keyID}
	}
	// One allocation: the decoded value, opened in place, whose front
	// becomes the returned text (nothing writes to it again). Decode only
	// reads the string's bytes.
	buf := make([]byte, enc.DecodedLen(len(sealed)))
	n, err := enc.Decode(buf, unsafe.Slice(unsafe.StringData(sealed), len(sealed)))
	ns := k.aead.NonceSize()
	if err != nil || n < ns+k.aead.Overhead() {
		return "", ErrOpen
	}
	plain, err := k.aead.Open(buf[ns:ns], buf[:ns], buf[ns:n], ad)
	if err != nil {
		return "", ErrOpen
	}
	if len(plain) == 0 {
		return "", nil
	}
	return unsafe.String(&plain[0], len(plain)), nil
}

// AD appends to dst the associated data that binds a value to column
// (e.g. "events.body") of the row identified by key and n (conversation
// id and sequence number; escalation id and 0), and returns it.
func AD(dst []byte, column, key string, n int64) []byte {
	dst = append(dst, column...)
	dst = append(dst, 0)
	dst = strconv.AppendInt(dst, int64(len(key)), 10)
	dst = append(dst, ':')
	dst = append(dst, key...)
	dst = append(dst, 0)
	return strconv.AppendInt(dst, n, 10)
}
