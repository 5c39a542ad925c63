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

  function act(key) {
    if (key.undo) return press('[data-key="u"]');
    if (key.suggestion) return press(`[data-suggestion="${key.suggestion}"]`);
    if (key.key === "/") {
      const search = $("#theme-name");
      if (search) { search.focus(); search.select(); }
      return Boolean(search);
    }
    if (key.key === "?") { showKeys(); return true; }
    if (key.key === "m") {
      const memo = $("#memo");
      if (memo) memo.focus();
      return Boolean(memo);
    }
    if (key.key === "q") return openQuote();
    if (key.key === "ArrowRight") return press('[data-key="j"]');
    if (key.key === "ArrowLeft") return press('[data-key="k"]');
    if (key.key.length === 1 && !key.shift) return press(`[data-key="${CSS.escape(key.key)}"]`);
    return false;
  }

  // While the workbench is waiting for the server or swapping in its answer,
  // keys wait too: each then acts on what the coder sees after the previous
  // action ("k k k" goes back three answers, "1 1" applies then removes).
  let busy = 0;
  const waiting = [];
  function flush() {
    while (busy === 0 && waiting.length) act(waiting.shift());
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
    const key = {
      key: event.key,
      shift: event.shiftKey,
      undo,
      suggestion: event.shiftKey && /^Digit[1-3]$/.test(event.code) ? event.code.slice(-1) : "",
    };
    const known = undo || key.suggestion || "/?mq".includes(key.key) || key.key.startsWith("Arrow")
      || (key.key.length === 1 && !key.shift && $(`[data-key="${CSS.escape(key.key)}"]`));
    if (!known) return;
    event.preventDefault();
    // Moving the focus needs no answer from the server: it happens at once, so
    // the words typed after "/" land in the search box.
    if (busy > 0 && !"/?m".includes(key.key)) waiting.push(key);
    else act(key);
  });

  // The panel (#workbench), its coding form (#actions) or, for a theme applied or
  // removed, just the form's chips and marks (#coded).
  const onWorkbench = (event) => event.detail.target && ["workbench", "actions", "coded"].includes(event.detail.target.id);
  document.addEventListener("htmx:beforeRequest", (event) => { if (onWorkbench(event)) busy += 1; });
  document.addEventListener("htmx:afterRequest", (event) => {
    if (onWorkbench(event) && !event.detail.successful) { busy = Math.max(0, busy - 1); flush(); }
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    if (onWorkbench(event)) { busy = Math.max(0, busy - 1); flush(); }
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

  // The theme search sits outside the swapped panel, so words typed into it
  // survive a swap; it follows the answer on screen.
  let shown = null;
  function follow(fromSearch) {
    const card = $(".answer-card");
    const search = $("#theme-name");
    if (!card || !search) return;
    $("#form-answer").value = card.dataset.answer;
    $("#form-next").value = card.dataset.here;
    if (fromSearch || card.dataset.answer !== shown) {
      search.value = "";
      $("#search-results").replaceChildren();
    }
    shown = card.dataset.answer;
  }

  // After a swap the keyboard goes back to the answer, unless the coder is
  // typing a memo or has just opened the search. This runs in the same task as
  // the swap, so no key press slips in between.
  document.addEventListener("htmx:afterSwap", (event) => {
    if (!onWorkbench(event)) return;
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;
    const fromSearch = Boolean(source && source.closest("#create-form, #search-results"));
    follow(fromSearch);
    const active = document.activeElement && document.activeElement.id;
    if (active === "memo" || (active === "theme-name" && !fromSearch)) return;
    const answer = $("#answer-text");
    if (answer) answer.focus({ preventScroll: true });
  });
  document.addEventListener("DOMContentLoaded", () => follow(false));

  document.addEventListener("click", (event) => {
    const all = event.target.closest("[data-select-all]");
    if (!all) return;
    const form = all.closest("form");
    const boxes = form.querySelectorAll('input[name="answers"]');
    const check = Array.from(boxes).some((box) => !box.checked);
    boxes.forEach((box) => { box.checked = check; });
  });
})();
