// Show only the settings of the chosen kind, and offer only its instance types (each option's
// data-kinds); the server validates every kind's rules anyway.
(function () {
  const form = document.querySelector(".deployment-form");
  if (!form) return;
  const byKind = JSON.parse(form.dataset.kindFields);
  const kind = form.querySelector("[name=kind]");
  const instance = form.querySelector("select[name=instance_type]");
  function syncInstanceTypes() {
    if (!instance) return;
    let firstOffered = null;
    instance.querySelectorAll("option[data-kinds]:not([data-keep])").forEach(function (option) {
      const offered = option.dataset.kinds.split(" ").includes(kind.value);
      option.disabled = !offered;
      option.hidden = !offered;
      if (offered && !firstOffered) firstOffered = option;
    });
    const chosen = instance.selectedOptions[0];
    if (chosen && chosen.disabled) {
      const fallback = instance.querySelector('option[value="' + instance.dataset.default + '"]');
      const pick = fallback && !fallback.disabled ? fallback : firstOffered;
      if (pick) instance.value = pick.value;
    }
  }
  function sync() {
    const shown = new Set(byKind[kind.value] || []);
    form.querySelectorAll("[data-setting]").forEach(function (el) {
      el.hidden = !shown.has(el.dataset.setting);
    });
    syncInstanceTypes();
  }
  kind.addEventListener("change", sync);
  sync();
})();
