package static_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/server"
)

// A verdict the statistical model raised has no phrase to highlight (its
// evidence span has rule "model" and no text): the supervisor's detail
// says in words that the model raised it, instead of showing nothing. The
// rules here know one made-up word, so only the model can flag the
// message, as it would flag phrasing the rules have never seen.
func TestDashboardModelRaisedEvidence(t *testing.T) {
	tiny, err := crisis.LoadLexicon(strings.NewReader("signal zorblax self_harm high = zorblax\n"))
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, 0, func(c *server.Config) {
		withEscalations(c)
		c.Detector = crisis.NewModelDetector(crisis.NewRuleDetector(tiny), crisis.DefaultModel())
	})
	const text = "i am going to kill myself tonight, i have saved up the pills and wrote my goodbye letters"
	if v := crisis.NewModelDetector(crisis.NewRuleDetector(tiny), crisis.DefaultModel()).Detect(text); v.Severity < crisis.High {
		t.Fatalf("the model does not raise the test message (%s): pick another", v.Severity)
	}
	sueTok := n.user("sue", "Sue", auth.RoleSupervisor)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(sueTok, "Evening group", "Peer support, weekday evenings")
	n.join(bobTok, room.ID)

	b := newBrowser(t)
	sue := b.page("sue", 1280, 800)
	sue.signIn(n, sueTok)
	sue.openDashboard()
	bob := b.page("bob", 1280, 800)
	bob.signIn(n, bobTok)
	bob.openConversation(room.ID)
	bob.write(text)
	bob.waitSent(text)

	sue.waitJS("escalation in the queue", `document.querySelector('#esc-list .esc-item') !== null`)
	sue.click(`#esc-list .esc-item`)
	sue.waitJS("the flagged message, nothing marked", fmt.Sprintf(`(() => { const f = document.querySelector('#esc-flagged .esc-msg-body'); return f && f.textContent === %s && f.querySelectorAll('mark').length === 0; })()`, js(text)))
	sue.waitJS("raised by the model, said in words", `document.getElementById('esc-evidence').textContent === 'Raised by the statistical model (no phrase to highlight).'`)

	// Rules and model together: both are said, the phrases first.
	ctx, cancel := context.WithTimeout(sue.ctx, waitFor)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const { evidenceText } = await import('/js/ui/dashboard.js');
		return evidenceText('I have the pills', [{ start: 2, end: 16, text: 'have the pills', rule: 'r' }, { start: 0, end: 0, text: '', rule: 'model' }]);
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if want := "The detector matched “have the pills”. Raised by the statistical model (no phrase to highlight)."; got != want {
		t.Errorf("evidenceText: %q, want %q", got, want)
	}
}
