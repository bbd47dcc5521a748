/* The new-project form: show only the sections that apply to the chosen kind of task. Without this script every
 * section shows, and settings that do not apply are kept but not used. */
(function () {
  "use strict";
  var kind = document.getElementById("id_kind");
  if (!kind) { return; }
  function update() {
    document.querySelectorAll(".form-section[data-kinds]").forEach(function (section) {
      section.hidden = section.getAttribute("data-kinds").split(" ").indexOf(kind.value) === -1;
    });
  }
  kind.addEventListener("change", update);
  update();
})();
