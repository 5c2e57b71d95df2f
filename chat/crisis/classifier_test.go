package crisis

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// classifierServer answers every request with body after delay, and records
// the texts it was sent.
func classifierServer(t *testing.T, status int, body string, delay time.Duration) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var req struct {
			Text string `json:"text"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &req); err != nil || req.Text == "" {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

const crisisText = "goodbye everyone, this is my last message"

func TestHTTPClassifier(t *testing.T) {
	srv, _ := classifierServer(t, 200, `{"severity":"high","categories":["self_harm","nonsense"],"about":"other"}`, 0)
	v, err := NewHTTPClassifier(srv.URL, time.Second).Classify(context.Background(), "hello")
	if err != nil {
		t.Fatal(err)
	}
	if v.Severity != High || len(v.Categories) != 1 || v.Categories[0] != SelfHarm || v.About != AboutOther {
		t.Errorf("parsed %+v", v)
	}
	for _, c := range []struct {
		name   string
		status int
		body   string
	}{
		{"server error", 500, `{"severity":"none"}`},
		{"not json", 200, `<html>`},
		{"unknown severity", 200, `{"severity":"urgent"}`},
		{"no severity", 200, `{"categories":["suicide"]}`},
	} {
		srv, _ := classifierServer(t, c.status, c.body, 0)
		if _, err := NewHTTPClassifier(srv.URL, time.Second).Classify(context.Background(), "hi"); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestCombineClassifierOnlyRaises(t *testing.T) {
	rules := sharedDetector()
	// A classifier that answers "none" to a clear crisis changes nothing.
	srv, calls := classifierServer(t, 200, `{"severity":"none","categories":[]}`, 0)
	cb := Combine(rules, NewHTTPClassifier(srv.URL, time.Second), time.Second)
	want := rules.Detect(crisisText)
	if want.Severity != Imminent {
		t.Fatalf("rules: %v", want.Severity)
	}
	got := cb.Detect(crisisText)
	if got.Severity != Imminent || len(got.Evidence) != len(want.Evidence) {
		t.Errorf("classifier lowered the verdict: %+v", got)
	}
	if calls.Load() != 1 {
		t.Errorf("classifier called %d times", calls.Load())
	}

	// A classifier can raise a message the rules miss, adding categories:
	// sorting out who gets one's things is a warning sign that no rule
	// reads (giving them away and writing letters are preparation, which
	// the risk factors now catch). The example must stay one the rules
	// miss, or this proves nothing.
	srv2, _ := classifierServer(t, 200, `{"severity":"high","categories":["suicide"]}`, 0)
	cb2 := Combine(rules, NewHTTPClassifier(srv2.URL, time.Second), time.Second)
	text := "I have been sorting out who should get my records"
	if v := rules.Detect(text); v.Severity != None {
		t.Fatalf("the rules now catch %q (%s, %v): pick an example they miss", text, v.Severity, ruleIDs(v))
	}
	got = cb2.Detect(text)
	if got.Severity != High || got.About != AboutSelf || len(got.Categories) != 1 || got.Categories[0] != Suicide {
		t.Errorf("raise: %+v", got)
	}
	if n := len(got.Evidence); n == 0 || got.Evidence[n-1].Rule != "classifier" {
		t.Errorf("raise without classifier evidence: %+v", got.Evidence)
	}
	// ...and merges categories without lowering.
	got = cb2.Detect("my husband hits me")
	if got.Severity != High || len(got.Categories) != 2 {
		t.Errorf("merge: %+v", got)
	}
}

func TestCombineSlowAndFailingClassifier(t *testing.T) {
	rules := sharedDetector()
	want := rules.Detect(crisisText)

	slow, _ := classifierServer(t, 200, `{"severity":"imminent","categories":["suicide"]}`, 2*time.Second)
	start := time.Now()
	got := Combine(rules, NewHTTPClassifier(slow.URL, 10*time.Second), 50*time.Millisecond).Detect(crisisText)
	if el := time.Since(start); el > time.Second {
		t.Errorf("slow classifier held the verdict for %v", el)
	}
	if got.Severity != want.Severity {
		t.Errorf("slow: %v, want the rules' %v", got.Severity, want.Severity)
	}

	failing, _ := classifierServer(t, 503, `unavailable`, 0)
	got = Combine(rules, NewHTTPClassifier(failing.URL, time.Second), time.Second).Detect(crisisText)
	if got.Severity != want.Severity {
		t.Errorf("failing: %v", got.Severity)
	}

	// An unreachable endpoint.
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	got = Combine(rules, NewHTTPClassifier(url, time.Second), time.Second).Detect("I want to die")
	if got.Severity != High {
		t.Errorf("unreachable: %v", got.Severity)
	}

	// A caller's context that is already done.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got = Combine(rules, NewHTTPClassifier(slow.URL, time.Second), time.Second).DetectContext(ctx, crisisText)
	if got.Severity != want.Severity {
		t.Errorf("cancelled: %v", got.Severity)
	}
}

// stuckClassifier ignores its context, as a buggy implementation might.
type stuckClassifier struct{ release chan struct{} }

func (s stuckClassifier) Classify(ctx context.Context, text string) (Verdict, error) {
	<-s.release
	return Verdict{Severity: Imminent}, nil
}

type errClassifier struct{}

func (errClassifier) Classify(context.Context, string) (Verdict, error) {
	return Verdict{Severity: Imminent}, errors.New("model offline")
}

func TestCombineMisbehavingClassifiers(t *testing.T) {
	rules := sharedDetector()
	stuck := stuckClassifier{release: make(chan struct{})}
	defer close(stuck.release)
	start := time.Now()
	if got := Combine(rules, stuck, 30*time.Millisecond).Detect("hello there"); got.Severity != None {
		t.Errorf("stuck: %v", got.Severity)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("a classifier ignoring its context stalled Detect for %v", el)
	}
	// An error wins over whatever verdict came with it.
	if got := Combine(rules, errClassifier{}, time.Second).Detect("hello there"); got.Severity != None {
		t.Errorf("error with verdict: %v", got.Severity)
	}
	// No classifier: the rules alone.
	if got := Combine(nil, nil, time.Second).Detect("I want to die"); got.Severity != High {
		t.Errorf("nil classifier: %v", got.Severity)
	}
	// An out-of-range severity from a classifier is ignored.
	if got := mergeVerdicts(Verdict{}, Verdict{Severity: 42}, "x"); got.Severity != None {
		t.Errorf("out of range: %v", got.Severity)
	}
}

func TestCombinedIsADetector(t *testing.T) {
	var _ Detector = Combine(nil, nil, 0)
	var _ Detector = NewRuleDetector(nil)
}
