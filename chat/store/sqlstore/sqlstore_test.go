package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/store/postgres"
	"github.com/kindred-health/kindred/chat/store/sqlite"
	"github.com/kindred-health/kindred/chat/store/sqlstore"
	"github.com/kindred-health/kindred/chat/store/storetestenv"
)

type numbered struct{}

func (numbered) Name() string             { return "test" }
func (numbered) Placeholder(n int) string { return "$" + string(rune('0'+n)) }
func (numbered) Now() string              { return "NOW()" }
func (numbered) RowOrder() string         { return "ord" }
func (numbered) StoresText(string) bool   { return true }
func (numbered) DMKey(a, b string) string { return a + b }
func (numbered) LockRows(skip bool) string {
	if skip {
		return " SKIP"
	}
	return " LOCK"
}
func (numbered) LockJoins(context.Context, sqlstore.Tx, string) error { return nil }

func TestExpand(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`:                              `SELECT 1`,
		`a = ? AND b = ? ORDER BY x, c.{ord}`:   `a = $1 AND b = $2 ORDER BY x, c.ord`,
		`VALUES (?, {now}, ?)`:                  `VALUES ($1, NOW(), $2)`,
		`WHERE id = ?{lock}`:                    `WHERE id = $1 LOCK`,
		`LIMIT ?{skip}`:                         `LIMIT $1 SKIP`,
		`{now}{ord}`:                            `NOW()ord`,
		`x IN (?,?,?) AND y = 'text' AND z=?`:   `x IN ($1,$2,$3) AND y = 'text' AND z=$4`,
		"multi\nline ?\n\t{ord}":                "multi\nline $1\n\tord",
		`no tokens, no placeholders: (a, b)`:    `no tokens, no placeholders: (a, b)`,
		`?`:                                     `$1`,
		`{lock}`:                                ` LOCK`,
		`ON CONFLICT (id) DO NOTHING RETURNING`: `ON CONFLICT (id) DO NOTHING RETURNING`,
	} {
		if got := sqlstore.Expand(numbered{}, in); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{`{nope}`, `a {now`} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Expand(%q) did not panic", bad)
				}
			}()
			sqlstore.Expand(numbered{}, bad)
		}()
	}
}

// engines opens a fresh store of each engine.
func engines(t *testing.T) map[string]*sqlstore.Store {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	url := storetestenv.PostgresURL(t)
	pg, err := postgres.Open(ctx, url, postgres.WithSchema(storetestenv.FreshSchema(t, url)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	return map[string]*sqlstore.Store{"sqlite": lite.Store, "postgres": pg.Store}
}

// TestEscalationValidation: every engine refuses, as invalid input rather
// than as an outage, the escalations some engine could not store (text
// with NUL or invalid UTF-8, an unknown source or status), and accepts
// such text where JSON holds it.
func TestEscalationValidation(t *testing.T) {
	for name, s := range engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			es := s.Escalations()
			ok := func() *escalation.Escalation {
				return &escalation.Escalation{ID: escalation.NewID("esc_"), Subject: "u", Source: escalation.SourceConcern,
					Severity: crisis.High, Status: escalation.StatusOpen, CreatedAt: time.Now()}
			}
			for what, change := range map[string]func(e *escalation.Escalation){
				"NUL in a text column": func(e *escalation.Escalation) { e.Subject = "u\x00" },
				"invalid UTF-8":        func(e *escalation.Escalation) { e.Reason = "\xff" },
				"NUL in a step":        func(e *escalation.Escalation) { e.Timeline = []escalation.Step{{Actor: "a\x00"}} },
				"unknown source":       func(e *escalation.Escalation) { e.Source = "rumour" },
				"unknown status":       func(e *escalation.Escalation) { e.Status = "" },
			} {
				e := ok()
				change(e)
				if _, _, err := es.Create(ctx, e); chat.ErrorCode(err) != chat.CodeInvalidField {
					t.Errorf("Create with %s = %v, want invalid_field", what, err)
				}
				if _, err := es.Get(ctx, e.ID); chat.ErrorCode(err) != chat.CodeNotFound {
					t.Errorf("after a refused Create with %s, Get = %v, want not found", what, err)
				}
			}
			// In JSON columns a NUL is just an escape.
			e := ok()
			e.Evidence = []crisis.Span{{Text: "a\x00b"}}
			if _, _, err := es.Create(ctx, e); err != nil {
				t.Fatalf("Create with a NUL in JSON: %v", err)
			}
			if got, err := es.Get(ctx, e.ID); err != nil || got.Evidence[0].Text != "a\x00b" {
				t.Fatalf("Get = %+v, %v", got, err)
			}
			_, err := es.Update(ctx, e.ID, func(e *escalation.Escalation) error { e.Outcome = "x\x00"; return nil })
			if chat.ErrorCode(err) != chat.CodeInvalidField {
				t.Errorf("Update storing a NUL = %v, want invalid_field", err)
			}
			if _, err := es.Get(ctx, "esc_\x00"); chat.ErrorCode(err) != chat.CodeNotFound {
				t.Errorf("Get(NUL) = %v, want not found", err)
			}
		})
	}
}
