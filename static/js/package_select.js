// Model package selects (deployments.forms.PackageSelect) offer only the packages of the tenant chosen in
// the field their data-tenant-field names (and shared ones where data-shared="yes"). On a page's first
// load the server's choice stays, even one the rules refuse, so its error reads next to it.
(function () {
  function offerPackages(form, changed) {
    form.querySelectorAll("select[data-tenant-field]").forEach(function (select) {
      const owner = form.querySelector("[name=" + select.dataset.tenantField + "]");
      const ownerId = owner ? owner.value : "";
      const sharedOk = select.dataset.shared === "yes";
      select.querySelectorAll("option[data-tenant]").forEach(function (option) {
        const of = option.dataset.tenant;
        const ok = (ownerId !== "" && of === ownerId) || (sharedOk && of === "shared");
        if (changed || !option.selected) { option.disabled = !ok; option.hidden = !ok; }
      });
      const chosen = select.selectedOptions[0];
      if (changed && chosen && chosen.disabled) select.value = "";
    });
  }
  window.saasadminOfferPackages = offerPackages;
  document.addEventListener("change", function (event) {
    const form = event.target.form;
    if (form && form.querySelector('select[data-tenant-field="' + event.target.name + '"]')) {
      offerPackages(form, true);
    }
  });
  document.querySelectorAll("form").forEach(function (form) { offerPackages(form, false); });
})();
