// Command kindred runs the Kindred peer-support chat server and its tools:
//
//	kindred serve          run a node (embedded SQLite by default)
//	kindred token          mint a sign-in token with the configured key
//	kindred crisis-check   score messages from standard input with the crisis detector
//	kindred oncall         manage the supervisors' on-call rota
//	kindred keys           generate encryption keys, count rows by key, rotate
//
// Every flag also reads a KINDRED_* environment variable; see
// `kindred <command> --help`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
)

// progName is how start-up hints write this program in the commands they
// suggest, so that they can be pasted as they are: "go run ./cmd/kindred"
// under go run, else the name it was started by (bin/kindred, kindred, ...).
var progName = "kindred"

func main() {
	progName = invokedAs(os.Args[0])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if err != errUsage {
			fmt.Fprintln(os.Stderr, "kindred:", err)
		}
		if err == errAuditBroken {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

// Run runs the command named by args[0]. It returns when the command is
// done or, for serve, when ctx ends and shutdown has finished.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "token":
		return runToken(args[1:], stdout, stderr)
	case "crisis-check":
		return runCrisisCheck(args[1:], stdin, stdout, stderr)
	case "oncall":
		return runOncall(ctx, args[1:], stdout, stderr)
	case "revoke":
		return runRevoke(ctx, args[1:], stdout, stderr)
	case "keys":
		return runKeys(ctx, args[1:], stdout, stderr)
	case "audit":
		return runAudit(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	default:
		fmt.Fprintf(stderr, "kindred: unknown command %q\n", args[0])
		usage(stderr)
		return errUsage
	}
}

// goRunCache matches the directory of an executable that go run cached
// in the build cache: a hex digest and -d.
var goRunCache = regexp.MustCompile(`^[0-9a-f]{64}-d$`)

// invokedAs returns the command that started this program, given its
// argv[0]. go run builds into a temporary go-build* directory, or its
// cache (by default .../go-build/xx/<digest>-d/); both give
// "go run ./cmd/kindred", the command the README uses.
func invokedAs(arg0 string) string {
	if arg0 == "" {
		return "kindred"
	}
	dir := filepath.Dir(arg0)
	if goRunCache.MatchString(filepath.Base(dir)) {
		return "go run ./cmd/kindred"
	}
	for _, el := range strings.Split(filepath.ToSlash(dir), "/") {
		if strings.HasPrefix(el, "go-build") {
			return "go run ./cmd/kindred"
		}
	}
	return shellQuote(arg0)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: kindred <command> [flags]

Commands:
  serve   run a Kindred node
  token   mint a sign-in token (JWT) with the configured key
  crisis-check
          score messages from standard input with the crisis detector
  oncall  list, add or remove on-call shifts of supervisors
  revoke  end every session of a user (--user ID)
  keys    encryption keys at rest: generate, status, rotate
  audit verify
          check the audit log's hash chain and print its head

Run "kindred <command> --help" for the flags of a command. Every flag can
also be set through the KINDRED_* environment variable shown in its help.
`)
}
