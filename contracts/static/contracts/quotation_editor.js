// The quotation editor: type-ahead from the firm's item library on each line's item field (↑ ↓ to move,
// Enter to pick, which fills the line and moves to its quantity), and the focus kept where the user works
// when htmx swaps the editor after a save (on the new blank line after adding one, on the first error).
// A package's lines ([data-item-suggest]) pick their items with the same type-ahead.
(() => {
  "use strict";

  let lastFocused = "";

  const field = (row, name) => row.querySelector(`[data-line="${name}"]`);

  function setValue(row, name, value) {
    const input = field(row, name);
    if (input && value !== null && value !== undefined) input.value = value;
  }

  function option(item, index, listId) {
    const li = document.createElement("li");
    li.id = `${listId}-${index}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", "false");
    const name = document.createElement("span");
    name.textContent = `${item.code} · ${item.name}${item.brand_model ? ` · ${item.brand_model}` : ""}`;
    const price = document.createElement("small");
    price.textContent = `${item.trade_label} · ¥${item.unit_price}/${item.unit}`;
    li.append(name, price);
    return li;
  }

  function attach(input, url) {
    if (input.dataset.suggestReady) return;
    input.dataset.suggestReady = "1";
    const row = input.closest("tr");
    const list = row.querySelector(".q-suggest");
    if (!url || !list) return;
    input.setAttribute("aria-controls", list.id);
    let results = [];
    let active = -1;
    let timer = null;
    let asked = 0;

    const close = () => {
      list.hidden = true;
      list.replaceChildren();
      results = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    };

    const highlight = (index) => {
      active = index;
      list.querySelectorAll("li").forEach((li, n) => li.setAttribute("aria-selected", String(n === index)));
      const current = list.children[index];
      if (current) {
        input.setAttribute("aria-activedescendant", current.id);
        current.scrollIntoView({ block: "nearest" });
      }
    };

    const pick = (item) => {
      setValue(row, "price_item", item.id);
      setValue(row, "code", item.code);
      setValue(row, "name", item.name);
      setValue(row, "category", item.trade);
      setValue(row, "unit", item.unit);
      setValue(row, "unit_price", item.unit_price);
      setValue(row, "brand_model", item.brand_model);
      setValue(row, "cost_price", item.cost_price);
      const code = row.querySelector("[data-line-code]");
      if (code) code.textContent = item.code;
      close();
      const quantity = field(row, "quantity");
      if (quantity) {
        quantity.focus();
        quantity.select();
      }
    };

    const show = (items) => {
      results = items;
      list.replaceChildren(...items.map((item, n) => option(item, n, list.id)));
      list.hidden = items.length === 0;
      input.setAttribute("aria-expanded", String(items.length > 0));
      if (items.length) highlight(0);
    };

    const ask = async (query) => {
      const ticket = ++asked;
      try {
        const response = await fetch(`${url}?q=${encodeURIComponent(query)}&limit=8`, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (!response.ok || ticket !== asked) return;
        const body = await response.json();
        if (ticket === asked && document.activeElement === input) show(body.results || []);
      } catch {
        close(); // offline or signed out: the line is typed by hand
      }
    };

    input.addEventListener("input", () => {
      clearTimeout(timer);
      const query = input.value.trim();
      if (!query) {
        // An emptied item is no longer the library's.
        setValue(row, "price_item", "");
        setValue(row, "code", "");
        const code = row.querySelector("[data-line-code]");
        if (code) code.textContent = "";
        close();
        return;
      }
      timer = setTimeout(() => ask(query), 150);
    });

    input.addEventListener("keydown", (event) => {
      if (list.hidden || !results.length) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + results.length) % results.length);
      } else if (event.key === "Enter") {
        event.preventDefault(); // pick, do not save
        pick(results[Math.max(active, 0)]);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });

    // mousedown, not click: it comes before the input loses focus.
    list.addEventListener("mousedown", (event) => {
      const li = event.target.closest("li");
      if (!li) return;
      event.preventDefault();
      pick(results[Array.prototype.indexOf.call(list.children, li)]);
    });
    input.addEventListener("blur", () => setTimeout(close, 100));
  }

  function setup(editor) {
    const url = editor.dataset.suggestUrl || "";
    editor.querySelectorAll("input[data-suggest]").forEach((input) => attach(input, url));
  }

  function restoreFocus(editor) {
    const focus = editor.dataset.focus;
    let target = null;
    if (focus === "error") target = editor.querySelector(".field--error input, .field--error select");
    if (!target && focus === "add") target = editor.querySelector(".q-add input[data-suggest]");
    if (!target && lastFocused) target = editor.querySelector(`[name="${CSS.escape(lastFocused)}"]`);
    if (target) {
      target.focus();
      if (focus === "add" && target.select) target.select();
    }
  }

  document.addEventListener("htmx:beforeRequest", (event) => {
    if (!event.target.closest || !event.target.closest("[data-quotation-editor]")) return;
    const active = document.activeElement;
    lastFocused = active && active.name && active.name !== "remove" ? active.name : "";
  });

  document.addEventListener("htmx:afterSettle", () => {
    const editor = document.querySelector("[data-quotation-editor]");
    if (!editor) return;
    setup(editor);
    restoreFocus(editor);
  });

  document.querySelectorAll("[data-quotation-editor], [data-item-suggest]").forEach(setup);
})();
