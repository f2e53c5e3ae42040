// The phone's outbox: forms filled in without signal, kept in IndexedDB until they can be sent. Used by the
// worksite pages (capture.js) and by the service worker's Background Sync (sw.js), so it touches no page.
//
// A draft: { key, owner, url, page, kind, worksite, summary, fields, csrf, savedAt, status, message, errors }.
// `key` is the idempotency key made when the form was filled in: every send of the draft carries it, so a
// retry after a lost answer gets the first result back instead of a second record. `fields` are the form's
// [name, value] pairs, photos and videos as Blobs (Files). `status` is "waiting" or "refused" (with the
// server's `message`, and its `errors` by field name).
(function (scope) {
  const DB_NAME = "renocrm-offline";
  const STORE = "outbox";
  const LOCK = "renocrm-outbox";

  function open() {
    return new Promise((resolve, reject) => {
      const request = scope.indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function run(mode, work) {
    const db = await open();
    try {
      return await new Promise((resolve, reject) => {
        const transaction = db.transaction(STORE, mode);
        const request = work(transaction.objectStore(STORE));
        transaction.oncomplete = () => resolve(request.result);
        transaction.onerror = () => reject(transaction.error);
        transaction.onabort = () => reject(transaction.error);
      });
    } finally {
      db.close();
    }
  }

  const put = (draft) => run("readwrite", (store) => store.put(draft));
  const get = (key) => run("readonly", (store) => store.get(key));
  const remove = (key) => run("readwrite", (store) => store.delete(key));
  const all = async () => (await run("readonly", (store) => store.getAll())).sort((a, b) => a.savedAt - b.savedAt);

  function body(draft) {
    const data = new FormData();
    for (const [name, value] of draft.fields) {
      if (value instanceof Blob) data.append(name, value, value.name || "photo");
      else data.append(name, value);
    }
    data.set("idempotency_key", draft.key);
    return data;
  }

  // One send. The outcome: "sent", "refused" (the server said no: keep the draft for correcting), or "later"
  // (no connection, signed out, a server error, someone else's draft: try again next time).
  async function send(draft, csrf) {
    let response;
    try {
      response = await fetch(draft.url, {
        method: "POST",
        body: body(draft),
        credentials: "same-origin",
        redirect: "manual",
        headers: {
          Accept: "application/json",
          "Idempotency-Key": draft.key,
          "X-CSRFToken": csrf || draft.csrf,
          "X-Offline-Owner": draft.owner,
        },
      });
    } catch {
      return { outcome: "later", offline: true };
    }
    let answer = null;
    if ((response.headers.get("Content-Type") || "").startsWith("application/json")) {
      answer = await response.json().catch(() => null);
    }
    if (answer && answer.status === "sent") return { outcome: "sent", url: answer.url };
    if (answer && answer.status === "refused") {
      return { outcome: "refused", message: answer.message, errors: answer.errors || {} };
    }
    // Signed out meanwhile: a JSON answer, or the sign-in page's redirect.
    const signedOut = (answer && answer.status === "signed-out") || response.type === "opaqueredirect";
    return { outcome: "later", signedOut };
  }

  // Sends every waiting draft of `owner` (every waiting draft when none is given), oldest first, one sender
  // at a time across the pages and the service worker. Returns what happened, for the pages to show.
  async function flush({ owner = null, csrf = null } = {}) {
    const work = async () => {
      const done = { sent: [], refused: [], later: 0, signedOut: false };
      for (const draft of await all()) {
        if (draft.status !== "waiting" || (owner && draft.owner !== owner)) continue;
        const result = await send(draft, csrf);
        if (result.outcome === "sent") {
          await remove(draft.key);
          done.sent.push({ ...draft, fields: [], url: result.url });
        } else if (result.outcome === "refused") {
          // Unless it was discarded while it was being sent.
          if (await get(draft.key)) {
            await put({ ...draft, status: "refused", message: result.message, errors: result.errors });
          }
          done.refused.push(draft.key);
        } else {
          done.later += 1;
          done.signedOut = done.signedOut || Boolean(result.signedOut);
          if (result.offline) break;
        }
      }
      return done;
    };
    return scope.navigator.locks ? scope.navigator.locks.request(LOCK, work) : work();
  }

  scope.RenoOutbox = { put, get, remove, all, send, flush, SYNC_TAG: "renocrm-outbox" };
})(self);
