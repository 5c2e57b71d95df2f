package static_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kindred-health/kindred/auth"
)

// The entry of a one-on-one chat in the list shows whether the other
// person is online; when that changes, a keyboard user on the entry stays
// on it, and Enter opens the chat.
func TestChatListKeepsFocusWhenPresenceChanges(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	dm, err := n.store.OpenDM(context.Background(), "ann", "bob")
	if err != nil {
		t.Fatal(err)
	}
	entry := fmt.Sprintf(`document.querySelector('#dm-list button[data-conv=%q]')`, dm.ID)

	b := newBrowser(t)
	bob := b.page("bob", 1280, 800)
	bob.signIn(n, bobTok)
	bob.waitJS("Ann shown offline", entry+`?.querySelector('.presence.off') !== null`)
	bob.do(chromedp.Focus(chromedp.CSS(fmt.Sprintf(`#dm-list button[data-conv=%q]`, dm.ID))))

	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	bob.waitJS("Ann shown online", entry+`.querySelector('.presence.on') !== null && `+entry+`.textContent.includes('online')`)
	if !eval[bool](bob, `document.activeElement === `+entry) {
		t.Fatalf("focus left the chat's entry when Ann came online (now on %s)", eval[string](bob, `document.activeElement?.tagName + '#' + document.activeElement?.id`))
	}
	bob.enter(0)
	bob.waitJS("chat open", `document.getElementById('conv-title').textContent === 'Ann' && `+entry+`.getAttribute('aria-current') === 'true'`)
}
