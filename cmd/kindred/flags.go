package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// errUsage is returned after a usage message has been printed.
var errUsage = errors.New("usage")

// flagSet is a flag.FlagSet whose flags fall back to KINDRED_* environment
// variables: a flag given on the command line wins, then the variable,
// then the default.
type flagSet struct {
	*flag.FlagSet
	env     map[string]string // flag name -> variable
	envOnly []envSetting      // settings read from the environment only, for the help
}

// envSetting is a setting with no flag: a secret, which must not show in
// process lists as a command line would.
type envSetting struct{ name, usage string }

func newFlagSet(name, summary string, out io.Writer) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), env: map[string]string{}}
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: kindred %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
		if len(fs.envOnly) == 0 {
			return
		}
		fmt.Fprint(out, "\nEnvironment variables with no flag (so that secrets stay out of process lists):\n")
		slices.SortFunc(fs.envOnly, func(a, b envSetting) int { return strings.Compare(a.name, b.name) })
		for _, e := range fs.envOnly {
			fmt.Fprintf(out, "  %s\n    \t%s\n", e.name, strings.ReplaceAll(e.usage, "\n", "\n    \t"))
		}
	}
	return fs
}

// EnvOnly documents a setting read from the environment variable name
// only; the command reads it itself.
func (fs *flagSet) EnvOnly(name, usage string) {
	fs.envOnly = append(fs.envOnly, envSetting{name, usage})
}

// envName is the variable read for flag name: KINDRED_ and the name in
// upper case with dashes as underscores.
func envName(name string) string {
	return "KINDRED_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func (fs *flagSet) bind(name, usage string) string {
	v := envName(name)
	fs.env[name] = v
	return usage + " [$" + v + "]"
}

func (fs *flagSet) String(name, def, usage string) *string {
	return fs.FlagSet.String(name, def, fs.bind(name, usage))
}

func (fs *flagSet) Int(name string, def int, usage string) *int {
	return fs.FlagSet.Int(name, def, fs.bind(name, usage))
}

func (fs *flagSet) Float64(name string, def float64, usage string) *float64 {
	return fs.FlagSet.Float64(name, def, fs.bind(name, usage))
}

func (fs *flagSet) Bool(name string, def bool, usage string) *bool {
	return fs.FlagSet.Bool(name, def, fs.bind(name, usage))
}

func (fs *flagSet) Duration(name string, def time.Duration, usage string) *time.Duration {
	return fs.FlagSet.Duration(name, def, fs.bind(name, usage))
}

func (fs *flagSet) StringVar(p *string, name, def, usage string) {
	fs.FlagSet.StringVar(p, name, def, fs.bind(name, usage))
}

func (fs *flagSet) IntVar(p *int, name string, def int, usage string) {
	fs.FlagSet.IntVar(p, name, def, fs.bind(name, usage))
}

func (fs *flagSet) Float64Var(p *float64, name string, def float64, usage string) {
	fs.FlagSet.Float64Var(p, name, def, fs.bind(name, usage))
}

func (fs *flagSet) BoolVar(p *bool, name string, def bool, usage string) {
	fs.FlagSet.BoolVar(p, name, def, fs.bind(name, usage))
}

func (fs *flagSet) DurationVar(p *time.Duration, name string, def time.Duration, usage string) {
	fs.FlagSet.DurationVar(p, name, def, fs.bind(name, usage))
}

// parse parses args, then fills unset flags from the environment, with the
// same validation as the command line.
func (fs *flagSet) parse(args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %q\n", fs.Args())
		return errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, v := range fs.env {
		if set[name] {
			continue
		}
		if val, ok := os.LookupEnv(v); ok {
			if err := fs.Set(name, val); err != nil {
				return fmt.Errorf("%s: %v", v, err)
			}
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
