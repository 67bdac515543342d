/*
 * Browser side of the run report and the dashboard: draws every plot of a ReportData (views/report/series.ts)
 * into a container with uPlot (global `uPlot`, loaded before this script) and one canvas heat map.
 * A classic script, no imports, so it can be inlined into the self-contained report or served as a file.
 *
 *   const view = DareCharts.render(container, data); // header + one <section class="dare-chart"> per plot
 *   view.update(newData);                            // redraw with new data, keeping the layout (live runs)
 *   view.charts();                                   // [{ id, title, el, points }]
 *   view.destroy();
 */
(function () {
  'use strict';

  var PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
  var TIER_COLOR = { easy: '#2ca02c', medium: '#ff7f0e', hard: '#d62728', none: '#7f7f7f' };
  var HEIGHT = 220;
  /** the narrowest plot drawn (px): below it axes and legend no longer fit */
  var MIN_WIDTH = 160;

  function nonNull(a) {
    var n = 0;
    for (var i = 0; i < a.length; i++) if (a[i] !== null && a[i] !== undefined) n++;
    return n;
  }

  function fmt(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
    return String(Math.round(v * Math.pow(10, digits === undefined ? 3 : digits)) / Math.pow(10, digits === undefined ? 3 : digits));
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function line(label, values, color, extra) {
    var s = { label: label, values: values, color: color };
    if (extra) for (var k in extra) s[k] = extra[k];
    return s;
  }

  /** keep only series with at least one value */
  function present(series) {
    return series.filter(function (s) {
      return nonNull(s.values) > 0;
    });
  }

  // ---- the plots, each a function of the data: { x, xLabel, yLabel, series, ... } or a heat map -------

  function specs(d) {
    var out = [];
    var evalSeries = [line('overall', d.eval.accuracy, '#000000')];
    if (d.run.sim) evalSeries.push(line('oracle (true expected)', d.eval.oracleAccuracy, '#7f7f7f', { dash: [6, 4] }));
    Object.keys(d.eval.byTier).forEach(function (c, i) {
      evalSeries.push(line(c, d.eval.byTier[c].accuracy, PALETTE[i % PALETTE.length]));
    });
    out.push({ id: 'eval-accuracy', title: 'Eval accuracy per tier', note: 'held-out prompts, by the task\'s tier (category)', x: d.eval.step, yLabel: 'accuracy', series: present(evalSeries), range: [0, 1] });
    out.push({
      id: 'eval-length', title: 'Eval mean response length per tier', x: d.eval.step, yLabel: 'tokens',
      series: present(Object.keys(d.eval.byTier).map(function (c, i) {
        return line(c, d.eval.byTier[c].meanLength, PALETTE[i % PALETTE.length]);
      })),
    });
    out.push({
      id: 'train-success', title: 'Training success rate per difficulty tier', note: 'fraction of the step\'s rollouts with reward > 0, by the tier the sampler put the prompt in',
      x: d.step, yLabel: 'success', range: [0, 1],
      series: present([line('all', d.success.all, '#000000')].concat(['easy', 'medium', 'hard', 'none'].map(function (t) {
        return line(t, d.success.byTier[t], TIER_COLOR[t]);
      }))),
    });
    out.push({ id: 'reward', title: 'Reward', note: 'mean raw reward of the step\'s fresh rollouts', x: d.step, yLabel: 'reward', series: present([line('mean reward', d.reward, PALETTE[0])]) });
    out.push({ id: 'length', title: 'Training response length', x: d.step, yLabel: 'tokens', series: present([line('mean length', d.length, PALETTE[4])]) });
    out.push({ id: 'difficulty', title: 'Estimated difficulty over time', note: 'prompts per estimated failure-rate bin at each estimate; each column scaled to its fullest bin', heat: d.difficulty });
    var rel = d.calibration.reliability;
    var relSeries = [line('perfect', rel.centers.slice(), '#bbbbbb', { dash: [4, 4], ignore: true })];
    Object.keys(rel.bySource).forEach(function (k, i) {
      relSeries.push(line(k, rel.bySource[k].realized, PALETTE[i % PALETTE.length], { points: true }));
    });
    relSeries = relSeries.filter(function (s) {
      return s.ignore || nonNull(s.values) > 0;
    });
    out.push({
      id: 'calibration', title: 'Estimator calibration', note: 'estimated failure rate (bin) against the failure rate the fresh rollouts showed, per label source, whole run',
      x: rel.centers, xLabel: 'estimated failure rate', yLabel: 'realized failure rate', range: [0, 1], xRange: [0, 1],
      series: relSeries.length > 1 ? relSeries : [],
    });
    var calSeries = [line('all sources', d.calibration.mae, '#000000')];
    Object.keys(d.calibration.maeBySource).forEach(function (k, i) {
      calSeries.push(line(k, d.calibration.maeBySource[k], PALETTE[i % PALETTE.length]));
    });
    calSeries.push(line('bias (est − realized)', d.calibration.bias, '#7f7f7f', { dash: [6, 4] }));
    out.push({ id: 'calibration-error', title: 'Calibration error per step', note: 'mean |estimated − realized failure rate| of the step\'s trained prompts', x: d.calibration.step, yLabel: 'failure rate', series: present(calSeries) });
    if (d.run.sim) {
      out.push({
        id: 'oracle-error', title: 'Estimator error against the oracle (sim)', note: 'mean |estimated − true failure rate| of the trained prompts',
        x: d.calibration.step, yLabel: 'failure rate', series: present([line('|est − true|', d.calibration.oracleMae, PALETTE[1]), line('|est − realized|', d.calibration.mae, '#7f7f7f', { dash: [6, 4] })]),
      });
    }
    out.push({
      id: 'ess', title: 'Effective sample size', note: 'mean ESS of the SNIS estimates; prompts below the threshold fall back to raw rates',
      x: d.ess.step, yLabel: 'ESS', y2Label: 'prompts', series: present([line('mean ESS', d.ess.mean, PALETTE[0]), line('below threshold', d.ess.belowThreshold, PALETTE[1], { scale: 'y2' })]),
    });
    out.push({ id: 'clip', title: 'Clip fraction', x: d.step, yLabel: 'fraction', series: present([line('clip fraction', d.update.clipFrac, PALETTE[0])]) });
    out.push({ id: 'kl', title: 'KL', x: d.step, yLabel: 'nats', series: present([line('KL', d.update.kl, PALETTE[1])]) });
    out.push({ id: 'entropy', title: 'Entropy', x: d.step, yLabel: 'nats', series: present([line('entropy', d.update.entropy, PALETTE[2])]) });
    out.push({ id: 'grad-norm', title: 'Gradient norm', x: d.step, yLabel: 'norm', series: present([line('grad norm', d.update.gradNorm, PALETTE[3])]) });
    out.push({
      id: 'time', title: 'Time per step', note: 'stacked: rollout, score, update, other (seconds)', x: d.step, yLabel: 'seconds', stacked: true,
      series: present([line('rollout', d.time.rollout, PALETTE[0]), line('score', d.time.score, PALETTE[4]), line('update', d.time.update, PALETTE[3]), line('other', d.time.other, '#999999')]),
    });
    out.push({
      id: 'rollouts', title: 'Rollouts', note: 'cumulative rows: every generated row is trained, discarded, buffered or in flight', x: d.step, yLabel: 'rows',
      series: present([line('generated', d.rollouts.generated, '#000000'), line('trained', d.rollouts.trained, PALETTE[2]), line('discarded', d.rollouts.discarded, PALETTE[1])]),
    });
    out.push({
      id: 'tiers', title: 'Tier counts', note: 'prompts the sampler selected per tier', x: d.step, yLabel: 'prompts',
      series: ['easy', 'medium', 'hard', 'none'].filter(function (t) {
        return d.tiers[t].some(function (v) {
          return v > 0;
        });
      }).map(function (t) {
        return line(t, d.tiers[t], TIER_COLOR[t]);
      }),
    });
    return out;
  }

  function pointsOf(spec) {
    if (spec.heat) {
      var n = 0;
      spec.heat.counts.forEach(function (c) {
        c.forEach(function (v) {
          if (v > 0) n++;
        });
      });
      return n;
    }
    var p = 0;
    spec.series.forEach(function (s) {
      if (!s.ignore) p += nonNull(s.values);
    });
    return p;
  }

  // ---- uPlot line charts ---------------------------------------------------------------------------

  /** stacked: each series drawn as the running sum so fills sit on top of each other; legends show raw values */
  function alignedData(spec) {
    var data = [spec.x];
    if (!spec.stacked) {
      spec.series.forEach(function (s) {
        data.push(s.values);
      });
      return data;
    }
    var run = spec.x.map(function () {
      return 0;
    });
    var sums = spec.series.map(function (s) {
      run = run.map(function (r, i) {
        return r + (s.values[i] || 0);
      });
      return run.slice();
    });
    // topmost sum first, so the smaller ones are painted over it
    for (var i = sums.length - 1; i >= 0; i--) data.push(sums[i]);
    return data;
  }

  function uplotOptions(spec, width) {
    var ordered = spec.stacked ? spec.series.slice().reverse() : spec.series;
    var series = [{ label: spec.xLabel || 'step', value: function (u, v) { return fmt(v, 3); } }];
    ordered.forEach(function (s) {
      var o = {
        label: s.label,
        stroke: s.color,
        width: 1.5,
        spanGaps: !s.points,
        scale: s.scale || 'y',
        points: { show: !!s.points || spec.x.length <= 40, size: s.points ? 7 : 4 },
        value: function (u, v, si, idx) {
          if (spec.stacked && idx !== null && idx !== undefined) return fmt(s.values[idx], 3);
          return fmt(v, 3);
        },
      };
      if (s.dash) o.dash = s.dash;
      if (spec.stacked) o.fill = s.color + '99';
      series.push(o);
    });
    var axes = [
      { label: spec.xLabel || 'step', stroke: '#333', grid: { stroke: '#eee' } },
      { label: spec.yLabel || '', stroke: '#333', grid: { stroke: '#eee' }, size: 55, values: function (u, vals) { return vals.map(function (v) { return fmt(v, 3); }); } },
    ];
    var scales = { x: { time: false } };
    if (spec.xRange) scales.x.range = spec.xRange;
    if (spec.range) scales.y = { range: spec.range };
    if (spec.y2Label) {
      scales.y2 = {};
      axes.push({ scale: 'y2', side: 1, label: spec.y2Label, stroke: '#333', grid: { show: false }, size: 50 });
    }
    return { width: width, height: HEIGHT, scales: scales, axes: axes, series: series, legend: { live: true } };
  }

  function signature(spec) {
    return (spec.heat ? 'heat' : spec.series.map(function (s) { return s.label; }).join('|')) + (spec.stacked ? '+s' : '');
  }

  // ---- heat map ------------------------------------------------------------------------------------

  function heatColor(f) {
    // white → dark blue; f in [0, 1]
    var r = Math.round(255 - f * (255 - 8));
    var g = Math.round(255 - f * (255 - 48));
    var b = Math.round(255 - f * (255 - 107));
    return 'rgb(' + r + ',' + g + ',' + b + ')';
  }

  function drawHeat(canvas, heat, width) {
    var dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(HEIGHT * dpr);
    canvas.style.width = width + 'px';
    canvas.style.height = HEIGHT + 'px';
    var ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, HEIGHT);
    var left = 55, right = 64, top = 8, bottom = 36;
    var w = width - left - right, h = HEIGHT - top - bottom;
    var cols = heat.counts.length, bins = heat.edges.length - 1;
    ctx.font = '11px sans-serif';
    ctx.fillStyle = '#333';
    ctx.strokeStyle = '#333';
    if (cols === 0) return;
    // each estimate's column scaled to its own fullest bin: the shape of every distribution stays visible
    // even next to a cold start that puts every prompt in one bin
    var shares = heat.counts.map(function (c) {
      var m = Math.max.apply(null, c) || 1;
      return c.map(function (v) {
        return v / m;
      });
    });
    var cw = w / cols, ch = h / bins;
    for (var i = 0; i < cols; i++) {
      for (var b = 0; b < bins; b++) {
        var s = shares[i][b];
        if (s <= 0) continue;
        ctx.fillStyle = heatColor(Math.sqrt(s));
        ctx.fillRect(left + i * cw, top + h - (b + 1) * ch, Math.ceil(cw), Math.ceil(ch));
      }
    }
    ctx.fillStyle = '#333';
    ctx.strokeRect(left, top, w, h);
    // colour key: prompts in a cell relative to the column's fullest bin (sqrt scale)
    var kx = left + w + 14, kw = 10;
    for (var p = 0; p < h; p++) {
      ctx.fillStyle = heatColor(Math.sqrt(1 - p / h));
      ctx.fillRect(kx, top + p, kw, 1);
    }
    ctx.fillStyle = '#333';
    ctx.strokeRect(kx, top, kw, h);
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillText('max', kx + kw + 3, top + 4);
    ctx.fillText('0', kx + kw + 3, top + h - 4);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (var k = 0; k <= 4; k++) {
      var yv = k / 4;
      ctx.fillText(String(yv), left - 4, top + h - yv * h);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    var every = Math.max(1, Math.ceil(cols / Math.max(1, Math.floor(w / 40))));
    for (var j = 0; j < cols; j += every) ctx.fillText(String(heat.step[j]), left + (j + 0.5) * cw, top + h + 4);
    ctx.fillText('step of the estimate', left + w / 2, top + h + 20);
    ctx.save();
    ctx.translate(12, top + h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText('estimated failure rate', 0, 0);
    ctx.restore();
  }

  // ---- header --------------------------------------------------------------------------------------

  /** `hf: models/x (cuda, bfloat16)`, `tiny (cpu, float32)`, `sim (oracle known)`: what ran the run's policy */
  function workerText(r) {
    var w = r.worker || {};
    var kind = w.kind || (r.sim ? 'sim' : null);
    if (!kind) return null;
    var text = kind + (w.model ? ': ' + w.model : '');
    var on = [w.device, w.dtype].filter(function (x) {
      return x && x !== 'unknown';
    });
    if (kind === 'sim') on = ['oracle known'];
    return on.length ? text + ' (' + on.join(', ') + ')' : text;
  }

  function header(d) {
    var r = d.run;
    var box = el('header', 'dare-summary');
    var status = r.failed ? 'failed: ' + r.failed : r.completed ? 'completed' : 'running / incomplete';
    box.appendChild(el('h1', null, 'dare run ' + (r.id || '?')));
    var rows = [
      ['scenario', r.scenario], ['method (preset)', r.method], ['seed', r.seed], ['worker', workerText(r)],
      ['steps', r.stepsDone + (r.stepsPlanned !== null ? ' of ' + r.stepsPlanned : '')], ['status', status], ['policy version', r.policyVersion],
      ['events', r.events + ' (last seq ' + r.lastSeq + ')'],
      ['rollouts', r.accounting.generated + ' generated, ' + r.accounting.trained + ' trained, ' + r.accounting.discarded + ' discarded, ' + r.accounting.buffered + ' buffered, ' + r.accounting.inFlight + ' in flight'],
      ['time', fmt(r.wallSeconds, 1) + ' s: rollout ' + fmt(r.seconds.rollout, 1) + ', score ' + fmt(r.seconds.score, 1) + ', update ' + fmt(r.seconds.update, 1) + ', other ' + fmt(r.seconds.other, 1)],
    ];
    var last = d.eval.accuracy.length ? d.eval.accuracy[d.eval.accuracy.length - 1] : null;
    if (last !== null) rows.push(['eval accuracy', fmt(d.eval.accuracy[0], 3) + ' at step ' + d.eval.step[0] + ' → ' + fmt(last, 3) + ' at step ' + d.eval.step[d.eval.step.length - 1]]);
    var dl = el('dl');
    rows.forEach(function (kv) {
      dl.appendChild(el('dt', null, kv[0]));
      dl.appendChild(el('dd', null, kv[1] === null || kv[1] === undefined ? '–' : String(kv[1])));
    });
    box.appendChild(dl);
    return box;
  }

  // ---- the view ------------------------------------------------------------------------------------

  function render(container, data) {
    var state = { sections: {}, data: data };
    var root = el('div', 'dare-report');
    container.appendChild(root);
    var head = header(data);
    root.appendChild(head);
    var grid = el('div', 'dare-grid');
    root.appendChild(grid);

    // every plot is as wide as its own card's content box: the grid decides how many cards fit a row
    function widthOf(sec) {
      return Math.max(MIN_WIDTH, Math.floor(sec.body.clientWidth || MIN_WIDTH));
    }

    function draw(spec, sec) {
      var width = (sec.width = widthOf(sec));
      sec.spec = spec;
      sec.sig = signature(spec);
      sec.points = pointsOf(spec);
      sec.el.setAttribute('data-points', String(sec.points));
      sec.empty.style.display = sec.points > 0 ? 'none' : '';
      if (spec.heat) {
        drawHeat(sec.canvas, spec.heat, width);
        return;
      }
      if (sec.plot && sec.plotSig === sec.sig) {
        if (sec.plot.width !== width) sec.plot.setSize({ width: width, height: HEIGHT });
        sec.plot.setData(alignedData(spec));
        return;
      }
      if (sec.plot) sec.plot.destroy();
      sec.plot = null;
      if (!spec.series.length) return;
      sec.plot = new uPlot(uplotOptions(spec, width), alignedData(spec), sec.body);
      sec.plotSig = sec.sig;
    }

    function build(d) {
      specs(d).forEach(function (spec) {
        var sec = state.sections[spec.id];
        if (!sec) {
          var s = el('section', 'dare-chart');
          s.setAttribute('data-chart', spec.id);
          s.appendChild(el('h2', null, spec.title));
          if (spec.note) s.appendChild(el('p', 'dare-note', spec.note));
          var body = el('div', 'dare-body');
          s.appendChild(body);
          var empty = el('p', 'dare-empty', 'no data in this run');
          s.appendChild(empty);
          sec = { el: s, body: body, empty: empty, plot: null, canvas: null };
          if (spec.heat) {
            sec.canvas = el('canvas', 'dare-heat');
            body.appendChild(sec.canvas);
          }
          grid.appendChild(s);
          state.sections[spec.id] = sec;
          byBody.set(body, sec);
          if (observer) observer.observe(body);
        }
        draw(spec, sec);
      });
    }

    // a card's width changes with the window, and with the number of cards a row holds: redraw at the new width
    // (a height change alone, the legend wrapping, needs nothing)
    function resized(entries) {
      entries.forEach(function (entry) {
        var sec = byBody.get(entry.target);
        if (!sec || !sec.spec || widthOf(sec) === sec.width) return;
        sec.width = widthOf(sec);
        if (sec.plot) sec.plot.setSize({ width: sec.width, height: HEIGHT });
        else if (sec.spec.heat) drawHeat(sec.canvas, sec.spec.heat, sec.width);
      });
    }
    var byBody = new Map();
    var observer = typeof ResizeObserver === 'function' ? new ResizeObserver(resized) : null;
    build(data);

    return {
      update: function (d) {
        state.data = d;
        var h = header(d);
        root.replaceChild(h, head);
        head = h;
        build(d);
      },
      charts: function () {
        return Object.keys(state.sections).map(function (id) {
          var s = state.sections[id];
          return { id: id, title: s.spec.title, el: s.el, points: s.points };
        });
      },
      destroy: function () {
        if (observer) observer.disconnect();
        Object.keys(state.sections).forEach(function (id) {
          if (state.sections[id].plot) state.sections[id].plot.destroy();
        });
        container.removeChild(root);
      },
    };
  }

  globalThis.DareCharts = { render: render };
})();
