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

// placeholderFits measures the message box's placeholder against the
// room for text inside the box.
const placeholderFits = `(() => {
	const i = document.getElementById('composer-input');
	const cs = getComputedStyle(i);
	const ctx = document.createElement('canvas').getContext('2d');
	ctx.font = cs.font;
	const room = i.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
	return i.placeholder !== '' && i.value === '' && i.scrollWidth <= i.clientWidth && i.scrollHeight <= i.clientHeight + 1 &&
		ctx.measureText(i.placeholder).width <= room;
})()`

// On a phone the room header is one compact row whatever the name and
// topic: the name ends in an ellipsis, the topic folds behind "About"
// (which shows it and the whole name), and "Members" stays at hand. The
// message box's placeholder fits. On a desktop the topic is always shown.
func TestPhoneRoomHeaderIsCompact(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	topic := "Peer support for parents and carers, every Thursday from seven until half past eight. Newcomers welcome."
	room := n.createRoom(annTok, longRoomName, topic)

	b := newBrowser(t)
	p := b.page("phone", 375, 740)
	p.signIn(n, annTok)
	p.click("#nav-toggle")
	p.waitJS("list open", `getComputedStyle(document.getElementById('sidebar')).visibility === 'visible' && document.getElementById('sidebar').getBoundingClientRect().left === 0`)
	p.click(fmt.Sprintf(`#sidebar button[data-conv=%q]`, room.ID))
	p.waitJS("room open", fmt.Sprintf(`document.getElementById('conv-title').textContent === %s && getComputedStyle(document.getElementById('sidebar')).visibility === 'hidden'`, js(longRoomName)))

	if h := eval[float64](p, `document.getElementById('conv-header').getBoundingClientRect().height`); h > 64 {
		t.Errorf("the room header is %.0fpx tall at 375px; want at most 64", h)
	}
	if !eval[bool](p, `(() => {
		const h = document.getElementById('conv-title');
		const r = h.getBoundingClientRect(), a = document.querySelector('.conv-actions').getBoundingClientRect();
		return getComputedStyle(h).textOverflow === 'ellipsis' && h.scrollWidth > h.clientWidth && r.right <= a.left && h.title === h.textContent;
	})()`) {
		t.Error("the long name does not end in an ellipsis before the header's buttons, with the whole name in its title")
	}
	if eval[bool](p, `document.getElementById('conv-sub').checkVisibility()`) {
		t.Error("the topic takes room in the phone header before it is asked for")
	}
	if !eval[bool](p, placeholderFits) {
		t.Errorf("the message box's placeholder %q does not fit at 375px", eval[string](p, `document.getElementById('composer-input').placeholder`))
	}

	// "About" shows the topic and the whole name, and folds them away again.
	p.click("#conv-about")
	p.waitJS("topic shown", fmt.Sprintf(`(() => {
		const sub = document.getElementById('conv-sub'), h = document.getElementById('conv-title');
		return document.getElementById('conv-about').getAttribute('aria-expanded') === 'true' && sub.checkVisibility() &&
			sub.textContent.startsWith(%s) && h.scrollWidth <= h.clientWidth && sub.getBoundingClientRect().bottom <= document.getElementById('conv-header').getBoundingClientRect().bottom;
	})()`, js(topic)))
	if w := eval[int](p, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("page is %dpx wide with the topic shown", w)
	}
	p.click("#conv-about")
	p.waitJS("topic folded", `document.getElementById('conv-about').getAttribute('aria-expanded') === 'false' && !document.getElementById('conv-sub').checkVisibility()`)

	// Nothing is lost: the member list is still one tap away.
	p.click("#members-open")
	p.waitJS("members dialog", `document.getElementById('members-dialog').open`)

	d := b.page("desktop", 1280, 800)
	d.signIn(n, annTok)
	d.openConversation(room.ID)
	if !eval[bool](d, fmt.Sprintf(`document.getElementById('conv-sub').checkVisibility() && document.getElementById('conv-sub').textContent.startsWith(%s) && !document.getElementById('conv-about').checkVisibility()`, js(topic))) {
		t.Error("on a desktop the topic is not shown in the header (or an About button is)")
	}
	if !eval[bool](d, placeholderFits) {
		t.Error("the message box's placeholder does not fit on a desktop")
	}
}
