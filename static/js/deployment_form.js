// Show only the settings of the chosen kind; the server validates every kind's rules anyway.
(function () {
  const form = document.querySelector(".deployment-form");
  if (!form) return;
  const byKind = JSON.parse(form.dataset.kindFields);
  const kind = form.querySelector("[name=kind]");
  function sync() {
    const shown = new Set(byKind[kind.value] || []);
    form.querySelectorAll("[data-setting]").forEach(function (el) {
      el.hidden = !shown.has(el.dataset.setting);
    });
  }
  kind.addEventListener("change", sync);
  sync();
})();
