// The page banner: a supervisor paged while in the chat view sees what the
// page says (never what anyone wrote), and from there reviews the
// escalation or acknowledges it, with the same server action and check as
// the dashboard's Acknowledge. The banner goes away in every tab and
// session of the supervisor as soon as the escalation no longer pages
// them (acknowledged here, in another tab or by someone else; resolved;
// handed to another supervisor): each gets that news from the server.

import { $ } from '../dom.js';
import { describe } from '../errors.js';

export class PageBanner {
  // hooks: ack(id) -> Promise<escalation> (took by the queue), paging(id)
  // -> bool, review(id), announce(text)
  constructor(hooks) {
    this.hooks = hooks;
    this.id = null;
    $('page-banner-open').addEventListener('click', () => this.hooks.review(this.id));
    $('page-banner-ack').addEventListener('click', () => this.ack());
    $('page-banner-close').addEventListener('click', () => {
      this.hide();
      $('view-toggle').focus();
    });
  }

  show(text, id) {
    this.id = id;
    $('page-banner-text').textContent = text;
    $('page-banner-error').textContent = '';
    $('page-banner-ack').hidden = !id;
    $('page-banner').hidden = false;
  }

  hide() {
    const banner = $('page-banner');
    const hadFocus = banner.contains(document.activeElement);
    this.id = null;
    banner.hidden = true;
    $('page-banner-text').textContent = '';
    $('page-banner-error').textContent = '';
    if (hadFocus) $('view-toggle').focus();
  }

  // sync hides the banner once its escalation no longer pages this user.
  sync() {
    if (this.id && !this.hooks.paging(this.id)) this.hide();
  }

  async ack() {
    const id = this.id;
    const btn = $('page-banner-ack');
    if (!id || btn.disabled) return;
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    $('page-banner-error').textContent = '';
    try {
      await this.hooks.ack(id);
      this.hooks.announce('Acknowledged. The escalation is yours; paging has stopped.');
      if (this.id === id) this.hide();
    } catch (err) {
      if (this.id !== id) return;
      $('page-banner-error').textContent = err && err.code === 'conflict'
        ? 'Someone else already has this escalation.'
        : err && err.code === 'forbidden' ? 'Your role doesn’t allow that.' : `It couldn’t be acknowledged. ${describe(err)}`;
    } finally {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
    }
  }
}
