package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/sealer"
)

const (
	eventColumns = `e.seq, e.kind, e.sender_id, COALESCE(u.name, ''), COALESCE(e.client_id, ''),
		e.body, COALESCE(e.target_seq, 0), e.created_at, e.edited_at, e.deleted, e.hidden, e.key_id
		FROM events e LEFT JOIN users u ON u.id = e.sender_id`
	// Newest messages in (after, before), newest first; History reverses.
	sqlHistoryDesc = `SELECT ` + eventColumns + `
		WHERE e.conv_id = ? AND e.kind = 'message' AND e.seq < ? AND e.seq > ?
		ORDER BY e.seq DESC LIMIT ?`
	sqlHistoryAsc = `SELECT ` + eventColumns + `
		WHERE e.conv_id = ? AND e.kind = 'message' AND e.seq > ?
		ORDER BY e.seq LIMIT ?`
	sqlEventsAfter = `SELECT ` + eventColumns + `
		WHERE e.conv_id = ? AND e.seq > ?
		ORDER BY e.seq LIMIT ?`
)

// History returns messages of conv in their current state, ascending. See
// chat.Store. When both before and after are given, only messages strictly
// between them qualify and the newest of those are returned (before wins,
// as for a client scrolling up towards a gap). A limit <= 0 returns none.
func (s *Store) History(ctx context.Context, conv string, before, after int64, limit int) ([]chat.Event, error) {
	if limit <= 0 || !s.d.StoresText(conv) {
		return []chat.Event{}, nil
	}
	if before <= 0 && (after > 0 || after == chat.HistoryFromStart) {
		rows, err := s.reads().query(ctx, sqlHistoryAsc, conv, max(after, 0), limit)
		if err != nil {
			return nil, s.internal("history", err)
		}
		return s.scanEvents(rows, conv, limit, "history")
	}
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := s.reads().query(ctx, sqlHistoryDesc, conv, before, max(after, 0), limit)
	if err != nil {
		return nil, s.internal("history", err)
	}
	evs, err := s.scanEvents(rows, conv, limit, "history")
	if err != nil {
		return nil, err
	}
	slices.Reverse(evs)
	return evs, nil
}

// EventsAfter returns the log entries of conv with Seq > after, ascending,
// at most limit (none when limit <= 0).
//
// Each entry is returned as stored. Edit and delete entries carry their
// Target and their own Body. A message entry shows the message's current
// state, not the text first sent: the log keeps one row per message, and
// when a message is deleted or hidden its text is erased everywhere,
// including the edits that preceded the deletion (their Body becomes
// empty). Replaying the
// entries in order therefore ends in the same state History shows, which is
// what a resuming client needs; intermediate states may differ from what
// was on screen at the time.
func (s *Store) EventsAfter(ctx context.Context, conv string, after int64, limit int) ([]chat.Event, error) {
	if limit <= 0 || !s.d.StoresText(conv) {
		return []chat.Event{}, nil
	}
	rows, err := s.reads().query(ctx, sqlEventsAfter, conv, max(after, 0), limit)
	if err != nil {
		return nil, s.internal("events after", err)
	}
	return s.scanEvents(rows, conv, limit, "events after")
}

// scanEvents reads rows of eventColumns.
func (s *Store) scanEvents(rows Rows, conv string, limit int, op string) ([]chat.Event, error) {
	defer rows.Close()
	out := make([]chat.Event, 0, min(limit, 256))
	var (
		e       chat.Event // scanned into, then copied: one allocation, not one per row
		created int64
		edited  sql.NullInt64
		hidden  int64 // the hide's seq, 0 when not hidden
		keyID   string
		ad      []byte // reused: one buffer for every row
		err     error
	)
	for rows.Next() {
		e = chat.Event{Conv: conv}
		if err = rows.Scan(&e.Seq, (*eventKind)(&e.Kind), &e.Sender, &e.Name, &e.ClientID, &e.Body,
			&e.Target, &created, &edited, &e.Deleted, &hidden, &keyID); err != nil {
			return nil, s.internal(op, err)
		}
		if e.Body, err = OpenBody(s.keys, &ad, conv, e.Seq, keyID, e.Body); err != nil {
			return nil, s.internal(op, err)
		}
		e.Time = FromNanos(created)
		e.Hidden = hidden > 0
		if edited.Valid {
			t := FromNanos(edited.Int64)
			e.EditedAt = &t
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.internal(op, err)
	}
	return out, nil
}

// EventAD appends to dst the associated data of the body of event seq of
// conv (see sealer.AD), for every store that seals or opens one.
func EventAD(dst []byte, conv string, seq int64) []byte {
	return sealer.AD(dst, "events.body", conv, seq)
}

// SealBody returns body as event seq of conv stores it: the key id and the
// value, sealed with the active key of keys (body itself and "" without
// keys). ad is a buffer reused across calls.
func SealBody(keys *sealer.Ring, ad *[]byte, conv string, seq int64, body string) (keyID, value string, err error) {
	if keys == nil {
		return "", body, nil
	}
	*ad = EventAD((*ad)[:0], conv, seq)
	return keys.Seal(body, *ad)
}

// OpenBody returns the text of event seq of conv from its stored value,
// sealed with key keyID ("" : stored as it is). The error names the event
// and the key, never the text. ad is a buffer reused across calls.
func OpenBody(keys *sealer.Ring, ad *[]byte, conv string, seq int64, keyID, value string) (string, error) {
	if keyID == "" {
		return value, nil
	}
	*ad = EventAD((*ad)[:0], conv, seq)
	body, err := keys.Open(keyID, value, *ad)
	if err != nil {
		return "", fmt.Errorf("event %d: %w", seq, err)
	}
	return body, nil
}

// eventKind scans an events.kind column into one of the chat.EventKind
// constants, without keeping the driver's text.
type eventKind chat.EventKind

// Scan implements sql.Scanner (database/sql).
func (k *eventKind) Scan(src any) error {
	switch v := src.(type) {
	case string:
		*k = eventKind(chat.EventKindOf([]byte(v)))
	case []byte:
		*k = eventKind(chat.EventKindOf(v))
	default:
		return fmt.Errorf("event kind: cannot scan %T", src)
	}
	return nil
}

// ScanBytes implements pgx's pgtype.BytesScanner: b is the driver's
// memory, valid until the next row.
func (k *eventKind) ScanBytes(b []byte) error {
	*k = eventKind(chat.EventKindOf(b))
	return nil
}
