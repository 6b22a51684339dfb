// The deployment form keeps what the rules table (deployments/rules.py, sent as data-rules) says agreeing
// on the page: the settings of the chosen kind, its instance types (each option's data-kinds), a shared
// endpoint's tenants, and each tenant's own model packages (package_select.js). The server checks every
// rule anyway; a field showing an error is never hidden.
(function () {
  const form = document.querySelector(".deployment-form");
  if (!form) return;
  const byKind = JSON.parse(form.dataset.kindFields);
  const rules = JSON.parse(form.dataset.rules);
  const field = function (name) { return form.querySelector("[name=" + name + "]"); };
  const kind = field("kind");
  const isolation = field("isolation");
  const tenant = field("tenant");
  const firstMember = field("first_member");
  const instance = form.querySelector("select[name=instance_type]");

  function show(el, visible) {
    el.hidden = !visible && !el.querySelector(".has-error");
  }
  function rule() { return rules.kinds[kind.value] || { isolations: [], shared_in: [], own_models: false }; }
  function isShared() { return rule().shared_in.includes(isolation.value); }

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

  function syncMembers(changed) {
    // Members are tenants of the endpoint's isolation model only; packages follow their tenant.
    form.querySelectorAll("[data-member] select option[data-isolation]").forEach(function (option) {
      const ok = option.dataset.isolation === isolation.value;
      if (changed || !option.selected) { option.disabled = !ok; option.hidden = !ok; }
    });
    if (window.saasadminOfferPackages) window.saasadminOfferPackages(form, changed);
  }

  function syncUploadLink() {
    const link = form.querySelector("[data-upload-link]");
    if (!link) return;
    const url = new URL(link.href, window.location.href);
    const owner = tenant.value || (firstMember ? firstMember.value : "");
    if (owner) url.searchParams.set("tenant", owner); else url.searchParams.delete("tenant");
    link.href = url.pathname + url.search;
  }

  function syncVisibility() {
    const shown = new Set(byKind[kind.value] || []);
    form.querySelectorAll("[data-setting]").forEach(function (el) {
      show(el, shown.has(el.dataset.setting));
    });
    const shared = isShared();
    const members = form.querySelector("[data-members]");
    if (members) show(members, shared);
    form.querySelectorAll("[data-member$=_package]").forEach(function (el) {
      show(el, shared && rule().own_models);
    });
    const modelPackage = form.querySelector("[data-base=model_package]");
    if (modelPackage) show(modelPackage, !(shared && rule().own_models));
  }

  // A shared endpoint has no owner but first tenants; a tenant's own deployment has an owner. When the
  // kind or isolation changes which it is, the chosen tenant moves between the two, with its model.
  function syncOwner() {
    if (!firstMember || tenant.disabled) return;
    const ownPackage = field("model_package");
    const memberPackage = field("first_member_package");
    if (isShared() && tenant.value) {
      if (!firstMember.value) {
        firstMember.value = tenant.value;
        if (rule().own_models) memberPackage.value = ownPackage.value;
      }
      tenant.value = "";
    } else if (!isShared() && !tenant.value && firstMember.value) {
      tenant.value = firstMember.value;
      ownPackage.value = memberPackage.value;
    }
  }

  function sync(changed) {
    if (changed) syncOwner();
    syncVisibility();
    syncInstanceTypes();
    syncMembers(changed);
    syncUploadLink();
  }

  // A chosen tenant brings its isolation model, and a kind that runs under it.
  tenant.addEventListener("change", function () {
    const option = tenant.selectedOptions[0];
    if (option && option.dataset.isolation) {
      isolation.value = option.dataset.isolation;
      if (!rule().isolations.includes(isolation.value)) kind.value = rules.defaults[isolation.value];
    }
    sync(true);
  });
  [kind, isolation, firstMember, field("second_member")].forEach(function (el) {
    if (el) el.addEventListener("change", function () { sync(true); });
  });
  sync(false);
})();
