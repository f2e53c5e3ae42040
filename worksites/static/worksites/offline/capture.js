// The worksite pages without signal: a form filled in offline goes into the phone's outbox (outbox.js)
// instead of being lost, the page says how many drafts wait ("Waiting to send (3)"), and they are sent when
// the connection returns — on the `online` event, on the next page load, and by the service worker's
// Background Sync where the browser has it. A draft the server refuses stays in the outbox with the server's
// message, to be opened again, corrected and sent, or discarded. With a connection the form posts as before
// (its idempotency key makes a second tap harmless).
(() => {
  const panel = document.querySelector("[data-offline-outbox]");
  const Outbox = window.RenoOutbox;
  if (!panel || !Outbox || !("indexedDB" in window)) return;

  const PAGES = "renocrm-pages";
  const owner = panel.dataset.owner;
  const counter = panel.querySelector("[data-offline-counter]");
  const network = panel.querySelector("[data-offline-network]");
  const notice = panel.querySelector("[data-offline-notice]");
  const list = panel.querySelector("[data-offline-drafts]");
  const form = document.querySelector("form[data-offline-form]");
  const text = (name, count) => (panel.dataset[name] || "").replace("{count}", count);

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function today() {
    const now = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  }

  // A fresh key whenever the form is opened (or emptied after being kept): one key, one record. A form kept
  // on the phone since an earlier day offers that day as "today" ("patrolled on"): the real today instead.
  function freshForm() {
    if (!form) return;
    form.querySelector("[data-offline-key]").value = newKey();
    delete form.dataset.offlineDraft;
    form.querySelectorAll("[data-offline-error]").forEach((error) => error.remove());
    const renderedOn = panel.dataset.renderedOn;
    if (renderedOn && renderedOn < today()) {
      form.querySelectorAll('input[type="date"]').forEach((input) => {
        if (input.value === renderedOn) input.value = today();
      });
    }
  }

  function say(message) {
    notice.textContent = message;
    notice.hidden = !message;
    if (message) panel.hidden = false;
  }

  // The drafts list ----------------------------------------------------------------------------------------

  function row(draft) {
    const item = document.createElement("li");
    item.className = `offline-draft offline-draft--${draft.status}`;
    item.dataset.testid = "offline-draft";
    item.dataset.key = draft.key;
    const head = document.createElement("p");
    head.className = "offline-draft__head";
    const what = document.createElement("strong");
    what.textContent = `${draft.kind} · ${draft.worksite}`;
    const when = document.createElement("time");
    when.className = "muted";
    when.dateTime = new Date(draft.savedAt).toISOString();
    when.textContent = new Date(draft.savedAt).toLocaleString(document.documentElement.lang || undefined, {
      dateStyle: "short",
      timeStyle: "short",
    });
    head.append(what, " ", when);
    item.append(head);
    const files = draft.fields.filter(([, value]) => value instanceof Blob).length;
    const summary = [draft.summary, files ? text("textPhotos", files) : ""].filter(Boolean).join(" · ");
    if (summary) {
      const line = document.createElement("p");
      line.className = "offline-draft__summary";
      line.textContent = summary;
      item.append(line);
    }
    const status = document.createElement("p");
    status.className = "offline-draft__status";
    const badge = document.createElement("span");
    badge.className = draft.status === "refused" ? "badge badge--overdue" : "badge";
    badge.textContent = text(draft.status === "refused" ? "textStatusRefused" : "textStatusWaiting");
    status.append(badge);
    if (draft.status === "refused" && draft.message) {
      const message = document.createElement("span");
      message.className = "offline-draft__message";
      message.dataset.testid = "offline-refusal";
      message.textContent = draft.message;
      status.append(" ", message);
    }
    item.append(status);
    const actions = document.createElement("p");
    actions.className = "offline-draft__actions";
    if (draft.status === "refused") {
      const edit = document.createElement("a");
      edit.className = "btn";
      edit.href = `${draft.page}#draft-${draft.key}`;
      edit.textContent = text("textEdit");
      edit.dataset.offlineEdit = draft.key;
      actions.append(edit);
    }
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "btn";
    discard.textContent = text("textDiscard");
    discard.dataset.offlineDiscard = draft.key;
    actions.append(discard);
    item.append(actions);
    return item;
  }

  async function render() {
    const mine = (await Outbox.all()).filter((draft) => draft.owner === owner);
    const waiting = mine.filter((draft) => draft.status === "waiting").length;
    counter.textContent = waiting ? text("textWaiting", waiting) : "";
    counter.dataset.count = String(waiting);
    network.textContent = navigator.onLine ? "" : text("textOffline");
    list.replaceChildren(...mine.map(row));
    panel.hidden = !mine.length && navigator.onLine && notice.hidden;
  }

  panel.addEventListener("click", async (event) => {
    const discard = event.target.closest("[data-offline-discard]");
    if (discard) {
      const key = discard.dataset.offlineDiscard;
      await Outbox.remove(key);
      if (form && form.dataset.offlineDraft === key) {
        form.reset();
        freshForm();
        say("");
      }
      render();
      return;
    }
    const edit = event.target.closest("[data-offline-edit]");
    if (edit && form && new URL(edit.href).pathname === location.pathname) {
      event.preventDefault();
      open(edit.dataset.offlineEdit);
    }
  });

  // Keeping a form in the outbox -----------------------------------------------------------------------------

  function fieldsOf(data) {
    const fields = [];
    for (const [name, value] of data) {
      if (name === "csrfmiddlewaretoken" || name === "idempotency_key") continue;
      if (value instanceof File && !value.name && !value.size) continue; // an empty file input
      fields.push([name, value]);
    }
    return fields;
  }

  function summaryOf() {
    const typed = [...form.querySelectorAll("textarea, input[type=text]")].find((input) => input.value.trim());
    return typed ? typed.value.trim().slice(0, 120) : "";
  }

  async function keep(event) {
    event.preventDefault();
    event.stopImmediatePropagation(); // not posted, so not "uploading" either (progress.js)
    // What the form says is taken now, and the form emptied with a fresh key at once, before the phone has
    // kept it (a slow phone takes a while): what is typed and tapped meanwhile is the next draft, neither
    // wiped when this one is kept nor sent under this one's key in its place.
    const editing = Boolean(form.dataset.offlineDraft);
    const key = form.dataset.offlineDraft || form.querySelector("[data-offline-key]").value || newKey();
    const draft = {
      key,
      owner,
      url: form.action.split("#")[0],
      page: location.pathname + location.search,
      kind: form.dataset.offlineKind,
      worksite: panel.dataset.worksite,
      summary: summaryOf(),
      fields: fieldsOf(new FormData(form)),
      csrf: panel.dataset.csrf,
      savedAt: Date.now(),
      status: "waiting",
    };
    empty();
    try {
      const before = editing ? await Outbox.get(key) : null;
      if (before) draft.savedAt = before.savedAt;
      await Outbox.put(draft);
    } catch {
      // Not kept: the form gets it back, to be tried again.
      fill(draft);
      form.querySelector("[data-offline-key]").value = key;
      if (editing) form.dataset.offlineDraft = key;
      say(text("textNoRoom"));
      return;
    }
    say(text("textSaved"));
    await render();
    askForSync();
    if (navigator.onLine) {
      if (sending) await sending; // a send already under way read the outbox before this draft was in it
      const done = await flush();
      // A corrected draft sent at once: on to where the form leads, as when it is posted.
      const sent = done && done.sent.find((one) => one.key === key);
      if (editing && sent && sent.url) location.assign(sent.url);
      else if (editing && done && done.refused.includes(key)) open(key);
    }
  }

  function empty() {
    form.reset();
    form.querySelectorAll('input[type="file"]').forEach((input) => {
      input.dispatchEvent(new Event("change", { bubbles: true })); // progress.js: "✓ 2 chosen" goes
    });
    freshForm();
    if (location.hash.startsWith("#draft-")) history.replaceState(null, "", location.pathname + location.search);
  }

  if (form) {
    freshForm();
    // Before the page's own submit handlers: without a connection (or for an opened draft) the form is kept.
    window.addEventListener(
      "submit",
      (event) => {
        if (event.target !== form) return;
        if (navigator.onLine && !form.dataset.offlineDraft) return;
        keep(event);
      },
      true,
    );
  }

  // Opening a refused draft to correct it ------------------------------------------------------------------

  function fill(draft) {
    const values = new Map();
    for (const [name, value] of draft.fields) values.set(name, [...(values.get(name) || []), value]);
    for (const input of form.elements) {
      if (!input.name || input.name === "csrfmiddlewaretoken" || input.name === "idempotency_key") continue;
      const given = values.get(input.name) || [];
      if (input.type === "file") {
        const files = new DataTransfer();
        given.filter((value) => value instanceof Blob).forEach((value) => files.items.add(value));
        input.files = files.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      } else if (input.type === "checkbox" || input.type === "radio") {
        input.checked = given.includes(input.value);
      } else if ("value" in input && input.type !== "submit" && input.type !== "button") {
        input.value = given.length ? given[0] : "";
      }
    }
  }

  function showErrors(errors) {
    form.querySelectorAll("[data-offline-error]").forEach((error) => error.remove());
    for (const [name, messages] of Object.entries(errors || {})) {
      if (name === "__all__") continue;
      const input = form.elements[name];
      const field = input && (input.length && !input.tagName ? input[0] : input);
      if (!field) continue;
      const place = field.closest(".field, td") || field.parentElement;
      const error = document.createElement("p");
      error.className = "field__error";
      error.dataset.offlineError = "";
      error.textContent = messages.join(" ");
      place.append(error);
    }
  }

  async function open(key) {
    const draft = await Outbox.get(key);
    if (!form || !draft || draft.owner !== owner) return;
    fill(draft);
    form.dataset.offlineDraft = key;
    form.querySelector("[data-offline-key]").value = key;
    showErrors(draft.errors);
    say(`${text("textEditing")} ${draft.message || ""}`.trim());
    form.scrollIntoView({ block: "start" });
  }

  function openFromAddress() {
    if (location.hash.startsWith("#draft-")) open(decodeURIComponent(location.hash.slice("#draft-".length)));
  }

  // Sending ----------------------------------------------------------------------------------------------------

  function csrf() {
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : panel.dataset.csrf;
  }

  let sending = null;
  function flush() {
    if (!navigator.onLine) return Promise.resolve(null);
    if (!sending) {
      sending = (async () => {
        try {
          const done = await Outbox.flush({ owner, csrf: csrf() });
          if (done.sent.length) say(text("textSent", done.sent.length));
          if (done.refused.length) say(text("textRefused"));
          if (done.signedOut) say(text("textSignedOut"));
          await render();
          if (done.sent.length) await refresh();
          return done;
        } catch {
          return null;
        } finally {
          sending = null;
        }
      })();
    }
    return sending;
  }

  function askForSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.getRegistration().then((registration) => {
      if (registration && registration.sync) registration.sync.register(Outbox.SYNC_TAG).catch(() => {});
    });
  }

  // What was just sent shows on this page: its lists are loaded again (and the copy kept for offline use).
  // Lists that could not be loaded (the signal went again, or came back to the service worker before this
  // page) are loaded when the connection returns.
  let stale = false;
  async function refresh() {
    if (!document.querySelector("[data-offline-refresh]")) return;
    stale = true;
    let response;
    try {
      response = await fetch(location.href.split("#")[0], { credentials: "same-origin" });
    } catch {
      return;
    }
    if (!response.ok) return;
    stale = false;
    if (response.headers.get("X-Offline-Capture") === "page" && "caches" in window) {
      caches.open(PAGES).then((cache) => cache.put(location.href.split("#")[0], response.clone()));
    }
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    document.querySelectorAll("[data-offline-refresh]").forEach((region) => {
      const replacement = fresh.querySelector(`[data-offline-refresh="${region.dataset.offlineRefresh}"]`);
      if (replacement) region.replaceWith(document.importNode(replacement, true));
    });
  }

  // This worksite's pages and forms, kept as soon as a page of it is opened, so that they open in the
  // basement too. A page already kept is refreshed whenever it is visited with a connection.
  async function warm() {
    if (!navigator.onLine || !("caches" in window) || !window.renocrmServiceWorker) return;
    if (!(await window.renocrmServiceWorker)) return;
    await navigator.serviceWorker.ready;
    const cache = await caches.open(PAGES);
    for (const path of panel.dataset.warm.split(" ").filter(Boolean)) {
      const url = new URL(path, location.href).href;
      if (await cache.match(url, { ignoreVary: true })) continue;
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        if (response.ok && response.headers.get("X-Offline-Capture") === "page") await cache.put(url, response);
      } catch {
        return;
      }
    }
  }

  window.addEventListener("online", () => {
    render();
    flush().then(() => stale && refresh());
  });
  window.addEventListener("offline", () => render());
  window.addEventListener("hashchange", openFromAddress);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "renocrm-outbox") {
        if (event.data.sent) say(text("textSent", event.data.sent));
        if (event.data.refused) say(text("textRefused"));
        render().then(() => event.data.sent && refresh());
      }
    });
  }

  render().then(() => {
    openFromAddress();
    flush().then(() => warm());
  });
})();
