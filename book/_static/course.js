// Course website: a box that scrolls (a code cell, an output, a wide formula) must be
// reachable with the keyboard. The theme marks the scrollable ones when the page
// loads, but a solution opened later, or a figure that loads late, is missed;
// watch their sizes and make each one focusable once it scrolls.
(function () {
  "use strict";
  var SELECTOR = "pre, .cell_output > .output, .bd-content mjx-container[display='true']";
  var observer = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var el = entry.target;
      if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1) {
        el.tabIndex = 0;
      }
    });
  });
  function watch() {
    document.querySelectorAll(SELECTOR).forEach(function (el) {
      if (!el.dataset.courseWatched) {
        el.dataset.courseWatched = "1";
        observer.observe(el);
      }
    });
  }
  document.addEventListener("DOMContentLoaded", watch);
  window.addEventListener("load", function () {
    watch();
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(watch);
    }
  });
})();

// Search excerpts are cut from a page's text, where MathJax's sources are still TeX
// (\(W_y\)): show the formula's letters instead of its backslashes. And they are cut from
// the prose only: the page's header (its download buttons, ".ipynb .pdf"), its printed
// contents list, code cells, their outputs and the footer are left out, so an excerpt
// reads as a sentence of the lesson, not "….pdf Gated cells… Contents…" or an f-string.
(function () {
  "use strict";
  var NOT_PROSE = [".bd-header-article", ".onlyprint", ".cell_input", ".cell_output",
                   ".prev-next-area", ".bd-footer-article", "footer", ".rnn-claims"];
  function proseOnly(htmlString) {
    var doc = new DOMParser().parseFromString(htmlString, "text/html");
    NOT_PROSE.forEach(function (query) {
      doc.querySelectorAll(query).forEach(function (el) { el.remove(); });
    });
    return doc.documentElement.outerHTML;
  }
  function untex(text) {
    return text
      .replace(/\\[()\[\]]/g, "")
      .replace(/\\frac\{([^{}]*)\}\{([^{}]*)\}/g, "($1)/($2)")
      .replace(/\\sqrt\{([^{}]*)\}/g, "\u221a($1)")
      .replace(/\\pm\b/g, "\u00b1")
      .replace(/\\(ln|log|exp|sin|cos|tanh|max|min)\b/g, "$1 ")
      .replace(/\\[,;!]/g, " ")
      .replace(/\\(?:operatorname|mathrm|mathbf|text)\{([^}]*)\}/g, "$1")
      .replace(/\\([a-zA-Z]+)/g, "$1")
      .replace(/[{}]/g, "");
  }
  function patch() {
    if (typeof Search !== "undefined" && Search.htmlToText && !Search.htmlToText.courseUntex) {
      var original = Search.htmlToText;
      Search.htmlToText = function (html, anchor) { return untex(original(proseOnly(html), anchor)); };
      Search.htmlToText.courseUntex = true;
    }
  }
  patch();
  document.addEventListener("DOMContentLoaded", patch);
})();

// The sidebar folds a lesson's second page under the lesson. The theme's fold button
// (<summary>) holds only an icon, so a screen reader had no name for it: give it one.
(function () {
  "use strict";
  function name() {
    document.querySelectorAll(".bd-sidebar-primary li.has-children > details > summary")
      .forEach(function (summary) {
        if (summary.getAttribute("aria-label")) { return; }
        var link = summary.parentElement.parentElement.querySelector(":scope > a");
        var title = link ? link.textContent.trim() : "this chapter";
        summary.setAttribute("aria-label", "Pages of " + title);
      });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", name);
  } else {
    name();
  }
})();

// The page has two menu buttons of each kind (the header's, hidden, and the article
// header's, shown), and both themes bind their handlers to the first one only, so the
// visible buttons did nothing: the phone's menu never opened (pydata-sphinx-theme 0.17,
// sphinx-book-theme 1.3). Pass a click on any other one to the first.
(function () {
  "use strict";
  function forward() {
    ["primary-toggle", "secondary-toggle"].forEach(function (name) {
      var buttons = document.querySelectorAll("." + name);
      var first = buttons[0];
      Array.prototype.slice.call(buttons, 1).forEach(function (button) {
        button.addEventListener("click", function (event) {
          event.preventDefault();
          event.stopImmediatePropagation();
          first.click();
        });
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", forward);
  } else {
    forward();
  }
})();

// Search: the page and section that teach the query's term come first. Sphinx ranks a
// page by the words it contains, so "forget gate" found lesson 3, which mentions it,
// before lesson 5, which teaches it. COURSE_TERMS (_static/course_terms.js, written by
// scripts/teaches.py from book/terms.yml) maps each term to its page and section; the
// other values are Sphinx 7.4's own scores (searchtools.js uses this Scorer because it
// is defined before searchtools.js loads).
var Scorer = {
  score: function (result) {
    var docname = result[0], anchor = result[2], score = result[4];
    if (typeof COURSE_TERMS === "undefined") { return score; }
    var query = (new URLSearchParams(window.location.search).get("q") || "")
      .toLowerCase().replace(/\s+/g, " ").trim();
    var taught = COURSE_TERMS[query] || COURSE_TERMS[query.replace(/s$/, "")];
    if (taught && docname === taught[0]) {
      return score + (anchor === "#" + taught[1] ? 1000 : 900);
    }
    return score;
  },
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: { 0: 15, 1: 5, 2: -5 },
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};
