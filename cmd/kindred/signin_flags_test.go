package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth/mail/mailtest"
)

// postAuth posts body to a sign-in route as the browser client does (the
// CSRF header), with the extra headers given, and decodes the answer.
func postAuth(t *testing.T, url string, body any, hdr map[string]string, out any) (*http.Response, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Kindred-CSRF", "1")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v in %s", url, err, raw)
		}
	}
	return resp, string(raw)
}

// serve with --smtp-url and --public-url, end to end: an admin opens
// signup; a peer asks for a link, which arrives through a real SMTP server
// and points at --public-url; the link gives an access token the node
// accepts and a refresh cookie with the documented attributes, which
// rotates once.
func TestServeSignInWithEmailLink(t *testing.T) {
	mbox := mailtest.Start(t)
	data := filepath.Join(t.TempDir(), "data")
	admin := mintToken(t, "--data", data, "--sub", "ada", "--name", "Ada", "--role", "admin")
	url, _ := serveProcess(t, "--data", data, "--public-url", "https://chat.example.test",
		"--smtp-url", mbox.URL("Kindred <no-reply@example.test>"))

	req, _ := http.NewRequest("PUT", url+"/api/settings/signin", strings.NewReader(`{"signup":"open"}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("open signup: %v %v", resp, err)
	}
	if resp, raw := postAuth(t, url+"/auth/email", map[string]string{"email": "pat@example.test"}, nil, nil); resp.StatusCode != 202 {
		t.Fatalf("ask for a link: %d %s", resp.StatusCode, raw)
	}
	m := mbox.Next(10 * time.Second)
	secret := regexp.MustCompile(`https://chat\.example\.test/#link=([A-Za-z0-9_-]+)`).FindStringSubmatch(m.Body)
	if !strings.Contains(m.To, "pat@example.test") || secret == nil {
		t.Fatalf("mail to %q without a link to --public-url:\n%s", m.To, m.Body)
	}
	var g struct {
		AccessToken string `json:"access_token"`
		NewAccount  bool   `json:"new_account"`
	}
	resp, raw := postAuth(t, url+"/auth/email/verify", map[string]string{"link": secret[1]}, nil, &g)
	if resp.StatusCode != 200 || !g.NewAccount {
		t.Fatalf("verify: %d %s", resp.StatusCode, raw)
	}
	signInWith(t, url, g.AccessToken)
	cookie := resp.Header.Get("Set-Cookie")
	for _, attr := range []string{"__Secure-kindred_refresh=", "Path=/auth/", "HttpOnly", "Secure", "SameSite=Strict"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("refresh cookie %q lacks %s", cookie, attr)
		}
	}
	value := strings.SplitN(cookie, ";", 2)[0]
	resp, raw = postAuth(t, url+"/auth/refresh", nil, map[string]string{"Cookie": value}, &g)
	if resp.StatusCode != 200 || g.AccessToken == "" || strings.SplitN(resp.Header.Get("Set-Cookie"), ";", 2)[0] == value {
		t.Errorf("refresh: %d %s, cookie %q", resp.StatusCode, raw, resp.Header.Get("Set-Cookie"))
	}
}
