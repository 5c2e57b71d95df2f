package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kindred-health/kindred/auth"
)

// Settings read from the environment only: secrets, so that they never show
// in process lists as flags would.
const (
	envJWTSecret     = "KINDRED_JWT_SECRET"
	envWebhookSecret = "KINDRED_ESCALATION_WEBHOOK_SECRET"
	minJWTSecret     = 32 // bytes, as auth.NewHMACSigner requires
	minWebhookSecret = 16
)

// keyFlags are the signing-key settings shared by serve and token.
type keyFlags struct {
	data, publicKey, jwks, issuer, audience *string
	maxAge                                  *time.Duration
}

func addKeyFlags(fs *flagSet) keyFlags {
	fs.EnvOnly(envJWTSecret, fmt.Sprintf("HS256 secret that signs and verifies tokens, used as is (not hex); at least %d bytes.\n"+
		"Used instead of the secret generated in the data directory. With --database-url every node,\n"+
		"and kindred token, must use the same one (or verify with --jwt-public-key or --jwt-jwks).", minJWTSecret))
	return keyFlags{
		data:      fs.String("data", "./kindred-data", "data directory: the SQLite database and the generated signing secret"),
		publicKey: fs.String("jwt-public-key", "", "verify tokens with this RS256 or EdDSA public key (PEM file) instead of the generated secret"),
		jwks:      fs.String("jwt-jwks", "", "verify tokens with the keys of this JWKS file (RS256, EdDSA; chosen by kid)"),
		issuer:    fs.String("jwt-issuer", "", "require this iss claim (empty: not checked)"),
		audience:  fs.String("jwt-audience", "", "require this aud claim (empty: not checked)"),
		maxAge: fs.Duration("max-token-age", auth.DefaultMaxTokenAge, "longest lifetime of a token: one whose exp is further than this after its iat (or after now) is refused,\n"+
			"and kindred token will not mint one"),
	}
}

// secretFromEnv reports whether the HS256 secret comes from
// $KINDRED_JWT_SECRET rather than the data directory.
func (k keyFlags) secretFromEnv() bool { return os.Getenv(envJWTSecret) != "" }

// external reports whether tokens are verified with an identity provider's
// public keys, which this server cannot sign with.
func (k keyFlags) external() bool { return *k.publicKey != "" || *k.jwks != "" }

// secret returns the HS256 secret: $KINDRED_JWT_SECRET when set, else the
// one generated in the data directory.
func (k keyFlags) secret() ([]byte, error) {
	if s := os.Getenv(envJWTSecret); s != "" {
		if len(s) < minJWTSecret {
			return nil, fmt.Errorf("%s must have at least %d bytes", envJWTSecret, minJWTSecret)
		}
		return []byte(s), nil
	}
	return auth.LoadOrCreateSecret(*k.data)
}

// checkShared refuses a per-node key for a cluster: a secret generated in
// each node's data directory would make every node refuse the others'
// tokens.
func (k keyFlags) checkShared(cluster bool) error {
	if cluster && !k.secretFromEnv() && !k.external() {
		return errors.New("with --database-url every node must verify tokens with the same key: set " + envJWTSecret + ", --jwt-public-key or --jwt-jwks")
	}
	return nil
}

// verifier loads the secret (creating it in the data directory if needed)
// and the verifier of tokens.
func (k keyFlags) verifier() (secret []byte, v *auth.Verifier, err error) {
	if err := k.checkMaxAge(); err != nil {
		return nil, nil, err
	}
	if secret, err = k.secret(); err != nil {
		return nil, nil, err
	}
	opt := auth.Options{Issuer: *k.issuer, Audience: *k.audience, MaxAge: *k.maxAge}
	v, err = auth.LoadVerifier(secret, *k.publicKey, *k.jwks, opt)
	return secret, v, err
}

// checkMaxAge refuses a --max-token-age that is not positive: there is
// always a cap.
func (k keyFlags) checkMaxAge() error {
	if *k.maxAge <= 0 {
		return fmt.Errorf("--max-token-age must be positive, got %v", *k.maxAge)
	}
	return nil
}

// mintHint tells the operator how to mint more sign-in tokens that this
// node accepts, with prog as the command (see progName). With the secret in
// the data directory, kindred token reads it there; with
// $KINDRED_JWT_SECRET, kindred token must be given the same secret, which
// in a cluster is the one every node shares (a --data directory would only
// get a fresh secret of its own, which the nodes refuse).
func (k keyFlags) mintHint(prog string, cluster bool) string {
	args := []string{prog, "token"}
	if !k.secretFromEnv() {
		args = append(args, "--data", shellQuote(*k.data))
	}
	if *k.issuer != "" {
		args = append(args, "--jwt-issuer", shellQuote(*k.issuer))
	}
	if *k.audience != "" {
		args = append(args, "--jwt-audience", shellQuote(*k.audience))
	}
	cmd := strings.Join(append(args, "--sub <user id> --name <name> --role <role>"), " ")
	switch {
	case cluster:
		return fmt.Sprintf("Later, mint sign-in tokens with the secret every node shares: set %s to it (at least %d bytes) and run\n    %s", envJWTSecret, minJWTSecret, cmd)
	case k.secretFromEnv():
		return fmt.Sprintf("Later, mint sign-in tokens with this node's secret: set %s to it and run\n    %s", envJWTSecret, cmd)
	default:
		return "Later, mint sign-in tokens with\n    " + cmd
	}
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain
// path characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
