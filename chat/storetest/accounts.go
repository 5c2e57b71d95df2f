package storetest

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// testAccounts: SaveAccount creates an active account and updates name,
// role, source and last sign-in without touching status; a blank email
// keeps the stored one; emails are lower-cased and unique; a user first
// seen through UpsertUser is an active token account; role and status
// changes stick; unknown ids are ErrNotFound.
func testAccounts(f *fixture) {
	id := f.id("ada")
	email := strings.ToUpper(f.id("ada")) + "@Example.org"
	t0 := time.Now().Add(-time.Second)
	a, err := f.s.SaveAccount(f.ctx, chat.Account{User: chat.User{ID: id, Name: "Ada", Role: "peer"},
		Email: email, Source: chat.SourceEmail}, time.Time{})
	if err != nil {
		f.Fatalf("SaveAccount: %v", err)
	}
	if a.Email != strings.ToLower(email) || a.Status != chat.StatusActive || a.Source != chat.SourceEmail ||
		!a.LastSignIn.IsZero() || a.CreatedAt.Before(t0) {
		f.Errorf("new account = %+v; want lower-cased email, active, email source, never signed in, created now", a)
	}
	signed := time.Now().Truncate(time.Millisecond)
	a, err = f.s.SaveAccount(f.ctx, chat.Account{User: chat.User{ID: id, Name: "Ada L", Role: "specialist"},
		Source: chat.SourceOIDC}, signed)
	if err != nil || a.Name != "Ada L" || a.Role != "specialist" || a.Email != strings.ToLower(email) ||
		a.Source != chat.SourceOIDC || !a.LastSignIn.Equal(signed) {
		f.Errorf("updated account = %+v, %v; want new name, role and source, email kept, signed in at %v", a, err, signed)
	}
	got, err := f.s.AccountByEmail(f.ctx, "  "+email+" ")
	if err != nil || got.ID != id {
		f.Errorf("AccountByEmail = %+v, %v", got, err)
	}
	other := f.id("bo")
	if _, err := f.s.SaveAccount(f.ctx, chat.Account{User: chat.User{ID: other, Name: "Bo", Role: "peer"},
		Email: strings.ToLower(email)}, time.Time{}); chat.ErrorCode(err) != chat.CodeConflict {
		f.Errorf("a second account with the same email: %v; want conflict", err)
	}
	if err := f.s.SetAccountRole(f.ctx, id, "supervisor"); err != nil {
		f.Errorf("SetAccountRole: %v", err)
	}
	if err := f.s.SetAccountStatus(f.ctx, id, chat.StatusDeactivated); err != nil {
		f.Errorf("SetAccountStatus: %v", err)
	}
	a, err = f.s.SaveAccount(f.ctx, chat.Account{User: chat.User{ID: id, Name: "Ada L", Role: "supervisor"}}, time.Time{})
	if err != nil || a.Status != chat.StatusDeactivated || a.Role != "supervisor" || !a.LastSignIn.Equal(signed) {
		f.Errorf("after deactivation and a save: %+v, %v; want still deactivated, sign-in time kept", a, err)
	}
	carol := f.user("carol")
	if c, err := f.s.Account(f.ctx, carol); err != nil || c.Source != chat.SourceToken || c.Status != chat.StatusActive || c.Email != "" {
		f.Errorf("a token user's account = %+v, %v", c, err)
	}
	for _, err := range []error{
		f.s.SetAccountRole(f.ctx, f.id("nobody"), "peer"),
		f.s.SetAccountStatus(f.ctx, f.id("nobody"), chat.StatusActive),
		second(f.s.Account(f.ctx, f.id("nobody"))),
		second(f.s.AccountByEmail(f.ctx, f.id("nobody")+"@example.org")),
	} {
		if !errors.Is(err, chat.ErrNotFound) {
			f.Errorf("unknown account: %v; want ErrNotFound", err)
		}
	}
	if err := f.s.SetAccountStatus(f.ctx, carol, "gone"); chat.ErrorCode(err) != chat.CodeInvalidField {
		f.Errorf("unknown status: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

// testListAccounts: search matches id, name or email whatever the case,
// wildcards are literal, role and status filter, pages follow ids.
func testListAccounts(f *fixture) {
	names := []string{"amy", "ben", "cal", "dee"}
	for i, n := range names {
		role := "peer"
		if i%2 == 1 {
			role = "specialist"
		}
		if _, err := f.s.SaveAccount(f.ctx, chat.Account{User: chat.User{ID: f.id(n), Name: "Zq " + strings.ToUpper(n), Role: role},
			Email: f.id(n) + "@list.example", Source: chat.SourceEmail}, time.Time{}); err != nil {
			f.Fatalf("SaveAccount: %v", err)
		}
	}
	if err := f.s.SetAccountStatus(f.ctx, f.id("dee"), chat.StatusDeactivated); err != nil {
		f.Fatal(err)
	}
	list := func(q chat.AccountQuery) []string {
		f.Helper()
		out, err := f.s.ListAccounts(f.ctx, q)
		if err != nil {
			f.Fatalf("ListAccounts(%+v): %v", q, err)
		}
		var ids []string
		for _, a := range out {
			ids = append(ids, strings.TrimPrefix(a.ID, f.prefix))
		}
		return ids
	}
	want := func(got []string, w ...string) {
		f.Helper()
		if strings.Join(got, ",") != strings.Join(w, ",") {
			f.Errorf("got %v, want %v", got, w)
		}
	}
	want(list(chat.AccountQuery{Search: f.prefix}), names...)
	want(list(chat.AccountQuery{Search: strings.ToUpper(f.prefix + "B")}), "ben")
	want(list(chat.AccountQuery{Search: "ZQ c"}), "cal")
	want(list(chat.AccountQuery{Search: f.prefix[:3] + "%"}))
	want(list(chat.AccountQuery{Search: f.prefix, Role: "specialist"}), "ben", "dee")
	want(list(chat.AccountQuery{Search: f.prefix, Status: chat.StatusDeactivated}), "dee")
	want(list(chat.AccountQuery{Search: f.prefix, Limit: 2}), "amy", "ben")
	want(list(chat.AccountQuery{Search: f.prefix, Limit: 2, After: f.id("ben")}), "cal", "dee")
	if _, err := f.s.ListAccounts(f.ctx, chat.AccountQuery{Limit: 500}); chat.ErrorCode(err) != chat.CodeInvalidField {
		f.Errorf("limit 500: %v", err)
	}
}

// testRefreshRotation: a token rotates once; its successor works; the old
// one again within the reuse interval is a race and works; later it ends
// the session (ErrRefreshReused) and every token of it; revocation,
// expiry and deactivation refuse.
func testRefreshRotation(f *fixture) {
	user := f.user("rita")
	now := time.Now()
	sess := chat.AuthSession{ID: f.id("s1"), User: user, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := f.s.CreateAuthSession(f.ctx, sess, f.id("t0")); err != nil {
		f.Fatalf("CreateAuthSession: %v", err)
	}
	rot := func(old, next string, at time.Time) (chat.AuthSession, error) {
		return f.s.RotateRefresh(f.ctx, f.id(old), f.id(next), at, 10*time.Second)
	}
	got, err := rot("t0", "t1", now.Add(time.Second))
	if err != nil || got.ID != sess.ID || got.User != user {
		f.Fatalf("first rotation = %+v, %v", got, err)
	}
	if _, err := rot("t1", "t2", now.Add(2*time.Second)); err != nil {
		f.Fatalf("successor's rotation: %v", err)
	}
	if _, err := rot("t1", "t2b", now.Add(5*time.Second)); err != nil {
		f.Errorf("the same token again within the reuse interval: %v; want accepted", err)
	}
	if _, err := rot("t1", "t3", now.Add(20*time.Second)); !errors.Is(err, chat.ErrRefreshReused) {
		f.Errorf("reuse after the interval: %v; want ErrRefreshReused", err)
	}
	for _, tok := range []string{"t2", "t2b", "nope"} {
		if _, err := rot(tok, tok+"x", now.Add(21*time.Second)); !errors.Is(err, chat.ErrRefreshInvalid) {
			f.Errorf("token %s after reuse ended the session: %v; want ErrRefreshInvalid", tok, err)
		}
	}
	if l, err := f.s.AuthSessions(f.ctx, user); err != nil || len(l) != 0 {
		f.Errorf("sessions after reuse: %+v, %v; want none", l, err)
	}
	refused := func(what string, prepare func(id string) error, at time.Duration, want ...error) {
		id := f.id("s_" + what)
		if err := f.s.CreateAuthSession(f.ctx, chat.AuthSession{ID: id, User: user, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, id+"t"); err != nil {
			f.Fatal(err)
		}
		if err := prepare(id); err != nil {
			f.Fatal(err)
		}
		w := append(want, chat.ErrRefreshInvalid)[0]
		if _, err := f.s.RotateRefresh(f.ctx, id+"t", id+"u", now.Add(at), 0); !errors.Is(err, w) {
			f.Errorf("%s: %v; want %v", what, err, w)
		}
	}
	refused("revoked", func(id string) error {
		who, err := f.s.RevokeAuthSession(f.ctx, id+"t", "signed out")
		if err == nil && who != user {
			f.Errorf("RevokeAuthSession says the session was %q's, want %q", who, user)
		}
		return err
	}, time.Second)
	if who, err := f.s.RevokeAuthSession(f.ctx, f.id("unknown"), "signed out"); err != nil || who != "" {
		f.Errorf("RevokeAuthSession of an unknown token = %q, %v", who, err)
	}
	refused("expired", func(string) error { return nil }, time.Hour)
	refused("all", func(string) error { _, err := f.s.RevokeAuthSessions(f.ctx, user, "admin"); return err }, time.Second)
	refused("deactivated", func(string) error {
		return f.s.SetAccountStatus(f.ctx, user, chat.StatusDeactivated)
	}, time.Second, chat.ErrDeactivated)
}

// testRefreshConcurrent: of many concurrent rotations of one token with
// no reuse interval, exactly one succeeds.
func testRefreshConcurrent(f *fixture) {
	user := f.user("cora")
	now := time.Now()
	if err := f.s.CreateAuthSession(f.ctx, chat.AuthSession{ID: f.id("s"), User: user, CreatedAt: now,
		ExpiresAt: now.Add(time.Hour)}, f.id("t")); err != nil {
		f.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 8 {
		wg.Go(func() {
			_, err := f.s.RotateRefresh(f.ctx, f.id("t"), f.id("n"+string(rune('a'+i))), now.Add(time.Second), 0)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else if !errors.Is(err, chat.ErrRefreshReused) && !errors.Is(err, chat.ErrRefreshInvalid) {
				f.Errorf("concurrent rotation: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		f.Errorf("%d concurrent rotations of one token succeeded; want exactly 1", ok)
	}
}

// testSignInLinks: a link works once, is refused when used again or late,
// unknown hashes are ErrNotFound, links are counted per email over time,
// and of concurrent uses exactly one wins.
func testSignInLinks(f *fixture) {
	email := f.id("lee") + "@links.example"
	now := time.Now()
	mk := func(hash string, created time.Time) {
		f.Helper()
		if err := f.s.CreateSignInLink(f.ctx, chat.SignInLink{Hash: f.id(hash), Email: email, Invite: "inv",
			CreatedAt: created, ExpiresAt: created.Add(15 * time.Minute)}); err != nil {
			f.Fatalf("CreateSignInLink: %v", err)
		}
	}
	mk("h1", now)
	mk("h2", now.Add(-time.Hour))
	mk("h3", now)
	l, err := f.s.UseSignInLink(f.ctx, f.id("h1"), now.Add(time.Minute))
	if err != nil || l.Email != email || l.Invite != "inv" {
		f.Errorf("UseSignInLink = %+v, %v", l, err)
	}
	if _, err := f.s.UseSignInLink(f.ctx, f.id("h1"), now.Add(2*time.Minute)); !errors.Is(err, chat.ErrLinkUsed) {
		f.Errorf("second use: %v; want ErrLinkUsed", err)
	}
	if _, err := f.s.UseSignInLink(f.ctx, f.id("h2"), now); !errors.Is(err, chat.ErrLinkExpired) {
		f.Errorf("late use: %v; want ErrLinkExpired", err)
	}
	if _, err := f.s.UseSignInLink(f.ctx, f.id("h9"), now); !errors.Is(err, chat.ErrNotFound) {
		f.Errorf("unknown link: %v; want ErrNotFound", err)
	}
	if n, err := f.s.CountSignInLinks(f.ctx, email, now.Add(-time.Minute)); err != nil || n != 2 {
		f.Errorf("CountSignInLinks = %d, %v; want 2 in the last minute", n, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 6 {
		wg.Go(func() {
			_, err := f.s.UseSignInLink(f.ctx, f.id("h3"), now.Add(time.Minute))
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if !errors.Is(err, chat.ErrLinkUsed) {
				f.Errorf("concurrent use: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		f.Errorf("%d concurrent uses of one link won; want 1", wins)
	}
}

// testPutSetting: unset is "", PutSetting sets and replaces.
func testPutSetting(f *fixture) {
	name := f.id("signup")
	if v, err := f.s.Setting(f.ctx, name); err != nil || v != "" {
		f.Errorf("unset setting = %q, %v", v, err)
	}
	for _, v := range []string{"invite", "open"} {
		if err := f.s.PutSetting(f.ctx, name, v); err != nil {
			f.Fatal(err)
		}
		if got, err := f.s.Setting(f.ctx, name); err != nil || got != v {
			f.Errorf("Setting = %q, %v; want %q", got, err, v)
		}
	}
}
