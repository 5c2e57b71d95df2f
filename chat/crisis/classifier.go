package crisis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Classifier is an external model (for example a fine-tuned transformer
// behind an HTTP endpoint) that scores a message. It is optional and only
// ever consulted through Combine, which lets it raise an alert but never
// lower or delay one.
type Classifier interface {
	Classify(ctx context.Context, text string) (Verdict, error)
}

type httpClassifier struct {
	url    string
	client *http.Client
}

// maxClassifierResponse bounds what we read from the classifier.
const maxClassifierResponse = 1 << 20

// NewHTTPClassifier returns a Classifier that POSTs {"text": "..."} as JSON
// to url and expects {"severity": "none|concern|high|imminent",
// "categories": ["suicide", ...]} (an optional "about" is honoured). timeout
// bounds each request; a context deadline, when shorter, wins.
func NewHTTPClassifier(url string, timeout time.Duration) Classifier {
	return &httpClassifier{url: url, client: &http.Client{Timeout: timeout}}
}

type classifyRequest struct {
	Text string `json:"text"`
}

type classifyResponse struct {
	Severity   *Severity  `json:"severity"`
	Categories []Category `json:"categories"`
	About      string     `json:"about"`
}

func (h *httpClassifier) Classify(ctx context.Context, text string) (Verdict, error) {
	body, err := json.Marshal(classifyRequest{Text: text})
	if err != nil {
		return Verdict{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return Verdict{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		return Verdict{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return Verdict{}, fmt.Errorf("crisis: classifier returned %s", resp.Status)
	}
	var cr classifyResponse
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxClassifierResponse))
	if err := dec.Decode(&cr); err != nil {
		return Verdict{}, fmt.Errorf("crisis: classifier response: %w", err)
	}
	if cr.Severity == nil {
		return Verdict{}, errors.New("crisis: classifier response has no severity")
	}
	v := Verdict{Severity: *cr.Severity}
	for _, c := range cr.Categories {
		if categoryIndex(c) >= 0 { // unknown categories are dropped, not fatal
			v.Categories = append(v.Categories, c)
		}
	}
	if cr.About == AboutSelf || cr.About == AboutOther {
		v.About = cr.About
	}
	return v, nil
}

// Combined runs the rule detector and a classifier on each message.
type Combined struct {
	rules   Detector
	c       Classifier
	timeout time.Duration
}

// Combine builds a Detector from the rules and an optional classifier. The
// result is the maximum of the two verdicts, with the classifier only able
// to RAISE the severity: a classifier that says "none" to a message the
// rules call imminent changes nothing, and a classifier that errors, or
// does not answer within timeout, yields the rules' verdict unchanged. The
// rules run first, so their verdict never waits on the network.
func Combine(rules Detector, c Classifier, timeout time.Duration) *Combined {
	if rules == nil {
		rules = NewRuleDetector(nil)
	}
	return &Combined{rules: rules, c: c, timeout: timeout}
}

// Detect implements Detector.
func (cb *Combined) Detect(text string) Verdict {
	return cb.DetectContext(context.Background(), text)
}

// DetectContext is Detect under the caller's context (a request's, say);
// the classifier gets the shorter of ctx and the combiner's timeout.
func (cb *Combined) DetectContext(ctx context.Context, text string) Verdict {
	v := cb.rules.Detect(text)
	if cb.c == nil {
		return v
	}
	if cb.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cb.timeout)
		defer cancel()
	}
	cv, err := classifyBounded(ctx, cb.c, text)
	if err != nil {
		return v
	}
	return mergeVerdicts(v, cv, text)
}

// classifyBounded returns when ctx ends even if a Classifier ignores its
// context, so a misbehaving implementation cannot stall the chat.
func classifyBounded(ctx context.Context, c Classifier, text string) (Verdict, error) {
	type result struct {
		v   Verdict
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := c.Classify(ctx, text)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return Verdict{}, ctx.Err()
	}
}

// mergeVerdicts keeps the rules' verdict and lets the classifier raise it.
// Categories are united; the rules' evidence is kept and, when the
// classifier raised the severity, a span covering the message and naming
// "classifier" records why.
func mergeVerdicts(rules, cls Verdict, text string) Verdict {
	if cls.Severity < None || cls.Severity > Imminent {
		return rules
	}
	out := rules
	var cats catSet
	for _, c := range rules.Categories {
		cats |= 1 << categoryIndex(c)
	}
	for _, c := range cls.Categories {
		if i := categoryIndex(c); i >= 0 && cls.Severity > None {
			cats |= 1 << i
		}
	}
	if cls.Severity > rules.Severity {
		out.Severity = cls.Severity
		out.Evidence = append(append([]Span(nil), rules.Evidence...), Span{Start: 0, End: len(text), Text: text, Rule: "classifier"})
		if rules.Severity == None || rules.About == "" {
			out.About = cls.About
			if out.About == "" {
				out.About = AboutSelf // unknown: assume the writer, the safer reading
			}
		}
	}
	out.Categories = nil
	for i, k := range KnownCategories {
		if cats&(1<<i) != 0 {
			out.Categories = append(out.Categories, k)
		}
	}
	return out
}
