// Kindred's service worker: it exists for Web Push only (no caching, no
// fetch handler). A push says only that an escalation is waiting
// (docs/protocol.md#web-push); the notice shows that and nothing else, and
// a click opens the supervisor dashboard, in a Kindred tab that is already
// open when there is one.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (ev) => ev.waitUntil(self.clients.claim()));

const TITLES = {
  imminent: 'Kindred: imminent crisis alert',
  high: 'Kindred: crisis alert',
};

self.addEventListener('push', (ev) => {
  let data = {};
  try {
    data = ev.data ? ev.data.json() : {};
  } catch {
    data = {};
  }
  const id = typeof data.id === 'string' ? data.id : '';
  const title = TITLES[data.severity] || 'Kindred: escalation';
  ev.waitUntil(self.registration.showNotification(title, {
    body: 'An escalation is waiting. Open Kindred to respond.',
    tag: id ? `escalation-${id}` : 'escalation',
    renotify: true,
    requireInteraction: data.severity === 'imminent',
    icon: '/icon.svg',
    data: { id },
  }));
});

self.addEventListener('notificationclick', (ev) => {
  ev.notification.close();
  const id = (ev.notification.data && ev.notification.data.id) || '';
  ev.waitUntil((async () => {
    const wins = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const own = wins.find((w) => new URL(w.url).origin === self.location.origin);
    if (own) {
      own.postMessage({ type: 'open-escalation', id });
      await own.focus();
      return;
    }
    const url = id ? `/?escalation=${encodeURIComponent(id)}` : '/';
    await self.clients.openWindow(url);
  })());
});
