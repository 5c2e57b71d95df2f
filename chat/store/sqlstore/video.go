package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/kindred-health/kindred/chat"
)

const videoCols = `id, conv_id, node, host, host_name, waiting_room, started_at, lease_until`

func scanVideo(r Row) (chat.VideoSession, error) {
	var v chat.VideoSession
	var started, until int64
	err := r.Scan(&v.ID, &v.Conv, &v.Node, &v.Host, &v.HostName, &v.WaitingRoom, &started, &until)
	v.Started, v.LeaseUntil = FromNanos(started), FromNanos(until)
	return v, err
}

// checkVideo refuses a session record the table cannot hold.
func (s *Store) checkVideo(v chat.VideoSession, now time.Time) error {
	switch {
	case v.ID == "" || v.Conv == "" || v.Node == "":
		return chat.Errorf(chat.CodeInvalidField, "a video session needs an id, a conversation and a node")
	case !v.LeaseUntil.After(now):
		return chat.Errorf(chat.CodeInvalidField, "a video session's lease must end after now")
	}
	for _, t := range []string{v.ID, v.Conv, v.Node, v.Host, v.HostName} {
		if !s.d.StoresText(t) {
			return chat.Errorf(chat.CodeInvalidField, "invalid text in a video session")
		}
	}
	return nil
}

// ClaimVideoSession records v as conversation v.Conv's live session
// unless a live one is recorded. The claim is one upsert arbitrated by the
// unique conv_id: racing claims take turns on the conversation's row (its
// index entry, when there is no row yet), and each tests the lease of the
// row the one before it committed, so exactly one wins. The loser's upsert
// leaves the row locked (PostgreSQL locks it even when the WHERE fails),
// so the row it then reads and returns is the winner's.
func (s *Store) ClaimVideoSession(ctx context.Context, v chat.VideoSession, now time.Time) (chat.VideoSession, error) {
	if v.Started.IsZero() {
		v.Started = now
	}
	v.Started, v.LeaseUntil = v.Started.UTC(), v.LeaseUntil.UTC()
	if err := s.checkVideo(v, now); err != nil {
		return chat.VideoSession{}, err
	}
	var held chat.VideoSession
	err := s.inTx(ctx, "claim video session", func(t *txn) error {
		var conv, other int64
		err := t.queryRow(ctx, `SELECT (SELECT count(*) FROM conversations WHERE id = ?),
			(SELECT count(*) FROM video_sessions WHERE id = ? AND conv_id <> ?)`, v.Conv, v.ID, v.Conv).Scan(&conv, &other)
		if err != nil {
			return err
		}
		switch {
		case conv == 0:
			return chat.ErrNotFound
		case other > 0:
			return chat.Errorf(chat.CodeInvalidField, "this video session id is another conversation's")
		}
		n, err := t.exec(ctx, `INSERT INTO video_sessions (`+videoCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (conv_id) DO UPDATE SET id = excluded.id, node = excluded.node, host = excluded.host,
				host_name = excluded.host_name, waiting_room = excluded.waiting_room,
				started_at = excluded.started_at, lease_until = excluded.lease_until
			WHERE video_sessions.lease_until <= ?`,
			v.ID, v.Conv, v.Node, v.Host, v.HostName, v.WaitingRoom, v.Started.UnixNano(), v.LeaseUntil.UnixNano(),
			now.UnixNano())
		if err != nil || n == 1 {
			return err
		}
		held, err = scanVideo(t.queryRow(ctx, `SELECT `+videoCols+` FROM video_sessions WHERE conv_id = ?`, v.Conv))
		if err != nil {
			return err
		}
		return chat.Errorf(chat.CodeConflict, "this conversation has a video session already")
	})
	if chat.ErrorCode(err) == chat.CodeConflict {
		return held, err
	}
	if err != nil {
		return chat.VideoSession{}, err
	}
	return v, nil
}

// RenewVideoSession extends session id's lease if node holds it.
func (s *Store) RenewVideoSession(ctx context.Context, id, node string, until time.Time) (bool, error) {
	if !s.d.StoresText(id) || !s.d.StoresText(node) {
		return false, nil
	}
	n, err := s.exec(ctx, `UPDATE video_sessions SET lease_until = ? WHERE id = ? AND node = ?`,
		until.UnixNano(), id, node)
	if err != nil {
		return false, s.internal("renew video session", err)
	}
	return n == 1, nil
}

// EndVideoSession removes session id's record if node holds it.
func (s *Store) EndVideoSession(ctx context.Context, id, node string) error {
	if !s.d.StoresText(id) || !s.d.StoresText(node) {
		return nil
	}
	if _, err := s.exec(ctx, `DELETE FROM video_sessions WHERE id = ? AND node = ?`, id, node); err != nil {
		return s.internal("end video session", err)
	}
	return nil
}

// VideoSessionByID returns session id while its lease runs at now.
func (s *Store) VideoSessionByID(ctx context.Context, id string, now time.Time) (chat.VideoSession, bool, error) {
	if !s.d.StoresText(id) {
		return chat.VideoSession{}, false, nil
	}
	v, err := scanVideo(s.reads().queryRow(ctx, `SELECT `+videoCols+` FROM video_sessions
		WHERE id = ? AND lease_until > ?`, id, now.UnixNano()))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.VideoSession{}, false, nil
	}
	if err != nil {
		return chat.VideoSession{}, false, s.internal("video session", err)
	}
	return v, true, nil
}

// LiveVideoSessions returns the live sessions of convs, asking for at
// most 500 conversations per query to stay within every engine's limit on
// bound parameters.
func (s *Store) LiveVideoSessions(ctx context.Context, convs []string, now time.Time) ([]chat.VideoSession, error) {
	ids := make([]any, 0, len(convs))
	for _, c := range convs {
		if s.d.StoresText(c) {
			ids = append(ids, c)
		}
	}
	out := []chat.VideoSession{}
	const chunk = 500
	for i := 0; i < len(ids); i += chunk {
		part := ids[i:min(i+chunk, len(ids))]
		rows, err := s.reads().queryBuilt(ctx, `SELECT `+videoCols+` FROM video_sessions
			WHERE lease_until > ? AND conv_id IN (?`+strings.Repeat(",?", len(part)-1)+`)`,
			append([]any{now.UnixNano()}, part...)...)
		if err != nil {
			return nil, s.internal("live video sessions", err)
		}
		got, err := collect(rows, scanVideo)
		if err != nil {
			return nil, s.internal("live video sessions", err)
		}
		out = append(out, got...)
	}
	return out, nil
}
