package oidc

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A callback with another state than the Pending's is refused before the
// code is used: the code still works with the right Pending.
func TestWrongStateRefused(t *testing.T) {
	idp := startIdP(t)
	hook := &tokenHook{}
	p := newProvider(t, testConfig(idp, hook))
	pend, callback := signIn(t, p)
	_, other, _ := p.Begin()

	for name, mutate := range map[string]func(q url.Values, pend *Pending){
		"other sign-in's Pending": func(q url.Values, pend *Pending) { *pend = other },
		"state changed":           func(q url.Values, pend *Pending) { q.Set("state", flip(q.Get("state"))) },
		"state missing":           func(q url.Values, pend *Pending) { q.Del("state") },
		"state prefix":            func(q url.Values, pend *Pending) { q.Set("state", q.Get("state")[:10]) },
		"empty Pending":           func(q url.Values, pend *Pending) { *pend = Pending{} },
		"another issuer":          func(q url.Values, pend *Pending) { q.Set("iss", "https://evil.example") },
	} {
		q, pd := cloneValues(callback), pend
		mutate(q, &pd)
		_, err := p.Finish(t.Context(), pd, q)
		if !errors.Is(err, ErrState) {
			t.Errorf("%s: got %v, want ErrState", name, err)
		}
	}
	if n := len(hook.tokenForms()); n != 0 {
		t.Errorf("%d token requests for refused callbacks, want 0", n)
	}
	q := cloneValues(callback)
	q.Set("iss", idp.Issuer())
	if _, err := p.Finish(t.Context(), pend, q); err != nil {
		t.Fatalf("Finish with the right state and issuer: %v", err)
	}
}

// An ID token whose nonce is not the Pending's is refused (the code was
// obtained for another sign-in, e.g. replayed into this browser).
func TestWrongNonceRefused(t *testing.T) {
	p := newProvider(t, testConfig(startIdP(t), nil))
	pend, callback := signIn(t, p)
	pend.Nonce = flip(pend.Nonce)
	id, err := p.Finish(t.Context(), pend, callback)
	wantErr(t, err, ErrNonce)
	if id.Subject != "" {
		t.Errorf("a refused sign-in returned identity %+v", id)
	}
}

// A Pending older than MaxPendingAge (or from the future, beyond clock
// skew) is refused without contacting the provider.
func TestExpiredPendingRefused(t *testing.T) {
	idp := startIdP(t)
	hook := &tokenHook{}
	p := newProvider(t, testConfig(idp, hook))
	pend, callback := signIn(t, p)
	for name, created := range map[string]time.Time{
		"old":    time.Now().Add(-MaxPendingAge - time.Second),
		"future": time.Now().Add(2 * clockSkew),
	} {
		pd := pend
		pd.Created = created
		_, err := p.Finish(t.Context(), pd, callback)
		if !errors.Is(err, ErrExpired) {
			t.Errorf("%s: got %v, want ErrExpired", name, err)
		}
	}
	if n := len(hook.tokenForms()); n != 0 {
		t.Errorf("%d token requests for an expired Pending, want 0", n)
	}
	pend.Created = time.Now().Add(-MaxPendingAge + time.Minute)
	if _, err := p.Finish(t.Context(), pend, callback); err != nil {
		t.Fatalf("Finish within MaxPendingAge: %v", err)
	}
}

// When nobody signs in at the provider, it sends the browser back with
// error=access_denied, which Finish reports as a *ProviderError.
func TestProviderErrorSurfaced(t *testing.T) {
	idp := startIdP(t)
	p := newProvider(t, testConfig(idp, nil))
	idp.SignInAs("")
	pend, callback := signIn(t, p)
	if callback.Has("code") || callback.Get("error") != "access_denied" {
		t.Fatalf("callback = %v, want error=access_denied without a code", callback)
	}
	_, err := p.Finish(t.Context(), pend, callback)
	var pe *ProviderError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *ProviderError", err)
	}
	if pe.Code != "access_denied" || pe.Description == "" {
		t.Errorf("ProviderError = %+v, want access_denied with the provider's description", pe)
	}
	if !strings.Contains(err.Error(), "access_denied") {
		t.Errorf("error text %q does not name the code", err)
	}

	// An error answer must carry the sign-in's state like any other.
	forged := url.Values{"error": {"access_denied"}, "state": {"not-the-state"}}
	if _, err := p.Finish(t.Context(), pend, forged); !errors.Is(err, ErrState) {
		t.Errorf("forged error answer: got %v, want ErrState", err)
	}
	// Provider text is kept short and free of control characters.
	long := url.Values{"error": {"server_error"}, "error_description": {"line\nbreak" + strings.Repeat("x", 1000)},
		"state": {pend.State}}
	_, err = p.Finish(t.Context(), pend, long)
	if !errors.As(err, &pe) || strings.Contains(pe.Description, "\n") || len(pe.Description) > maxParam+10 {
		t.Errorf("long description: got %v", err)
	}
}

// A callback with neither a code nor an error is refused.
func TestCallbackWithoutCode(t *testing.T) {
	p := newProvider(t, testConfig(startIdP(t), nil))
	_, pend, _ := p.Begin()
	_, err := p.Finish(t.Context(), pend, url.Values{"state": {pend.State}})
	wantErr(t, err, ErrExchange)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
