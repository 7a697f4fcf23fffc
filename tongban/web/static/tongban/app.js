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

// <select data-autosubmit> submits its form on change (no inline handlers: the CSP forbids them).
document.addEventListener("change", (e) => { if (e.target.matches && e.target.matches("select[data-autosubmit]")) e.target.form.requestSubmit(); });

// Long selects (517 categories, 100+ units) get a filter box: type 排水 to see only matching options.
function makeSearchable(select) {
  if (select.dataset.searchReady) return;
  select.dataset.searchReady = "1";
  const box = document.createElement("input");
  box.type = "search";
  box.placeholder = "输入关键字筛选";
  box.setAttribute("aria-label", "筛选" + (select.labels[0] ? select.labels[0].innerText : "选项"));
  box.className = "select-filter";
  select.before(box);
  box.addEventListener("input", () => {
    const words = box.value.trim();
    let first = null;
    for (const opt of select.options) {
      const show = !words || !opt.value || opt.text.includes(words);
      opt.hidden = !show;
      if (show && opt.value && !first) first = opt;
    }
    if (first && words) select.value = first.value;
  });
}
const initSearchable = (root) => root.querySelectorAll("select[data-searchable]").forEach(makeSearchable);
document.addEventListener("DOMContentLoaded", () => initSearchable(document));
// On a phone the tabs scroll sideways: bring the current one into view.
document.addEventListener("DOMContentLoaded", () => {
  const nav = document.querySelector(".nav"), here = nav && nav.querySelector("a.active");
  if (here && nav.scrollWidth > nav.clientWidth) nav.scrollLeft = here.offsetLeft - (nav.clientWidth - here.offsetWidth) / 2;
});
document.addEventListener("htmx:load", (e) => initSearchable(e.target));
// 疑似重复件 on the operator console: "标记为此件的重复件" puts the case number in input[name=duplicate_of];
// the console merges the new request into it after intake. "取消标记" clears it.
document.addEventListener("click", (e) => {
  const mark = e.target.closest && e.target.closest("[data-dup-number]");
  const clear = e.target.closest && e.target.closest("[data-dup-clear]");
  if (!mark && !clear) return;
  const hidden = document.querySelector("input[name=duplicate_of]");
  const note = document.getElementById("dup-marked");
  if (!hidden) return;
  hidden.value = mark ? mark.dataset.dupNumber : "";
  if (note) {
    note.hidden = !mark;
    const target = note.querySelector("[data-dup-target]");
    if (target) target.textContent = mark ? `${mark.dataset.dupNumber} ${mark.dataset.dupTitle || ""}` : "";
  }
  document.querySelectorAll("li.dup").forEach((li) => li.classList.toggle("marked", !!mark && li.contains(mark)));
});
// <button data-confirm="…"> asks first; <button data-print> prints the page (inline handlers are forbidden by the CSP).
document.addEventListener("click", (e) => {
  const el = e.target.closest && e.target.closest("[data-confirm], [data-print]");
  if (!el) return;
  if (el.hasAttribute("data-print")) { window.print(); return; }
  if (!window.confirm(el.getAttribute("data-confirm"))) e.preventDefault();
});
// A fragment marked data-keep-choices (the hall's material checklist) is re-drawn by htmx while the
// clerk may still be ticking boxes: ticks made after the request left are put back after the swap.
let keptChoices = null;
document.addEventListener("htmx:beforeSwap", (e) => {
  const target = e.detail.target;
  keptChoices = target && target.matches && target.matches("[data-keep-choices]")
    ? [...target.querySelectorAll("input[type=radio]:checked, input[type=checkbox]")].map((i) => [i.name, i.value, i.checked, i.type])
    : null;
});
document.addEventListener("htmx:afterSwap", () => {
  if (!keptChoices) return;
  for (const [name, value, checked, type] of keptChoices) {
    const input = document.querySelector(`input[name="${CSS.escape(name)}"][value="${CSS.escape(value)}"]`);
    if (input && input.type === type) input.checked = checked;
  }
  keptChoices = null;
});
