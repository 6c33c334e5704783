// Loaded between require.js and the widget manager (embed-amd.js) on pages with
// widgets; scripts/vendor_assets.py copies it into _static/offline/ next to them.
(function () {
  "use strict";
  // 1. The widget manager finds its fonts relative to an AMD module path
  //    (@jupyter-widgets/html-manager/dist/...) that would resolve against the page;
  //    point that path, and webpack's asset path, at the copy the site serves.
  var here = document.currentScript.src;
  var base = here.slice(0, here.lastIndexOf("/") + 1) + "html-manager/";
  window.__jupyter_widgets_assets_path__ = base;
  if (window.require && window.require.config) {
    window.require.config({
      paths: { "@jupyter-widgets/html-manager/dist": base.slice(0, -1) },
    });
  }

  // 2. The widgets typeset math in their labels with MathJax 2's API
  //    (MathJax.Hub.Queue); the site runs MathJax 3, so translate. MathJax (a
  //    deferred script) exists by DOMContentLoaded; the widgets render after that.
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (!mj || mj.Hub || !mj.startup) return;
    mj.Hub = {
      Queue: function (job) {
        var el = Array.isArray(job) ? job[2] : null;
        mj.startup.promise.then(function () {
          return mj.typesetPromise(el ? [el] : undefined);
        });
      },
    };
  });

  // 3. Accessibility. A slider's handle is a role="slider" element without a name:
  //    give it the slider's description (its visible label). A figure inside an
  //    Output widget has no alt text: say what it is.
  function label(root) {
    root.querySelectorAll(".widget-slider [role=slider]:not([aria-label])").forEach(
      function (handle) {
        var widget = handle.closest(".widget-slider");
        var lab = widget && widget.querySelector(".widget-label");
        var text = lab && lab.textContent.trim();
        handle.setAttribute("aria-label", text || "slider");
      });
    root.querySelectorAll(".jupyter-widgets img:not([alt])").forEach(function (img) {
      img.setAttribute("alt", "Figure drawn by the interactive controls, " +
                              "in the state the build left them");
    });
  }
  new MutationObserver(function () { label(document); })
    .observe(document.documentElement, { childList: true, subtree: true });
})();
