package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// auditedDataDir is a data directory whose audit log holds five entries
// (kindred revoke writes one each), chained with the key generated there.
func auditedDataDir(t *testing.T) string {
	t.Helper()
	t.Setenv(envAuditKey, "")
	data := t.TempDir()
	for i := range 5 {
		if err := Run(context.Background(), []string{"revoke", "--data", data, "--user", fmt.Sprint("u", i)}, nil, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(filepath.Join(data, auditKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("generated audit key: %v %v", fi, err)
	}
	return data
}

// verify runs kindred audit verify and returns its output and error.
func verify(args ...string) (string, error) {
	var out bytes.Buffer
	err := Run(context.Background(), append([]string{"audit", "verify"}, args...), nil, &out, &bytes.Buffer{})
	return out.String(), err
}

// tamper runs SQL on the data directory's database as someone with write
// access to the file would, triggers dropped first.
func tamper(t *testing.T, data string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(data, "kindred.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range append([]string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`}, stmts...) {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

var headLine = regexp.MustCompile(`(?m)^head: (\S+)$`)

// kindred audit verify passes a whole chain and prints its head, and
// reports an altered entry, a deleted middle entry (a gap and a broken
// link) and, against the head kept from before, deleted newest entries,
// failing with exit status 1.
func TestAuditVerifyCommand(t *testing.T) {
	data := auditedDataDir(t)
	out, err := verify("--data", data)
	if err != nil || !strings.Contains(out, "entries: 5 (5 keyed)") || !strings.Contains(out, "The chain is whole.") {
		t.Fatalf("whole chain: %v\n%s", err, out)
	}
	head := headLine.FindStringSubmatch(out)[1]
	if !strings.HasPrefix(head, "5:hmac:") {
		t.Fatalf("head %q", head)
	}

	tamper(t, data, `UPDATE audit_log SET detail = 'generation=9' WHERE position = 2`)
	out, err = verify("--data", data)
	if err != errAuditBroken || !strings.Contains(out, "PROBLEM: position 2 (id 2): altered entry") || strings.Count(out, "PROBLEM") != 1 {
		t.Fatalf("altered entry: %v\n%s", err, out)
	}

	data = auditedDataDir(t)
	tamper(t, data, `DELETE FROM audit_log WHERE position = 3`)
	out, err = verify("--data", data)
	if err != errAuditBroken || !strings.Contains(out, "PROBLEM: gap: positions 3 to 3 are missing") ||
		!strings.Contains(out, "PROBLEM: position 4: broken link") {
		t.Fatalf("deleted middle entry: %v\n%s", err, out)
	}

	// The newest entry deleted and the store's head moved back with it:
	// only the head kept outside shows it.
	data = auditedDataDir(t)
	out, _ = verify("--data", data)
	head = headLine.FindStringSubmatch(out)[1]
	tamper(t, data, `DELETE FROM audit_log WHERE position = 5`,
		`UPDATE audit_head SET position = 4, hash = (SELECT hash FROM audit_log WHERE position = 4)`)
	if out, err = verify("--data", data); err != nil {
		t.Fatalf("without the anchor the shorter chain is whole: %v\n%s", err, out)
	}
	out, err = verify("--data", data, "--expect-head", head)
	if err != errAuditBroken || !strings.Contains(out, "PROBLEM: the anchored head "+head+" is gone") {
		t.Fatalf("deleted newest entry against the anchor: %v\n%s", err, out)
	}
	if _, err := verify("--data", data, "--expect-head", "nonsense"); err != errUsage {
		t.Fatalf("a malformed --expect-head: %v", err)
	}
}
