package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/sqlite"
)

// The demo prints an invite link into its private group that lets a new
// user in.
func TestDemoInviteLink(t *testing.T) {
	ctx, dir := context.Background(), t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "kindred.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	signer, err := auth.NewHMACSigner(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := printSignInLinks(ctx, &out, st, signer, "http://127.0.0.1:8080", true, dir, "", slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`http://127\.0\.0\.1:8080/#invite=(\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no invite link in:\n%s", out.String())
	}
	if err := st.UpsertUser(ctx, chat.User{ID: "newcomer", Name: "Newcomer", Role: "peer"}); err != nil {
		t.Fatal(err)
	}
	inv, used, err := st.UseInvite(ctx, m[1], "newcomer")
	if err != nil || !used || inv.Conv != demoRoomID {
		t.Fatalf("the demo's invite: %+v, %t, %v", inv, used, err)
	}
}
