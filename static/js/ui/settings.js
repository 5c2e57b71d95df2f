// A room's settings, for its owner and moderators who may change them
// (set_room_settings): visibility, history, guidelines, locked, read-only,
// slow mode, member limit and pre-moderation, sent as one PATCH of what
// changed.

import { $ } from '../dom.js';
import { describe } from '../errors.js';
import { closeDialog, openDialog } from './dialogs.js';

function intField(id, min, max, label) {
  const input = $(id);
  const v = input.value.trim() === '' ? 0 : Number(input.value);
  if (!Number.isInteger(v) || v < min || v > max) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    throw new Error(`${label} must be a whole number from ${min} to ${max.toLocaleString()}.`);
  }
  input.removeAttribute('aria-invalid');
  return v;
}

export class SettingsDialog {
  // hooks: save(conv, changes) -> Promise<conversation>, saved(conv),
  // premod: whether the server has pre-moderation
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    this.dialog = $('settings-dialog');
    this.form = $('settings-form');
    this.error = $('settings-error');
    this.conv = null;
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
  }

  open(conv) {
    this.conv = conv;
    $('settings-title').textContent = `Settings of ${conv.name}`;
    $(conv.visibility === 'private' ? 'set-private' : 'set-public').checked = true;
    $(conv.history === 'joined' ? 'set-joined' : 'set-shared').checked = true;
    $('set-guidelines').value = conv.guidelines || '';
    $('set-locked').checked = Boolean(conv.locked);
    $('set-readonly').checked = Boolean(conv.readOnly);
    $('set-slow').value = String(conv.slowModeSeconds || 0);
    $('set-max').value = String(conv.maxMembers || 0);
    $('set-premod').value = String(conv.premodMessages || 0);
    $('set-premod-field').hidden = !this.hooks.premod();
    for (const i of this.form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
    this.error.textContent = '';
    openDialog(this.dialog, 'input[name="visibility"]:checked');
  }

  // changes lists the settings that differ from conv's.
  changes(conv) {
    const out = {};
    const vis = this.form.querySelector('input[name="visibility"]:checked').value;
    const hist = this.form.querySelector('input[name="history"]:checked').value;
    if (vis !== conv.visibility) out.visibility = vis;
    if (hist !== conv.history) out.history = hist;
    const g = $('set-guidelines').value.trim();
    if (g !== (conv.guidelines || '')) out.guidelines = g;
    if ($('set-locked').checked !== Boolean(conv.locked)) out.locked = $('set-locked').checked;
    if ($('set-readonly').checked !== Boolean(conv.readOnly)) out.read_only = $('set-readonly').checked;
    const slow = intField('set-slow', 0, 3600, 'Slow mode');
    if (slow !== (conv.slowModeSeconds || 0)) out.slow_mode_seconds = slow;
    const max = intField('set-max', 0, 100000, 'The member limit');
    if (max !== (conv.maxMembers || 0)) out.max_members = max;
    if (this.hooks.premod()) {
      const pre = intField('set-premod', 0, 100, 'Pre-moderation');
      if (pre !== (conv.premodMessages || 0)) out.premod_messages = pre;
    }
    return out;
  }

  async submit() {
    const conv = this.conv;
    if (!conv || this.form.getAttribute('aria-busy')) return;
    let changes;
    try {
      changes = this.changes(conv);
    } catch (e) {
      this.error.textContent = e.message;
      return;
    }
    if (Object.keys(changes).length === 0) {
      closeDialog(this.dialog);
      return;
    }
    this.form.setAttribute('aria-busy', 'true');
    this.error.textContent = '';
    try {
      const updated = await this.hooks.save(conv, changes);
      closeDialog(this.dialog);
      this.hooks.saved(conv, updated);
    } catch (e) {
      this.error.textContent = describe(e, this.store.limits);
    } finally {
      this.form.removeAttribute('aria-busy');
    }
  }
}
