package sealer

import (
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"
)

func testKey(b byte) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune(b)), KeySize)))
}

func mustParse(t *testing.T, text string) *Ring {
	t.Helper()
	r, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return r
}

func TestParse(t *testing.T) {
	raw := base64.RawStdEncoding.EncodeToString([]byte(strings.Repeat("r", KeySize)))
	tests := []struct {
		name, text string
		ids        []string // nil: an error is wanted
		errHas     string
	}{
		{"one", "k1:" + testKey('a'), []string{"k1"}, ""},
		{"lines, comments, blanks", "# keys\n\nk2:" + testKey('b') + "\n  k1:" + testKey('a') + "  \n", []string{"k2", "k1"}, ""},
		{"commas", "k2:" + testKey('b') + ", k1:" + raw, []string{"k2", "k1"}, ""},
		{"empty", " \n# nothing\n", nil, "no keys"},
		{"no colon", "k1" + testKey('a'), nil, "entry 1"},
		{"short key", "k1:" + base64.StdEncoding.EncodeToString([]byte("short")), nil, `entry 1 (id "k1")`},
		{"not base64", "k1:!!!", nil, "not the base64"},
		{"bad id", "k 1:" + testKey('a'), nil, "invalid key id"},
		{"long id", strings.Repeat("x", MaxIDLen+1) + ":" + testKey('a'), nil, "invalid key id"},
		{"duplicate", "k1:" + testKey('a') + "\nk1:" + testKey('b'), nil, "twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse(tc.text)
			if tc.ids == nil {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("Parse = %v, want an error with %q", err, tc.errHas)
				}
				if strings.Contains(err.Error(), testKey('a')) || strings.Contains(err.Error(), testKey('b')) {
					t.Errorf("error %q shows a key", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := strings.Join(r.IDs(), ","); got != strings.Join(tc.ids, ",") || r.Active() != tc.ids[0] {
				t.Errorf("ids %s (active %s), want %v", got, r.Active(), tc.ids)
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	old := mustParse(t, "k1:"+testKey('a'))
	rotated := mustParse(t, "k2:"+testKey('b')+"\nk1:"+testKey('a'))
	wrong := mustParse(t, "k1:"+testKey('c'))
	ad := AD(nil, "events.body", "r_room", 7)

	id, sealed, err := old.Seal("a distinctive body", ad)
	if err != nil || id != "k1" {
		t.Fatalf("Seal = %q, %v", id, err)
	}
	if strings.Contains(sealed, "distinctive") {
		t.Fatalf("sealed value %q holds the text", sealed)
	}
	if _, again, _ := old.Seal("a distinctive body", ad); again == sealed {
		t.Error("two seals of one text are equal: the nonce is not random")
	}
	var unknown *UnknownKeyError
	tests := []struct {
		name   string
		ring   *Ring
		id     string
		value  string
		ad     []byte
		want   string
		wantIs func(error) bool
	}{
		{"same ring", old, id, sealed, ad, "a distinctive body", nil},
		{"after rotation", rotated, id, sealed, ad, "a distinctive body", nil},
		{"plain row", nil, "", "plain", ad, "plain", nil},
		{"plain row with a ring", old, "", "plain", ad, "plain", nil},
		{"other row", old, id, sealed, AD(nil, "events.body", "r_room", 8), "", isErrOpen},
		{"other conversation", old, id, sealed, AD(nil, "events.body", "r_roo", 7), "", isErrOpen},
		{"other column", old, id, sealed, AD(nil, "escalations.message", "r_room", 7), "", isErrOpen},
		{"wrong key bytes", wrong, id, sealed, ad, "", isErrOpen},
		{"altered", old, id, sealed[:len(sealed)-2] + "AA", ad, "", isErrOpen},
		{"truncated", old, id, sealed[:8], ad, "", isErrOpen},
		{"not base64", old, id, "***", ad, "", isErrOpen},
		{"unknown key", mustParse(t, "k9:"+testKey('a')), id, sealed, ad, "", func(err error) bool { return errors.As(err, &unknown) && unknown.ID == "k1" }},
		{"no ring", nil, id, sealed, ad, "", func(err error) bool { return errors.As(err, &unknown) && unknown.ID == "k1" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.ring.Open(tc.id, tc.value, tc.ad)
			if tc.wantIs != nil {
				if err == nil || !tc.wantIs(err) {
					t.Fatalf("Open = %q, %v; want a refusal", got, err)
				}
				if strings.Contains(err.Error(), "distinctive") {
					t.Errorf("error %q shows the text", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Open = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if !strings.Contains((&UnknownKeyError{ID: "k1"}).Error(), `"k1"`) {
		t.Error("the unknown-key error does not name the key id")
	}
}

func isErrOpen(err error) bool { return errors.Is(err, ErrOpen) }

func TestSealNilAndEmpty(t *testing.T) {
	var none *Ring
	if id, v, err := none.Seal("text", nil); id != "" || v != "text" || err != nil {
		t.Errorf("nil ring Seal = %q, %q, %v; want the text as it is", id, v, err)
	}
	r := mustParse(t, "k1:"+testKey('a'))
	if id, v, err := r.Seal("", nil); id != "" || v != "" || err != nil {
		t.Errorf(`Seal("") = %q, %q, %v; want "" without a key id`, id, v, err)
	}
	if none.Active() != "" || none.Has("k1") || !r.Has("k1") || r.Has("k2") {
		t.Error("Active/Has disagree with the ring")
	}
}

func TestAD(t *testing.T) {
	// The length prefix keeps (key, n) pairs apart that would otherwise
	// concatenate alike.
	a := string(AD(nil, "c", "ab", 1))
	b := string(AD(nil, "c", "a", 1))
	if a == b || a != "c\x002:ab\x001" {
		t.Errorf("AD = %q and %q", a, b)
	}
}

func TestLoad(t *testing.T) {
	path := t.TempDir() + "/keys"
	writeFile(t, path, "k1:"+testKey('a')+"\n")
	t.Setenv("KT_KEYS", "")
	if r, err := Load("", "KT_KEYS"); r != nil || err != nil {
		t.Errorf("Load with nothing set = %v, %v; want no ring", r, err)
	}
	if r, err := Load(path, "KT_KEYS"); err != nil || r.Active() != "k1" {
		t.Errorf("Load(file) = %v, %v", r, err)
	}
	t.Setenv("KT_KEYS", "k2:"+testKey('b')+",k1:"+testKey('a'))
	if r, err := Load("", "KT_KEYS"); err != nil || r.Active() != "k2" {
		t.Errorf("Load(env) = %v, %v", r, err)
	}
	if _, err := Load(path, "KT_KEYS"); err == nil {
		t.Error("Load accepted both a file and the environment")
	}
	t.Setenv("KT_KEYS", "")
	if _, err := Load(path+".missing", "KT_KEYS"); err == nil {
		t.Error("Load accepted a missing file")
	}
	line, err := Generate("k3")
	if err != nil {
		t.Fatal(err)
	}
	if r := mustParse(t, line); r.Active() != "k3" {
		t.Errorf("Generate gave %v", r.IDs())
	}
	if _, err := Generate("bad id"); err == nil {
		t.Error("Generate accepted a bad id")
	}
}

func BenchmarkSeal(b *testing.B) {
	r, _ := Parse("k1:" + testKey('a'))
	ad := AD(nil, "events.body", "r_abcdefghijkl", 12345)
	body := strings.Repeat("x", 200)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := r.Seal(body, ad); err != nil {
			b.Fatal(err)
		}
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkOpen(b *testing.B) {
	r, _ := Parse("k1:" + testKey('a'))
	ad := AD(nil, "events.body", "r_abcdefghijkl", 12345)
	id, sealed, _ := r.Seal(strings.Repeat("x", 200), ad)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Open(id, sealed, ad); err != nil {
			b.Fatal(err)
		}
	}
}
