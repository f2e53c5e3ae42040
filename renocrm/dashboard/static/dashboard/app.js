// Opens and closes the collapsed navigation on small screens.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-menu-toggle]");
  if (!toggle) return;
  const menu = document.getElementById(toggle.getAttribute("aria-controls"));
  const open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(open));
  menu.classList.toggle("is-open", open);
});

// Only one dropdown (firm switcher, user menu) open at a time, closed by a click elsewhere.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.dropdown[open]").forEach((dropdown) => {
    if (!dropdown.contains(event.target)) dropdown.removeAttribute("open");
  });
});

// A "Copy" button copies a read-only field: the one whose id it names, else the .copy-link field in its cell.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-link]");
  if (!button) return;
  const input = button.dataset.copyLink
    ? document.getElementById(button.dataset.copyLink)
    : button.closest("td").querySelector(".copy-link");
  input.select();
  if (navigator.clipboard) navigator.clipboard.writeText(input.value);
  else document.execCommand("copy");
  if (button.dataset.copiedLabel) button.textContent = button.dataset.copiedLabel;
});

// A link or key in a read-only field is selected whole when the field is focused, ready to copy.
document.addEventListener("focusin", (event) => {
  if (event.target.matches("input.copy-link[readonly]")) event.target.select();
});

// The print button of a printable page (the warranty card).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
