package auth

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kindred-health/kindred/chat"
)

// maxTokenLen bounds the work an unauthenticated caller can make us do
// (base64 and JSON decoding happen before the signature is checked). Real
// tokens are a few hundred bytes; identity providers with many claims stay
// well under this.
const maxTokenLen = 16 << 10

// minHMACSecret is the shortest HS256 secret accepted: RFC 7518 §3.2
// requires a key at least as long as the hash output (256 bits).
const minHMACSecret = 32

// Identity is who a verified token says the caller is.
type Identity struct {
	// UserID is the token's "sub" claim: a stable, opaque user identifier.
	UserID string
	// Name is the display name ("name" claim), or UserID when absent.
	Name string
	// Role decides what the caller may do; always Valid for a verified token.
	Role Role
	// Expires is the token's "exp": the connection should be re-authenticated
	// or closed after this time.
	Expires time.Time
	// Issued is the token's "iat", zero when absent: a revocation of the
	// user's sessions refuses tokens issued before it.
	Issued time.Time
}

// Claims is the JWT claim set Kindred reads and writes: sub, name, role and
// exp, plus optional iat, iss and aud (and a "kid" header when signed with a
// key that has an id).
type Claims struct {
	// Name is the user's display name.
	Name string `json:"name"`
	// Role is the user's role; tokens without a valid one are refused.
	Role Role `json:"role"`
	jwt.RegisteredClaims
}

// Options are checks a Verifier applies on top of signature and expiry.
type Options struct {
	// Issuer, when non-empty, must equal the token's "iss".
	Issuer string
	// Audience, when non-empty, must be one of the token's "aud" values.
	Audience string
	// Leeway is how much clock skew to tolerate on exp and nbf; 0 means none.
	Leeway time.Duration
	// MaxAge, when positive, is the longest lifetime a token may have:
	// exp - iat, and exp - now (which alone applies without iat, and
	// catches an iat set in the future), each at most MaxAge + Leeway.
	// A longer-lived token is refused with token_invalid however it was
	// minted; DefaultMaxTokenAge is the server's default.
	MaxAge time.Duration
}

// DefaultMaxTokenAge is the default of --max-token-age: a token minted
// with no thought of it is still refused if it would live for years.
const DefaultMaxTokenAge = 7 * 24 * time.Hour

// Verifier checks tokens against one configured key or key set. It is safe
// for concurrent use.
type Verifier struct {
	keys    []verifyKey
	byKID   bool     // JWKS: choose among keys by the "kid" header
	methods []string // the only algorithms accepted, derived from keys
	opt     Options
}

// NewHMACVerifier returns a Verifier for HS256 tokens signed with secret,
// which must be at least 32 bytes. The secret is copied.
func NewHMACVerifier(secret []byte, opt Options) (*Verifier, error) {
	if len(secret) < minHMACSecret {
		return nil, fmt.Errorf("auth: HMAC secret is %d bytes; at least %d are required", len(secret), minHMACSecret)
	}
	return newVerifier([]verifyKey{{alg: algHS256, key: slices.Clone(secret)}}, false, opt)
}

// NewPEMVerifier returns a Verifier for the public key in pemData: a PKIX
// "PUBLIC KEY", a PKCS#1 "RSA PUBLIC KEY" or a "CERTIFICATE". RSA keys
// (at least 2048 bits) verify RS256 tokens; Ed25519 keys verify EdDSA
// tokens. Any "kid" header is ignored because there is only one key.
func NewPEMVerifier(pemData []byte, opt Options) (*Verifier, error) {
	k, err := publicKeyFromPEM(pemData)
	if err != nil {
		return nil, err
	}
	return newVerifier([]verifyKey{k}, false, opt)
}

// NewJWKSVerifier returns a Verifier for the keys in a JWKS document. RSA
// keys verify RS256 and OKP/Ed25519 keys verify EdDSA; other key types are
// skipped. A token's "kid" header selects the key; a token without one is
// accepted only when the set holds exactly one key.
func NewJWKSVerifier(jwksJSON []byte, opt Options) (*Verifier, error) {
	keys, err := parseJWKS(jwksJSON)
	if err != nil {
		return nil, err
	}
	return newVerifier(keys, true, opt)
}

// LoadVerifier builds the Verifier a server is configured for. Exactly one
// source is used, in this order of preference: jwksFile if non-empty, else
// publicKeyFile if non-empty, else the HMAC secret. The order puts the
// externally managed (rotatable) options first, since the secret is usually
// present anyway as a local default.
func LoadVerifier(secret []byte, publicKeyFile, jwksFile string, opt Options) (*Verifier, error) {
	switch {
	case jwksFile != "":
		data, err := os.ReadFile(jwksFile)
		if err != nil {
			return nil, fmt.Errorf("auth: reading JWKS file: %w", err)
		}
		v, err := NewJWKSVerifier(data, opt)
		if err != nil {
			return nil, fmt.Errorf("%w (in %s)", err, jwksFile)
		}
		return v, nil
	case publicKeyFile != "":
		data, err := os.ReadFile(publicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("auth: reading public key file: %w", err)
		}
		v, err := NewPEMVerifier(data, opt)
		if err != nil {
			return nil, fmt.Errorf("%w (in %s)", err, publicKeyFile)
		}
		return v, nil
	case len(secret) == 0:
		return nil, errors.New("auth: no token key configured: need a JWKS file, a public key file or an HMAC secret")
	default:
		return NewHMACVerifier(secret, opt)
	}
}

func newVerifier(keys []verifyKey, byKID bool, opt Options) (*Verifier, error) {
	if opt.Leeway < 0 || opt.MaxAge < 0 {
		return nil, errors.New("auth: Leeway and MaxAge must not be negative")
	}
	v := &Verifier{keys: keys, byKID: byKID, opt: opt}
	for _, k := range keys {
		if !slices.Contains(v.methods, k.alg) {
			v.methods = append(v.methods, k.alg)
		}
	}
	return v, nil
}

// Verify checks token and returns the identity it asserts. Errors are
// *chat.Error values: chat.CodeAuthRequired for an empty token,
// chat.CodeTokenExpired for a correctly signed but expired one, and
// chat.CodeTokenInvalid for everything else. Messages never include the
// token.
func (v *Verifier) Verify(token string) (Identity, error) {
	if strings.TrimSpace(token) == "" {
		return Identity{}, &chat.Error{Code: chat.CodeAuthRequired, Message: "a token is required; sign in first"}
	}
	if len(token) > maxTokenLen {
		return Identity{}, invalid("token is too long")
	}
	// A Parser is built per call: it is cheap, and jwt.Parser lazily
	// mutates itself in some configurations, so sharing one across
	// goroutines is not something to rely on.
	opts := []jwt.ParserOption{
		// Only the algorithm(s) of the configured key family. This is the
		// defence against "alg":"none" and HS256-with-public-key confusion.
		jwt.WithValidMethods(v.methods),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(v.opt.Leeway),
		// Reject non-canonical base64 so one signature has one encoding.
		jwt.WithStrictDecoding(),
	}
	if v.opt.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.opt.Issuer))
	}
	if v.opt.Audience != "" {
		opts = append(opts, jwt.WithAudience(v.opt.Audience))
	}
	var claims Claims
	t, err := jwt.NewParser(opts...).ParseWithClaims(token, &claims, v.keyFor)
	if err != nil {
		// jwt reports a refused algorithm as a bad signature; say what
		// actually happened, since it is usually a key misconfiguration.
		if t != nil && t.Method != nil && !slices.Contains(v.methods, t.Method.Alg()) {
			return Identity{}, invalid("token is signed with an algorithm this server does not accept")
		}
		return Identity{}, classify(err, &claims, v.opt)
	}
	// Checked after the signature so that these messages are only ever
	// about tokens we issued (or our identity provider did).
	if e := checkTimes(token); e != nil {
		return Identity{}, e
	}
	if e := v.checkAge(&claims, time.Now()); e != nil {
		return Identity{}, e
	}
	if e := checkSubject(claims.Subject); e != nil {
		return Identity{}, e
	}
	if e := checkName(claims.Name); e != nil {
		return Identity{}, e
	}
	if !claims.Role.Valid() {
		return Identity{}, invalid("token role is missing or not recognised")
	}
	id := Identity{
		UserID:  claims.Subject,
		Name:    claims.Name,
		Role:    claims.Role,
		Expires: claims.ExpiresAt.Time,
	}
	if claims.IssuedAt != nil {
		id.Issued = claims.IssuedAt.Time
	}
	if strings.TrimSpace(id.Name) == "" {
		id.Name = id.UserID
	}
	return id, nil
}

// checkAge refuses a token that lives longer than Options.MaxAge: exp -
// iat when iat is present, and exp - now in any case.
func (v *Verifier) checkAge(c *Claims, now time.Time) *chat.Error {
	if v.opt.MaxAge <= 0 {
		return nil
	}
	limit := v.opt.MaxAge + v.opt.Leeway
	exp := c.ExpiresAt.Time
	if exp.Sub(now) > limit || c.IssuedAt != nil && exp.Sub(c.IssuedAt.Time) > limit {
		return invalid("token lives longer than this server allows (exp is more than " + formatAge(v.opt.MaxAge) + " after iat or now)")
	}
	return nil
}

// formatAge writes d in whole days or hours when it is one ("7d", "12h").
func formatAge(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

// Sentinel errors from keyFor, mapped to messages by classify.
var (
	errUnknownKey = errors.New("no key for this token")
	errKeyAlg     = errors.New("token algorithm does not match its key")
)

// keyFor is the jwt.Keyfunc: it picks the key for t and insists that t's
// algorithm is the one bound to that key.
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	k, err := v.selectKey(t.Header)
	if err != nil {
		return nil, err
	}
	if t.Method.Alg() != k.alg {
		return nil, errKeyAlg
	}
	return k.key, nil
}

func (v *Verifier) selectKey(header map[string]any) (verifyKey, error) {
	if !v.byKID {
		return v.keys[0], nil
	}
	raw, present := header["kid"]
	kid, isString := raw.(string)
	if present && !isString {
		return verifyKey{}, errUnknownKey
	}
	if kid == "" {
		// Without a kid we can only be sure which key is meant when there is
		// exactly one; guessing among several would let any of them sign.
		if len(v.keys) == 1 {
			return v.keys[0], nil
		}
		return verifyKey{}, errUnknownKey
	}
	for _, k := range v.keys {
		if k.kid == kid {
			return k, nil
		}
	}
	// A single key published without a kid is the whole set; issuers that
	// stamp a kid anyway should still verify against it.
	if len(v.keys) == 1 && v.keys[0].kid == "" {
		return v.keys[0], nil
	}
	return verifyKey{}, errUnknownKey
}

func invalid(msg string) *chat.Error {
	return &chat.Error{Code: chat.CodeTokenInvalid, Message: msg}
}

// classify maps a jwt parse error to a client-facing error with a short,
// fixed message. jwt's own error text is not passed through: it can include
// header values chosen by the caller.
func classify(err error, c *Claims, opt Options) *chat.Error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return invalid("token is malformed")
	case errors.Is(err, errUnknownKey):
		return invalid("token was signed with a key this server does not know")
	case errors.Is(err, errKeyAlg):
		return invalid("token is signed with an algorithm this server does not accept")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// Keyfunc failures are matched above, so this is an "alg" that
		// jwt does not implement at all (e.g. "None").
		return invalid("token is signed with an algorithm this server does not accept")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return invalid("token signature is not valid")
	// Claim errors can come joined (e.g. expired and wrong issuer). Report
	// the ones that no amount of signing in again would fix first, so that
	// "expired" means only that.
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return invalid("token was issued by an issuer this server does not accept")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return invalid("token is meant for a different service (audience)")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		// The signature checked out, so the parsed claims say which one.
		switch {
		case c.ExpiresAt == nil:
			return invalid("token has no expiry (exp)")
		case opt.Issuer != "" && c.Issuer == "":
			return invalid("token has no issuer (iss)")
		case opt.Audience != "" && len(c.Audience) == 0:
			return invalid("token has no audience (aud)")
		}
		return invalid("token lacks a required claim")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return invalid("token is not valid yet")
	case errors.Is(err, jwt.ErrTokenExpired):
		return &chat.Error{Code: chat.CodeTokenExpired, Message: "token has expired; sign in again"}
	default:
		return invalid("token is not valid")
	}
}
