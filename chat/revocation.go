package chat

import "time"

// Revocation is where a user's session generation stands: bumped each time
// an admin revokes every session of theirs (Store.RevokeSessions). A token
// issued at or before At is refused, and sessions open under one close.
// The zero Generation means never revoked.
type Revocation struct {
	User       string    `json:"user"`
	Generation int64     `json:"generation"`
	At         time.Time `json:"revoked_at"`
}

// Revoked reports whether a token issued at iat (zero: unknown) was
// revoked by r: one issued in r.At's second or before, since token times
// are whole seconds, or one that does not say when it was issued.
func (r Revocation) Revoked(iat time.Time) bool {
	if r.Generation == 0 {
		return false
	}
	return iat.IsZero() || iat.Unix() <= r.At.Unix()
}
