package static_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kindred-health/kindred/auth"
)

// oneMain counts the main landmarks a screen reader would offer: shown
// <main> elements and role=main, and those not marked hidden (the HTML
// rule: at most one main element without the hidden attribute).
const oneMain = `(() => {
	const all = [...document.querySelectorAll('main, [role="main"]')];
	return { shown: all.filter((e) => e.checkVisibility()).length, unhidden: all.filter((e) => !e.hidden).length };
})()`

type mainCount struct {
	Shown    int `json:"shown"`
	Unhidden int `json:"unhidden"`
}

func (p *page) expectOneMain(screen string) {
	p.t.Helper()
	if got := eval[mainCount](p, oneMain); got.Shown != 1 || got.Unhidden != 1 {
		p.t.Errorf("%s: %d main landmarks shown and %d main elements without hidden, want exactly 1 of each", screen, got.Shown, got.Unhidden)
	}
}

// Every screen has exactly one main landmark (axe-core's landmark-one-main
// and landmark-no-duplicate-main): the sign-in page, the chat and the
// supervisor dashboard.
func TestEveryScreenHasOneMainLandmark(t *testing.T) {
	n := startNode(t, 0, nil)
	sueTok := n.user("sue", "Sue", auth.RoleSupervisor)

	b := newBrowser(t)
	for _, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 800}, {"phone", 375, 740}} {
		p := b.page(size.name, size.w, size.h)
		p.do(chromedp.Navigate(n.url + "/"))
		p.waitJS("sign-in screen", `!document.getElementById('signin').hidden`)
		p.expectOneMain(size.name + " sign-in page")
		if !eval[bool](p, `document.querySelector('main:not([hidden])')?.contains(document.getElementById('signin-form'))`) {
			t.Errorf("%s: the sign-in form is not in the main landmark", size.name)
		}

		p.do(chromedp.SendKeys(chromedp.ID("signin-token"), sueTok))
		p.click(`#signin-form button[type="submit"]`)
		p.waitJS("connected", `document.getElementById('conn-status').dataset.state === 'connected' && !document.getElementById('view-toggle').hidden`)
		p.expectOneMain(size.name + " chat")
		p.openDashboard()
		p.expectOneMain(size.name + " supervisor dashboard")
		if !eval[bool](p, `document.querySelector('main:not([hidden])')?.contains(document.getElementById('esc-list'))`) {
			t.Errorf("%s: the escalation queue is not in the main landmark", size.name)
		}
		p.click("#view-toggle")
		p.waitJS("chat shown", `!document.getElementById('layout').hidden`)
		p.expectOneMain(size.name + " chat after the dashboard")
		p.click("#signout")
		p.waitJS("signed out", `!document.getElementById('signin').hidden`)
		p.expectOneMain(size.name + " sign-in page after signing out")
	}
}
