// Command kindred runs the Kindred peer-support chat server and its tools:
//
//	kindred serve          run a node (embedded SQLite by default)
//	kindred token          mint a sign-in token with the configured key
//	kindred crisis-check   score messages from standard input with the crisis detector
//	kindred oncall         manage the supervisors' on-call rota
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
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if err != errUsage {
			fmt.Fprintln(os.Stderr, "kindred:", err)
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
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	default:
		fmt.Fprintf(stderr, "kindred: unknown command %q\n", args[0])
		usage(stderr)
		return errUsage
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: kindred <command> [flags]

Commands:
  serve   run a Kindred node
  token   mint a sign-in token (JWT) with the configured key
  crisis-check
          score messages from standard input with the crisis detector
  oncall  list, add or remove on-call shifts of supervisors

Run "kindred <command> --help" for the flags of a command. Every flag can
also be set through the KINDRED_* environment variable shown in its help.
`)
}
