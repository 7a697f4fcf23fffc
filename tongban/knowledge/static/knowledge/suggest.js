// 知识库 suggestions on the operator console: "用此答复" copies the answer into the reply box and
// remembers the article id in input[name=article], so the console can call record_answer.
document.addEventListener("click", (e) => {
  const btn = e.target.closest && e.target.closest("[data-kb-use]");
  if (!btn) return;
  const form = document.querySelector("textarea[name=reply]")?.form || document;
  const reply = form.querySelector("textarea[name=reply]");
  if (reply) {
    reply.value = btn.dataset.kbAnswer || "";
    const details = reply.closest("details"); if (details) details.open = true;
    reply.dispatchEvent(new Event("input", { bubbles: true })); reply.focus();
  }
  let hidden = form.querySelector("input[name=article]");
  if (!hidden && form.tagName === "FORM") {
    hidden = document.createElement("input"); hidden.type = "hidden"; hidden.name = "article"; form.appendChild(hidden);
  }
  if (hidden) hidden.value = btn.dataset.kbUse;
});
