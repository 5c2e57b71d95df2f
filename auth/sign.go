package auth

import (
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Signer mints Kindred tokens. It exists for deployments without an external
// identity provider (the HMAC secret from LoadOrCreateSecret), for the
// operator's mint tool, and for tests. It is safe for concurrent use.
type Signer struct {
	method jwt.SigningMethod
	key    any // []byte, *rsa.PrivateKey or ed25519.PrivateKey
	kid    string
	iss    string
	aud    string
	maxAge time.Duration // 0: no cap on ttl
}

// NewHMACSigner returns a Signer for HS256 tokens; secret must be at least
// 32 bytes and is copied.
func NewHMACSigner(secret []byte) (*Signer, error) {
	if len(secret) < minHMACSecret {
		return nil, fmt.Errorf("auth: HMAC secret is %d bytes; at least %d are required", len(secret), minHMACSecret)
	}
	return &Signer{method: jwt.SigningMethodHS256, key: slices.Clone(secret)}, nil
}

// NewPEMSigner returns a Signer for the private key in privatePEM: PKCS#8
// ("PRIVATE KEY") RSA or Ed25519, or PKCS#1 ("RSA PRIVATE KEY") RSA. RSA keys
// sign RS256 and must be at least 2048 bits; Ed25519 keys sign EdDSA. A
// non-empty kid is put in every token's header so JWKS verifiers can find
// the matching public key.
func NewPEMSigner(privatePEM []byte, kid string) (*Signer, error) {
	block, _ := pem.Decode(privatePEM)
	if block == nil {
		return nil, errors.New("auth: no PEM block found in private key data")
	}
	var priv any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		if _, encrypted := block.Headers["Proc-Type"]; encrypted {
			return nil, errors.New("auth: encrypted PEM private keys are not supported; decrypt it first")
		}
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("auth: encrypted PEM private keys are not supported; decrypt it first")
	default:
		if strings.Contains(block.Type, "PUBLIC KEY") || block.Type == "CERTIFICATE" {
			return nil, fmt.Errorf("auth: PEM block is a %s; the signer needs the private key", block.Type)
		}
		return nil, fmt.Errorf("auth: unsupported PEM block type %q (want PRIVATE KEY or RSA PRIVATE KEY)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: parsing %s: %w", block.Type, err)
	}
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("auth: RSA key is %d bits; at least %d are required", k.N.BitLen(), minRSABits)
		}
		return &Signer{method: jwt.SigningMethodRS256, key: k, kid: kid}, nil
	case ed25519.PrivateKey:
		return &Signer{method: jwt.SigningMethodEdDSA, key: k, kid: kid}, nil
	default:
		return nil, fmt.Errorf("auth: unsupported private key type %T (want RSA or Ed25519)", priv)
	}
}

// WithIssuer returns a copy of s that also sets "iss" and, when aud is
// non-empty, "aud" on the tokens it mints. s itself is unchanged, so one
// base Signer can be shared safely.
func (s *Signer) WithIssuer(iss, aud string) *Signer {
	c := *s
	c.iss, c.aud = iss, aud
	return &c
}

// WithMaxAge returns a copy of s that refuses to mint a token living
// longer than maxAge (0: no cap), the verifier's Options.MaxAge.
func (s *Signer) WithMaxAge(maxAge time.Duration) *Signer {
	c := *s
	c.maxAge = maxAge
	return &c
}

// MaxAge is the longest ttl Mint accepts; 0 means no cap.
func (s *Signer) MaxAge() time.Duration { return s.maxAge }

// Mint returns a signed token for user sub with the given display name and
// role, valid from now for ttl. It refuses inputs the Verifier would reject
// (a blank, long or unprintable sub or name, invalid role, ttl <= 0 or
// past the signer's MaxAge) so
// mistakes surface at the minting end rather than as a puzzling login
// failure.
func (s *Signer) Mint(sub, name string, role Role, ttl time.Duration) (string, error) {
	if e := checkSubject(sub); e != nil {
		return "", errors.New("auth: cannot mint: " + e.Message)
	}
	if e := checkName(name); e != nil {
		return "", errors.New("auth: cannot mint: " + e.Message)
	}
	if !role.Valid() {
		return "", fmt.Errorf("auth: cannot mint a token with unknown role %q", role)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("auth: token lifetime must be positive, got %v", ttl)
	}
	if s.maxAge > 0 && ttl > s.maxAge {
		return "", fmt.Errorf("auth: token lifetime %v is longer than the maximum token age %v", ttl, s.maxAge)
	}
	now := time.Now()
	claims := Claims{
		Name: name,
		Role: role,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   sub,
			Issuer:    s.iss,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	if s.aud != "" {
		claims.Audience = jwt.ClaimStrings{s.aud}
	}
	t := jwt.NewWithClaims(s.method, claims)
	if s.kid != "" {
		t.Header["kid"] = s.kid
	}
	signed, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("auth: signing token: %w", err)
	}
	return signed, nil
}
