// Small DOM helpers. Text is always set with textContent, never parsed as
// HTML, so nothing a user writes can become markup.

export const $ = (id) => document.getElementById(id);

// el('p', {class: 'x', 'aria-label': 'y'}, 'text', childNode) builds an
// element. Attributes whose value is null, undefined or false are skipped;
// true sets an empty attribute.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function show(node, visible) {
  node.hidden = !visible;
}

// utf8Length is what the server counts message limits in.
const encoder = new TextEncoder();
export function utf8Length(s) {
  return encoder.encode(s).length;
}

// newID returns a random UUID for a message's client id. randomUUID needs a
// secure context (https or localhost); a server reached over plain http on
// a local network still gets a v4 UUID from getRandomValues.
export function newID() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const dayYearFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long', year: 'numeric' });

export function formatTime(date) {
  return timeFmt.format(date);
}

// dayKey groups messages by local calendar day.
export function dayKey(date) {
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`;
}

export function formatDay(date, now = new Date()) {
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const that = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  const days = Math.round((today - that) / 86400000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  if (date.getFullYear() === now.getFullYear()) return dayFmt.format(date);
  return dayYearFmt.format(date);
}

export function plural(n, one, many) {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

export function roleLabel(role) {
  switch (role) {
    case 'specialist': return 'Specialist';
    case 'supervisor': return 'Supervisor';
    case 'admin': return 'Admin';
    case 'peer': return 'Peer';
    default: return '';
  }
}
