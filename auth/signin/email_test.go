package signin

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// TestEmailLinkSignsInOnce: a known address gets a link; the link opens a
// browser session whose access token verifies for the account with the
// directory's role; the same link again, or a link past its life, is
// refused with link_invalid.
func TestEmailLinkSignsInOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.account("u_sam", "sam@example.org", "specialist")
	b := e.browser()
	var ok map[string]any
	if st, code := b.post("/auth/email", map[string]string{"email": " Sam@Example.org "}, &ok); st != http.StatusAccepted || code != "" {
		t.Fatalf("request = %d %s", st, code)
	}
	link := e.nextLink("sam@example.org")
	var g Grant
	if st, code := b.post("/auth/email/verify", map[string]string{"link": link}, &g); st != 200 {
		t.Fatalf("verify = %d %s", st, code)
	}
	id, err := e.verify.Verify(g.AccessToken)
	if err != nil || id.UserID != "u_sam" || id.Role != auth.RoleSpecialist || g.NewAccount {
		t.Fatalf("grant %+v verifies as %+v, %v", g, id, err)
	}
	if b.cookie() == "" {
		t.Fatal("no refresh cookie after sign-in")
	}
	acct, _ := e.st.Account(t.Context(), "u_sam")
	if acct.LastSignIn.IsZero() {
		t.Error("last sign-in not recorded")
	}
	if st, code := e.browser().post("/auth/email/verify", map[string]string{"link": link}, nil); st != http.StatusGone || code != chat.CodeLinkInvalid {
		t.Errorf("second use = %d %s; want 410 link_invalid", st, code)
	}
	b.post("/auth/email", map[string]string{"email": "sam@example.org"}, nil)
	late := e.nextLink("sam@example.org")
	e.advance(16 * time.Minute)
	if st, code := e.browser().post("/auth/email/verify", map[string]string{"link": late}, nil); st != http.StatusGone || code != chat.CodeLinkInvalid {
		t.Errorf("late use = %d %s; want 410 link_invalid", st, code)
	}
	if st, code := e.browser().post("/auth/email/verify", map[string]string{"link": "nope"}, nil); st != http.StatusGone || code != chat.CodeLinkInvalid {
		t.Errorf("unknown link = %d %s; want 410 link_invalid", st, code)
	}
}

// TestEmailAnswerSaysNothing: known, unknown and deactivated addresses get
// the same answer; only the known active one gets mail (invite-only
// signup, the default).
func TestEmailAnswerSaysNothing(t *testing.T) {
	e := newEnv(t, nil)
	e.account("u_kim", "kim@example.org", "peer")
	e.account("u_gone", "gone@example.org", "peer")
	if err := e.st.SetAccountStatus(t.Context(), "u_gone", chat.StatusDeactivated); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	var answers []map[string]any
	for _, addr := range []string{"nobody@example.org", "gone@example.org", "kim@example.org"} {
		var a map[string]any
		if st, _ := b.post("/auth/email", map[string]string{"email": addr}, &a); st != http.StatusAccepted {
			t.Fatalf("%s: status %d", addr, st)
		}
		answers = append(answers, a)
	}
	for _, a := range answers[1:] {
		if a["message"] != answers[0]["message"] || len(a) != len(answers[0]) {
			t.Errorf("answers differ: %v vs %v", a, answers[0])
		}
	}
	e.nextLink("kim@example.org") // the first mail is kim's: nobody and gone got none
	if st, code := b.post("/auth/email", map[string]string{"email": "not an address"}, nil); st != 400 || code != chat.CodeInvalidField {
		t.Errorf("bad address = %d %s", st, code)
	}
}

// TestEmailSignup: with invite-only signup a stranger's verified link is
// not_invited unless it came with a room invite in force; with open
// signup anyone gets a peer account named "Member N", never after the
// address.
func TestEmailSignup(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	room, err := e.st.CreateRoom(ctx, chat.Conversation{Name: "Tuesday group", CreatedBy: ""})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := e.st.CreateInvite(ctx, chat.Invite{Conv: room.ID, CreatedBy: "fac", MaxUses: 1, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.post("/auth/email", map[string]string{"email": "new@example.org", "invite": inv.Code}, nil)
	link := e.nextLink("new@example.org")
	var g struct {
		Grant
		Invite string `json:"invite"`
	}
	if st, code := b.post("/auth/email/verify", map[string]string{"link": link}, &g); st != 200 {
		t.Fatalf("invited verify = %d %s", st, code)
	}
	if !g.NewAccount || g.Invite != inv.Code || g.User.Role != "peer" || !strings.HasPrefix(g.User.Name, "Member ") ||
		strings.Contains(g.User.Name, "new") {
		t.Errorf("invited grant = %+v", g)
	}
	b.post("/auth/email", map[string]string{"email": "stranger@example.org", "invite": "bogus"}, nil)
	e.noMail(b)
	if err := e.st.PutSetting(ctx, chat.SettingSignup, string(chat.SignupOpen)); err != nil {
		t.Fatal(err)
	}
	b.post("/auth/email", map[string]string{"email": "stranger@example.org"}, nil)
	link = e.nextLink("stranger@example.org")
	if err := e.st.PutSetting(ctx, chat.SettingSignup, string(chat.SignupInvite)); err != nil {
		t.Fatal(err)
	}
	if st, code := b.post("/auth/email/verify", map[string]string{"link": link}, nil); st != 403 || code != chat.CodeNotInvited {
		t.Errorf("link sent under open signup, used after it closed = %d %s; want 403 not_invited", st, code)
	}
}

// TestEmailRateLimits: one address is sent at most LinksPerAddress links
// per window, whatever asks; one source may ask LinksPerSource times, then
// gets rate_limited with Retry-After.
func TestEmailRateLimits(t *testing.T) {
	e := newEnv(t, func(_ *env, c *Config) { c.LinksPerAddress, c.LinksPerSource = 2, 6 })
	e.account("u_al", "al@example.org", "peer")
	b := e.browser()
	for range 3 {
		if st, _ := b.post("/auth/email", map[string]string{"email": "al@example.org"}, nil); st != http.StatusAccepted {
			t.Fatalf("request: %d", st)
		}
	}
	e.nextLink("al@example.org")
	e.nextLink("al@example.org")
	e.noMail(b) // the third was not sent (the marker is the 4th request)
	b.post("/auth/email", map[string]string{"email": "x@example.org"}, nil)
	b.post("/auth/email", map[string]string{"email": "y@example.org"}, nil)
	if st, code := b.post("/auth/email", map[string]string{"email": "z@example.org"}, nil); st != 429 || code != chat.CodeRateLimited {
		t.Errorf("7th request from one source = %d %s; want 429 rate_limited", st, code)
	}
	e.advance(16 * time.Minute)
	if st, _ := b.post("/auth/email", map[string]string{"email": "al@example.org"}, nil); st != http.StatusAccepted {
		t.Errorf("after the window: %d", st)
	}
	e.nextLink("al@example.org")
}

// TestDeactivatedCannotUseLink: a link sent before a deactivation does not
// sign in after it.
func TestDeactivatedCannotUseLink(t *testing.T) {
	e := newEnv(t, nil)
	e.account("u_dee", "dee@example.org", "peer")
	b := e.browser()
	b.post("/auth/email", map[string]string{"email": "dee@example.org"}, nil)
	link := e.nextLink("dee@example.org")
	if err := e.st.SetAccountStatus(t.Context(), "u_dee", chat.StatusDeactivated); err != nil {
		t.Fatal(err)
	}
	if st, code := b.post("/auth/email/verify", map[string]string{"link": link}, nil); st != 403 || code != chat.CodeAccountDeactivated {
		t.Errorf("verify after deactivation = %d %s; want 403 account_deactivated", st, code)
	}
}
