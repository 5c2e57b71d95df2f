package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/server"
)

// firstRunMarker is written to the data directory once the first-run
// sign-in link has been printed, so that it is printed only once.
const firstRunMarker = "first-run-done"

// adminLinkFile, in the data directory, holds the first-run
// administrator's sign-in link (mode 0600).
const adminLinkFile = "first-run-admin-link.txt"

const (
	adminLinkTTL = 24 * time.Hour
	demoLinkTTL  = 12 * time.Hour
	// demoInviteUses is how many people the demo's invite link lets in.
	demoInviteUses = 10
	demoRoomID     = "r_demo"
)

// demoUsers are the people of demo mode, one per role a newcomer may want
// to try.
var demoUsers = []struct {
	id, name, label string
	role            auth.Role
}{
	{"demo-sam", "Sam", "Peer", auth.RolePeer},
	{"demo-riley", "Riley", "Specialist", auth.RoleSpecialist},
	{"demo-morgan", "Morgan", "Supervisor", auth.RoleSupervisor},
}

// localSigner returns a Signer for the HS256 secret the server verifies
// with, or nil when tokens come from an external identity provider (a
// public key or JWKS is configured), whose private key this server does not
// hold.
func (k keyFlags) localSigner(secret []byte) (*auth.Signer, error) {
	if *k.publicKey != "" || *k.jwks != "" {
		return nil, nil
	}
	s, err := auth.NewHMACSigner(secret)
	if err != nil {
		return nil, err
	}
	s = s.WithMaxAge(*k.maxAge)
	if *k.issuer != "" || *k.audience != "" {
		s = s.WithIssuer(*k.issuer, *k.audience)
	}
	return s, nil
}

// printSignInLinks writes browser sign-in links to w once the server
// listens at base (scheme://host:port):
//
//   - on first run (no first-run marker in dataDir and no rooms in the
//     store), a one-time link for an administrator, written to a file in
//     dataDir and shown on w only when w is a terminal (writeAdminLink);
//   - with demo, a sample support group and links for a peer, a specialist
//     and a supervisor, to open in three tabs.
//
// The token is in the URL fragment (#token=...), which browsers never send
// to a server or put in a Referer; the client moves it to the tab's
// sessionStorage and removes it from the address bar. signer is nil when
// the server verifies tokens it cannot mint; then nothing is printed but a
// note. mintHint, printed after the first-run link, says how to mint more
// tokens (keyFlags.mintHint).
func printSignInLinks(ctx context.Context, w io.Writer, st chat.Store, signer *auth.Signer, base string, demo bool, dataDir, mintHint string, logger *slog.Logger) error {
	if signer == nil {
		if demo {
			fmt.Fprintln(w, "Demo mode needs the local signing secret; with --jwt-public-key or --jwt-jwks, sign in with tokens from your identity provider.")
		}
		return nil
	}
	first, err := isFirstRun(ctx, st, dataDir)
	if err != nil {
		return err
	}
	if first {
		if err := writeAdminLink(w, signer, base, dataDir, mintHint, logger); err != nil {
			return err
		}
	}
	if err := markFirstRunDone(dataDir); err != nil {
		return err
	}

	if !demo {
		return nil
	}
	room, err := setUpDemo(ctx, st)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(w, "\nDemo mode: the sample support group %q is ready. Open each link in its own\nbrowser tab to try every role (each tab keeps its own sign-in):\n\n", room)
	for _, u := range demoUsers {
		tok, err := signer.Mint(u.id, u.name, u.role, linkTTL(signer, demoLinkTTL))
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "    %-22s %s/#token=%s\n", fmt.Sprintf("%s (%s):", u.label, u.name), base, tok)
	}
	inv, err := st.CreateInvite(ctx, chat.Invite{Conv: demoRoomID, CreatedBy: demoUsers[1].id, MaxUses: demoInviteUses,
		ExpiresAt: time.Now().Add(demoLinkTTL)})
	if err != nil {
		return fmt.Errorf("demo invite: %w", err)
	}
	fmt.Fprintf(w, "\nInvite link into the private group (for %d more people, once signed in):\n\n    %s\n",
		demoInviteUses, server.InviteLink(base, inv.Code))
	fmt.Fprintf(w, "\nThe links are valid for %s. Demo mode is for trying Kindred, not for real conversations.\n\n", humanDuration(linkTTL(signer, demoLinkTTL)))
	return nil
}

// linkTTL is ttl, or the signer's maximum token age when that is shorter.
func linkTTL(s *auth.Signer, ttl time.Duration) time.Duration {
	if m := s.MaxAge(); m > 0 && m < ttl {
		return m
	}
	return ttl
}

// writeAdminLink mints the first-run administrator's sign-in link and
// writes it to adminLinkFile in dataDir, readable by its owner only, and
// logs that file's path, never the link. w gets the link only when it is a
// terminal: standard output that is a pipe or a file ends up in container
// and journal logs, where anyone reading them could sign in as the
// administrator. Otherwise w is told where the file is.
func writeAdminLink(w io.Writer, signer *auth.Signer, base, dataDir, mintHint string, logger *slog.Logger) error {
	ttl := linkTTL(signer, adminLinkTTL)
	tok, err := signer.Mint("admin", "Administrator", auth.RoleAdmin, ttl)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("First run: sign in as the administrator with this link. It is valid for %s;\nanyone who has it can sign in, so keep it private.\n\n    %s/#token=%s\n\n",
		humanDuration(ttl), base, tok)
	path := filepath.Join(dataDir, adminLinkFile)
	if err := writePrivateFile(path, text+"Delete this file once you have signed in.\n"); err != nil {
		return fmt.Errorf("first-run sign-in link: %w", err)
	}
	logger.Info("first-run sign-in link written", "path", path)
	if isTerminal(w) {
		fmt.Fprintf(w, "\n%s(Also in %s; delete it once you have signed in.)\n", text, path)
	} else {
		fmt.Fprintf(w, "\nFirst run: the administrator's sign-in link is in %s (readable by this user only);\ndelete it once you have signed in.\n\n", path)
	}
	fmt.Fprintln(w, mintHint)
	return nil
}

// writePrivateFile writes text to a new file at path with mode 0600,
// replacing any file there (whose mode could be wider).
func writePrivateFile(path, text string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// isTerminal reports whether w is a terminal (a character device, as a
// tty or pty is; /dev/null is one too, harmlessly), not a pipe, socket or
// file that may be kept in logs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// isFirstRun reports whether no sign-in link was ever printed for this
// data directory. The store cannot count users, so a directory that
// predates the marker but already has rooms is treated as set up.
func isFirstRun(ctx context.Context, st chat.Store, dataDir string) (bool, error) {
	_, err := os.Stat(filepath.Join(dataDir, firstRunMarker))
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("first-run marker: %w", err)
	}
	// Public rooms only: a directory from before the marker has no
	// private rooms (rooms made before room settings are public).
	rooms, err := st.Rooms(ctx, "")
	if err != nil {
		return false, err
	}
	return len(rooms) == 0, nil
}

func markFirstRunDone(dataDir string) error {
	path := filepath.Join(dataDir, firstRunMarker)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("first-run marker: %w", err)
	}
	_, err = fmt.Fprintf(f, "The first-run sign-in link was printed at %s.\n", time.Now().UTC().Format(time.RFC3339))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// setUpDemo creates the demo users, the sample group (private, with joined
// history) with all of them as members, and a welcome message. It is idempotent: running serve --demo
// again reuses them. It returns the group's name.
func setUpDemo(ctx context.Context, st chat.Store) (string, error) {
	const name = "Evening support circle (demo)"
	for _, u := range demoUsers {
		if err := st.UpsertUser(ctx, chat.User{ID: u.id, Name: u.name, Role: string(u.role)}); err != nil {
			return "", err
		}
	}
	host := demoUsers[1]
	_, err := st.CreateRoom(ctx, chat.Conversation{
		ID: demoRoomID, Name: name, CreatedBy: host.id,
		Topic:      "A sample group for trying Kindred. Be kind; nothing here is real.",
		Visibility: chat.VisibilityPrivate, History: chat.HistoryJoined,
	})
	if err != nil && chat.ErrorCode(err) != chat.CodeConflict {
		return "", err
	}
	for _, u := range demoUsers {
		if err := st.Join(ctx, demoRoomID, u.id, 0); err != nil {
			return "", err
		}
	}
	items := []chat.AppendItem{{Event: chat.Event{
		Conv: demoRoomID, Kind: chat.EventMessage, Sender: host.id, Name: host.name, ClientID: "demo-welcome",
		Body: "Welcome, everyone. This is a demo group: open the three sign-in links in separate tabs to see Kindred as a peer, a specialist and a supervisor. Say hello when you're ready.",
	}}}
	if err := st.Append(ctx, items); err != nil {
		return "", err
	}
	if err := items[0].Err; err != nil {
		return "", err
	}
	return name, nil
}

// linkHost is the host:port to put in links: the listen address, with a
// wildcard host (0.0.0.0, ::) replaced by localhost.
func linkHost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func humanDuration(d time.Duration) string {
	if h := d.Hours(); h == float64(int(h)) {
		return fmt.Sprintf("%d hours", int(h))
	}
	return d.String()
}
