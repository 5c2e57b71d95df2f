package webpush

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// b64 is the encoding of every key on the wire: base64url without
// padding, as browsers give and take them.
var b64 = base64.RawURLEncoding

// tokenLifetime is how long a VAPID token stays valid: RFC 8292 §2 allows
// at most 24 hours; push services refuse tokens that expire much later.
const tokenLifetime = 12 * time.Hour

// Keys are a deployment's VAPID key pair (RFC 8292): an ECDSA P-256 key
// that signs the token of every push, whose public half browsers are
// given when they subscribe (applicationServerKey). Every node of a
// deployment must use the same pair: a push service refuses pushes signed
// with another key than the one a subscription was made with.
type Keys struct {
	priv   *ecdsa.PrivateKey
	public string
}

// GenerateKeys makes a new key pair.
func GenerateKeys() (*Keys, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return keysOf(priv)
}

// ParseKeys reads a private key as Private writes it: the 32-byte scalar
// in base64url (the format of the common VAPID tools).
func ParseKeys(private string) (*Keys, error) {
	raw, err := b64.DecodeString(strings.TrimSpace(private))
	if err != nil {
		return nil, errors.New("webpush: the VAPID private key is not base64url")
	}
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
	if err != nil {
		return nil, errors.New("webpush: the VAPID private key is not a P-256 key")
	}
	return keysOf(priv)
}

func keysOf(priv *ecdsa.PrivateKey) (*Keys, error) {
	pub, err := priv.PublicKey.Bytes()
	if err != nil {
		return nil, err
	}
	return &Keys{priv: priv, public: b64.EncodeToString(pub)}, nil
}

// Private returns the private key in the form ParseKeys reads. It is a
// secret: keep it out of logs.
func (k *Keys) Private() string {
	raw, err := k.priv.Bytes()
	if err != nil {
		panic(err) // a key made by keysOf is always valid
	}
	return b64.EncodeToString(raw)
}

// PublicKey returns the public key as browsers take it: the uncompressed
// P-256 point (65 bytes) in base64url.
func (k *Keys) PublicKey() string { return k.public }

// Authorization returns the Authorization header of a push to endpoint
// (RFC 8292 §3): "vapid t=<JWT>, k=<public key>", the token being an ES256
// JWT whose audience is the endpoint's origin, valid for 12 hours from
// now, with subject as its sub claim (a mailto: or https: URL the push
// service can reach the operator at).
func (k *Keys) Authorization(endpoint, subject string, now time.Time) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("webpush: endpoint without an origin")
	}
	claims := jwt.MapClaims{
		"aud": u.Scheme + "://" + u.Host,
		"exp": now.Add(tokenLifetime).Unix(),
		"sub": subject,
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(k.priv)
	if err != nil {
		return "", err
	}
	return "vapid t=" + tok + ", k=" + k.public, nil
}

// CheckSubject checks a VAPID subject: a mailto: address or an https:
// URL (RFC 8292 §2.1).
func CheckSubject(subject string) error {
	u, err := url.Parse(subject)
	switch {
	case err != nil:
	case u.Scheme == "mailto" && strings.Contains(u.Opaque, "@"):
		return nil
	case u.Scheme == "https" && u.Host != "":
		return nil
	}
	return fmt.Errorf("the push subject must be a mailto: address or an https: URL, not %q", subject)
}
