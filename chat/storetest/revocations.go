package storetest

import (
	"sync"
	"time"
)

// testRevocations: a user never revoked is at generation 0; each
// revocation bumps the generation by one and records about now, never
// going back in time; concurrent revocations each count once; users are
// independent; an unstorable id is refused.
func testRevocations(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r, err := f.s.SessionRevocation(f.ctx, alice)
	if err != nil || r.Generation != 0 || !r.At.IsZero() || r.Revoked(time.Now()) {
		f.Fatalf("SessionRevocation before any = %+v, %v; want generation 0", r, err)
	}
	start := time.Now().Add(-time.Second)
	first, err := f.s.RevokeSessions(f.ctx, alice)
	if err != nil || first.Generation != 1 || first.User != alice {
		f.Fatalf("RevokeSessions = %+v, %v; want generation 1", first, err)
	}
	if first.At.Before(start) || first.At.After(time.Now().Add(time.Second)) {
		f.Errorf("revoked at %v, want about now", first.At)
	}
	got, err := f.s.SessionRevocation(f.ctx, alice)
	if err != nil || got.Generation != 1 || !got.At.Equal(first.At) {
		f.Errorf("SessionRevocation = %+v, %v; want %+v", got, err, first)
	}
	if !got.Revoked(first.At) || !got.Revoked(time.Time{}) || got.Revoked(first.At.Add(time.Second).Truncate(time.Second)) {
		f.Errorf("Revoked: a token issued at the revocation or without iat must be revoked, one a second later not")
	}
	second, err := f.s.RevokeSessions(f.ctx, alice)
	if err != nil || second.Generation != 2 || second.At.Before(first.At) {
		f.Errorf("second RevokeSessions = %+v, %v; want generation 2, not earlier", second, err)
	}
	if r, err := f.s.SessionRevocation(f.ctx, bob); err != nil || r.Generation != 0 {
		f.Errorf("bob's revocation = %+v, %v; want none", r, err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.s.RevokeSessions(f.ctx, bob); err != nil {
				f.Errorf("concurrent RevokeSessions: %v", err)
			}
		}()
	}
	wg.Wait()
	if r, err := f.s.SessionRevocation(f.ctx, bob); err != nil || r.Generation != 8 {
		f.Errorf("after 8 concurrent revocations: %+v, %v; want generation 8", r, err)
	}
	for _, bad := range []string{"", "a\x00b", "\xff"} {
		if _, err := f.s.RevokeSessions(f.ctx, bad); err == nil {
			f.Errorf("RevokeSessions(%q) succeeded", bad)
		}
		if r, err := f.s.SessionRevocation(f.ctx, bad); err != nil || r.Generation != 0 {
			f.Errorf("SessionRevocation(%q) = %+v, %v", bad, r, err)
		}
	}
}
