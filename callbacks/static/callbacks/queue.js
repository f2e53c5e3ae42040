// A changed filter applies at once.
document.querySelectorAll(".cb-filters select").forEach((select) => {
  select.addEventListener("change", () => select.form.requestSubmit());
});

// j / k walk the queue's rows, Enter opens the focused one (a link).
document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key !== "j" && event.key !== "k") return;
  const links = [...document.querySelectorAll("[data-queue] .cb-row-link")];
  if (!links.length) return;
  const at = links.indexOf(document.activeElement);
  const next = event.key === "j" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
  links[next].focus();
  links[next].closest("tr").scrollIntoView({ block: "nearest" });
  event.preventDefault();
});
