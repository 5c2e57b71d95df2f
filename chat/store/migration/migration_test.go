package migration

import (
	"testing"
	"testing/fstest"
)

func TestLoadOrdersAndRefusesAmbiguity(t *testing.T) {
	ms, err := Load(fstest.MapFS{
		"m/0010_b.sql": {Data: []byte("B")},
		"m/0002_a.sql": {Data: []byte("A")},
		"m/notes.txt":  {Data: []byte("x")},
	}, "m/*.sql")
	if err != nil || len(ms) != 2 || ms[0].Version != 2 || ms[1].Name != "0010_b.sql" || ms[1].SQL != "B" {
		t.Fatalf("Load = %+v, %v", ms, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"no version": {"m/init.sql": {}},
		"zero":       {"m/0000_x.sql": {}},
		"duplicate":  {"m/0001_a.sql": {}, "m/01_b.sql": {}},
	} {
		if _, err := Load(fsys, "m/*.sql"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
