package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kindred-health/kindred/chat"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef") // exactly 32 bytes

// Key generation is slow enough (RSA) to do once per test binary.
var (
	keysOnce             sync.Once
	rsaA, rsaB, rsaOther *rsa.PrivateKey
	edA, edOther         ed25519.PrivateKey
	ecKey                *ecdsa.PrivateKey
	rsaWeak              *rsa.PrivateKey
)

func keys(t *testing.T) {
	t.Helper()
	keysOnce.Do(func() {
		gen := func(bits int) *rsa.PrivateKey {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				panic(err)
			}
			return k
		}
		rsaA, rsaB, rsaOther = gen(2048), gen(2048), gen(2048)
		rsaWeak = gen(1024)
		var err error
		if _, edA, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
		if _, edOther, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
}

func pemPublic(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func pemPKCS8(t *testing.T, priv any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func pemCert(t *testing.T, priv *rsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "kindred-test-idp"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PublicKey) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func edJWK(kid string, k ed25519.PrivateKey) map[string]any {
	return map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(k.Public().(ed25519.PublicKey))}
}

func jwksJSON(t *testing.T, keys ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// claimsFor builds a claim set; a zero exp leaves "exp" out.
func claimsFor(sub, name string, role Role, exp time.Time) Claims {
	c := Claims{Name: name, Role: role, RegisteredClaims: jwt.RegisteredClaims{Subject: sub}}
	if !exp.IsZero() {
		c.ExpiresAt = jwt.NewNumericDate(exp)
	}
	return c
}

// sign signs any claims with any method and key, bypassing Signer's checks so
// tests can build tokens Signer would refuse to.
func sign(t *testing.T, m jwt.SigningMethod, key any, kid string, c jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawToken assembles header.payload.signature from JSON by hand, for tokens
// no library will produce (alg none, bad types).
func rawToken(header, payload string, sig []byte) string {
	return b64([]byte(header)) + "." + b64([]byte(payload)) + "." + b64(sig)
}

// mustVerifier returns a function that unwraps a constructor's result,
// failing t on error; usable as mustVerifier(t)(NewHMACVerifier(...)).
func mustVerifier(t *testing.T) func(*Verifier, error) *Verifier {
	return func(v *Verifier, err error) *Verifier {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func mint(t *testing.T, s *Signer, err error, sub, name string, role Role) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Mint(sub, name, role, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVerify(t *testing.T) {
	keys(t)
	now := time.Now()
	later := now.Add(time.Hour)
	good := claimsFor("u1", "Ada", RolePeer, later)

	hmacV := mustVerifier(t)(NewHMACVerifier(testSecret, Options{}))
	hmacLeeway := mustVerifier(t)(NewHMACVerifier(testSecret, Options{Leeway: 2 * time.Minute}))
	issAudV := mustVerifier(t)(NewHMACVerifier(testSecret, Options{Issuer: "kindred-idp", Audience: "kindred"}))

	rsaPubPEM := pemPublic(t, &rsaA.PublicKey)
	rsaV := mustVerifier(t)(NewPEMVerifier(rsaPubPEM, Options{}))
	rsaPKCS1V := mustVerifier(t)(NewPEMVerifier(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaA.PublicKey)}), Options{}))
	rsaCertV := mustVerifier(t)(NewPEMVerifier(pemCert(t, rsaA), Options{}))
	edV := mustVerifier(t)(NewPEMVerifier(pemPublic(t, edA.Public()), Options{}))

	jwksV := mustVerifier(t)(NewJWKSVerifier(jwksJSON(t, rsaJWK("r1", &rsaA.PublicKey), rsaJWK("r2", &rsaB.PublicKey), edJWK("e1", edA)), Options{}))
	jwksOneV := mustVerifier(t)(NewJWKSVerifier(jwksJSON(t, edJWK("", edA)), Options{}))

	hsSigner, err := NewHMACSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	rsaSigner, err := NewPEMSigner(pemPKCS8(t, rsaA), "")
	if err != nil {
		t.Fatal(err)
	}

	tooLong := sign(t, jwt.SigningMethodHS256, testSecret, "", Claims{Name: strings.Repeat("x", maxTokenLen), Role: RolePeer,
		RegisteredClaims: jwt.RegisteredClaims{Subject: "u1", ExpiresAt: jwt.NewNumericDate(later)}})

	validHS := sign(t, jwt.SigningMethodHS256, testSecret, "", good)
	parts := strings.Split(validHS, ".")
	// Same signature, payload changed to claim admin.
	tampered := parts[0] + "." + b64([]byte(`{"sub":"u1","name":"Ada","role":"admin","exp":`+jsonNum(later)+`}`)) + "." + parts[2]

	noneHeader := `{"alg":"none","typ":"JWT"}`
	payload := `{"sub":"u1","name":"Ada","role":"admin","exp":` + jsonNum(later) + `}`

	withIss := func(iss, aud string, exp time.Time) Claims {
		c := claimsFor("u1", "Ada", RolePeer, exp)
		c.Issuer = iss
		if aud != "" {
			c.Audience = jwt.ClaimStrings{aud}
		}
		return c
	}

	tests := []struct {
		name  string
		v     *Verifier
		token string
		code  chat.Code // "" means the token must verify
		want  Identity
	}{
		// HS256 basics.
		{"valid HS256 via Signer", hmacV, mint(t, hsSigner, nil, "u1", "Ada", RoleSpecialist), "", Identity{UserID: "u1", Name: "Ada", Role: RoleSpecialist}},
		{"valid HS256 hand-signed", hmacV, validHS, "", Identity{UserID: "u1", Name: "Ada", Role: RolePeer}},
		{"name defaults to sub", hmacV, sign(t, jwt.SigningMethodHS256, testSecret, "", claimsFor("u2", "", RoleAdmin, later)), "", Identity{UserID: "u2", Name: "u2", Role: RoleAdmin}},
		{"empty token", hmacV, "", chat.CodeAuthRequired, Identity{}},
		{"blank token", hmacV, "   ", chat.CodeAuthRequired, Identity{}},
		{"expired", hmacV, sign(t, jwt.SigningMethodHS256, testSecret, "", claimsFor("u1", "Ada", RolePeer, now.Add(-time.Hour))), chat.CodeTokenExpired, Identity{}},
		{"expired within leeway", hmacLeeway, sign(t, jwt.SigningMethodHS256, testSecret, "", claimsFor("u1", "Ada", RolePeer, now.Add(-time.Minute))), "", Identity{UserID: "u1", Name: "Ada", Role: RolePeer}},
		{"expired beyond leeway", hmacLeeway, sign(t, jwt.SigningMethodHS256, testSecret, "", claimsFor("u1", "Ada", RolePeer, now.Add(-time.Hour))), chat.CodeTokenExpired, Identity{}},
		{"expired and wrong signature is invalid, not expired", hmacV, sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), "", claimsFor("u1", "Ada", RolePeer, now.Add(-time.Hour))), chat.CodeTokenInvalid, Identity{}},
		{"wrong key", hmacV, sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), "", good), chat.CodeTokenInvalid, Identity{}},
		{"tampered payload", hmacV, tampered, chat.CodeTokenInvalid, Identity{}},
		{"not yet valid", hmacV, sign(t, jwt.SigningMethodHS256, testSecret, "", func() Claims { c := good; c.NotBefore = jwt.NewNumericDate(later); return c }()), chat.CodeTokenInvalid, Identity{}},
		{"missing sub", hmacV, sign(t, jwt.SigningMethodHS256, testSecret, "", claimsFor("", "Ada", RolePeer, later)), chat.CodeTokenInvalid, Identity{}},
		{"blank sub", hmacV, sign(t, jwt.SigningMethodHS256, testSecret, "", claimsFor("  ", "Ada", RolePeer, later)), chat.CodeTokenInvalid, Identity{}},
		{"unknown role", hmacV, sign(t, jwt.SigningMethodHS256, testSecret, "", claimsFor("u1", "Ada", Role("superuser"), later)), chat.CodeTokenInvalid, Identity{}},
		{"role differs in case", hmacV, sign(t, jwt.SigningMethodHS256, testSecret, "", claimsFor("u1", "Ada", Role("Admin"), later)), chat.CodeTokenInvalid, Identity{}},
		{"missing role", hmacV, sign(t, jwt.SigningMethodHS256, testSecret, "", claimsFor("u1", "Ada", "", later)), chat.CodeTokenInvalid, Identity{}},
		{"role of wrong JSON type", hmacV, sign(t, jwt.SigningMethodHS256, testSecret, "", jwt.MapClaims{"sub": "u1", "role": 7, "exp": later.Unix()}), chat.CodeTokenInvalid, Identity{}},
		{"missing exp", hmacV, sign(t, jwt.SigningMethodHS256, testSecret, "", claimsFor("u1", "Ada", RolePeer, time.Time{})), chat.CodeTokenInvalid, Identity{}},
		{"too long", hmacV, tooLong, chat.CodeTokenInvalid, Identity{}},

		// Malformed input.
		{"malformed: one segment", hmacV, "garbage", chat.CodeTokenInvalid, Identity{}},
		{"malformed: two segments", hmacV, "a.b", chat.CodeTokenInvalid, Identity{}},
		{"malformed: bad base64", hmacV, "!!!.@@@.###", chat.CodeTokenInvalid, Identity{}},
		{"malformed: header not JSON", hmacV, b64([]byte("nope")) + "." + b64([]byte(payload)) + ".", chat.CodeTokenInvalid, Identity{}},
		{"malformed: space inside", hmacV, parts[0] + " ." + parts[1] + "." + parts[2], chat.CodeTokenInvalid, Identity{}},

		// alg none, crafted by hand and by the library's explicit unsafe switch.
		{"alg none by hand", hmacV, rawToken(noneHeader, payload, nil), chat.CodeTokenInvalid, Identity{}},
		{"alg none by hand, RSA verifier", rsaV, rawToken(noneHeader, payload, nil), chat.CodeTokenInvalid, Identity{}},
		{"alg none by hand, JWKS verifier", jwksV, rawToken(`{"alg":"none","kid":"r1"}`, payload, nil), chat.CodeTokenInvalid, Identity{}},
		{"alg None by hand", hmacV, rawToken(`{"alg":"None","typ":"JWT"}`, payload, nil), chat.CodeTokenInvalid, Identity{}},
		{"alg none with a signature", hmacV, rawToken(noneHeader, payload, []byte("sig")), chat.CodeTokenInvalid, Identity{}},
		{"alg none via UnsafeAllowNoneSignatureType", hmacV, sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", good), chat.CodeTokenInvalid, Identity{}},

		// Public keys via PEM.
		{"RS256 via PKIX PEM", rsaV, sign(t, jwt.SigningMethodRS256, rsaA, "", good), "", Identity{UserID: "u1", Name: "Ada", Role: RolePeer}},
		{"RS256 via PKCS1 PEM", rsaPKCS1V, sign(t, jwt.SigningMethodRS256, rsaA, "", good), "", Identity{UserID: "u1", Name: "Ada", Role: RolePeer}},
		{"RS256 via certificate", rsaCertV, sign(t, jwt.SigningMethodRS256, rsaA, "", good), "", Identity{UserID: "u1", Name: "Ada", Role: RolePeer}},
		{"RS256 via PEMSigner", rsaV, mint(t, rsaSigner, nil, "u9", "Bo", RoleSupervisor), "", Identity{UserID: "u9", Name: "Bo", Role: RoleSupervisor}},
		{"RS256 kid ignored by PEM verifier", rsaV, sign(t, jwt.SigningMethodRS256, rsaA, "whatever", good), "", Identity{UserID: "u1", Name: "Ada", Role: RolePeer}},
		{"RS256 wrong RSA key", rsaV, sign(t, jwt.SigningMethodRS256, rsaOther, "", good), chat.CodeTokenInvalid, Identity{}},
		{"EdDSA via PEM", edV, sign(t, jwt.SigningMethodEdDSA, edA, "", good), "", Identity{UserID: "u1", Name: "Ada", Role: RolePeer}},
		{"EdDSA wrong key", edV, sign(t, jwt.SigningMethodEdDSA, edOther, "", good), chat.CodeTokenInvalid, Identity{}},
		{"RS256 token to Ed25519 verifier", edV, sign(t, jwt.SigningMethodRS256, rsaA, "", good), chat.CodeTokenInvalid, Identity{}},
		{"EdDSA token to RSA verifier", rsaV, sign(t, jwt.SigningMethodEdDSA, edA, "", good), chat.CodeTokenInvalid, Identity{}},
		{"ES256 token to RSA verifier", rsaV, sign(t, jwt.SigningMethodES256, ecKey, "", good), chat.CodeTokenInvalid, Identity{}},
		{"PS256 with the right RSA key refused (RS256 only)", rsaV, sign(t, jwt.SigningMethodPS256, rsaA, "", good), chat.CodeTokenInvalid, Identity{}},
		{"RS512 with the right RSA key refused (RS256 only)", rsaV, sign(t, jwt.SigningMethodRS512, rsaA, "", good), chat.CodeTokenInvalid, Identity{}},
		{"RS256 token to HMAC verifier", hmacV, sign(t, jwt.SigningMethodRS256, rsaA, "", good), chat.CodeTokenInvalid, Identity{}},

		// Algorithm confusion: the RSA public key (which is public!) used as
		// an HS256 secret must not verify against the RSA verifier.
		{"alg confusion: HS256 keyed with RSA public PEM", rsaV, sign(t, jwt.SigningMethodHS256, rsaPubPEM, "", good), chat.CodeTokenInvalid, Identity{}},
		{"alg confusion: HS256 keyed with RSA public DER", rsaV, sign(t, jwt.SigningMethodHS256, x509.MarshalPKCS1PublicKey(&rsaA.PublicKey), "", good), chat.CodeTokenInvalid, Identity{}},
		{"alg confusion: HS256 keyed with Ed25519 public key", edV, sign(t, jwt.SigningMethodHS256, []byte(edA.Public().(ed25519.PublicKey)), "", good), chat.CodeTokenInvalid, Identity{}},
		{"alg confusion: HS256 keyed with JWKS n, kid r1", jwksV, sign(t, jwt.SigningMethodHS256, rsaA.N.Bytes(), "r1", good), chat.CodeTokenInvalid, Identity{}},

		// JWKS: keys chosen by kid.
		{"JWKS r1", jwksV, sign(t, jwt.SigningMethodRS256, rsaA, "r1", good), "", Identity{UserID: "u1", Name: "Ada", Role: RolePeer}},
		{"JWKS r2", jwksV, sign(t, jwt.SigningMethodRS256, rsaB, "r2", good), "", Identity{UserID: "u1", Name: "Ada", Role: RolePeer}},
		{"JWKS e1", jwksV, sign(t, jwt.SigningMethodEdDSA, edA, "e1", good), "", Identity{UserID: "u1", Name: "Ada", Role: RolePeer}},
		{"JWKS key r2 labelled r1", jwksV, sign(t, jwt.SigningMethodRS256, rsaB, "r1", good), chat.CodeTokenInvalid, Identity{}},
		{"JWKS EdDSA token labelled with RSA kid", jwksV, sign(t, jwt.SigningMethodEdDSA, edA, "r1", good), chat.CodeTokenInvalid, Identity{}},
		{"JWKS RS256 token labelled with Ed25519 kid", jwksV, sign(t, jwt.SigningMethodRS256, rsaA, "e1", good), chat.CodeTokenInvalid, Identity{}},
		{"JWKS unknown kid", jwksV, sign(t, jwt.SigningMethodRS256, rsaA, "r9", good), chat.CodeTokenInvalid, Identity{}},
		{"JWKS no kid among several keys", jwksV, sign(t, jwt.SigningMethodRS256, rsaA, "", good), chat.CodeTokenInvalid, Identity{}},
		{"JWKS non-string kid", jwksV, rawToken(`{"alg":"RS256","kid":1}`, payload, []byte("x")), chat.CodeTokenInvalid, Identity{}},
		{"JWKS outsider key", jwksV, sign(t, jwt.SigningMethodRS256, rsaOther, "r1", good), chat.CodeTokenInvalid, Identity{}},
		{"JWKS single key, no kid", jwksOneV, sign(t, jwt.SigningMethodEdDSA, edA, "", good), "", Identity{UserID: "u1", Name: "Ada", Role: RolePeer}},
		{"JWKS single key, wrong key", jwksOneV, sign(t, jwt.SigningMethodEdDSA, edOther, "", good), chat.CodeTokenInvalid, Identity{}},

		// Issuer and audience.
		{"iss/aud match", issAudV, mint(t, hsSigner.WithIssuer("kindred-idp", "kindred"), nil, "u1", "Ada", RolePeer), "", Identity{UserID: "u1", Name: "Ada", Role: RolePeer}},
		{"aud one of several", issAudV, sign(t, jwt.SigningMethodHS256, testSecret, "", func() Claims {
			c := withIss("kindred-idp", "", later)
			c.Audience = jwt.ClaimStrings{"other", "kindred"}
			return c
		}()), "", Identity{UserID: "u1", Name: "Ada", Role: RolePeer}},
		{"wrong issuer", issAudV, sign(t, jwt.SigningMethodHS256, testSecret, "", withIss("evil-idp", "kindred", later)), chat.CodeTokenInvalid, Identity{}},
		{"wrong audience", issAudV, sign(t, jwt.SigningMethodHS256, testSecret, "", withIss("kindred-idp", "billing", later)), chat.CodeTokenInvalid, Identity{}},
		{"missing issuer", issAudV, sign(t, jwt.SigningMethodHS256, testSecret, "", withIss("", "kindred", later)), chat.CodeTokenInvalid, Identity{}},
		{"missing audience", issAudV, sign(t, jwt.SigningMethodHS256, testSecret, "", withIss("kindred-idp", "", later)), chat.CodeTokenInvalid, Identity{}},
		{"expired and wrong issuer is invalid", issAudV, sign(t, jwt.SigningMethodHS256, testSecret, "", withIss("evil-idp", "kindred", now.Add(-time.Hour))), chat.CodeTokenInvalid, Identity{}},
		{"expired with right iss/aud is expired", issAudV, sign(t, jwt.SigningMethodHS256, testSecret, "", withIss("kindred-idp", "kindred", now.Add(-time.Hour))), chat.CodeTokenExpired, Identity{}},
		{"iss/aud not checked when not configured", hmacV, sign(t, jwt.SigningMethodHS256, testSecret, "", withIss("anyone", "anything", later)), "", Identity{UserID: "u1", Name: "Ada", Role: RolePeer}},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := tc.v.Verify(tc.token)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Verify: unexpected error %v", err)
				}
				if id.UserID != tc.want.UserID || id.Name != tc.want.Name || id.Role != tc.want.Role {
					t.Fatalf("identity = %+v, want %+v", id, tc.want)
				}
				if id.Expires.Before(time.Now().Add(-5*time.Minute)) || id.Expires.After(time.Now().Add(2*time.Hour)) {
					t.Fatalf("Expires = %v, not taken from exp", id.Expires)
				}
				return
			}
			var ce *chat.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not a *chat.Error", err, err)
			}
			t.Logf("%s: %s", ce.Code, ce.Message)
			if ce.Code != tc.code {
				t.Fatalf("code = %s (%q), want %s", ce.Code, ce.Message, tc.code)
			}
			if id != (Identity{}) {
				t.Fatalf("identity %+v returned alongside an error", id)
			}
			if ce.Message == "" {
				t.Fatal("empty error message")
			}
			// The message must never carry the token or any piece of it.
			for _, seg := range strings.Split(tc.token, ".") {
				if len(seg) >= 8 && strings.Contains(ce.Message, seg) {
					t.Fatalf("error message %q contains part of the token", ce.Message)
				}
			}
		})
	}
}

func jsonNum(t time.Time) string {
	b, _ := json.Marshal(t.Unix())
	return string(b)
}

func TestVerifierConcurrent(t *testing.T) {
	v := mustVerifier(t)(NewHMACVerifier(testSecret, Options{Issuer: "i", Audience: "a"}))
	s, err := NewHMACSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	tok := mint(t, s.WithIssuer("i", "a"), nil, "u1", "Ada", RolePeer)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := v.Verify(tok); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNewVerifierErrors(t *testing.T) {
	keys(t)
	rsaJWKWith := func(mod func(map[string]any)) map[string]any {
		k := rsaJWK("r1", &rsaA.PublicKey)
		mod(k)
		return k
	}
	ecPubJWK := map[string]any{"kty": "EC", "crv": "P-256", "kid": "ec", "x": b64(ecKey.X.Bytes()), "y": b64(ecKey.Y.Bytes())}

	tests := []struct {
		name string
		new  func() (*Verifier, error)
		ok   bool
	}{
		{"HMAC 32 bytes", func() (*Verifier, error) { return NewHMACVerifier(testSecret, Options{}) }, true},
		{"HMAC 31 bytes", func() (*Verifier, error) { return NewHMACVerifier(testSecret[:31], Options{}) }, false},
		{"HMAC empty", func() (*Verifier, error) { return NewHMACVerifier(nil, Options{}) }, false},
		{"negative leeway", func() (*Verifier, error) { return NewHMACVerifier(testSecret, Options{Leeway: -time.Second}) }, false},
		{"PEM garbage", func() (*Verifier, error) { return NewPEMVerifier([]byte("hello"), Options{}) }, false},
		{"PEM private key", func() (*Verifier, error) { return NewPEMVerifier(pemPKCS8(t, rsaA), Options{}) }, false},
		{"PEM RSA 1024", func() (*Verifier, error) { return NewPEMVerifier(pemPublic(t, &rsaWeak.PublicKey), Options{}) }, false},
		{"PEM ECDSA", func() (*Verifier, error) { return NewPEMVerifier(pemPublic(t, &ecKey.PublicKey), Options{}) }, false},
		{"PEM corrupt body", func() (*Verifier, error) {
			return NewPEMVerifier(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("junk")}), Options{})
		}, false},
		{"JWKS not JSON", func() (*Verifier, error) { return NewJWKSVerifier([]byte("{"), Options{}) }, false},
		{"JWKS no keys member", func() (*Verifier, error) { return NewJWKSVerifier([]byte(`{}`), Options{}) }, false},
		{"JWKS empty", func() (*Verifier, error) { return NewJWKSVerifier([]byte(`{"keys":[]}`), Options{}) }, false},
		{"JWKS only EC", func() (*Verifier, error) { return NewJWKSVerifier(jwksJSON(t, ecPubJWK), Options{}) }, false},
		{"JWKS EC skipped beside RSA", func() (*Verifier, error) {
			return NewJWKSVerifier(jwksJSON(t, ecPubJWK, rsaJWK("r1", &rsaA.PublicKey)), Options{})
		}, true},
		{"JWKS only encryption keys", func() (*Verifier, error) {
			return NewJWKSVerifier(jwksJSON(t, rsaJWKWith(func(k map[string]any) { k["use"] = "enc" })), Options{})
		}, false},
		{"JWKS RSA with private d", func() (*Verifier, error) {
			return NewJWKSVerifier(jwksJSON(t, rsaJWKWith(func(k map[string]any) { k["d"] = b64(rsaA.D.Bytes()) })), Options{})
		}, false},
		{"JWKS symmetric key", func() (*Verifier, error) {
			return NewJWKSVerifier(jwksJSON(t, map[string]any{"kty": "oct", "k": b64(testSecret)}), Options{})
		}, false},
		{"JWKS RSA bad n", func() (*Verifier, error) {
			return NewJWKSVerifier(jwksJSON(t, rsaJWKWith(func(k map[string]any) { k["n"] = "***" })), Options{})
		}, false},
		{"JWKS RSA missing e", func() (*Verifier, error) {
			return NewJWKSVerifier(jwksJSON(t, rsaJWKWith(func(k map[string]any) { delete(k, "e") })), Options{})
		}, false},
		{"JWKS RSA even e", func() (*Verifier, error) {
			return NewJWKSVerifier(jwksJSON(t, rsaJWKWith(func(k map[string]any) { k["e"] = b64([]byte{2}) })), Options{})
		}, false},
		{"JWKS RSA 1024", func() (*Verifier, error) {
			return NewJWKSVerifier(jwksJSON(t, rsaJWK("w", &rsaWeak.PublicKey)), Options{})
		}, false},
		{"JWKS RSA alg PS256 only", func() (*Verifier, error) {
			return NewJWKSVerifier(jwksJSON(t, rsaJWKWith(func(k map[string]any) { k["alg"] = "PS256" })), Options{})
		}, false},
		{"JWKS Ed25519 short x", func() (*Verifier, error) {
			return NewJWKSVerifier(jwksJSON(t, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64([]byte("short"))}), Options{})
		}, false},
		{"JWKS Ed25519 alg Ed25519 (RFC 9864)", func() (*Verifier, error) {
			k := edJWK("e", edA)
			k["alg"] = "Ed25519"
			return NewJWKSVerifier(jwksJSON(t, k), Options{})
		}, true},
		{"JWKS duplicate kid", func() (*Verifier, error) {
			return NewJWKSVerifier(jwksJSON(t, rsaJWK("same", &rsaA.PublicKey), rsaJWK("same", &rsaB.PublicKey)), Options{})
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.new()
			if tc.ok && (err != nil || v == nil) {
				t.Fatalf("unexpected error: %v", err)
			}
			if !tc.ok && err == nil {
				t.Fatal("expected an error")
			}
		})
	}
}

func TestJWKSPrivateKeyErrorDoesNotLeakKey(t *testing.T) {
	keys(t)
	k := rsaJWK("r1", &rsaA.PublicKey)
	d := b64(rsaA.D.Bytes())
	k["d"] = d
	_, err := NewJWKSVerifier(jwksJSON(t, k), Options{})
	if err == nil || strings.Contains(err.Error(), d[:16]) {
		t.Fatalf("err = %v", err)
	}
}

func TestSigner(t *testing.T) {
	keys(t)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaA)})
	rsaV := mustVerifier(t)(NewPEMVerifier(pemPublic(t, &rsaA.PublicKey), Options{}))
	edV := mustVerifier(t)(NewPEMVerifier(pemPublic(t, edA.Public()), Options{}))
	jwksV := mustVerifier(t)(NewJWKSVerifier(jwksJSON(t, rsaJWK("r1", &rsaA.PublicKey), edJWK("e1", edA)), Options{}))

	tests := []struct {
		name   string
		signer func() (*Signer, error)
		v      *Verifier
	}{
		{"PKCS8 RSA", func() (*Signer, error) { return NewPEMSigner(pemPKCS8(t, rsaA), "") }, rsaV},
		{"PKCS1 RSA", func() (*Signer, error) { return NewPEMSigner(pkcs1, "") }, rsaV},
		{"PKCS8 Ed25519", func() (*Signer, error) { return NewPEMSigner(pemPKCS8(t, edA), "") }, edV},
		{"RSA kid found in JWKS", func() (*Signer, error) { return NewPEMSigner(pemPKCS8(t, rsaA), "r1") }, jwksV},
		{"Ed25519 kid found in JWKS", func() (*Signer, error) { return NewPEMSigner(pemPKCS8(t, edA), "e1") }, jwksV},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.signer()
			tok := mint(t, s, err, "u1", "Ada", RoleAdmin)
			id, err := tc.v.Verify(tok)
			if err != nil {
				t.Fatal(err)
			}
			if id.UserID != "u1" || id.Role != RoleAdmin {
				t.Fatalf("identity = %+v", id)
			}
		})
	}

	bad := []struct {
		name string
		pem  []byte
	}{
		{"garbage", []byte("not pem")},
		{"public key", pemPublic(t, &rsaA.PublicKey)},
		{"ECDSA", pemPKCS8(t, ecKey)},
		{"RSA 1024", pemPKCS8(t, rsaWeak)},
		{"encrypted", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte("x")})},
	}
	for _, tc := range bad {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			if _, err := NewPEMSigner(tc.pem, ""); err == nil {
				t.Fatal("expected an error")
			}
		})
	}
	if _, err := NewHMACSigner(testSecret[:16]); err == nil {
		t.Fatal("NewHMACSigner accepted a 16-byte secret")
	}
}

func TestMint(t *testing.T) {
	s, err := NewHMACSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		sub  string
		role Role
		ttl  time.Duration
	}{
		{"zero ttl", "u1", RolePeer, 0},
		{"negative ttl", "u1", RolePeer, -time.Minute},
		{"empty sub", "", RolePeer, time.Minute},
		{"invalid role", "u1", Role("root"), time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tok, err := s.Mint(tc.sub, "n", tc.role, tc.ttl); err == nil {
				t.Fatalf("Mint succeeded: %q", tok)
			}
		})
	}

	t.Run("claims and WithIssuer copies", func(t *testing.T) {
		withIss := s.WithIssuer("kindred-idp", "kindred")
		plain, err := s.Mint("u1", "Ada", RolePeer, 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		scoped, err := withIss.Mint("u1", "Ada", RolePeer, 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		parse := func(tok string) *Claims {
			var c Claims
			if _, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"})).ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return testSecret, nil }); err != nil {
				t.Fatal(err)
			}
			return &c
		}
		pc, sc := parse(plain), parse(scoped)
		if pc.Issuer != "" || len(pc.Audience) != 0 {
			t.Fatalf("WithIssuer changed the original signer: iss=%q aud=%v", pc.Issuer, pc.Audience)
		}
		if sc.Issuer != "kindred-idp" || len(sc.Audience) != 1 || sc.Audience[0] != "kindred" {
			t.Fatalf("iss=%q aud=%v", sc.Issuer, sc.Audience)
		}
		if sc.Subject != "u1" || sc.Name != "Ada" || sc.Role != RolePeer || sc.IssuedAt == nil || sc.ExpiresAt == nil {
			t.Fatalf("claims = %+v", sc)
		}
		if d := sc.ExpiresAt.Sub(sc.IssuedAt.Time); d != 10*time.Minute {
			t.Fatalf("exp - iat = %v, want 10m", d)
		}
	})
}

func TestLoadVerifier(t *testing.T) {
	keys(t)
	dir := t.TempDir()
	jwksPath := filepath.Join(dir, "jwks.json")
	pemPath := filepath.Join(dir, "pub.pem")
	if err := os.WriteFile(jwksPath, jwksJSON(t, rsaJWK("r2", &rsaB.PublicKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pemPath, pemPublic(t, &rsaA.PublicKey), 0o600); err != nil {
		t.Fatal(err)
	}
	c := claimsFor("u1", "Ada", RolePeer, time.Now().Add(time.Hour))
	byJWKS := sign(t, jwt.SigningMethodRS256, rsaB, "r2", c)
	byPEM := sign(t, jwt.SigningMethodRS256, rsaA, "", c)
	byHMAC := sign(t, jwt.SigningMethodHS256, testSecret, "", c)

	tests := []struct {
		name       string
		secret     []byte
		pem, jwks  string
		accepts    string
		refuses    []string
		wantErr    bool
		errMention string
	}{
		{name: "JWKS wins over PEM and secret", secret: testSecret, pem: pemPath, jwks: jwksPath, accepts: byJWKS, refuses: []string{byPEM, byHMAC}},
		{name: "PEM wins over secret", secret: testSecret, pem: pemPath, accepts: byPEM, refuses: []string{byJWKS, byHMAC}},
		{name: "secret alone", secret: testSecret, accepts: byHMAC, refuses: []string{byJWKS, byPEM}},
		{name: "nothing configured", wantErr: true, errMention: "no token key"},
		{name: "missing JWKS file", secret: testSecret, jwks: filepath.Join(dir, "nope.json"), wantErr: true, errMention: "nope.json"},
		{name: "missing PEM file", secret: testSecret, pem: filepath.Join(dir, "nope.pem"), wantErr: true, errMention: "nope.pem"},
		{name: "PEM file given to JWKS", jwks: pemPath, wantErr: true, errMention: "pub.pem"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := LoadVerifier(tc.secret, tc.pem, tc.jwks, Options{})
			if tc.wantErr {
				if err == nil {
					t.Fatal("expected an error")
				}
				if !strings.Contains(err.Error(), tc.errMention) {
					t.Fatalf("error %q does not mention %q", err, tc.errMention)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(tc.accepts); err != nil {
				t.Fatalf("expected token accepted: %v", err)
			}
			for i, tok := range tc.refuses {
				if _, err := v.Verify(tok); err == nil {
					t.Fatalf("token %d accepted by the wrong key source", i)
				}
			}
		})
	}
	if _, err := LoadVerifier(nil, "", filepath.Join(dir, "nope.json"), Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestRoles(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Role
		ok   bool
	}{
		{"peer", RolePeer, true},
		{"specialist", RoleSpecialist, true},
		{"supervisor", RoleSupervisor, true},
		{"admin", RoleAdmin, true},
		{"Admin", "", false},
		{"", "", false},
		{"root", "", false},
		{" peer", "", false},
	} {
		got, err := ParseRole(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseRole(%q) = %q, %v", tc.in, got, err)
		}
		if Role(tc.in).Valid() != tc.ok {
			t.Errorf("Role(%q).Valid() = %v", tc.in, !tc.ok)
		}
	}
}

func TestLoadOrCreateSecret(t *testing.T) {
	t.Run("creates once, then reads the same bytes", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data", "nested")
		first, err := LoadOrCreateSecret(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(first) != 32 || bytes.Equal(first, make([]byte, 32)) {
			t.Fatalf("secret = %x", first)
		}
		path := filepath.Join(dir, "jwt-secret")
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("file mode = %v, want 0600", fi.Mode().Perm())
		}
		di, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if di.Mode().Perm() != 0o700 {
			t.Fatalf("dir mode = %v, want 0700", di.Mode().Perm())
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(raw)); got != hex.EncodeToString(first) {
			t.Fatalf("file holds %q, want hex of the secret", got)
		}
		second, err := LoadOrCreateSecret(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatal("second call returned a different secret")
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("leftover files in data dir: %v", entries)
		}
		// The secret must be usable as-is.
		if _, err := NewHMACVerifier(second, Options{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("concurrent first calls agree", func(t *testing.T) {
		dir := t.TempDir()
		results := make([][]byte, 8)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() {
				s, err := LoadOrCreateSecret(dir)
				if err != nil {
					t.Error(err)
				}
				results[i] = s
			})
		}
		wg.Wait()
		for i, s := range results {
			if !bytes.Equal(s, results[0]) {
				t.Fatalf("call %d got a different secret", i)
			}
		}
	})

	for _, tc := range []struct {
		name     string
		contents string
		ok       bool
	}{
		{"garbled", "this is not hex at all, not even close!!!!!!!!!!!!!!!!!!!!!!!!!!!", false},
		{"too short", hex.EncodeToString(make([]byte, 16)), false},
		{"empty", "", false},
		{"odd-length hex", strings.Repeat("a", 65), false},
		{"operator's longer secret with newline", hex.EncodeToString(bytes.Repeat([]byte{7}, 64)) + "\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "jwt-secret")
			if err := os.WriteFile(path, []byte(tc.contents), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreateSecret(dir)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && tc.contents != "" && strings.Contains(err.Error(), tc.contents) {
				t.Fatal("error message repeats the secret file's contents")
			}
			after, _ := os.ReadFile(path)
			if string(after) != tc.contents {
				t.Fatal("existing secret file was modified")
			}
		})
	}

	if _, err := LoadOrCreateSecret(""); err == nil {
		t.Fatal("empty data dir accepted")
	}
}

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		name    string
		url     string
		headers []string
		want    string
		code    chat.Code
	}{
		{"bearer", "/ws", []string{"Bearer abc.def.ghi"}, "abc.def.ghi", ""},
		{"scheme case-insensitive", "/ws", []string{"bearer abc"}, "abc", ""},
		{"extra spaces", "/ws", []string{"  Bearer   abc  "}, "abc", ""},
		{"header wins, query ignored", "/ws?token=fromquery", []string{"Bearer fromheader"}, "fromheader", ""},
		{"query token ignored", "/ws?token=abc.def.ghi", nil, "", chat.CodeAuthRequired},
		{"query access_token ignored", "/ws?access_token=abc.def.ghi", nil, "", chat.CodeAuthRequired},
		{"no header", "/ws", nil, "", chat.CodeAuthRequired},
		{"basic scheme", "/ws", []string{"Basic dXNlcjpwYXNz"}, "", chat.CodeAuthRequired},
		{"bare token", "/ws", []string{"abc.def.ghi"}, "", chat.CodeAuthRequired},
		{"bearer without token", "/ws", []string{"Bearer"}, "", chat.CodeAuthRequired},
		{"bearer with blank token", "/ws", []string{"Bearer    "}, "", chat.CodeAuthRequired},
		{"space inside token", "/ws", []string{"Bearer abc def"}, "", chat.CodeTokenInvalid},
		{"two headers", "/ws", []string{"Bearer a", "Bearer b"}, "", chat.CodeTokenInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.url, nil)
			for _, h := range tc.headers {
				r.Header.Add("Authorization", h)
			}
			got, err := BearerToken(r)
			if tc.code == "" {
				if err != nil || got != tc.want {
					t.Fatalf("BearerToken = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			var ce *chat.Error
			if !errors.As(err, &ce) || ce.Code != tc.code {
				t.Fatalf("BearerToken = %q, %v; want code %s", got, err, tc.code)
			}
			if got != "" {
				t.Fatalf("token %q returned with an error", got)
			}
		})
	}
}
