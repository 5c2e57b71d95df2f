package signaling

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

func TestTURNRESTCredential(t *testing.T) {
	// Computed apart: printf %s 1700000000:alice | openssl dgst -sha1 -hmac s3cret -binary | base64
	user, cred := turnRESTCredential("s3cret", "alice", time.Unix(1_700_000_000, 0))
	if user != "1700000000:alice" || cred != "TtElzSjT0GdnTQ9xdcRNxx96yQs=" {
		t.Fatalf("got %s / %s", user, cred)
	}
	if user, _ := turnRESTCredential("s3cret", "", time.Unix(1_700_000_000, 0)); user != "1700000000" {
		t.Fatalf("no user: %s", user)
	}
	// pion's own generator (the same maths coturn uses) agrees.
	pu, pc, err := turn.GenerateLongTermTURNRESTCredentials("s3cret", "bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if turnRESTPassword("s3cret", pu) != pc || !strings.HasSuffix(pu, ":bob") {
		t.Fatalf("pion's %s / %s disagrees with ours", pu, pc)
	}
}

func TestTURNRESTExpiry(t *testing.T) {
	for name, want := range map[string]int64{"1700000000:alice": 1_700_000_000, "1700000000": 1_700_000_000, "5:a:b": 5} {
		got, ok := turnRESTExpiry(name)
		if !ok || got.Unix() != want {
			t.Errorf("%q: %v %v, want %d", name, got, ok, want)
		}
	}
	for _, bad := range []string{"", ":alice", "alice", "+5:a", "-5:a", "1e9:a", "99999999999999999999:a"} {
		if _, ok := turnRESTExpiry(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}
