package chat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// The audit log's hash chain (docs/security.md#the-audit-trail). Entry n
// has Hash = H(hash of entry n-1 || canonical encoding of entry n), the
// first one chaining from 32 zero bytes. H is HMAC-SHA256 with the audit
// key when the store has one (Hash "hmac:<hex>"), else SHA-256
// ("sha256:<hex>"): without the key, someone who can write to the
// database cannot recompute the chain after changing an entry.
const (
	auditHMAC   = "hmac:"
	auditSHA256 = "sha256:"
)

// AuditHash is the chain hash of e, stored at e.Position after the entry
// whose hash is prev ("" for the first): keyed with key when it is not
// empty. Every stored field but ID is covered: position, time (to the
// nanosecond), actor, action, room, target, reason, detail and source.
func AuditHash(key []byte, prev string, e AuditEntry) string {
	var h hash.Hash
	prefix := auditSHA256
	if len(key) > 0 {
		h, prefix = hmac.New(sha256.New, key), auditHMAC
	} else {
		h = sha256.New()
	}
	h.Write(auditPrevBytes(prev))
	var n [binary.MaxVarintLen64]byte
	h.Write(binary.BigEndian.AppendUint64(n[:0], uint64(e.Position)))
	h.Write(binary.BigEndian.AppendUint64(n[:0], uint64(e.At.UnixNano())))
	for _, f := range [...]string{e.Actor, e.Action, e.Room, e.Target, e.Reason, e.Detail, e.Source} {
		h.Write(binary.AppendUvarint(n[:0], uint64(len(f))))
		h.Write([]byte(f))
	}
	return prefix + hex.EncodeToString(h.Sum(nil))
}

// auditPrevBytes is the digest in a stored hash: 32 zero bytes for none
// (the first entry), and for a hash that is not one, its text, so that
// a damaged link never matches.
func auditPrevBytes(prev string) []byte {
	if prev == "" {
		return make([]byte, sha256.Size)
	}
	_, digest, _ := strings.Cut(prev, ":")
	if b, err := hex.DecodeString(digest); err == nil && len(b) == sha256.Size {
		return b
	}
	return []byte(prev)
}

// AuditHead is the newest entry of the chain: its position and hash.
// Operators keep a copy of it outside the database (an anchor), since
// dropping the newest entries leaves an intact, shorter chain.
type AuditHead struct {
	Position int64  `json:"position"`
	Hash     string `json:"hash"`
}

// String is the head as kindred audit verify prints it and --expect-head
// reads it: "position:hash".
func (h AuditHead) String() string { return fmt.Sprintf("%d:%s", h.Position, h.Hash) }

// ParseAuditHead reads a head written by AuditHead.String.
func ParseAuditHead(s string) (AuditHead, error) {
	pos, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	var h AuditHead
	if _, err := fmt.Sscan(pos, &h.Position); !ok || err != nil || h.Position < 1 || !strings.Contains(hash, ":") {
		return h, fmt.Errorf("an audit head is position:hash, as kindred audit verify prints it (e.g. 42:hmac:3f…)")
	}
	h.Hash = hash
	return h, nil
}

// AuditReport is what walking the chain found.
type AuditReport struct {
	Count    int64     // chained entries walked
	Head     AuditHead // the last of them
	Keyed    int64     // entries hashed with the key
	Problems []string  // empty when the chain is whole; at most 100
}

// AuditWalk checks a chain entry by entry, in position order: feed it with
// Add, then Finish. It needs the key the entries were hashed with.
type AuditWalk struct {
	key      []byte
	expect   AuditHead
	anchored bool
	report   AuditReport
}

const maxAuditProblems = 100

// NewAuditWalk starts a walk with key; expect, when its Position is set,
// is an anchored head that the chain must still hold.
func NewAuditWalk(key []byte, expect AuditHead) *AuditWalk {
	return &AuditWalk{key: key, expect: expect}
}

func (w *AuditWalk) problem(format string, args ...any) {
	if len(w.report.Problems) < maxAuditProblems {
		w.report.Problems = append(w.report.Problems, fmt.Sprintf(format, args...))
	}
}

// Add checks the next entry of the chain: its position follows the last
// one's, and its hash is the one its fields and the last hash give. After
// a problem the walk goes on from the entry's stored hash, so one altered
// entry is reported once.
func (w *AuditWalk) Add(e AuditEntry) {
	last := w.report.Head
	gap := e.Position != last.Position+1
	if gap {
		w.problem("gap: positions %d to %d are missing (before entry id %d)", last.Position+1, e.Position-1, e.ID)
	}
	keyed := strings.HasPrefix(e.Hash, auditHMAC)
	switch {
	case keyed && len(w.key) == 0:
		w.problem("position %d: keyed entry, and no audit key was given to check it", e.Position)
	case !keyed && w.report.Keyed > 0:
		w.problem("position %d: unkeyed entry after keyed ones (rewritten without the key?)", e.Position)
	case AuditHash(w.keyFor(keyed), last.Hash, e) != e.Hash:
		if gap {
			w.problem("position %d: broken link: its hash does not follow from the entry before it", e.Position)
		} else {
			w.problem("position %d (id %d): altered entry: its fields do not give its hash", e.Position, e.ID)
		}
	}
	if keyed {
		w.report.Keyed++
	}
	if w.expect.Position == e.Position {
		w.anchored = true
		if w.expect.Hash != e.Hash {
			w.problem("position %d: hash %s, the anchored head says %s", e.Position, e.Hash, w.expect.Hash)
		}
	}
	w.report.Count++
	w.report.Head = AuditHead{Position: e.Position, Hash: e.Hash}
}

func (w *AuditWalk) keyFor(keyed bool) []byte {
	if keyed {
		return w.key
	}
	return nil
}

// Finish ends the walk: stored is the head the store records (its own
// note of the newest position and hash), unchained the number of entries
// outside the chain (written behind the store's back).
func (w *AuditWalk) Finish(stored AuditHead, unchained int64) AuditReport {
	if w.expect.Position > 0 && !w.anchored {
		w.problem("the anchored head %s is gone: the chain ends at position %d (newest entries deleted?)", w.expect, w.report.Head.Position)
	}
	if stored != w.report.Head {
		w.problem("the store's head is %s, the chain ends at %s (newest entries deleted or added behind the store's back?)", stored, w.report.Head)
	}
	if unchained > 0 {
		w.problem("%d entries are outside the chain (position 0): written behind the store's back", unchained)
	}
	return w.report
}
