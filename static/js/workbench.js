// The workbench's keyboard, quotes from selections, and save feedback.
// Every key press clicks a real button or link of the page (found by data-key),
// so what the keyboard does and what a click does are one code path.
(() => {
  "use strict";

  const $ = (selector, root = document) => root.querySelector(selector);
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

  function press(selector) {
    const target = $(selector);
    if (!target || target.disabled) return false;
    target.click();
    return true;
  }

  // Offsets of the selection inside the answer, in code points (what Python and
  // REFI-QDA count), not the UTF-16 units of JavaScript strings.
  function selectionInAnswer() {
    const answer = $("#answer-text");
    const selection = window.getSelection();
    if (!answer || !selection || selection.isCollapsed || selection.rangeCount === 0) return null;
    const range = selection.getRangeAt(0);
    if (!answer.contains(range.startContainer) || !answer.contains(range.endContainer)) return null;
    const before = document.createRange();
    before.setStart(answer, 0);
    before.setEnd(range.startContainer, range.startOffset);
    const prefix = before.toString();
    const picked = range.toString();
    const start = Array.from(prefix).length;
    return { start, end: start + Array.from(picked).length, text: picked };
  }

  function openQuote() {
    const span = selectionInAnswer();
    const form = $("#quote-form");
    if (!span || !form) return false;
    $("#quote-start").value = span.start;
    $("#quote-end").value = span.end;
    $("#quote-preview").textContent = span.text;
    form.hidden = false;
    $("#quote-save").focus();
    return true;
  }

  function showKeys() {
    const dialog = $("#keys");
    if (dialog && !dialog.open) dialog.showModal();
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey || event.metaKey) return;
    const undo = event.ctrlKey && event.key.toLowerCase() === "z";
    if (event.key === "Escape" && typing(document.activeElement)) {
      document.activeElement.blur();
      return;
    }
    if (typing(document.activeElement) && !undo) return;
    if (event.ctrlKey && !undo) return;
    let done = false;
    if (undo) done = press('[data-key="u"]');
    else if (event.shiftKey && /^Digit[1-3]$/.test(event.code)) {
      done = press(`[data-suggestion="${event.code.slice(-1)}"]`);
    } else if (event.key === "/") {
      const search = $("#theme-name");
      if (search) { search.focus(); search.select(); done = true; }
    } else if (event.key === "?") { showKeys(); done = true; }
    else if (event.key === "m") {
      const memo = $("#memo");
      if (memo) { memo.focus(); done = true; }
    } else if (event.key === "q") done = openQuote();
    else if (event.key === "ArrowRight") done = press('[data-key="j"]');
    else if (event.key === "ArrowLeft") done = press('[data-key="k"]');
    else if (event.key.length === 1 && !event.shiftKey) done = press(`[data-key="${CSS.escape(event.key)}"]`);
    if (done) event.preventDefault();
  });

  // Enter in the theme search applies the first match; with no match it
  // submits the form, which creates the theme (inductive coding).
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.target.id !== "theme-name") return;
    const first = $("#search-results [data-result]");
    if (first && event.target.value.trim()) {
      event.preventDefault();
      first.click();
    }
  });

  // Save feedback: every request says whether it saved, and a failed one can be retried.
  let failed = null;
  function state(text, isError) {
    const el = $("#save-state");
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("error", Boolean(isError));
    if (isError) {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "link";
      retry.textContent = "Retry";
      retry.addEventListener("click", () => {
        const elt = failed;
        failed = null;
        if (elt && elt.isConnected) htmx.trigger(elt, elt.tagName === "FORM" ? "submit" : "click");
      });
      el.append(" ", retry);
    }
  }
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.requestConfig.verb !== "get") state("Saving…");
  });
  document.addEventListener("htmx:responseError", (event) => {
    failed = event.detail.elt;
    state(`Not saved (the server answered ${event.detail.xhr.status}).`, true);
  });
  document.addEventListener("htmx:sendError", (event) => {
    failed = event.detail.elt;
    state("Not saved: the server could not be reached.", true);
  });

  // After a swap, keep the keyboard on the answer rather than on a vanished button.
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id === "workbench" && !typing(document.activeElement)) {
      const answer = $("#answer-text");
      if (answer) answer.focus({ preventScroll: true });
    }
  });

  document.addEventListener("click", (event) => {
    const all = event.target.closest("[data-select-all]");
    if (!all) return;
    const form = all.closest("form");
    const boxes = form.querySelectorAll('input[name="answers"]');
    const check = Array.from(boxes).some((box) => !box.checked);
    boxes.forEach((box) => { box.checked = check; });
  });
})();
