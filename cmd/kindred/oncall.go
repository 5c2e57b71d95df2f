package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/escalation"
)

const oncallUsage = `Usage: kindred oncall list|add|remove [flags]

  list     shifts from a day ago to 30 days ahead
  add      --supervisor ID --tier primary|backup --start TIME --end TIME
           (TIME: RFC 3339, e.g. 2026-11-23T18:00:00Z, or "now", or a
           duration from now such as 8h)
  remove   --id SHIFT

Flags --data and --database-url select the store, as for serve.
`

// oncallConfig is what oncall's subcommand and flags say.
type oncallConfig struct {
	cmd                   string // list, add or remove
	data                  *string
	backend               backendFlags
	sup, tier, start, end *string // add
	id                    *string // remove
}

// runOncall manages the on-call rota in the node's store directly, with
// the same --data or --database-url as serve (admins may also use the HTTP
// API: /api/oncall/shifts).
func runOncall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseOncallFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	*cfg.backend.redisURL = "" // the rota lives in the store only
	be, err := cfg.backend.open(ctx, *cfg.data, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer be.close()
	switch cfg.cmd {
	case "list":
		return oncallList(ctx, stdout, be.escalations)
	case "add":
		return oncallAdd(ctx, stdout, be, cfg)
	default:
		return oncallRemove(ctx, stdout, be.escalations, *cfg.id)
	}
}

func parseOncallFlags(args []string, stderr io.Writer) (*oncallConfig, error) {
	if len(args) == 0 || (args[0] != "list" && args[0] != "add" && args[0] != "remove") {
		fmt.Fprint(stderr, oncallUsage)
		return nil, errUsage
	}
	c := &oncallConfig{cmd: args[0]}
	fs := newFlagSet("oncall "+c.cmd, "Manage the on-call rota.", stderr)
	c.data = fs.String("data", "./kindred-data", "data directory of the embedded store")
	c.backend = addBackendFlags(fs)
	c.sup = fs.FlagSet.String("supervisor", "", "supervisor user id (add)")
	c.tier = fs.FlagSet.String("tier", "primary", "primary or backup (add)")
	c.start = fs.FlagSet.String("start", "now", "shift start (add)")
	c.end = fs.FlagSet.String("end", "8h", "shift end (add)")
	c.id = fs.FlagSet.String("id", "", "shift id (remove)")
	if err := fs.parse(args[1:]); err != nil {
		return nil, err
	}
	return c, nil
}

func oncallList(ctx context.Context, stdout io.Writer, st escalation.Store) error {
	shifts, err := st.ListShifts(ctx, time.Now().Add(-24*time.Hour), time.Now().Add(30*24*time.Hour))
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSUPERVISOR\tTIER\tSTART\tEND")
	for _, s := range shifts {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Supervisor, s.Tier, s.Start.Format(time.RFC3339), s.End.Format(time.RFC3339))
	}
	return w.Flush()
}

func oncallAdd(ctx context.Context, stdout io.Writer, be *backends, c *oncallConfig) error {
	from, err := parseWhen(*c.start)
	if err != nil {
		return fmt.Errorf("--start: %w", err)
	}
	to, err := parseWhen(*c.end)
	if err != nil {
		return fmt.Errorf("--end: %w", err)
	}
	s := escalation.Shift{Supervisor: *c.sup, Tier: escalation.ShiftTier(*c.tier), Start: from, End: to}
	if err := s.Validate(); err != nil {
		return err
	}
	// Whoever is on call sees crisis messages and their context.
	u, err := be.store.User(ctx, s.Supervisor)
	if err != nil {
		return fmt.Errorf("%q has never signed in; only known supervisors can be on call", s.Supervisor)
	}
	if !auth.Role(u.Role).Can(auth.ActViewEscalations) {
		return fmt.Errorf("%q is a %s, not a supervisor", s.Supervisor, u.Role)
	}
	s, err = be.escalations.PutShift(ctx, s)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added shift %s: %s on call (%s) from %s to %s\n", s.ID, s.Supervisor, s.Tier, s.Start.Format(time.RFC3339), s.End.Format(time.RFC3339))
	return nil
}

func oncallRemove(ctx context.Context, stdout io.Writer, st escalation.Store, id string) error {
	if id == "" {
		return errors.New("--id is required")
	}
	if err := st.DeleteShift(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed shift %s\n", id)
	return nil
}

// parseWhen reads an RFC 3339 time, "now", or a duration from now.
func parseWhen(s string) (time.Time, error) {
	if s == "now" {
		return time.Now().UTC(), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(d).UTC(), nil
	}
	return time.Parse(time.RFC3339, s)
}
