package static_test

// Helpers for the "⋯" menus of messages, members and the room, shared by
// the browser tests.

import (
	"fmt"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// menuItems lists the labels of the open menu, or of the menu button's
// menu after opening it.
func (p *page) menuItems(button string) []string {
	p.t.Helper()
	p.openMenu(button)
	items := eval[[]string](p, `[...document.querySelectorAll('[role="menu"] [role="menuitem"]')].map(e => e.textContent)`)
	p.closeMenu(button)
	return items
}

// openMenu clicks a menu button and waits for its menu with focus in it.
func (p *page) openMenu(button string) {
	p.t.Helper()
	p.click(button)
	p.waitJS("menu open "+button, fmt.Sprintf(`(() => {
		const b = document.querySelector(%s);
		const m = b && document.getElementById(b.getAttribute('aria-controls') || '-');
		return b.getAttribute('aria-expanded') === 'true' && m && m.getAttribute('role') === 'menu' && m.contains(document.activeElement);
	})()`, js(button)))
}

func (p *page) closeMenu(button string) {
	p.t.Helper()
	p.do(chromedp.KeyEvent(kb.Escape))
	p.waitJS("menu closed", fmt.Sprintf(`!document.querySelector('[role="menu"]') && document.activeElement === document.querySelector(%s)`, js(button)))
}

// pick opens the menu of button and chooses the item labelled label.
func (p *page) pick(button, label string) {
	p.t.Helper()
	p.openMenu(button)
	sel := fmt.Sprintf(`[...document.querySelectorAll('[role="menu"] [role="menuitem"]')].find(e => e.textContent === %s)`, js(label))
	p.waitJS("menu item "+label, sel)
	p.do(chromedp.Evaluate[chromedp.Void](sel + `.click()`))
}

// msgMenu is the selector of the menu button of the message whose text is
// body, once it is shown.
func (p *page) msgMenu(body string) string {
	p.t.Helper()
	find := fmt.Sprintf(`[...document.querySelectorAll('#message-list li.msg')].find(li => li.querySelector('.msg-body')?.textContent === %s)?.dataset.key`, js(body))
	p.waitJS("message "+body, find)
	return fmt.Sprintf(`#message-list li.msg[data-key=%q] button[data-act="menu"]`, eval[string](p, find))
}

// memberMenu is the selector of the menu button for user in the member
// list.
func memberMenu(user string) string {
	return fmt.Sprintf(`#members-list button[data-member-menu=%q]`, user)
}
