/* Behaviour every page may use, from a file: the Content-Security-Policy allows no
   inline script and no eval (config/settings.py, SECURE_CSP).
   - form[data-autosubmit] (and a select[data-autosubmit]) submits on change;
   - the ticket's tabs ([role=tab] in .ticket-tabs) show their panel;
   - [data-poll] elements get a "poll" event every 3 s (their hx-trigger), except
     while a live stream feeds the page (window.yiwangLive, static/js/live.js). */
(() => {
  document.addEventListener("change", (e) => {
    const el = e.target.closest("[data-autosubmit]");
    if (!el) return;
    (el.form || el).submit();
  });

  document.addEventListener("click", (e) => {
    const tab = e.target.closest(".ticket-tabs [role=tab]");
    if (!tab) return;
    document.querySelectorAll(".ticket-tabs [role=tab]").forEach((t) => {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    });
  });

  setInterval(() => {
    if (window.yiwangLive || !window.htmx) return;
    document.querySelectorAll("[data-poll]").forEach((el) => window.htmx.trigger(el, "poll"));
  }, 3000);
})();
