package static_test

// How a message's text is shown: web addresses as links (and nothing
// else), and long messages folded behind "Show more".

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kindred-health/kindred/auth"
)

type shownLink struct {
	Href   string `json:"href"`
	Text   string `json:"text"`
	Rel    string `json:"rel"`
	Target string `json:"target"`
}

// linksIn lists the links in the message whose text is body.
func (p *page) linksIn(body string) []shownLink {
	p.t.Helper()
	return eval[[]shownLink](p, fmt.Sprintf(`(() => {
		const b = [...document.querySelectorAll('#message-list .msg-body')].find((e) => e.textContent === %s);
		return b ? [...b.querySelectorAll('a')].map((a) => ({ href: a.getAttribute('href'), text: a.textContent, rel: a.rel, target: a.target })) : null;
	})()`, js(body)))
}

// Web addresses in messages are links to exactly where their text says,
// opening in a new tab without a referrer; nothing but http and https
// becomes a link, and no message text is ever parsed as markup.
func TestWebAddressesBecomeSafeLinks(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Resources", "")
	n.join(bobTok, room.ID)
	const (
		mixed   = "see https://example.org/x and javascript:alert(1)"
		markup  = `<a href="javascript:alert(1)">click</a> <img src=x onerror=alert(1)> (or https://example.org/y).`
		schemes = "JavaScript://example.org/%0aalert(1) data:text/html,<script>alert(1)</script> vbscript:msgbox ftp://example.org/f"
		parens  = "Read https://en.wikipedia.org/wiki/Recovery_(health), then HTTPS://Example.org/Z?a=1&b=2#c!"
	)
	n.seed(room.ID, [2]string{"ann", mixed}, [2]string{"ann", markup}, [2]string{"ann", schemes}, [2]string{"ann", parens})

	b := newBrowser(t)
	bob := b.page("bob", 1280, 800)
	bob.signIn(n, bobTok)
	bob.openConversation(room.ID)
	bob.waitSent(parens)

	check := func(body string, want ...string) {
		t.Helper()
		got := bob.linksIn(body)
		if len(got) != len(want) {
			t.Errorf("%q shows links %+v, want %q", body, got, want)
			return
		}
		for i, l := range got {
			if l.Href != want[i] || l.Rel != "noopener noreferrer" || l.Target != "_blank" {
				t.Errorf("%q: link %+v, want href %q opening with rel=noopener noreferrer, target=_blank", body, l, want[i])
			}
			if !strings.Contains(body, l.Text) || !strings.EqualFold(strings.TrimSuffix(l.Href, "/"), strings.TrimSuffix(l.Text, "/")) {
				t.Errorf("%q: a link reads %q but goes to %q", body, l.Text, l.Href)
			}
		}
	}
	check(mixed, "https://example.org/x")
	check(markup, "https://example.org/y")
	check(schemes)
	check(parens, "https://en.wikipedia.org/wiki/Recovery_(health)", "https://example.org/Z?a=1&b=2#c")

	bob.write("Here: http://example.com/meeting?id=7.")
	bob.waitSent("Here: http://example.com/meeting?id=7.")
	check("Here: http://example.com/meeting?id=7.", "http://example.com/meeting?id=7")

	if got := eval[int](bob, `[...document.querySelectorAll('#message-list a')].filter((a) => !/^https?:\/\//.test(a.getAttribute('href'))).length`); got != 0 {
		t.Errorf("%d links in the messages go somewhere other than http(s)", got)
	}
	if got := eval[int](bob, `document.querySelectorAll('#message-list script, #message-list img, #message-list [onerror]').length`); got != 0 {
		t.Errorf("message text became markup: %d elements", got)
	}
	if got := bob.bodies(); len(got) != 5 || got[0] != mixed || got[1] != markup || got[2] != schemes {
		t.Errorf("the messages' text changed: %q", got)
	}
}

// A very long message is folded to about twelve lines with a "Show more"
// button that works from the keyboard and says whether it is expanded; a
// short one has none.
func TestLongMessageFoldsAndUnfoldsWithTheKeyboard(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Writing group", "")
	n.join(bobTok, room.ID)
	var lines []string
	for i := 1; i <= 60; i++ {
		lines = append(lines, fmt.Sprint("Line ", i, " of what happened this week"))
	}
	long := strings.Join(lines, "\n")
	n.seed(room.ID, [2]string{"ann", long}, [2]string{"ann", "A short one.\nOn two lines."})

	b := newBrowser(t)
	for _, size := range []struct {
		name string
		w, h int64
	}{{"phone", 375, 740}, {"desktop", 1280, 800}} {
		p := b.page(size.name, size.w, size.h)
		p.signIn(n, bobTok)
		if size.name == "phone" {
			p.click("#nav-toggle")
			p.waitJS("list open", `getComputedStyle(document.getElementById('sidebar')).visibility === 'visible' && document.getElementById('sidebar').getBoundingClientRect().left === 0`)
		}
		p.openConversation(room.ID)
		p.waitSent("A short one.\nOn two lines.")

		state := `(() => {
			const li = [...document.querySelectorAll('#message-list li.msg')][0];
			const body = li.querySelector('.msg-body'), btn = li.querySelector('.more-toggle');
			const line = parseFloat(getComputedStyle(body).lineHeight);
			return { expanded: btn.getAttribute('aria-expanded'), label: btn.textContent, controls: btn.getAttribute('aria-controls') === body.id,
				shownLines: Math.round(body.clientHeight / line), allShown: body.clientHeight >= body.scrollHeight, visible: btn.checkVisibility(),
				focused: document.activeElement === btn };
		})()`
		type fold struct {
			Expanded   string `json:"expanded"`
			Label      string `json:"label"`
			Controls   bool   `json:"controls"`
			ShownLines int    `json:"shownLines"`
			AllShown   bool   `json:"allShown"`
			Visible    bool   `json:"visible"`
			Focused    bool   `json:"focused"`
		}
		got := eval[fold](p, state)
		if got.Expanded != "false" || !got.Visible || !got.Controls || got.AllShown || got.ShownLines < 10 || got.ShownLines > 13 || !strings.HasPrefix(got.Label, "Show more") {
			t.Errorf("%s: the 60-line message is not folded to about 12 lines with a Show more button: %+v", size.name, got)
		}
		if eval[bool](p, `[...document.querySelectorAll('#message-list li.msg')][1].querySelector('.more-toggle')?.checkVisibility() ?? false`) {
			t.Errorf("%s: a two-line message offers Show more", size.name)
		}

		// Tab from the message list to the button, Enter to unfold, Space
		// to fold again.
		p.do(chromedp.Focus(chromedp.ID("messages")))
		for i := 0; !eval[bool](p, `document.activeElement?.classList.contains('more-toggle')`); i++ {
			if i > 30 {
				t.Fatalf("%s: Tab never reached Show more", size.name)
			}
			p.do(chromedp.KeyEvent(kb.Tab))
		}
		p.enter(0)
		p.waitJS("unfolded", `(() => { const b = document.activeElement; return b.getAttribute('aria-expanded') === 'true' && b.textContent.startsWith('Show less') && !b.closest('li').querySelector('.msg-body').classList.contains('folded'); })()`)
		if got := eval[fold](p, state); !got.AllShown || !got.Focused || got.ShownLines < 60 {
			t.Errorf("%s: unfolded, the message does not show all 60 lines (or focus left the button): %+v", size.name, got)
		}
		p.do(chromedp.KeyEvent(" "))
		p.waitJS("folded again", `(() => { const b = document.activeElement; return b.getAttribute('aria-expanded') === 'false' && b.textContent.startsWith('Show more'); })()`)
		if got := eval[fold](p, state); got.AllShown || !got.Focused {
			t.Errorf("%s: Show less did not fold the message: %+v", size.name, got)
		}
		if w := eval[int](p, `document.documentElement.scrollWidth`); w > int(size.w) {
			t.Errorf("%s: page is %dpx wide", size.name, w)
		}
	}
}
