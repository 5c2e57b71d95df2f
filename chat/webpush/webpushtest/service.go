package webpushtest

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kindred-health/kindred/chat/webpush"
)

var b64 = base64.RawURLEncoding

// Push is one request the service took.
type Push struct {
	Endpoint string        // the subscription's endpoint
	Status   int           // what the service answered
	Payload  []byte        // the decrypted payload
	Claims   jwt.MapClaims // the VAPID token's claims
	Header   http.Header
	// Err says what was wrong with the request (the service answered
	// 400): a missing header, a token that does not verify, a body that
	// does not decrypt.
	Err error
}

// Service is a push service on a loopback address (plain http: senders
// must allow it, see webpush.Options.LoopbackHTTP).
type Service struct {
	*httptest.Server
	// VAPIDKey, when set, is the only public key (base64url) whose tokens
	// are accepted, as a real service binds a subscription to the
	// applicationServerKey it was made with.
	VAPIDKey string

	mu      sync.Mutex
	subs    map[string]*browser // by endpoint path
	answers []int               // statuses to answer next, in order
	expired map[string]bool     // endpoint paths answered 410 Gone
	pushes  chan Push
}

type browser struct {
	key  *ecdh.PrivateKey
	auth []byte
}

// New starts a service; Close it when done.
func New() *Service {
	s := &Service{subs: make(map[string]*browser), pushes: make(chan Push, 256)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Subscribe makes a browser's subscription to this service: a fresh P-256
// key pair and a 16-byte auth secret, and an endpoint of its own.
func (s *Service) Subscribe(name string) webpush.Subscription {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	path := "/push/" + name
	s.mu.Lock()
	s.subs[path] = &browser{key: key, auth: auth}
	s.mu.Unlock()
	return webpush.Subscription{Endpoint: s.URL + path, P256DH: b64.EncodeToString(key.PublicKey().Bytes()), Auth: b64.EncodeToString(auth)}
}

// Answer makes the next requests get these statuses, in order; after
// them the service answers 201 Created.
func (s *Service) Answer(statuses ...int) {
	s.mu.Lock()
	s.answers = append(s.answers, statuses...)
	s.mu.Unlock()
}

// Expire makes the service answer 410 Gone to every push to sub, as a
// real one does once the browser unsubscribed.
func (s *Service) Expire(sub webpush.Subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.expired == nil {
		s.expired = map[string]bool{}
	}
	s.expired[strings.TrimPrefix(sub.Endpoint, s.URL)] = true
}

// Next returns the next push taken, or an error after timeout.
func (s *Service) Next(timeout time.Duration) (Push, error) {
	select {
	case p := <-s.pushes:
		return p, nil
	case <-time.After(timeout):
		return Push{}, errors.New("webpushtest: no push arrived")
	}
}

// Pending returns the pushes taken and not yet read, without waiting.
func (s *Service) Pending() []Push {
	var out []Push
	for {
		select {
		case p := <-s.pushes:
			out = append(out, p)
		default:
			return out
		}
	}
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	p := Push{Endpoint: s.URL + r.URL.Path, Header: r.Header.Clone()}
	p.Status, p.Err = s.take(r, &p)
	if p.Err != nil {
		p.Status = http.StatusBadRequest
	}
	w.WriteHeader(p.Status)
	s.pushes <- p
}

// take checks and decrypts one push and picks the answer.
func (s *Service) take(r *http.Request, p *Push) (int, error) {
	s.mu.Lock()
	b, ok := s.subs[r.URL.Path]
	status := http.StatusCreated
	if len(s.answers) > 0 {
		status, s.answers = s.answers[0], s.answers[1:]
	}
	if s.expired[r.URL.Path] {
		status = http.StatusGone
	}
	s.mu.Unlock()
	if r.Method != http.MethodPost || !ok {
		return 0, fmt.Errorf("%s %s: no such subscription", r.Method, r.URL.Path)
	}
	for _, h := range []string{"TTL", "Urgency"} {
		if r.Header.Get(h) == "" {
			return 0, fmt.Errorf("no %s header", h)
		}
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		return 0, fmt.Errorf("Content-Encoding %q, want aes128gcm", ce)
	}
	claims, err := s.verify(r.Header.Get("Authorization"))
	if err != nil {
		return 0, err
	}
	p.Claims = claims
	body, err := io.ReadAll(io.LimitReader(r.Body, 8192))
	if err != nil {
		return 0, err
	}
	if len(body) > 4096 {
		return 0, fmt.Errorf("body of %d bytes, more than a push service must take", len(body))
	}
	if p.Payload, err = Decrypt(b.key, b.auth, body); err != nil {
		return 0, err
	}
	return status, nil
}

// verify checks the Authorization header (RFC 8292 §3): "vapid t=, k=",
// the key the expected one, the token an ES256 JWT signed by it, for this
// service's origin, expiring within 24 hours, with a sub.
func (s *Service) verify(header string) (jwt.MapClaims, error) {
	rest, ok := strings.CutPrefix(header, "vapid ")
	if !ok {
		return nil, fmt.Errorf("authorization header %q is not vapid", header)
	}
	var tok, key string
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			tok = v
		case "k":
			key = v
		}
	}
	if s.VAPIDKey != "" && key != s.VAPIDKey {
		return nil, fmt.Errorf("VAPID key %q, want the application server key %q", key, s.VAPIDKey)
	}
	raw, err := b64.DecodeString(key)
	if err != nil {
		return nil, fmt.Errorf("VAPID key: %w", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return nil, fmt.Errorf("VAPID key: %w", err)
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience(s.URL), jwt.WithExpirationRequired())
	if err != nil {
		return nil, fmt.Errorf("VAPID token: %w", err)
	}
	exp, _ := claims.GetExpirationTime()
	if exp.After(time.Now().Add(24 * time.Hour)) {
		return nil, fmt.Errorf("VAPID token expires %v, more than 24 h ahead", exp)
	}
	if sub, _ := claims.GetSubject(); !strings.HasPrefix(sub, "mailto:") && !strings.HasPrefix(sub, "https:") {
		return nil, fmt.Errorf("VAPID sub %q has neither a mailto: nor an https: scheme", sub)
	}
	return claims, nil
}
