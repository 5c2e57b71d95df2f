package auth

import (
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// minRSABits is the smallest RSA modulus accepted for signing or
// verification. Anything shorter is considered breakable (NIST SP 800-131A
// retired 1024-bit RSA in 2013), so we refuse it at start-up rather than
// quietly trusting it.
const minRSABits = 2048

// Algorithm names, spelt as they appear in the JWT "alg" header.
var (
	algHS256 = jwt.SigningMethodHS256.Alg()
	algRS256 = jwt.SigningMethodRS256.Alg()
	algEdDSA = jwt.SigningMethodEdDSA.Alg()
)

// verifyKey is one key a Verifier trusts, together with the single
// algorithm it may be used with. Binding the algorithm to the key (not just
// to the Verifier) is what stops a token signed with one key of a mixed
// JWKS from being checked under another key's algorithm.
type verifyKey struct {
	kid string
	alg string
	key any // []byte, *rsa.PublicKey or ed25519.PublicKey
}

// publicKeyFromPEM reads the first PEM block of pemData as a public key.
func publicKeyFromPEM(pemData []byte) (verifyKey, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return verifyKey{}, errors.New("auth: no PEM block found in public key data")
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		// The certificate is only a container for the key here: the trust
		// decision is the operator's choice of file, so its validity dates
		// and chain are not consulted.
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			pub = cert.PublicKey
		}
	default:
		if strings.Contains(block.Type, "PRIVATE KEY") {
			// Catch the easy mistake of handing the verifier the signing
			// key: it would work, but the private key does not belong on
			// the chat servers.
			return verifyKey{}, fmt.Errorf("auth: PEM block is a %s; the verifier needs the public key only", block.Type)
		}
		return verifyKey{}, fmt.Errorf("auth: unsupported PEM block type %q (want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)", block.Type)
	}
	if err != nil {
		return verifyKey{}, fmt.Errorf("auth: parsing %s: %w", block.Type, err)
	}
	return publicVerifyKey(pub)
}

// publicVerifyKey checks pub is a supported public key and pairs it with its
// algorithm.
func publicVerifyKey(pub any) (verifyKey, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return verifyKey{}, fmt.Errorf("auth: RSA key is %d bits; at least %d are required", k.N.BitLen(), minRSABits)
		}
		return verifyKey{alg: algRS256, key: k}, nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return verifyKey{}, errors.New("auth: Ed25519 public key has the wrong length")
		}
		return verifyKey{alg: algEdDSA, key: k}, nil
	default:
		return verifyKey{}, fmt.Errorf("auth: unsupported public key type %T (want RSA or Ed25519)", pub)
	}
}

// jwk is the subset of RFC 7517/7518/8037 JSON Web Key members we use.
// Private members are listed only so that their presence can be refused.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	D   string `json:"d"`
	K   string `json:"k"`
}

// parseJWKS turns a JWKS document into the keys it holds. It is written by
// hand on the standard library to keep the dependency surface of the
// security-critical path small.
//
// Keys of types we do not support (EC, or keys published for encryption)
// are skipped, because identity providers commonly publish several kinds
// side by side; a supported key that is malformed is an error, because that
// is a broken configuration and silently dropping it would surface later as
// confusing "unknown key" failures.
func parseJWKS(data []byte) ([]verifyKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("auth: JWKS is not valid JSON: %w", err)
	}
	if doc.Keys == nil {
		return nil, errors.New(`auth: JWKS has no "keys" array`)
	}
	var keys []verifyKey
	seen := map[string]bool{}
	for i, raw := range doc.Keys {
		var j jwk
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, fmt.Errorf("auth: JWKS key %d: %w", i, err)
		}
		where := fmt.Sprintf("JWKS key %d", i)
		if j.Kid != "" {
			where = fmt.Sprintf("JWKS key %d (kid %q)", i, j.Kid)
		}
		if j.Use != "" && j.Use != "sig" {
			continue
		}
		if j.D != "" || j.K != "" {
			// A JWKS for verification must be public. Private or symmetric
			// material here means a secret has been published or copied
			// somewhere it should not be; better to stop than to run on.
			return nil, fmt.Errorf("auth: %s contains private or symmetric key material; publish public keys only", where)
		}
		var k verifyKey
		var err error
		switch {
		case j.Kty == "RSA":
			k, err = rsaFromJWK(j)
		case j.Kty == "OKP" && j.Crv == "Ed25519":
			k, err = ed25519FromJWK(j)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("auth: %s: %w", where, err)
		}
		// If the JWK names an algorithm it must be the one we would use:
		// honouring "alg" is part of what the key's publisher asked for.
		// RFC 9864 renames EdDSA-with-Ed25519 to "Ed25519", so accept both.
		if j.Alg != "" && j.Alg != k.alg && !(k.alg == algEdDSA && j.Alg == "Ed25519") {
			continue
		}
		if seen[j.Kid] {
			// Two keys under one kid make selection ambiguous; refuse
			// rather than pick one arbitrarily.
			return nil, fmt.Errorf("auth: JWKS has more than one usable key with kid %q", j.Kid)
		}
		seen[j.Kid] = true
		k.kid = j.Kid
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("auth: JWKS has no usable signing keys (want kty RSA, or kty OKP with crv Ed25519)")
	}
	return keys, nil
}

func rsaFromJWK(j jwk) (verifyKey, error) {
	nb, err := b64url(j.N)
	if err != nil || len(nb) == 0 {
		return verifyKey{}, errors.New(`RSA key has a missing or invalid "n"`)
	}
	eb, err := b64url(j.E)
	if err != nil || len(eb) == 0 || len(eb) > 4 {
		return verifyKey{}, errors.New(`RSA key has a missing or invalid "e"`)
	}
	e := 0
	for _, b := range eb {
		e = e<<8 | int(b)
	}
	// crypto/rsa would reject these at verify time; checking here turns a
	// per-request failure into a start-up error.
	if e < 3 || e%2 == 0 {
		return verifyKey{}, errors.New(`RSA key has an invalid public exponent "e"`)
	}
	return publicVerifyKey(&rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: e})
}

func ed25519FromJWK(j jwk) (verifyKey, error) {
	x, err := b64url(j.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return verifyKey{}, errors.New(`Ed25519 key has a missing or invalid "x"`)
	}
	return publicVerifyKey(ed25519.PublicKey(x))
}

// b64url decodes unpadded base64url as RFC 7518 requires. Trailing "="
// padding is tolerated because some tools emit it and it is unambiguous.
func b64url(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
