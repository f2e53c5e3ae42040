// The progress form on a phone: say how many photos and videos are chosen, and send the form once —
// an upload over a slow site connection takes a while, and a second tap would post the update twice.
document.addEventListener("change", (event) => {
  const form = event.target.closest("[data-progress-form]");
  if (!form || event.target.type !== "file") return;
  const chosen = form.querySelector("[data-progress-chosen]");
  if (!chosen) return;
  const count = [...form.querySelectorAll('input[type="file"]')].reduce((n, input) => n + input.files.length, 0);
  chosen.hidden = count === 0;
  chosen.textContent = count ? `✓ ${count} ${chosen.dataset.label || ""}` : "";
});

document.addEventListener("submit", (event) => {
  const form = event.target.closest("[data-progress-form]");
  if (!form) return;
  const button = form.querySelector("[data-progress-submit]");
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "1";
  if (button) {
    button.setAttribute("aria-busy", "true");
    button.dataset.label = button.textContent;
    button.textContent = button.dataset.busyLabel || button.textContent;
  }
});

// Coming back to the page from the browser's history: the form may be sent again.
window.addEventListener("pageshow", () => {
  document.querySelectorAll("[data-progress-form]").forEach((form) => {
    delete form.dataset.sending;
    const button = form.querySelector("[data-progress-submit]");
    if (button && button.dataset.label) {
      button.removeAttribute("aria-busy");
      button.textContent = button.dataset.label;
    }
  });
});
