// Keyboard shortcuts for the intake console, and small conveniences. No framework beyond htmx.
document.addEventListener("keydown", (e) => {
  // Ctrl+Enter submits the form the cursor is in (the default action of that form).
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
    const form = e.target.closest && e.target.closest("form");
    if (form) { e.preventDefault(); form.requestSubmit(form.querySelector("button[data-default]") || undefined); }
  }
  // Alt+1..6 picks the request type on the console.
  if (e.altKey && /^[1-9]$/.test(e.key)) {
    const radios = document.querySelectorAll("input[name=case_type]");
    const radio = radios[Number(e.key) - 1];
    if (radio) { e.preventDefault(); radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
  }
});

// A form submitted twice by an impatient double click is sent once.
document.addEventListener("submit", (e) => {
  const form = e.target;
  if (form.dataset.sent) { e.preventDefault(); return; }
  form.dataset.sent = "1";
  setTimeout(() => delete form.dataset.sent, 4000);
});
document.addEventListener("htmx:afterRequest", (e) => { const f = e.target.closest && e.target.closest("form"); if (f) delete f.dataset.sent; });
