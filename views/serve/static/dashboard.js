/* The dare dashboard page: statecharts, plots, prompt table and timeline, fed by /api/stream (SSE).
   Every value from the server is put into the page as text (textContent), never as markup, except the
   statechart SVGs the server builds (and escapes) itself. */
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  const fmt = (x, d) => (x === null || x === undefined ? '–' : typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toFixed(d ?? 3)) : String(x));

  const cards = new Map(); // actor -> { card, svg, phase, recent, summary }
  let status = null;
  let chartsView = null;

  // ---- statecharts ----------------------------------------------------------------------------------
  async function loadMachines() {
    const machines = await (await fetch('/api/machines')).json();
    const host = $('machines');
    for (const m of machines) {
      const card = el('div', 'machine' + (m.phases.length > 4 ? ' wide' : ''));
      card.dataset.actor = m.actor;
      const h = el('h3', null, m.actor);
      const phase = el('span', 'phase', m.initial);
      phase.dataset.role = 'phase';
      h.appendChild(phase);
      card.appendChild(h);
      card.appendChild(el('p', 'desc', m.description));
      const chart = el('div', 'chart');
      chart.innerHTML = m.svg; // built and escaped by the server (views/serve/statechart.ts)
      card.appendChild(chart);
      const recent = el('ul', 'recent');
      card.appendChild(recent);
      const summary = el('div', 'summary');
      card.appendChild(summary);
      host.appendChild(card);
      cards.set(m.actor, { card, svg: chart.querySelector('svg'), phase, recent, summary, ancestors: m.ancestors, edges: m.edges });
    }
  }

  /** The arrow a transition took: the phase's own edge for that event, else the edge of a group holding it. */
  function edgeTaken(c, type, from, to) {
    for (const node of [from, ...(c.ancestors[from] || [])]) {
      const e = c.edges.find((x) => x.from === node && x.to === to && x.events.some((ev) => ev === type || ev.startsWith(type + ' [')));
      if (e) return e.from + '>' + e.to;
    }
    return from + '>' + to;
  }

  function showActors(actors) {
    for (const a of actors) {
      const c = cards.get(a.actor);
      if (!c) continue;
      c.phase.textContent = a.phase;
      c.card.dataset.phase = a.phase;
      for (const g of c.svg.querySelectorAll('g.state')) g.classList.toggle('current', g.dataset.state === a.phase);
      const within = c.ancestors[a.phase] || [];
      for (const g of c.svg.querySelectorAll('g.group')) g.classList.toggle('current', within.includes(g.dataset.group));
      const last = a.recent.length ? a.recent[a.recent.length - 1] : null;
      const lastKey = last ? edgeTaken(c, last[1], last[2], last[3]) : '';
      for (const g of c.svg.querySelectorAll('g.edge')) g.classList.toggle('last', g.dataset.edge === lastKey);
      c.recent.replaceChildren(...a.recent.map(([seq, type, from, to]) => el('li', null, '@' + seq + '  ' + from + ' → ' + to + '  (' + type + ')')));
      c.recent.scrollTop = c.recent.scrollHeight;
      c.summary.textContent = JSON.stringify(a.summary);
    }
  }

  // ---- status and control ---------------------------------------------------------------------------
  function showStatus(s) {
    status = s;
    $('run-id').textContent = s.run || '(no RunStarted yet)';
    $('run-meta').textContent = [s.method, s.scenario].filter(Boolean).join(' · ');
    $('step').textContent = String(s.step);
    $('steps').textContent = s.steps === null ? '?' : String(s.steps);
    $('epoch').textContent = String(s.epoch);
    $('policy').textContent = String(s.policyVersion);
    $('last-seq').textContent = String(s.lastSeq);
    const mode = s.failed ? 'failed' : s.completed || s.stopped || !s.live ? 'finished' : s.paused ? 'paused' : 'live';
    const label = s.failed ? 'failed' : s.completed ? 'completed' : s.stopped ? 'stopped' : !s.live ? 'not running' : s.stopRequested ? 'stopping' : s.paused ? 'paused' : 'live';
    $('mode').className = 'pill ' + mode;
    $('mode').textContent = label;
    document.body.dataset.mode = mode;
    $('controls').hidden = !s.live;
    $('pause').disabled = !s.live || s.paused || s.stopRequested;
    $('resume').disabled = !s.live || !s.paused || s.stopRequested;
    $('stop').disabled = !s.live || s.stopRequested;
  }

  async function control(command) {
    const msg = $('control-msg');
    msg.textContent = command + '…';
    try {
      const r = await fetch('/api/control/' + command, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      const body = await r.json();
      msg.textContent = r.ok ? command + ': logged' : command + ': ' + body.error;
    } catch (e) {
      msg.textContent = command + ': ' + e.message;
    }
  }
  for (const id of ['pause', 'resume', 'stop']) $(id).addEventListener('click', () => control(id));

  // ---- plots (the report's chart code) --------------------------------------------------------------
  function showPlots(plots) {
    if (!window.DareCharts || !plots || !plots.step || plots.step.length === 0) return;
    if (!chartsView) {
      $('charts').replaceChildren();
      chartsView = window.DareCharts.render($('charts'), plots);
    } else {
      chartsView.update(plots);
    }
  }
  // (a plot follows its card's width by itself: charts.js watches every card's size)

  // ---- prompt table ---------------------------------------------------------------------------------
  const table = { q: '', sort: 'index', desc: false, offset: 0, limit: 25, matched: 0, openIndex: null };
  let tableSeq = -1;
  let tableTimer = null;

  async function loadPrompts() {
    const p = new URLSearchParams({ q: table.q, sort: table.sort, desc: table.desc ? '1' : '0', offset: String(table.offset), limit: String(table.limit) });
    const r = await fetch('/api/prompts?' + p);
    if (!r.ok) return;
    const data = await r.json();
    table.matched = data.matched;
    tableSeq = status ? status.lastSeq : tableSeq;
    const rows = data.rows.map((row) => {
      const tr = el('tr');
      tr.dataset.index = String(row.index);
      if (row.index === table.openIndex) tr.classList.add('open');
      tr.append(
        el('td', null, row.index), el('td', null, row.id), el('td', 'q', row.question), el('td', null, row.category),
        el('td', null, fmt(row.difficulty)), el('td', null, row.source), el('td', 'tier-' + row.tier, row.tier || '–'),
        el('td', null, row.timesSampled), el('td', null, fmt(row.lastStep)), el('td', null, fmt(row.failureRate)), el('td', null, fmt(row.trueDifficulty)),
      );
      tr.title = row.question;
      return tr;
    });
    $('prompt-table').tBodies[0].replaceChildren(...rows);
    $('prompt-count').textContent = data.matched + ' of ' + data.total + ' prompts';
    const pages = Math.max(1, Math.ceil(data.matched / table.limit));
    $('page').textContent = 'page ' + (Math.floor(table.offset / table.limit) + 1) + ' / ' + pages;
    $('prev').disabled = table.offset === 0;
    $('next').disabled = table.offset + table.limit >= data.matched;
    for (const th of document.querySelectorAll('#prompt-table th[data-sort]')) {
      th.classList.toggle('sorted', th.dataset.sort === table.sort);
      th.classList.toggle('desc', th.dataset.sort === table.sort && table.desc);
    }
  }

  $('prompt-search').addEventListener('input', () => {
    clearTimeout(tableTimer);
    tableTimer = setTimeout(() => {
      table.q = $('prompt-search').value;
      table.offset = 0;
      loadPrompts();
    }, 200);
  });
  $('prev').addEventListener('click', () => { table.offset = Math.max(0, table.offset - table.limit); loadPrompts(); });
  $('next').addEventListener('click', () => { table.offset += table.limit; loadPrompts(); });
  for (const th of document.querySelectorAll('#prompt-table th[data-sort]')) {
    th.addEventListener('click', () => {
      if (table.sort === th.dataset.sort) table.desc = !table.desc;
      else { table.sort = th.dataset.sort; table.desc = th.dataset.sort !== 'index' && th.dataset.sort !== 'id'; }
      table.offset = 0;
      loadPrompts();
    });
  }
  $('prompt-table').tBodies[0].addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr');
    if (tr && tr.dataset.index !== undefined) openTimeline(Number(tr.dataset.index));
  });

  // ---- one prompt's timeline ------------------------------------------------------------------------
  const SVGNS = 'http://www.w3.org/2000/svg';
  const svgEl = (tag, attrs) => {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    return e;
  };

  function timelineChart(tl) {
    const W = 560, H = 170, L = 34, R = 10, T = 10, B = 24;
    const steps = tl.map((t) => t.step);
    const lo = Math.min(0, ...steps), hi = Math.max(1, ...steps);
    const x = (s) => L + ((s - lo) / (hi - lo)) * (W - L - R);
    const y = (d) => T + (1 - d) * (H - T - B);
    const svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'difficulty over steps' });
    svg.append(svgEl('line', { x1: L, y1: y(0), x2: W - R, y2: y(0), class: 'axis' }), svgEl('line', { x1: L, y1: y(0), x2: L, y2: y(1), class: 'axis' }));
    for (const d of [0, 0.5, 1]) { const t = svgEl('text', { x: 4, y: y(d) + 3 }); t.textContent = d.toFixed(1); svg.append(t); }
    const xl = svgEl('text', { x: W - R - 60, y: H - 6 }); xl.textContent = 'step ' + lo + '–' + hi; svg.append(xl);
    const path = (pts, cls) => { if (pts.length) svg.append(svgEl('path', { d: 'M' + pts.map(([a, b]) => x(a).toFixed(1) + ',' + y(b).toFixed(1)).join(' L'), class: cls })); };
    path(tl.filter((t) => t.kind === 'estimate' && t.detail.difficulty !== null).map((t) => [t.step, t.detail.difficulty]), 'est');
    path(tl.filter((t) => t.kind === 'rollout' && t.detail.oracleSuccess !== null && t.detail.oracleSuccess !== undefined).map((t) => [t.step, 1 - t.detail.oracleSuccess]), 'oracle');
    for (const t of tl) {
      if (t.kind === 'rollout' && t.detail.of > 0) svg.append(svgEl('circle', { cx: x(t.step), cy: y(1 - t.detail.correct / t.detail.of), r: 3, class: 'roll' }));
      if (t.kind === 'selected' && t.detail.difficulty !== null) svg.append(svgEl('rect', { x: x(t.step) - 3, y: y(t.detail.difficulty) - 3, width: 6, height: 6, class: 'sel' }));
    }
    const key = svgEl('text', { x: L + 6, y: T + 8 });
    key.textContent = 'line: estimated d · squares: selected · dots: failure rate of its rollouts · dashed: true d (sim)';
    svg.append(key);
    return svg;
  }

  const detailText = (d) => Object.entries(d).map(([k, v]) => k + '=' + (typeof v === 'number' ? fmt(v) : v === null ? '–' : String(v))).join('  ');

  let timelineSeq = -1;
  async function openTimeline(index) {
    table.openIndex = index;
    for (const tr of $('prompt-table').tBodies[0].rows) tr.classList.toggle('open', Number(tr.dataset.index) === index);
    const r = await fetch('/api/prompts/' + index);
    const h = await r.json();
    if (!r.ok) { $('timeline-title').textContent = h.error; $('timeline').hidden = false; return; }
    timelineSeq = status ? status.lastSeq : -1;
    $('timeline').dataset.index = String(index);
    $('timeline-title').textContent = 'prompt #' + index + (h.row ? ' · ' + h.row.id + ' · ' + h.row.category : '');
    $('timeline-question').textContent = h.row ? h.row.question + '\n→ ' + h.row.answer : '';
    $('timeline-chart').replaceChildren(timelineChart(h.timeline));
    const rows = h.timeline.map((t) => {
      const tr = el('tr', 'kind-' + t.kind);
      tr.append(el('td', null, t.seq), el('td', null, t.step), el('td', null, t.kind), el('td', 'detail', detailText(t.detail)));
      return tr;
    });
    if (rows.length === 0) rows.push(el('tr', null, 'nothing logged for this prompt yet'));
    $('timeline-table').tBodies[0].replaceChildren(...rows);
    $('timeline').hidden = false;
  }
  $('timeline-close').addEventListener('click', () => {
    $('timeline').hidden = true;
    table.openIndex = null;
    for (const tr of $('prompt-table').tBodies[0].rows) tr.classList.remove('open');
  });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') $('timeline-close').click(); });

  // the timeline panel sits below the header, whose height depends on the window's width
  const headerHeight = () => document.documentElement.style.setProperty('--header-h', $('top').offsetHeight + 'px');
  window.addEventListener('resize', headerHeight);

  // ---- live updates ---------------------------------------------------------------------------------
  let lastRefresh = 0;
  function onUpdate(u) {
    showStatus(u.status);
    headerHeight();
    showActors(u.actors);
    showPlots(u.plots);
    // the table and an open timeline follow the run, at a calmer pace than the header
    const now = Date.now();
    if (u.status.lastSeq !== tableSeq && now - lastRefresh > 2000) {
      lastRefresh = now;
      loadPrompts();
      if (!$('timeline').hidden && table.openIndex !== null && u.status.lastSeq !== timelineSeq) openTimeline(table.openIndex);
    }
  }

  async function start() {
    await loadMachines();
    await loadPrompts();
    const es = new EventSource('/api/stream');
    es.addEventListener('update', (ev) => onUpdate(JSON.parse(ev.data)));
    es.addEventListener('error', () => {
      if (status) { $('mode').className = 'pill failed'; $('mode').textContent = 'disconnected'; }
    });
    document.body.dataset.ready = '1';
  }
  start();
})();
