// The service worker (served from /service-worker.js, which sets RENOCRM_OFFLINE and imports outbox.js and
// this file). It keeps the app's styles and scripts, and the worksite pages a person opened: a page comes
// from the network when there is one (and is kept again), from the phone when there is none. Only pages the
// server marks with X-Offline-Capture are kept, and register.js deletes them when someone else (or nobody)
// is signed in. Forms are not posted through here: capture.js keeps them in the outbox, and a Background
// Sync sends the outbox when the connection returns.
/* global RenoOutbox */
const CONFIG = self.RENOCRM_OFFLINE;
const SHELL = `renocrm-shell-${CONFIG.version}`;
const PAGES = "renocrm-pages";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL)
      .then((cache) => cache.addAll(CONFIG.shell))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("renocrm-shell-") && name !== SHELL) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    if (url.pathname.startsWith(CONFIG.pages)) event.respondWith(page(request));
  } else if (url.pathname.startsWith(CONFIG.static)) {
    event.respondWith(asset(request));
  }
});

async function page(request) {
  try {
    const response = await fetch(request);
    if (response.ok && response.headers.get("X-Offline-Capture") === "page") {
      const cache = await caches.open(PAGES);
      await cache.put(request.url, response.clone());
    }
    return response;
  } catch (error) {
    const kept = await caches.match(request.url, { cacheName: PAGES, ignoreVary: true });
    return kept || offline();
  }
}

// Fingerprinted files never change: from the phone first. Unfingerprinted ones (development) may: from the
// network first.
async function asset(request) {
  const cache = await caches.open(SHELL);
  if (CONFIG.hashed) {
    const kept = await cache.match(request, { ignoreVary: true });
    if (kept) return kept;
  }
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(request, { ignoreVary: true });
    if (kept) return kept;
    throw error;
  }
}

function offline() {
  const text = CONFIG.offline;
  const escape = (value) => value.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const html = `<!doctype html><html lang="${escape(CONFIG.lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(text.title)}</title>
<link rel="stylesheet" href="${escape(text.css)}"></head><body><main class="page"><section class="card">
<h1>${escape(text.title)}</h1><p>${escape(text.text)}</p></section></main></body></html>`;
  return new Response(html, {
    status: 503,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": "default-src 'self'; script-src 'none'; frame-ancestors 'none'",
    },
  });
}

// Background Sync: the connection is back (perhaps with no page open). Drafts are sent with the CSRF token
// of the page they were filled in on; the server sends another person's back unsent.
self.addEventListener("sync", (event) => {
  if (event.tag !== RenoOutbox.SYNC_TAG) return;
  event.waitUntil(
    (async () => {
      const done = await RenoOutbox.flush();
      if (done.sent.length || done.refused.length) {
        // Pages this worker does not serve too: one opened while it was taking over shows the sent ones.
        for (const client of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) {
          client.postMessage({ type: "renocrm-outbox", sent: done.sent.length, refused: done.refused.length });
        }
      }
    })(),
  );
});
