/* netopt what-if: change an office's decision on the map and recompute, in the
 * page and offline, what netopt's evaluator (netopt/metrics.py, evaluate_stage)
 * computes for the new decisions.  The data come from netopt/whatif.py
 * (whatif_payload) with the map's styles and texts (netopt/maps/whatif.py,
 * a PageExtension that also renders the panel section); the API joins
 * window.netopt (docs/map.md).  Redraws follow netopt.maps.style: shape and
 * colour by decision, receiving offices ringed, FA-regions hatched when they
 * lose their office and dotted when they never had one, changed offices
 * labelled (netopt-map.js places the labels).
 *
 * Exactness: distances are whole metres from the same source as the
 * optimisation; inhabitants, distances, counts, the mean distance (an exact
 * integer sum divided as in Python), the 90th percentile and the shares within
 * a distance are bit for bit Python's.  Visits and money use Math.exp where
 * numpy uses its own exp (they may differ in the last bit) and sum in the same
 * order as numpy where the order matters for a discrete choice (the receiving
 * office); they agree with Python to far below the precision shown (0.1 MSEK,
 * one visit).  Numbers are shown as Python's format() shows them (halves of
 * exactly representable values round to even), except that a value that
 * rounds to zero has no minus sign.
 *
 * Plain ES5 plus typed arrays; no network, no build step. */
(function (global) {
  "use strict";

  var CLOSED = 0, FLEXIBLE = 1, KEPT = 2;
  var NBSP = "\u00a0", ARROW = " \u2192 ", DASH = "\u2013";
  var decimalMark = ".";  /* the page's language (format.decimal_mark), set by netoptWhatifInit */

  // ------------------------------------------------------------------ decoding

  function bytesOf(b64) {
    var s = global.atob(b64), out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) { out[i] = s.charCodeAt(i); }
    return out;
  }

  /* A base64 little-endian typed array: "f8" float64, "i4" int32, "i2" int16. */
  function typedOf(b64, kind) {
    var u8 = bytesOf(b64), dv = new DataView(u8.buffer), i, n, out;
    if (kind === "f8") {
      n = u8.length / 8; out = new Float64Array(n);
      for (i = 0; i < n; i++) { out[i] = dv.getFloat64(8 * i, true); }
    } else if (kind === "i4") {
      n = u8.length / 4; out = new Int32Array(n);
      for (i = 0; i < n; i++) { out[i] = dv.getInt32(4 * i, true); }
    } else {
      n = u8.length / 2; out = new Int32Array(n);
      for (i = 0; i < n; i++) { out[i] = dv.getInt16(2 * i, true); }
    }
    return out;
  }

  /* netopt.whatif.varint_row_deltas, decoded: an m × n matrix, row-major. */
  function rowDeltasOf(b64, m, n) {
    var u8 = bytesOf(b64), out = new Int32Array(m * n), pos = 0, k, v, shift, b, z;
    for (k = 0; k < m * n; k++) {
      v = 0; shift = 1;
      do { b = u8[pos++]; v += (b & 127) * shift; shift *= 128; } while (b & 128);
      z = (v % 2 === 0) ? v / 2 : -(v + 1) / 2;
      out[k] = (k >= n ? out[k - n] : 0) + z;
    }
    return out;
  }

  /* numpy's rint: round half to even. */
  function rint(v) {
    var f = Math.floor(v), r = v - f;
    if (r > 0.5) { return f + 1; }
    if (r < 0.5) { return f; }
    return (f % 2 === 0) ? f : f + 1;
  }

  /* numpy's round(x, d): rint(x * 10^d) / 10^d. */
  function round(x, d) {
    var f = Math.pow(10, d);
    return rint(x * f) / f;
  }

  /* Distance in whole metres as netopt.whatif.page_distance_m computes it. */
  function metres(ax, ay, bx, by, detour) {
    var a = ax - bx, b = ay - by;
    return rint(Math.sqrt(a * a + b * b) * detour);
  }

  // ---------------------------------------------------------------- formatting

  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  }

  /* Python's format(x, ",.{d}f") with a no-break space between thousands,
   * the page language's decimal mark and no minus sign on a value that
   * rounds to zero (netopt.i18n.Texts.num). */
  function num(x, d) {
    if (x === null || x === undefined || !isFinite(x)) { return DASH; }
    if (x === 0) { x = 0; }
    var a = Math.abs(x), s = a.toFixed(d);
    // toFixed rounds an exact half up; Python rounds it to even. An exact half
    // shows as 5 then zeros in 20 decimals (ES5 allows no more); the double
    // next to one differs by more than 1e-20 for any value above 1e-4.
    var full = a.toFixed(20), point = full.indexOf(".");
    var tail = point < 0 ? "" : full.slice(point + 1 + d);
    if (/^50*$/.test(tail)) {
      var cut = point < 0 ? full : full.slice(0, d === 0 ? point : point + 1 + d);
      var last = cut.charAt(cut.length - 1) === "." ? cut.charAt(cut.length - 2) : cut.charAt(cut.length - 1);
      if (parseInt(last, 10) % 2 === 0) { s = d === 0 ? cut.replace(/\.$/, "") : cut; }
    }
    var parts = s.split("."), int = parts[0], grouped = "";
    while (int.length > 3) { grouped = NBSP + int.slice(-3) + grouped; int = int.slice(0, -3); }
    // no "-0.0": a sum that is 0 in Python may be a few ulp below 0 here
    var sign = (x < 0 && /[1-9]/.test(s)) ? "-" : "";
    return sign + int + grouped + (parts.length > 1 ? decimalMark + parts[1] : "");
  }

  /* num with a "+" on a positive value, as Texts.num(x, d, sign=True): not
   * on one that rounds to zero ("0.0", not "+0.0"). */
  function signed(x, d) {
    var s = num(x, d);
    return (s !== DASH && x > 0 && /[1-9]/.test(s)) ? "+" + s : s;
  }

  function pct(share) { return num(share * 100.0, 1) + NBSP + "%"; }

  /* netopt.maps.panels.floor_share: a share measured against an access floor,
   * two decimals, more (up to six) where two would show a missed floor as reached. */
  function floorPct(share, floor) {
    var d = 2;
    while (d < 6 && share < floor - 1e-9 && round(100.0 * share, d) >= round(100.0 * floor, d)) { d += 1; }
    return isFinite(share) ? num(share * 100.0, d) + NBSP + "%" : DASH;
  }

  // -------------------------------------------------------------------- engine

  /* The evaluator: Engine(payload).evaluate(modes) mirrors evaluate_stage. */
  function Engine(p) {
    var n = p.n, m = p.m, i, j, k, o = p.offices, pts = p.points, dd = p.distances;
    this.p = p; this.n = n; this.m = m;
    this.floor = p.floor; this.decay = p.decay_km;
    this.ox = typedOf(o.x, "f8"); this.oy = typedOf(o.y, "f8");
    this.fixedFull = typedOf(o.fixed_full, "f8"); this.fixedFlex = typedOf(o.fixed_flex, "f8");
    this.baseVisits = typedOf(o.baseline_visits, "f8");
    this.existing = o.existing; this.ofa = o.fa;
    this.pop = typedOf(pts.population, "i4"); this.prop = typedOf(pts.propensity, "f8");
    this.pfa = typedOf(pts.fa, "i2");
    this.nFa = p.fa_regions.code.length;

    // demand point × office distances (m), row-major
    var D;
    if (dd.source === "matrix") {
      D = rowDeltasOf(dd.rows, m, n);
    } else {
      var px = typedOf(pts.x, "f8"), py = typedOf(pts.y, "f8");
      D = new Int32Array(m * n);
      for (j = 0; j < m; j++) {
        for (i = 0; i < n; i++) { D[j * n + i] = metres(px[j], py[j], this.ox[i], this.oy[i], dd.detour); }
      }
      for (k = 0; k < dd.fix.length; k++) { D[dd.fix[k][0] * n + dd.fix[k][1]] = dd.fix[k][2]; }
    }
    this.D = D;
    // office × office distances (m), as metrics.office_distance_m measures them
    this.OD = rowDeltasOf(dd.offices, n, n);

    // today: every existing office open
    var today = new Int8Array(n);
    for (i = 0; i < n; i++) { today[i] = this.existing[i] ? KEPT : CLOSED; }
    var base = this.nearest(today);
    this.baseNear = base.near; this.baseDist = base.dist;
    this.baseJ = new Float64Array(m);
    this.W = 0;
    for (j = 0; j < m; j++) { this.baseJ[j] = this.prop[j] * this.g(base.dist[j]); this.W += this.pop[j]; }
    this.Wdiv = Math.max(this.W, 1.0);
    // demand points by baseline office and by FA-region, in index order
    this.catchment = []; this.faPoints = [];
    for (i = 0; i < n; i++) { this.catchment.push([]); }
    for (k = 0; k < this.nFa; k++) { this.faPoints.push([]); }
    for (j = 0; j < m; j++) {
      this.catchment[base.near[j]].push(j);
      if (this.pfa[j] >= 0) { this.faPoints[this.pfa[j]].push(j); }
    }
    // the access floor's groups (Instance.floor_groups): everyone, or each FA-region's inhabitants
    this.accessFloor = p.access_floor || null;
    this.floorGroups = !this.accessFloor ? [] : (this.accessFloor.scope === "fa_region" ? this.faPoints : [null]);
    if (this.accessFloor) { this.floorBefore = this.floorShares(base.dist); }
    this.faBefore = new Int32Array(this.nFa);
    for (i = 0; i < n; i++) { if (this.existing[i] && this.ofa[i] >= 0) { this.faBefore[this.ofa[i]] += 1; } }
    // today's cost, office by office as a plan's cost is summed (evaluate_stage)
    this.baselineCost = 0;
    for (i = 0; i < n; i++) {
      if (this.existing[i]) { this.baselineCost += this.fixedFull[i] + p.staff_per_visit_sek * this.baseVisits[i]; }
    }
  }

  /* Visit-rate decay g(d), d in metres (Instance.g). */
  Engine.prototype.g = function (d) {
    return this.floor + (1.0 - this.floor) * Math.exp(-d / 1000.0 / this.decay);
  };

  /* The office every demand point uses (metrics.offices_used): the open office
   * with the smallest equivalent distance (the travel distance, plus
   * flexible_extra_m at a flexible office); ties to the lower office index.
   * Returns the office, the travel distance and the equivalent distance (m). */
  Engine.prototype.nearest = function (modes) {
    var n = this.n, m = this.m, D = this.D, near = new Int32Array(m), dist = new Int32Array(m), eq = new Int32Array(m), j, i, row, best, bd, e;
    var open = [], add = [], extra = this.p.flexible_extra_m || 0;
    for (i = 0; i < n; i++) { if (modes[i] > 0) { open.push(i); add.push(modes[i] === FLEXIBLE ? extra : 0); } }
    if (open.length === 0) { throw new Error("the plan closes every office: nobody can be served"); }
    for (j = 0; j < m; j++) {
      row = j * n; best = 0; bd = D[row + open[0]] + add[0];
      for (var k = 1; k < open.length; k++) {
        e = D[row + open[k]] + add[k];
        if (e < bd) { bd = e; best = k; }
      }
      near[j] = open[best]; eq[j] = bd; dist[j] = bd - add[best];
    }
    return {near: near, dist: dist, eq: eq};
  };

  /* metrics.access_shares: per group of the access floor, the share of its
   * inhabitants within the floor's distance of the office they use (``eq``:
   * the equivalent distance, a flexible office flexible_extra_m farther);
   * NaN for a group without inhabitants.  Sums of whole inhabitants, exact
   * in doubles, then one division: bit for bit Python's. */
  Engine.prototype.floorShares = function (eq) {
    var fl = this.accessFloor, out = [], g, t, j, idx, total, within;
    for (g = 0; g < this.floorGroups.length; g++) {
      idx = this.floorGroups[g]; total = 0; within = 0;
      var cnt = idx ? idx.length : this.m;
      for (t = 0; t < cnt; t++) {
        j = idx ? idx[t] : t;
        total += this.pop[j];
        if (eq[j] <= fl.m) { within += this.pop[j]; }
      }
      out.push(total > 0 ? within / total : NaN);
    }
    return out;
  };

  /* metrics.floor_met: does a share meet the floor (NaN, no inhabitants, does)? */
  Engine.prototype.floorMet = function (share) {
    return !(share < this.accessFloor.share - 1e-9);
  };

  /* The office receiving most of ``weights`` over the demand points ``js``
   * (at their offices ``near``); -1 when the weights sum to nothing. */
  Engine.prototype.share = function (js, near, weights) {
    var n = this.n, share = new Float64Array(n), total = 0, k, best = -1, bv = 0;
    for (k = 0; k < js.length; k++) { share[near[js[k]]] += weights[js[k]]; total += weights[js[k]]; }
    if (!(total > 0)) { return -1; }
    for (k = 0; k < n; k++) { if (share[k] > bv) { bv = share[k]; best = k; } }
    return best;
  };

  /* metrics.weighted_quantile over the demand points ``idx`` (all when null). */
  Engine.prototype.quantile = function (dist, idx, q) {
    var m = this.m, cnt = idx ? idx.length : m, keys = new Float64Array(cnt), k, j, cw = 0, total = 0;
    for (k = 0; k < cnt; k++) { j = idx ? idx[k] : k; keys[k] = dist[j] * m + j; total += this.pop[j]; }
    if (cnt === 0 || total <= 0) { return NaN; }
    keys.sort();
    var target = q * total;
    for (k = 0; k < cnt; k++) {
      j = keys[k] - Math.floor(keys[k] / m) * m;
      cw += this.pop[j];
      if (cw >= target) { return dist[j]; }
    }
    j = keys[cnt - 1] - Math.floor(keys[cnt - 1] / m) * m;
    return dist[j];
  };

  /* Python's round(x): the nearest integer, an exact half to even. Money is
   * written to the krona and visits to a tenth (netopt.metrics.msek, tenths). */
  function roundHalfEven(x) {
    var r = Math.round(x);
    return (r - x === 0.5 && r % 2 !== 0) ? r - 1 : r;
  }

  /* Everything one stage of a plan does: evaluate_stage for these modes. */
  Engine.prototype.evaluate = function (modes) {
    var p = this.p, n = this.n, m = this.m, i, j, k;
    var nd = this.nearest(modes), near = nd.near, dist = nd.dist, eq = nd.eq, weq = 0, outsideEq = 0;
    var visitsJ = new Float64Array(m), visitsAfter = new Float64Array(n);
    var visitsBefore = 0, visitsTotal = 0, moved = 0, wd = 0, wdBefore = 0, within = 0, within30 = 0;
    var withinBefore = 0, within30Before = 0, maxDist = 0, cov = p.coverage_m;
    for (j = 0; j < m; j++) {
      visitsJ[j] = this.prop[j] * this.g(eq[j]);  // a flexible office is visited as an office flexible_extra_m farther
      visitsAfter[near[j]] += visitsJ[j];
      visitsBefore += this.baseJ[j]; visitsTotal += visitsJ[j];
      if (near[j] !== this.baseNear[j]) { moved += visitsJ[j]; }
      wd += this.pop[j] * dist[j]; wdBefore += this.pop[j] * this.baseDist[j];
      if (dist[j] <= cov) { within += this.pop[j]; }
      weq += this.pop[j] * eq[j];
      if (eq[j] > cov) { outsideEq += this.pop[j]; }
      if (dist[j] <= 30000) { within30 += this.pop[j]; }
      if (this.baseDist[j] <= cov) { withinBefore += this.pop[j]; }
      if (this.baseDist[j] <= 30000) { within30Before += this.pop[j]; }
      if (dist[j] > maxDist) { maxDist = dist[j]; }
    }
    var cost = new Float64Array(n), total = 0, flexSpend = 0, cpv = p.staff_per_visit_sek;
    var counts = [0, 0, 0], closedExisting = 0, candidatesOpen = 0, overCap = 0, growth = 0;
    var faAfter = new Int32Array(this.nFa);
    for (i = 0; i < n; i++) {
      var mode = modes[i];
      if (mode > 0) {
        cost[i] = (mode === KEPT ? this.fixedFull[i] : this.fixedFlex[i]) + cpv * visitsAfter[i];
        if (this.ofa[i] >= 0) { faAfter[this.ofa[i]] += 1; }
        if (!this.existing[i]) { candidatesOpen += 1; }
      } else if (this.existing[i]) {
        closedExisting += 1;
      }
      if (mode === FLEXIBLE) {
        flexSpend += this.fixedFlex[i];
        if (visitsAfter[i] > p.flex_capacity_visits + 1e-6) { overCap += 1; }
      }
      if (p.max_growth !== null && visitsAfter[i] > (1 + p.max_growth) * this.baseVisits[i] + 1e-3) { growth += 1; }
      counts[mode] += 1;
      total += cost[i];
    }
    var allowance = Math.min(p.stage.allowance_sek, flexSpend);

    // receiving office of each closed office (metrics.receiving_office): where
    // most of its catchment goes, weighted by today's visits, or by
    // inhabitants when those visits are none; the first maximum, as numpy's
    // argmax, with the shares summed in numpy's order; when the catchment has
    // no inhabitants, the nearest open office (never itself, never office 0)
    var receiver = new Int32Array(n), receiverDist = new Int32Array(n);
    for (i = 0; i < n; i++) {
      receiver[i] = -1; receiverDist[i] = -1;
      if (modes[i] > 0 || !this.existing[i]) { continue; }
      var best = this.share(this.catchment[i], near, this.baseJ);
      if (best < 0) { best = this.share(this.catchment[i], near, this.pop); }
      if (best < 0) {
        var bd = Infinity;
        for (k = 0; k < n; k++) {
          if (k !== i && modes[k] > 0 && this.OD[i * n + k] < bd) { bd = this.OD[i * n + k]; best = k; }
        }
      }
      receiver[i] = best;
      receiverDist[i] = best >= 0 ? this.OD[i * n + best] : -1;
    }

    var served = 0, servedBefore = 0, lost = [], without = [];
    for (k = 0; k < this.nFa; k++) {
      if (faAfter[k] > 0) { served += 1; } else { without.push(k); }
      if (this.faBefore[k] > 0) { servedBefore += 1; if (faAfter[k] === 0) { lost.push(k); } }
    }
    var objective;
    if (p.objective === "distance") {
      objective = weq;
    } else if (p.objective === "coverage") {
      objective = outsideEq;
    } else {
      objective = visitsBefore - visitsTotal;
    }
    var W = this.Wdiv, floor = null;
    if (this.accessFloor) {  // evaluate_stage's access_floor_* (the lowest group's share, the groups below)
      var shares = this.floorShares(eq), below = [], lowest = NaN, lowestBefore = NaN;
      for (k = 0; k < shares.length; k++) {
        if (!this.floorMet(shares[k])) { below.push(k); }
        if (!isNaN(shares[k]) && !(shares[k] >= lowest)) { lowest = shares[k]; }
        if (!isNaN(this.floorBefore[k]) && !(this.floorBefore[k] >= lowestBefore)) { lowestBefore = this.floorBefore[k]; }
      }
      floor = {shares: shares, below: below, lowest: lowest, lowestBefore: lowestBefore};
    }
    return {
      floor: floor,
      modes: modes, near: near, dist: dist, eq: eq, visitsJ: visitsJ, visitsAfter: visitsAfter, cost: cost, receiver: receiver,
      receiverDist: receiverDist, faAfter: faAfter, faWithout: without,
      metrics: {
        baseline_cost_msek: roundHalfEven(this.baselineCost) / 1e6,
        cost_msek: roundHalfEven(total) / 1e6,
        savings_msek: (roundHalfEven(this.baselineCost) - roundHalfEven(total)) / 1e6,
        flexible_allowance_used_msek: roundHalfEven(allowance) / 1e6,
        budget_msek: roundHalfEven(p.stage.budget_sek) / 1e6,
        meets_budget: total - allowance <= p.stage.budget_sek + 1.0,
        offices_kept: counts[KEPT],
        offices_flexible: counts[FLEXIBLE],
        offices_open: counts[KEPT] + counts[FLEXIBLE],
        offices_closed: closedExisting,
        candidate_sites_opened: candidatesOpen,
        fa_regions_served: served,
        fa_regions_served_before: servedBefore,
        fa_regions_total: this.nFa,
        population: this.W,
        population_mean_distance_km: wd / (W * 1000),
        population_mean_distance_km_before: wdBefore / (W * 1000),
        population_p90_distance_km: this.quantile(dist, null, 0.9) / 1000.0,
        population_p90_distance_km_before: this.quantile(this.baseDist, null, 0.9) / 1000.0,
        population_max_distance_km: maxDist / 1000.0,
        population_share_within_30km: within30 / W,
        population_share_within_30km_before: within30Before / W,
        population_within_coverage: within,
        population_share_within_coverage: within / W,
        population_share_within_coverage_before: withinBefore / W,
        visits_before: roundHalfEven(visitsBefore * 10) / 10,
        visits_after: roundHalfEven(visitsTotal * 10) / 10,
        visits_lost: (roundHalfEven(visitsBefore * 10) - roundHalfEven(visitsTotal * 10)) / 10,
        visits_moved: moved,
        flexible_over_capacity: overCap,
        growth_violations: p.max_growth === null ? null : growth,
        population_mean_equivalent_distance_km: weq / (W * 1000),
        objective: objective,
        access_floor_met: floor ? floor.below.length === 0 : null,
        access_floor_share_achieved: floor ? floor.lowest : null,
        access_floor_share_before: floor ? floor.lowestBefore : null,
        access_floor_groups_below: floor ? floor.below.length : null
      }
    };
  };

  /* Figures of one FA-region (index k) in an evaluation. */
  Engine.prototype.faFigures = function (r, k) {
    var idx = this.faPoints[k], w = 0, wd = 0, wdb = 0, within = 0, withinb = 0, cov = this.p.coverage_m, j, t;
    for (t = 0; t < idx.length; t++) {
      j = idx[t]; w += this.pop[j]; wd += this.pop[j] * r.dist[j]; wdb += this.pop[j] * this.baseDist[j];
      if (r.dist[j] <= cov) { within += this.pop[j]; }
      if (this.baseDist[j] <= cov) { withinb += this.pop[j]; }
    }
    return {
      fa_code: this.p.fa_regions.code[k],
      fa_name: this.p.fa_regions.name[k],
      population: w,
      offices_before: this.faBefore[k],
      offices_after: r.faAfter[k],
      mean_distance_km_before: w > 0 ? wdb / w / 1000.0 : NaN,
      mean_distance_km: w > 0 ? wd / w / 1000.0 : NaN,
      p90_distance_km_before: this.quantile(this.baseDist, idx, 0.9) / 1000.0,
      p90_distance_km: this.quantile(r.dist, idx, 0.9) / 1000.0,
      population_within_coverage: within,
      share_within_coverage_before: w > 0 ? withinb / w : NaN,
      share_within_coverage: w > 0 ? within / w : NaN
    };
  };

  /* Receiving offices (tables._receiving): open offices that take visitors
   * from the catchment of a closed office; their growth in visits (share;
   * Infinity when they had none), whether it exceeds ``threshold``, and
   * ``from[i]``: the closed offices whose visitors office i takes, most
   * visits first (ties in office order, as the table sorts them). */
  Engine.prototype.receiving = function (r, threshold) {
    var n = this.n, m = this.m, growth = new Float64Array(n), flag = new Uint8Array(n), takes = new Uint8Array(n), j, i, b;
    var received = {}, from = [];
    for (j = 0; j < m; j++) {
      b = this.baseNear[j];
      if (this.existing[b] && r.modes[b] === CLOSED && r.near[j] !== b) {
        i = r.near[j];
        takes[i] = 1;
        var by = received[i] || (received[i] = {});
        by[b] = (by[b] || 0) + r.visitsJ[j];
      }
    }
    for (i = 0; i < n; i++) {
      growth[i] = NaN; from.push([]);
      if (!takes[i]) { continue; }
      var before = this.baseVisits[i];
      growth[i] = before > 0 ? (r.visitsAfter[i] - before) / before : Infinity;
      flag[i] = growth[i] > threshold + 1e-9 ? 1 : 0;
      var sources = Object.keys(received[i]).map(Number).sort(function (a, c) { return a - c; });
      var visits = received[i];
      from[i] = sources.map(function (s, pos) { return [s, pos]; })
        .sort(function (a, c) { return (visits[c[0]] - visits[a[0]]) || (a[1] - c[1]); })
        .map(function (pair) { return pair[0]; });
    }
    return {growth: growth, flag: flag, from: from};
  };

  global.NetoptWhatifEngine = Engine;

  // ------------------------------------------------------------------------ UI

  var WORDS = {keep: KEPT, open: KEPT, flexible: FLEXIBLE, close: CLOSED, "not opened": CLOSED, "not open": CLOSED};

  /* The decision as the API and the CSV name it. */
  function decisionName(mode, existing) {
    if (mode === KEPT) { return "keep"; }
    if (mode === FLEXIBLE) { return "flexible"; }
    return existing ? "close" : "not opened";
  }

  function csvField(s) {
    s = String(s);
    return /[",\r\n]/.test(s) ? "\"" + s.replace(/"/g, "\"\"") + "\"" : s;
  }

  function now() { return (global.performance && performance.now) ? performance.now() : Date.now(); }

  /* Set up the what-if of one plan map. The page calls it (PageExtension
   * init) as netoptWhatifInit(map, data) after every layer is built; data is
   * whatif_payload plus data.page (styles, texts, plan flags) from
   * netopt/maps/whatif.py. The panel section (#netopt-whatif, rendered in
   * Python) moves to the end of the summary panel. */
  global.netoptWhatifInit = function (map, p) {
    var netopt = global.netopt = global.netopt || {};
    var panel = document.getElementById("netopt-summary");
    var box = document.getElementById("netopt-whatif");
    if (box) {
      if (panel) { panel.appendChild(box); }
      box.hidden = false;
    }
    if (!p.available) {
      netopt.available = false;
      netopt.reason = p.reason;
      return;
    }
    var t0 = now();
    var page = p.page, style = page.style, texts = page.texts;
    decimalMark = texts["format.decimal_mark"] || ".";
    var engine = new Engine(p), n = p.n, o = p.offices;
    var registry = netopt.registry || global.netoptRegistry || {groups: [], offices: {}, polygons: [], lineGroups: []};
    var planModes = new Int8Array(o.plan_mode), modes = new Int8Array(o.plan_mode);
    var index = {}, i;
    for (i = 0; i < n; i++) { index[o.id[i]] = i; }
    var planResult = engine.evaluate(planModes), current = planResult, concernedFa = -1;
    var planReceiving = engine.receiving(planResult, page.growth_threshold), receiving = planReceiving;
    var covKm = p.coverage_m / 1000.0;
    var state = {lastUpdateMs: 0};
    var changed = false;  // does any decision differ from the plan's?
    var conflict = {};
    page.conflicts.forEach(function (id) { conflict[id] = true; });

    /* A text of the page's language (netopt/i18n), {placeholders} filled. */
    function T(key, values) {
      var text = texts.hasOwnProperty(key) ? texts[key] : key;
      return text.replace(/\{([a-z_]+)\}/g, function (whole, name) {
        return values && values.hasOwnProperty(name) ? String(values[name]) : whole;
      });
    }
    var MSEK = T("unit.msek");

    function decisionLabel(mode, existing) {
      if (mode === KEPT) { return existing ? T("decision.keep") : T("whatif.open"); }
      if (mode === FLEXIBLE) { return T("decision.flexible"); }
      return existing ? T("decision.close") : T("decision.not opened");
    }

    /* The word of a label on the map ("closed", "opened" ...). */
    function labelWord(mode, existing) {
      if (mode === KEPT) { return existing ? T("whatif.label.keep") : T("whatif.label.opened"); }
      if (mode === FLEXIBLE) { return T("whatif.label.flexible"); }
      return existing ? T("whatif.label.close") : T("whatif.label.not opened");
    }

    function pctSigned(share, d) {
      if (!isFinite(share)) { return DASH; }
      return signed(share * 100.0, d) + NBSP + "%";
    }

    // ---- the page's own evaluation of the plan must show Python's figures
    var DISPLAY = {
      savings_msek: 1, cost_msek: 1, flexible_allowance_used_msek: 1, population_mean_distance_km: 2, population_mean_equivalent_distance_km: 2,
      population_p90_distance_km: 1, visits_after: 0, visits_lost: 0
    };
    var mismatches = [];
    Object.keys(p.check).forEach(function (key) {
      var py = p.check[key], js = key === "objective" ? planResult.metrics.objective : planResult.metrics[key];
      var same;
      if (typeof py === "boolean") {
        same = py === js;
      } else if (key === "objective") {
        same = p.objective === "visits_lost" ? num(py, 0) === num(js, 0) : py === js;
      } else if (DISPLAY.hasOwnProperty(key)) {
        same = num(py, DISPLAY[key]) === num(js, DISPLAY[key]);
      } else {
        same = py === js;
      }
      if (!same) { mismatches.push(key + ": netopt " + py + ", this page " + js); }
    });
    var flaggedHere = [];
    for (i = 0; i < n; i++) { if (planReceiving.flag[i]) { flaggedHere.push(o.id[i]); } }
    flaggedHere.sort();
    if (flaggedHere.join(",") !== page.plan_receiving_flags.slice().sort().join(",")) {
      mismatches.push("receiving offices marked: netopt " + page.plan_receiving_flags.join(" ") + ", this page " + flaggedHere.join(" "));
    }

    // ---- style rules of netopt.maps.style, for redraws
    function radiusFor(v) {
      var vmax = style.max_visits;
      if (!(isFinite(v) && isFinite(vmax)) || v <= 0 || vmax <= 0) { return style.min_radius_px; }
      var r = style.max_radius_px * Math.sqrt(Math.min(v, vmax) / vmax);
      return Math.round(Math.max(style.min_radius_px, r) * 100) / 100;
    }

    /* netopt.maps.style.office_style (no "differs": a what-if has one plan). */
    function officeStyle(decision, visits, flags) {
      var classes = ["netopt-office", "netopt-office-" + decision], stroke = style.outline_colour, weight = style.outline_weight, dash = null;
      if (flags.receiving) { stroke = style.receiving_colour; weight = style.ring_weight; classes.push("netopt-office-receiving"); }
      if (flags.conflict) { dash = style.conflict_dash; classes.push("netopt-office-conflict"); }
      var radius = radiusFor(visits);
      if (decision === "close") { radius = Math.max(radius, style.close_min_radius_px); }
      return {
        shape: style.decision_shapes[decision], radius: Math.round(radius * 100) / 100, fill: style.decision_colours[decision],
        stroke: stroke, weight: weight, dash: dash, className: classes.join(" ")
      };
    }

    function distanceColour(delta) {
      if (!isFinite(delta)) { return style.no_data_colour; }
      for (var k = 0; k < style.bins.length; k++) {
        if (style.bins[k][0] === null || delta < style.bins[k][0]) { return style.bins[k][1]; }
      }
      return style.bins[style.bins.length - 1][1];
    }

    // ---- markers: netopt's own, plus candidate sites the plan does not open
    var markers = (registry.offices || {}).plan || {};
    var officeGroup = null;
    (registry.groups || []).forEach(function (g) { if (g.key === "plan") { officeGroup = g.group; } });
    var original = {}, openPopup = null;
    for (i = 0; i < n; i++) {
      var id = o.id[i];
      if (!markers[id] && officeGroup) {
        var cs = style.candidate;
        var cm = new netopt.ShapeMarker([o.lat[i], o.lon[i]], cs);
        cm.netoptId = id;
        cm.netoptTooltip = T("whatif.candidate_tooltip", {name: esc(o.name[i])});
        cm.bindPopup("<div class=\"netopt-popup\"><h3>" + esc(o.name[i]) + "</h3><table><tr><th>" + esc(T("whatif.candidate")) + "</th><td>" +
          esc(T("whatif.candidate_not_opened")) + "</td></tr><tr><th>" + esc(T("popup.fa_region")) + "</th><td>" +
          (o.fa[i] >= 0 ? esc(p.fa_regions.name[o.fa[i]]) + " (" + esc(p.fa_regions.code[o.fa[i]]) + ")" : DASH) + "</td></tr></table></div>", {maxWidth: 360});
        netopt.setOfficeLabel(cm, null, 0);
        cm.addTo(officeGroup);
        markers[id] = cm;
      }
      var mk = markers[id];
      if (mk) {
        var op = mk.options;
        original[id] = {
          look: {shape: op.shape, radius: op.radius, fill: op.fillColor, stroke: op.color, weight: op.weight, dash: op.dashArray || null, className: op.className},
          label: mk.netoptLabel || null, priority: mk.netoptPriority || 0, tooltip: mk.netoptTooltip || null,
          popup: mk.getPopup() ? mk.getPopup().getContent() : null
        };
        if (mk.getPopup()) { mk.getPopup().setContent(popupContent); }  // rebuilt each time the popup opens or updates
      }
    }
    // the popup open now (an office's or an FA-region's) is rebuilt at each change
    map.on("popupopen", function (e) { openPopup = e.popup; });
    map.on("popupclose", function (e) { if (openPopup === e.popup) { openPopup = null; } });

    // ---- FA-regions (with their overlays) and closure lines drawn by netopt-map.js
    var faLayer = {}, faOverlay = {}, faGroup = null, faOriginal = {}, faPopup = {};
    (registry.polygons || []).forEach(function (entry) {
      entry.layer.eachLayer(function (layer) {
        var props = (layer.feature || {}).properties || {}, cls = (props.style || {}).className;
        if (props.fa_code === undefined) { return; }
        if (layer.getPopup()) {  // netopt's popup (as written by Python), its rows rewritten when the what-if changes them
          var code = props.fa_code;
          if (!faPopup.hasOwnProperty(code)) { faPopup[code] = layer.getPopup().getContent(); }
          layer.getPopup().setContent(function () { return faPopupContent(code); });
        }
        if (cls === "netopt-fa") {
          faLayer[props.fa_code] = layer; faGroup = entry.group;
          faOriginal[props.fa_code] = {fill: layer.options.fillColor, tooltip: layer.getTooltip() ? layer.getTooltip().getContent() : null};
        } else if (cls === "netopt-fa-unserved" || cls === "netopt-fa-never") {
          faOverlay[props.fa_code] = {kind: cls === "netopt-fa-unserved" ? "lost" : "never", layer: layer, parent: entry.layer};
        }
      });
    });
    var lineGroup = (registry.lineGroups || []).length ? registry.lineGroups[0].group : null;

    // ---- areas with high social exclusion: their figures are the plan's (the
    // page does not recompute them); their popups say so while anything is changed
    (registry.points || []).forEach(function (pt) {
      var text = pt.getPopup() ? pt.getPopup().getContent() : null;
      if (typeof text !== "string") { return; }
      pt.getPopup().setContent(function () {
        if (!changed) { return text; }
        var wrapper = document.createElement("div"), note = document.createElement("p");
        wrapper.innerHTML = text;
        note.className = "netopt-warn netopt-whatif-area-note";
        note.textContent = T("whatif.area_note");
        (wrapper.querySelector(".netopt-popup") || wrapper).appendChild(note);
        return wrapper;
      });
    });

    // ---- the panel (rendered in Python: rows keyed by data-key)
    var rowFormat = {
      cut: function () { return num(p.stage.cut_msek, 1) + " " + MSEK; },
      savings: function (mt) { return num(mt.savings_msek, 1) + " " + MSEK; },
      allowance: function (mt) { return num(mt.flexible_allowance_used_msek, 1) + " " + MSEK; },
      met: function (mt) {
        return mt.meets_budget ? T("whatif.met_yes") :
          T("whatif.met_no", {short: num(p.stage.cut_msek - mt.savings_msek - mt.flexible_allowance_used_msek, 1), msek: MSEK});
      },
      floor: function (mt) {  // as netopt evaluate judges the access floor (consult.plan_breaks)
        var fl = p.access_floor, share = floorPct(mt.access_floor_share_achieved, fl.share);
        if (fl.scope === "fa_region") {
          return mt.access_floor_met ? T("whatif.floor_fa_yes", {share: share}) : T("whatif.floor_fa_no", {n: num(mt.access_floor_groups_below, 0)});
        }
        return T(mt.access_floor_met ? "whatif.floor_yes" : "whatif.floor_no", {share: share});
      },
      cost: function (mt) { return num(mt.cost_msek, 1) + " " + MSEK; },
      offices: function (mt) { return num(mt.offices_kept, 0) + " / " + num(mt.offices_flexible, 0) + " / " + num(mt.offices_closed, 0); },
      candidates: function (mt) { return num(mt.candidate_sites_opened, 0); },
      visits: function (mt) { return num(mt.visits_after, 0); },
      moved: function (mt) { return num(mt.visits_moved, 0); },
      lost: function (mt) { return num(mt.visits_lost, 0); },
      fa: function (mt) { return T("whatif.of", {part: num(mt.fa_regions_served, 0), whole: num(mt.fa_regions_total, 0)}); },
      mean: function (mt) { return num(mt.population_mean_distance_km, 2) + " km"; },
      mean_equivalent: function (mt) { return num(mt.population_mean_equivalent_distance_km, 2) + " km"; },
      p90: function (mt) { return num(mt.population_p90_distance_km, 1) + " km"; },
      within: function (mt) { return pct(mt.population_share_within_coverage); },
      capacity: function (mt) { return num(mt.flexible_over_capacity, 0); },
      growth: function (mt) { return num(mt.growth_violations, 0); }
    };
    var faFormat = {
      offices: function (f) { return num(f.offices_after, 0); },
      mean: function (f) { return num(f.mean_distance_km, 2) + " km"; },
      p90: function (f) { return num(f.p90_distance_km, 1) + " km"; },
      within: function (f) { return pct(f.share_within_coverage); }
    };
    if (box) {
      box.open = !(panel && panel.classList.contains("netopt-collapsed"));  // closed at start on a projector
      if (mismatches.length) {
        var warn = box.querySelector("#netopt-whatif-warning");
        warn.hidden = false;
        warn.textContent = T("whatif.warning", {details: mismatches.join("; ")});
      }
      box.querySelector("#netopt-whatif-reset").addEventListener("click", function () { api.reset(); });
      box.querySelector("#netopt-whatif-download").addEventListener("click", function () { api.downloadPlanCsv(); });
      box.querySelector("#netopt-whatif-changes").addEventListener("click", function (e) {
        var undo = e.target && e.target.getAttribute("data-undo");
        if (undo !== null && undo !== undefined) { api.setDecision(undo, decisionName(planModes[index[undo]], o.existing[index[undo]])); }
      });
      setCells("netopt-whatif-table", rowFormat, planResult.metrics, planResult.metrics, true);
    }

    function setCells(table, format, planValues, nowValues, planToo) {
      Array.prototype.forEach.call(box.querySelectorAll("#" + table + " tbody tr"), function (tr) {
        var f = format[tr.getAttribute("data-key")];
        if (!f) { return; }
        var a = f(planValues), b = f(nowValues);
        if (planToo) { tr.querySelector(".netopt-plan").textContent = a; }
        var td = tr.querySelector(".netopt-now");
        td.textContent = b;
        td.className = "num netopt-now" + (a !== b ? " netopt-changed" : "");
      });
    }

    function faName(k) { return p.fa_regions.code[k] + " " + p.fa_regions.name[k]; }

    function renderPanel() {
      if (!box) { return; }
      var mt = current.metrics;
      setCells("netopt-whatif-table", rowFormat, planResult.metrics, mt, false);
      var met = box.querySelector("#netopt-whatif-table tr[data-key=met] .netopt-now");
      if (met) { met.className += mt.meets_budget ? " netopt-ok" : " netopt-bad"; }
      var floorCell = box.querySelector("#netopt-whatif-table tr[data-key=floor] .netopt-now");
      if (floorCell) { floorCell.className += mt.access_floor_met ? " netopt-ok" : " netopt-bad"; }
      var belowEl = box.querySelector("#netopt-whatif-floor-below");
      if (belowEl) {  // the FA-regions below a floor per FA-region, with their shares, as netopt evaluate names them
        var below = p.access_floor.scope === "fa_region" ? current.floor.below : [];
        belowEl.hidden = below.length === 0;
        belowEl.textContent = below.length ? T("whatif.floor_below", {floor: page.floor_text.floor, km: page.floor_text.km,
          regions: below.map(function (g) { return faName(g) + " (" + floorPct(current.floor.shares[g], p.access_floor.share) + ")"; }).join(", ")}) : "";
      }
      var lost = [];
      for (var k = 0; k < engine.nFa; k++) {
        if (engine.faBefore[k] > 0 && current.faAfter[k] === 0) { lost.push(faName(k)); }
      }
      var lostEl = box.querySelector("#netopt-whatif-lost");
      lostEl.hidden = lost.length === 0;
      lostEl.textContent = lost.length ? T("whatif.lost", {regions: lost.join(", ")}) : "";
      var faBox = box.querySelector("#netopt-whatif-fa");
      faBox.hidden = concernedFa < 0;
      if (concernedFa >= 0) {
        box.querySelector("#netopt-whatif-fa-title").textContent = T("whatif.fa_title", {name: faName(concernedFa)});
        setCells("netopt-whatif-fa-table", faFormat, engine.faFigures(planResult, concernedFa), engine.faFigures(current, concernedFa), true);
      }
      var ch = api.changes(), list = box.querySelector("#netopt-whatif-changes");
      box.querySelector("#netopt-whatif-count").textContent = String(ch.length);
      if (!ch.length) {
        list.innerHTML = "<li class=\"netopt-whatif-none\">" + esc(T("whatif.none")) + "</li>";
      } else {
        list.innerHTML = ch.map(function (c) {
          var k = index[c.office_id];
          return "<li>" + esc(c.office_name) + ": " + esc(decisionLabel(planModes[k], o.existing[k]).toLowerCase()) + ARROW +
            "<b>" + esc(decisionLabel(modes[k], o.existing[k]).toLowerCase()) + "</b> <button type=\"button\" class=\"netopt-undo\" data-undo=\"" +
            esc(c.office_id) + "\" title=\"" + esc(T("whatif.undo_title")) + "\">" + esc(T("whatif.undo")) + "</button></li>";
        }).join("");
      }
    }

    /* The look, label and hover text of office k now: the plan's own (as
     * Python drew it) while nothing that shapes them has changed. */
    function officeNow(k) {
      var id = o.id[k], ex = o.existing[k], orig = original[id], name = decisionName(modes[k], ex);
      var changed = modes[k] !== planModes[k];
      var sameFlag = receiving.flag[k] === planReceiving.flag[k];
      var sameVisits = current.visitsAfter[k] === planResult.visitsAfter[k];
      var look, label, priority = orig.priority, tooltip = orig.tooltip;
      if (!changed && sameFlag && sameVisits) {
        look = orig.look;
        label = orig.label;
      } else {
        if (name === "not opened") {
          look = {shape: "circle", radius: style.candidate.radius, fill: style.candidate.fillColor, stroke: style.candidate.color,
            weight: style.candidate.weight, dash: style.candidate.dashArray, className: style.candidate.className};
        } else {
          var shown = modes[k] === CLOSED ? engine.baseVisits[k] : current.visitsAfter[k];
          look = officeStyle(name, shown, {receiving: !!receiving.flag[k], conflict: !!conflict[id]});
        }
        if (changed) {
          label = esc(o.name[k]) + ": " + esc(T("whatif.marker_label", {decision: labelWord(modes[k], ex)}));
          priority = -1;
          tooltip = esc(T("whatif.tooltip", {name: o.name[k], decision: decisionLabel(modes[k], ex).toLowerCase()}));
        } else if (modes[k] !== KEPT || !ex) {
          label = orig.label;  // the plan's own label of a change from today (netopt.maps.panels.office_label)
        } else if (receiving.flag[k]) {  // a kept office that takes many visitors now
          label = esc(o.name[k]) + ": " + esc(T("label.receiving", {growth: pctSigned(receiving.growth[k], 0)}));
          priority = orig.label ? orig.priority : 1e6;
        } else {
          label = null;
        }
      }
      if (changed) { look = {shape: look.shape, radius: look.radius, fill: look.fill, stroke: look.stroke, weight: look.weight, dash: look.dash, className: look.className + " netopt-whatif-changed"}; }
      return {look: look, label: label, priority: priority, tooltip: tooltip};
    }

    function renderMap() {
      var k, id, mk;
      for (k = 0; k < n; k++) {
        id = o.id[k]; mk = markers[id];
        if (!mk) { continue; }
        var want = officeNow(k);
        netopt.styleOffice(mk, want.look);
        if (want.label !== (mk.netoptLabel || null) || (!want.label && want.tooltip !== mk.netoptTooltip)) {
          mk.netoptTooltip = want.tooltip;
          netopt.setOfficeLabel(mk, want.label, want.priority);
        }
      }
      if (lineGroup) {
        lineGroup.clearLayers();
        for (k = 0; k < n; k++) {
          var r = current.receiver[k];
          if (r < 0) { continue; }
          L.polyline([[o.lat[k], o.lon[k]], [o.lat[r], o.lon[r]]], style.closure_line)
            .bindTooltip(esc(o.name[k]) + ARROW + esc(o.name[r]) + " (" + num(current.receiverDist[k] / 1000.0, 1) + " km)", {sticky: true})
            .addTo(lineGroup);
        }
      }
      for (k = 0; k < engine.nFa; k++) {
        var code = p.fa_regions.code[k], layer = faLayer[code];
        if (!layer) { continue; }
        var same = true, pts = engine.faPoints[k];
        for (var t = 0; t < pts.length && same; t++) { same = current.dist[pts[t]] === planResult.dist[pts[t]]; }
        var f = engine.faFigures(current, k), delta = f.mean_distance_km - f.mean_distance_km_before;
        var fill = same ? faOriginal[code].fill : distanceColour(delta);
        if (layer.options.fillColor !== fill) { layer.setStyle({fillColor: fill}); }
        if (layer.getTooltip()) {
          var tip = same && faOriginal[code].tooltip !== null ? faOriginal[code].tooltip :
            esc(T("whatif.fa_tooltip", {name: p.fa_regions.name[k], delta: signed(delta, 1)}));
          if (layer.getTooltip().getContent() !== tip) { layer.setTooltipContent(tip); }
        }
        var kind = current.faAfter[k] > 0 ? "served" : (engine.faBefore[k] > 0 ? "lost" : "never");
        var have = faOverlay[code];
        if (have && have.kind !== kind) {
          have.parent.removeLayer(have.layer);
          delete faOverlay[code];
          have = null;
        }
        if (!have && kind !== "served" && faGroup) {
          var overlayStyle = style.overlays[kind];
          var added = L.geoJSON(layer.feature, {style: function () { return overlayStyle; }});
          added.eachLayer(function (h) {
            if (layer.getPopup()) { h.bindPopup(layer.getPopup().getContent(), {maxWidth: 360}); }
            if (layer.getTooltip()) { h.bindTooltip(layer.getTooltip().getContent(), {sticky: true}); }
            faOverlay[code] = {kind: kind, layer: h, parent: added};
          });
          added.addTo(faGroup);
        }
      }
      if (netopt.layoutLabels) { netopt.layoutLabels(); }
    }

    // ---- popups: netopt's own (as written by Python), with each row that
    // depends on the decisions (data-row in office_popup.html and
    // region_popup.html) rewritten when the decisions in force change it

    /* The texts of office k's popup rows in an evaluation r (its receiving
     * offices rec) under the decisions mds, as netopt.maps.panels.office_popup
     * writes them (decision: the mode, compared only). */
    function officeRows(r, rec, mds, k) {
      var ex = o.existing[k], mode = mds[k], g = rec.growth[k], after = r.visitsAfter[k], cost = r.cost[k];
      var before = ex ? engine.baseVisits[k] : 0, costBefore = ex ? engine.fixedFull[k] + p.staff_per_visit_sek * engine.baseVisits[k] : 0;
      // rounded first as the office table (Plan.office_table) rounds them, then shown
      return {
        decision: String(mode),
        visits: num(round(before, 1), 0) + ARROW + num(round(after, 1), 0) + (isFinite(g) ? " (" + pctSigned(g, 0) + ")" : ""),
        cost: num(round(costBefore / 1e6, 4), 2) + ARROW + num(round(cost / 1e6, 4), 2) + " " + MSEK,
        cost_per_visit: after > 0 ? num(round(cost / after, 1), 0) + " " + T("unit.sek") : DASH,
        receiver: mode === CLOSED && ex && r.receiver[k] >= 0 ? o.name[r.receiver[k]] + " (" + num(round(r.receiverDist[k] / 1000.0, 1), 1) + " km)" : null,
        received_from: rec.from[k].length ? rec.from[k].map(function (i) { return o.name[i]; }).join("; ") : null,
        receiving_flag: rec.flag[k] ? T("popup.receiving_flag", {growth: pctSigned(g, 0)}) : null
      };
    }

    var ROW_LABELS = {receiver: "popup.visitors_go_to", received_from: "popup.receives_from"};

    /* Put text into the row ``key`` of a popup (a table row, or the warning
     * paragraph after the table); null removes the row. */
    function setRow(root, key, text, est) {
      var table = root.querySelector("table"), el = root.querySelector("[data-row=\"" + key + "\"]");
      if (text === null) {
        if (el) { el.parentNode.removeChild(el); }
        return;
      }
      if (!el && key === "receiving_flag") {
        el = document.createElement("p");
        el.className = "netopt-warn";
        el.setAttribute("data-row", key);
        table.parentNode.insertBefore(el, table.nextSibling);
      } else if (!el) {
        el = document.createElement("tr");
        el.setAttribute("data-row", key);
        el.appendChild(document.createElement("th")).textContent = T(ROW_LABELS[key]);
        el.appendChild(document.createElement("td"));
        var body = table.tBodies.length ? table.tBodies[0] : table, next = key === "receiver" ? root.querySelector("[data-row=received_from]") : null;
        body.insertBefore(el, next);
      }
      var cell = el.tagName === "TR" ? el.querySelector("td") : el;
      cell.textContent = text;
      if (est) { cell.appendChild(document.createTextNode(" ")); cell.appendChild(est.cloneNode(true)); }
    }

    /* Office k's popup table (as Python wrote it) for the decisions in force. */
    function officeInfo(k) {
      var id = o.id[k], ex = o.existing[k], wrapper = document.createElement("div");
      wrapper.innerHTML = original[id].popup || "";
      if (!wrapper.querySelector("table")) { return wrapper; }
      var plan = officeRows(planResult, planReceiving, planModes, k), now = officeRows(current, receiving, modes, k);
      Object.keys(now).forEach(function (key) {
        if (now[key] === plan[key]) { return; }
        if (key !== "decision") {
          // each row keeps its own "(estimate)" mark: a register's own visits are no estimate while its cost may be
          setRow(wrapper, key, now[key], wrapper.querySelector("[data-row=" + key + "] .netopt-est"));
          return;
        }
        var cell = wrapper.querySelector("[data-row=decision] td");
        if (!cell) { return; }
        var history = cell.querySelector(".netopt-history"), mode = modes[k], b = document.createElement("b");
        history = history ? history.textContent : null;  // a staged plan's changes year by year: the plan's, kept
        b.style.color = mode > 0 ? style.decision_colours[decisionName(mode, ex)] : (ex ? style.decision_colours.close : style.candidate.color);
        b.textContent = decisionLabel(mode, ex);
        cell.textContent = "";
        cell.appendChild(b);
        cell.appendChild(document.createTextNode(T("whatif.marker_label", {decision: ""}) + (ex ? "" : ", " + T("popup.candidate"))));
        if (history) {
          var span = document.createElement("span");
          span.className = "netopt-history netopt-plan-history";
          span.textContent = T("whatif.plan_history", {history: history});
          cell.appendChild(span);
        }
      });
      return wrapper;
    }

    /* The texts of FA-region k's popup rows in an evaluation r (region_popup.html). */
    function faRows(r, k) {
      var f = engine.faFigures(r, k), kind = r.faAfter[k] > 0 ? "served" : (engine.faBefore[k] > 0 ? "lost" : "never");
      return {
        offices: num(f.offices_before, 0) + ARROW + num(f.offices_after, 0),
        mean: num(f.mean_distance_km_before, 1) + ARROW + num(f.mean_distance_km, 1) + " km (" + signed(f.mean_distance_km - f.mean_distance_km_before, 1) + " km)",
        coverage: kind
      };
    }

    /* An FA-region's popup (netopt's, for the FA-region layer and its
     * overlays) for the decisions in force. */
    function faPopupContent(code) {
      var k = p.fa_regions.code.indexOf(String(code)), text = faPopup[code];
      if (k < 0 || typeof text !== "string") { return text; }
      var wrapper = document.createElement("div");
      wrapper.innerHTML = text;
      if (!wrapper.querySelector("table")) { return wrapper; }
      var plan = faRows(planResult, k), now = faRows(current, k);
      if (now.offices !== plan.offices) { setRow(wrapper, "offices", now.offices, null); }
      if (now.mean !== plan.mean) { setRow(wrapper, "mean", now.mean, null); }
      if (now.coverage !== plan.coverage) {
        setRow(wrapper, "coverage", null, null);
        if (now.coverage !== "served") {
          var warn = document.createElement("p"), box = wrapper.querySelector(".netopt-popup") || wrapper;
          warn.className = "netopt-warn";
          warn.setAttribute("data-row", "coverage");
          var text = T(now.coverage === "lost" ? "popup.fa_lost" : "popup.fa_never") + T("whatif.marker_label", {decision: ""});
          if (now.coverage === "lost") { warn.appendChild(document.createElement("b")).textContent = text; } else { warn.textContent = text; }
          box.appendChild(warn);
        }
      }
      return wrapper;
    }

    function popupBlock(k) {
      var kinds = [KEPT, FLEXIBLE, CLOSED], ex = o.existing[k], mode = modes[k];
      var buttons = kinds.map(function (kind) {
        return "<button type=\"button\" data-netopt-mode=\"" + kind + "\" aria-pressed=\"" + (kind === mode) + "\"" +
          (kind === mode ? " class=\"netopt-on\"" : "") + ">" + esc(decisionLabel(kind, ex)) + "</button>";
      }).join("");
      var info;
      if (mode > 0) {
        info = esc(T("whatif.popup_open", {visits: num(current.visitsAfter[k], 0), cost: num(current.cost[k] / 1e6, 2), msek: MSEK}));
      } else if (current.receiver[k] >= 0) {
        info = esc(T("whatif.popup_goes", {name: o.name[current.receiver[k]], km: num(current.receiverDist[k] / 1000.0, 1)}));
      } else {
        info = esc(T("whatif.popup_closed"));
      }
      var title = modes[k] !== planModes[k] ? T("whatif.popup_plan", {decision: decisionLabel(planModes[k], ex).toLowerCase()}) : T("whatif.popup_title");
      return "<div class=\"netopt-whatif-popup\"><div class=\"netopt-whatif-title\">" + esc(title) + "</div>" +
        "<div class=\"netopt-whatif-choices\">" + buttons + "</div><div>" + info + "</div></div>";
    }

    /* The office's popup: netopt's own (as written by Python, its rows for
     * the decisions in force) and the what-if buttons below it (Leaflet calls
     * this each time the popup opens or updates). */
    function popupContent(mk) {
      var k = index[mk.netoptId], wrapper = officeInfo(k), holder = document.createElement("div");
      if (panel) {  // auto-pan keeps the popup (and its buttons) clear of the summary panel
        var edge = panel.getBoundingClientRect();
        mk.getPopup().options.autoPanPaddingTopLeft = L.point(edge.width > 0 ? edge.right + 10 : 10, 10);
      }
      holder.innerHTML = popupBlock(k);
      var block = holder.firstChild;
      block.addEventListener("click", function (e) {
        var m = e.target && e.target.getAttribute("data-netopt-mode");
        if (m === null || m === undefined) { return; }
        // the popup is rebuilt below, which detaches this button: the map would
        // no longer see that the click came from its popup, and close it
        L.DomEvent.stopPropagation(e);
        try {
          api.setDecision(mk.netoptId, decisionName(parseInt(m, 10), o.existing[k]));
        } catch (err) {
          block.appendChild(document.createTextNode(err.message));
        }
      });
      wrapper.appendChild(block);
      return wrapper;
    }

    function update() {
      var t1 = now();
      var before = changed;
      current = engine.evaluate(modes);
      receiving = engine.receiving(current, page.growth_threshold);
      renderMap();
      renderPanel();
      changed = api.changes().length > 0;
      if (changed && !before && box && panel) {
        box.open = true;  // the what-if figures into view at the first change
        if (box.offsetTop > panel.scrollTop + panel.clientHeight / 2) { panel.scrollTop = box.offsetTop; }
      }
      if (openPopup && map.hasLayer(openPopup)) { openPopup.update(); }
      state.lastUpdateMs = now() - t1;
    }

    function modeOf(officeId, decision) {
      if (!index.hasOwnProperty(officeId)) { throw new Error("unknown office " + officeId); }
      var key = String(decision).toLowerCase().replace(/\s+/g, " ").trim();
      if (!WORDS.hasOwnProperty(key)) {
        throw new Error("decision " + decision + " is not one of keep, flexible, close (open, not opened for a candidate site)");
      }
      return WORDS[key];
    }

    function summaryOf(r) {
      var out = {}, mt = r.metrics;
      Object.keys(mt).forEach(function (key) { out[key] = mt[key]; });
      out.scenario = p.scenario;
      out.stage_year = p.stage.year;
      out.cut_msek = p.stage.cut_msek;
      out.flexible_allowance_msek = p.stage.allowance_sek / 1e6;
      out.shortfall_msek = Math.max(0, roundHalfEven((p.stage.cut_msek - mt.savings_msek - mt.flexible_allowance_used_msek) * 1e6) / 1e6);  // to the krona
      out.coverage_km = covKm;
      out.objective_name = p.objective;
      var lost = [], without = [];
      for (var k = 0; k < engine.nFa; k++) {
        if (r.faAfter[k] === 0) { without.push(p.fa_regions.code[k]); }
        if (engine.faBefore[k] > 0 && r.faAfter[k] === 0) { lost.push(p.fa_regions.code[k]); }
      }
      out.fa_regions_lost = lost;
      out.fa_regions_without_office = without;
      var rec = engine.receiving(r, page.growth_threshold), flagged = [];
      for (k = 0; k < n; k++) { if (rec.flag[k]) { flagged.push(o.id[k]); } }
      out.receiving_flagged = flagged;
      if (p.access_floor) {  // evaluate's access_floor_* figures, and the FA-regions below a floor per FA-region
        out.access_floor_km = p.access_floor.m / 1000.0;
        out.access_floor_scope = p.access_floor.scope;
        out.access_floor_share_required = p.access_floor.share;
        out.access_floor_below = p.access_floor.scope === "fa_region" ? r.floor.below.map(function (g) { return p.fa_regions.code[g]; }) : [];
        out.access_floor_shares = r.floor.shares.slice();
      }
      out.consistent = mismatches.length === 0;
      return out;
    }

    /* The what-if's API; it joins window.netopt (documented in docs/map.md). */
    var api = {
      available: true,
      version: 2,
      /* Change one office's decision ("keep", "flexible", "close"; for a
       * candidate site also "open", "not opened"); returns summary(). */
      setDecision: function (officeId, decision) {
        var change = {};
        change[officeId] = decision;
        return api.setDecisions(change);
      },
      /* Several changes at once ({office_id: decision}); all or nothing. */
      setDecisions: function (changes) {
        var next = new Int8Array(modes), ids = Object.keys(changes), k, mode, any = false;
        for (k = 0; k < ids.length; k++) {
          mode = modeOf(ids[k], changes[ids[k]]);  // throws on an unknown office or decision
          next[index[ids[k]]] = mode;
        }
        for (k = 0; k < n; k++) { if (next[k] > 0) { any = true; } }
        if (!any) { throw new Error("the plan closes every office: nobody can be served"); }
        modes = next;
        if (ids.length) { concernedFa = o.fa[index[ids[ids.length - 1]]]; }
        update();
        return api.summary();
      },
      /* An office's decision now: keep, flexible, close (not opened). */
      decision: function (officeId) {
        if (!index.hasOwnProperty(officeId)) { throw new Error("unknown office " + officeId); }
        var k = index[officeId];
        return decisionName(modes[k], o.existing[k]);
      },
      /* The panel's figures as numbers (units in the names), and the FA-region
       * of the office changed last (fa_region, null before any change). */
      summary: function () {
        var out = summaryOf(current);
        out.changes = api.changes().length;
        out.fa_region = concernedFa >= 0 ? engine.faFigures(current, concernedFa) : null;
        out.update_ms = state.lastUpdateMs;
        return out;
      },
      /* The plan's own figures as this page computes them (no changes). */
      planSummary: function () { return summaryOf(planResult); },
      /* One FA-region's figures now (fa_code as in the division). */
      faSummary: function (faCode) {
        var k = p.fa_regions.code.indexOf(String(faCode));
        if (k < 0) { throw new Error("unknown FA-region " + faCode); }
        return engine.faFigures(current, k);
      },
      /* Per office: decision, visits, cost, receiving office and, for an office
       * that takes visitors of a closed one, its growth in visits now. */
      offices: function () {
        var out = [];
        for (var k = 0; k < n; k++) {
          var r = current.receiver[k];
          out.push({
            office_id: o.id[k], office_name: o.name[k], existing: !!o.existing[k],
            fa_code: o.fa[k] >= 0 ? p.fa_regions.code[o.fa[k]] : null,
            plan_decision: decisionName(planModes[k], o.existing[k]), decision: decisionName(modes[k], o.existing[k]),
            visits_before: o.existing[k] ? engine.baseVisits[k] : 0, visits_after: current.visitsAfter[k],
            cost_msek_after: current.cost[k] / 1e6,
            receiver_id: r >= 0 ? o.id[r] : null, receiver_distance_km: r >= 0 ? current.receiverDist[k] / 1000.0 : null,
            receiving_growth: isNaN(receiving.growth[k]) ? null : receiving.growth[k],
            receiving_flag: !!receiving.flag[k]
          });
        }
        return out;
      },
      /* Offices whose decision differs from the plan's. */
      changes: function () {
        var out = [];
        for (var k = 0; k < n; k++) {
          if (modes[k] !== planModes[k]) {
            out.push({office_id: o.id[k], office_name: o.name[k], plan: decisionName(planModes[k], o.existing[k]), decision: decisionName(modes[k], o.existing[k])});
          }
        }
        return out;
      },
      /* Back to the plan's decisions; returns summary(). */
      reset: function () {
        modes = new Int8Array(planModes);
        concernedFa = -1;
        update();
        return api.summary();
      },
      /* The decisions now as CSV (office_id,decision; every office), for netopt evaluate --plan. */
      planCsv: function () {
        var lines = ["office_id,decision"];
        for (var k = 0; k < n; k++) { lines.push(csvField(o.id[k]) + "," + decisionName(modes[k], o.existing[k])); }
        return lines.join("\n") + "\n";
      },
      /* Offer planCsv() as a file download; returns the file name. */
      downloadPlanCsv: function () {
        var name = "plan-whatif-" + p.stage.year + ".csv";
        var blob = new Blob([api.planCsv()], {type: "text/csv;charset=utf-8"});
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = name;
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.parentNode.removeChild(a); }, 0);
        return name;
      }
    };
    api.init_ms = now() - t0;
    api._engine = engine;  // for tests and inspection: the evaluator and its distance arrays
    api._format = num;  // the panel's number format (Python's format(x, ",.{d}f"), no-break spaces, the page's decimal mark)
    api._signed = signed;  // the same with a "+" (the FA-regions' tooltips, the receiving offices' labels)
    api._officeStyle = officeStyle;  // netopt.maps.style.office_style, as the page redraws markers
    Object.keys(api).forEach(function (key) { netopt[key] = api[key]; });
    renderPanel();
  };
})(window);
