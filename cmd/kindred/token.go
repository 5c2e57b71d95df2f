package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kindred-health/kindred/auth"
)

func runToken(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token", "Mint a sign-in token (JWT) with the configured key and print it.\nBy default it signs with the HS256 secret of the data directory, creating it\nif needed, so `kindred serve` with the same --data accepts the token.", stderr)
	keys := addKeyFlags(fs)
	// Who the token is for is said on the command line only: generic
	// variables such as KINDRED_NAME would leak in from the environment.
	sub := fs.FlagSet.String("sub", "", "user id (required)")
	name := fs.FlagSet.String("name", "", "display name (default: the user id)")
	role := fs.FlagSet.String("role", "peer", "role: peer, specialist, supervisor or admin")
	ttl := fs.FlagSet.Duration("ttl", 24*time.Hour, "how long the token is valid")
	priv := fs.String("jwt-private-key", "", "sign with this RSA or Ed25519 private key (PEM file) instead of the secret")
	kid := fs.String("jwt-kid", "", "key id to put in the token header (with --jwt-private-key)")
	if err := fs.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *sub == "" {
		fmt.Fprintln(stderr, "kindred token: --sub is required")
		return errUsage
	}
	if err := keys.checkMaxAge(); err != nil {
		return err
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return err
	}
	var signer *auth.Signer
	if *priv != "" {
		pem, err := os.ReadFile(*priv)
		if err != nil {
			return fmt.Errorf("private key: %w", err)
		}
		signer, err = auth.NewPEMSigner(pem, *kid)
		if err != nil {
			return err
		}
	} else {
		secret, err := keys.secret()
		if err != nil {
			return err
		}
		if signer, err = auth.NewHMACSigner(secret); err != nil {
			return err
		}
	}
	signer = signer.WithMaxAge(*keys.maxAge)
	if *keys.issuer != "" || *keys.audience != "" {
		signer = signer.WithIssuer(*keys.issuer, *keys.audience)
	}
	if *name == "" {
		*name = *sub
	}
	tok, err := signer.Mint(*sub, *name, r, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
