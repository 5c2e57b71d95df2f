package static_test

// Layout at phone width (375px) and on a desktop: what a newcomer sees
// must fit, and nothing that is cut short for space is lost.

import (
	"fmt"
	"testing"

	"github.com/kindred-health/kindred/auth"
)

const longRoomName = "Parents and carers of teenagers in recovery: the Thursday evening circle"

// nameFits reports how a conversation's name shows in the sidebar.
type nameFits struct {
	TextOverflow string `json:"textOverflow"`
	WhiteSpace   string `json:"whiteSpace"`
	Truncated    bool   `json:"truncated"`
	InsideButton bool   `json:"insideButton"`
	InsideList   bool   `json:"insideList"`
	ListScrolls  bool   `json:"listScrolls"`
	Title        string `json:"title"`
	Accessible   string `json:"accessible"`
}

func (p *page) sidebarName(id string) nameFits {
	p.t.Helper()
	return eval[nameFits](p, fmt.Sprintf(`(() => {
		const btn = document.querySelector('#sidebar button[data-conv=%q]');
		const name = btn.querySelector('.conv-name');
		const side = document.getElementById('sidebar');
		const cs = getComputedStyle(name);
		const n = name.getBoundingClientRect(), b = btn.getBoundingClientRect(), s = side.getBoundingClientRect();
		return {
			textOverflow: cs.textOverflow, whiteSpace: cs.whiteSpace,
			truncated: name.scrollWidth > name.clientWidth,
			insideButton: n.right <= b.right + 0.5,
			insideList: b.right <= s.right + 0.5 && b.left >= s.left - 0.5,
			listScrolls: side.scrollWidth > side.clientWidth,
			title: name.title,
			accessible: btn.textContent,
		};
	})()`, id))
}

// A long group name ends in an ellipsis within the sidebar, on a phone
// (in the drawer) and on a desktop, and the whole name stays available:
// in the button's accessible name and its tooltip.
func TestLongRoomNameEndsInEllipsis(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	room := n.createRoom(annTok, longRoomName, "")
	n.createRoom(annTok, "Short", "")

	b := newBrowser(t)
	for _, size := range []struct {
		name string
		w, h int64
	}{{"phone", 375, 740}, {"desktop", 1280, 800}} {
		p := b.page(size.name, size.w, size.h)
		p.signIn(n, annTok)
		if size.name == "phone" {
			p.click("#nav-toggle")
			p.waitJS("list open", `getComputedStyle(document.getElementById('sidebar')).visibility === 'visible' && document.getElementById('sidebar').getBoundingClientRect().left === 0`)
		}
		p.waitJS("room listed", fmt.Sprintf(`!!document.querySelector('#sidebar button[data-conv=%q]')`, room.ID))
		got := p.sidebarName(room.ID)
		if got.TextOverflow != "ellipsis" || got.WhiteSpace != "nowrap" {
			t.Errorf("%s: the name has text-overflow %q, white-space %q; want an ellipsis on one line", size.name, got.TextOverflow, got.WhiteSpace)
		}
		if !got.Truncated {
			t.Errorf("%s: the long name is not cut short (it should end in an ellipsis at this width)", size.name)
		}
		if !got.InsideButton || !got.InsideList || got.ListScrolls {
			t.Errorf("%s: the name overflows: inside its button %v, button inside the sidebar %v, sidebar scrolls sideways %v", size.name, got.InsideButton, got.InsideList, got.ListScrolls)
		}
		if got.Title != longRoomName || got.Accessible != longRoomName {
			t.Errorf("%s: the full name is not available: title %q, accessible name %q", size.name, got.Title, got.Accessible)
		}
		if w := eval[int](p, `document.documentElement.scrollWidth`); w > int(size.w) {
			t.Errorf("%s: the page is %dpx wide at a %dpx viewport", size.name, w, size.w)
		}
	}
}
