/* netopt robustness layer (netopt/maps/robustness.py): the page calls
 * netoptRobustnessInit(map, data) after every layer is built; it moves the
 * summary section to the end of the summary panel's details and the legend
 * section to the top of the legend's details. */
(function (global) {
  "use strict";
  global.netoptRobustnessInit = function (map, data) {
    var summary = document.getElementById("netopt-robust-summary");
    var legend = document.getElementById("netopt-robust-legend");
    var details = document.getElementById("netopt-summary-details");
    var legendDetails = document.getElementById("netopt-legend-details");
    if (summary && details) { details.appendChild(summary); summary.hidden = false; }
    if (legend && legendDetails) { legendDetails.insertBefore(legend, legendDetails.firstChild); legend.hidden = false; }
    var netopt = global.netopt = global.netopt || {};
    netopt.robustness = data;
  };
})(window);
