// On every staff page: registers the service worker that keeps worksite pages for use without signal, and
// makes sure those kept pages never outlive the person who opened them. The pages are kept per phone, not
// per person, so any page shown to someone else — another person, the same person in another firm, nobody
// (the sign-in page after signing out) — deletes them first. The outbox's drafts stay: each names its owner
// and is only ever shown to and sent by them (capture.js).
(() => {
  const script = document.currentScript;
  const owner = script.dataset.owner || "";
  const PAGES = "renocrm-pages";
  const OWNER_KEY = "renocrm.offline.owner";

  const forget = () => ("caches" in window ? caches.delete(PAGES) : Promise.resolve(false));

  let previous = null;
  try {
    previous = localStorage.getItem(OWNER_KEY);
    if (previous !== owner) localStorage.setItem(OWNER_KEY, owner);
  } catch {
    previous = null; // storage blocked: forget the pages on every load rather than keep them
  }
  if (previous !== owner) forget();

  // Signing out: forget them straight away too, before the sign-in page loads.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && new URL(form.action, location.href).pathname === script.dataset.logout) {
      forget();
      try {
        localStorage.setItem(OWNER_KEY, "");
      } catch {
        // the next page's check deletes them anyway
      }
    }
  });

  // The registration, for capture.js to wait on; null where the pages are not kept.
  window.renocrmServiceWorker = Promise.resolve(null);
  if (owner && "serviceWorker" in navigator && window.isSecureContext) {
    window.renocrmServiceWorker = navigator.serviceWorker
      .register(script.dataset.serviceWorker, { scope: script.dataset.scope })
      .catch(() => null); // a private window, a blocked origin: the pages simply need a connection
  }
})();
