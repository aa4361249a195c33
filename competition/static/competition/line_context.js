// The submission form's "chosen target" panel follows the commitment target select: the facts
// of every line offered are in a json_script element rendered by LineContextPanel.
(function () {
  "use strict";

  function setUp() {
    var panel = document.querySelector("[data-line-context]");
    var select = document.getElementById("id_line");
    var data = document.getElementById("competition-line-facts");
    if (!panel || !select || !data) {
      return;
    }
    var every = JSON.parse(data.textContent);
    var lastTemplate = document.getElementById("competition-last-value-template").innerHTML;
    var noneText = document.getElementById("competition-no-last-value-template").innerHTML;
    var empty = panel.querySelector("[data-line-context-empty]");
    var box = panel.querySelector("[data-line-context-facts]");

    function show() {
      var facts = every[select.value];
      empty.hidden = Boolean(facts);
      box.hidden = !facts;
      if (!facts) {
        return;
      }
      ["target", "unit", "direction", "baseline", "target_value", "deadline"].forEach(function (name) {
        box.querySelector('[data-fact="' + name + '"]').textContent = facts[name];
      });
      var last = box.querySelector('[data-fact="last"]');
      if (facts.last_value) {
        // Template text is HTML-escaped already; the values are inserted as text.
        var parts = lastTemplate.split(/__value__|__day__/);
        var order = lastTemplate.indexOf("__value__") < lastTemplate.indexOf("__day__")
          ? [facts.last_value, facts.last_reported_on]
          : [facts.last_reported_on, facts.last_value];
        last.textContent = "";
        var holder = document.createElement("textarea");
        parts.forEach(function (part, index) {
          holder.innerHTML = part;
          last.appendChild(document.createTextNode(holder.value));
          if (index < order.length) {
            last.appendChild(document.createTextNode(order[index]));
          }
        });
      } else {
        var decoder = document.createElement("textarea");
        decoder.innerHTML = noneText;
        last.textContent = decoder.value;
      }
    }

    select.addEventListener("change", show);
    show();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
