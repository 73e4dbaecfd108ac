// aimux dashboard. Plain JS, no dependencies; every value from the server goes into the page as
// text (textContent), never as HTML.
'use strict';

(() => {
  const CSRF = document.querySelector('meta[name="aimux-csrf"]').content;
  const POLL_MS = 2000;
  const $ = (sel) => document.querySelector(sel);
  const state = { metric: 'requests', usage: null, newest: null, settings: null, models: null, busy: false, lastOk: 0 };

  // ---- tiny DOM helpers ----
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c == null) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  function svg(tag, attrs, ...children) {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    for (const c of children.flat()) if (c != null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
  }
  const setK = (root, key, value) => { const el = root.querySelector(`[data-k="${key}"]`); if (el) el.textContent = value; };

  // ---- formatting ----
  const nf = new Intl.NumberFormat('en-US');
  function compact(n) {
    if (n == null) return '–';
    if (n < 1000) return nf.format(n);
    if (n < 1e6) return (n / 1e3).toFixed(n < 1e4 ? 1 : 0).replace(/\.0$/, '') + 'k';
    if (n < 1e9) return (n / 1e6).toFixed(n < 1e7 ? 1 : 0).replace(/\.0$/, '') + 'M';
    return (n / 1e9).toFixed(1).replace(/\.0$/, '') + 'B';
  }
  function money(c, unpriced) {
    if (c == null) return unpriced ? 'n/a' : '$0';
    if (c === 0) return '$0';
    if (c < 0.01) return '<$0.01';
    return '$' + (c < 10 ? c.toFixed(2) : c.toFixed(c < 1000 ? 1 : 0));
  }
  function duration(s) {
    if (s == null) return '–';
    if (s < 60) return `${s}s`;
    const m = Math.floor(s / 60), hh = Math.floor(m / 60), d = Math.floor(hh / 24);
    if (d > 0) return `${d}d ${hh % 24}h`;
    if (hh > 0) return `${hh}h ${m % 60}m`;
    return `${m}m ${s % 60}s`;
  }
  function ms(v) {
    if (v == null) return '–';
    return v < 1000 ? `${v} ms` : `${(v / 1000).toFixed(v < 10000 ? 2 : 1)} s`;
  }
  function ago(tsMs, nowMs) {
    if (tsMs == null) return 'never';
    const s = Math.max(0, Math.round(((nowMs || Date.now()) - tsMs) / 1000));
    if (s < 5) return 'just now';
    if (s < 60) return `${s}s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
    return `${Math.floor(s / 86400)} d ago`;
  }
  function clock(tsMs) {
    const d = new Date(tsMs);
    const time = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    if (d.toDateString() === new Date().toDateString()) return time;
    return d.toLocaleDateString('en-US', { month: 'short', day: 'numeric' }) + ' · ' + time;
  }
  const weekday = (date) => new Date(date + 'T00:00:00Z').toLocaleDateString('en-US', { weekday: 'short', timeZone: 'UTC' });
  const dayNum = (date) => String(Number(date.slice(8, 10)));

  // ---- API ----
  class ApiError extends Error { constructor(status, message) { super(message); this.status = status; } }
  async function api(path, body) {
    const init = { credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.method = 'POST';
      init.headers['Content-Type'] = 'application/json';
      init.headers['X-Aimux-CSRF'] = CSRF;
      init.body = JSON.stringify(body);
    }
    const resp = await fetch('/dashboard/api/' + path, init);
    let data = null;
    try { data = await resp.json(); } catch (_) { /* not JSON */ }
    if (resp.status === 401) { showLogin(); throw new ApiError(401, 'sign in first'); }
    if (!resp.ok) throw new ApiError(resp.status, (data && data.error && data.error.message) || `HTTP ${resp.status}`);
    return data;
  }

  // ---- login ----
  function showLogin() {
    $('#login').hidden = false;
    setTimeout(() => $('#login-token').focus(), 30);
  }
  $('#login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const err = $('#login-error');
    err.hidden = true;
    try {
      await api('login', { token: $('#login-token').value });
      $('#login-token').value = '';
      $('#login').hidden = true;
      $('#logout').hidden = false;
      refreshAll();
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
    }
  });
  $('#logout').addEventListener('click', async () => {
    try { await api('logout', {}); } catch (_) { /* ignore */ }
    showLogin();
  });

  // ---- the link ----
  function nodeClass(el, cls) {
    el.classList.remove('ok', 'warn', 'bad');
    if (cls) el.classList.add(cls);
  }
  function renderLink(link) {
    const b = $('#node-bridge');
    nodeClass(b, 'ok');
    setK(b, 'version', 'v' + link.bridge.version);
    setK(b, 'uptime', duration(link.bridge.uptime_s));
    setK(b, 'upstream', link.bridge.upstream);
    setK(b, 'access', link.bridge.token ? 'token required' : 'loopback, no token');

    const p = $('#node-proxy');
    const ps = link.proxy.status;
    nodeClass(p, ps === 'ok' ? 'ok' : ps === 'answering' ? 'warn' : 'bad');
    setK(p, 'version', link.proxy.version ? 'v' + link.proxy.version : '');
    setK(p, 'uptime', duration(link.proxy.uptime_s));
    setK(p, 'url', link.proxy.url || '–');
    setK(p, 'status', ps === 'ok' ? 'healthy' : ps === 'answering' ? `answering (HTTP ${link.proxy.http_status})` : `unreachable${link.proxy.error ? ': ' + link.proxy.error : ''}`);

    const s = $('#node-supervisor');
    const sup = link.supervisor;
    if (sup && sup.running) {
      nodeClass(s, 'ok');
      setK(s, 'mode', sup.detached ? 'background' : 'foreground');
      setK(s, 'uptime', duration(sup.uptime_s));
      setK(s, 'restarts', String(sup.restarts));
      setK(s, 'requests', nf.format(sup.requests));
    } else {
      nodeClass(s, null);
      setK(s, 'mode', sup ? 'stale state' : 'not supervised');
      setK(s, 'uptime', '–');
      setK(s, 'restarts', '–');
      setK(s, 'requests', '–');
    }

    const list = $('#providers');
    list.replaceChildren();
    if (!link.providers.length) {
      list.append(h('li', { class: 'empty', text: ps === 'ok' ? 'no providers enabled' : 'the proxy does not answer' }));
    }
    const label = { ok: 'healthy', degraded: 'some errors', failing: 'failing', idle: 'idle' };
    const cls = { ok: 'ok', degraded: 'warn', failing: 'bad', idle: '' };
    for (const pr of link.providers) {
      const title = pr.last_ts_ms ? `last request ${ago(pr.last_ts_ms, link.now_ms)}${pr.last_status ? ' · HTTP ' + pr.last_status : ''}${pr.last_error ? ' · ' + pr.last_error : ''}` : 'no requests yet';
      list.append(h('li', { title, 'data-provider': pr.name },
        h('span', { class: 'dot ' + cls[pr.health] }),
        h('div', {}, h('div', { class: 'pname', text: pr.name }), h('div', { class: 'porigin', text: `${pr.origin || 'provider'} · ${label[pr.health]}` })),
        h('div', { class: 'pstats' }, h('b', { text: nf.format(pr.requests) }), ' req', pr.errors ? h('div', { text: `${pr.errors} error${pr.errors === 1 ? '' : 's'}` }) : h('div', { text: ago(pr.last_ts_ms, link.now_ms) }))));
    }

    const overall = $('#overall');
    const failing = link.providers.filter((x) => x.health === 'failing').length;
    let o = ['ok', 'All systems normal'];
    if (ps !== 'ok') o = ['bad', ps === 'answering' ? 'Upstream is not an aimux proxy' : 'Proxy unreachable'];
    else if (failing) o = ['warn', `${failing} provider${failing > 1 ? 's' : ''} failing`];
    overall.className = 'pill ' + o[0];
    overall.querySelector('.label').textContent = o[1];
  }

  // ---- settings ----
  function message(lines, kind) {
    const box = $('#messages');
    box.hidden = false;
    box.className = 'messages ' + (kind || '');
    box.textContent = Array.isArray(lines) ? lines.join('\n') : String(lines);
  }
  function renderSettings(s) {
    state.settings = s;
    const d = s.desktop || {};
    for (const btn of document.querySelectorAll('#desktop-switch button')) {
      const on = btn.dataset.value === 'on';
      btn.setAttribute('aria-checked', String(d.error ? false : on === !!d.on));
    }
    $('#desktop-detail').textContent = d.error ? d.error
      : d.on ? `${d.config} → aimux${d.model ? ' · ' + d.model : ''}${d.status === 'modified' ? ' · edited since: ' + d.modified_keys.join(', ') : ''}`
      : `${d.config || ''}${d.foreign_aimux ? ' already names aimux (set by hand)' : ' is your own'}`;

    const w = s.websearch || {};
    $('#websearch-switch').setAttribute('aria-checked', String(!!w.on));
    $('#websearch-detail').textContent = w.error ? w.error
      : `[websearch] enabled = ${!!w.on} · profile web_search = ${w.codex_mode ? '"' + w.codex_mode + '"' : 'unset'}`;

    const pr = s.profile || {};
    $('#model-detail').textContent = pr.error ? pr.error
      : pr.exists ? `${pr.path} · model ${pr.model || 'unset'}` : `${pr.path || 'the profile'} does not exist yet: picking a model writes it`;
    renderPicker();

    const c = s.catalog || {};
    $('#catalog-detail').textContent = c.exists
      ? `${c.models} models in ${c.path} · updated ${ago(c.modified_ms)}`
      : `no catalog at ${c.path || '$CODEX_HOME'} yet`;
  }
  function renderPicker() {
    const sel = $('#model-select');
    const models = state.models;
    const current = state.settings && state.settings.profile && state.settings.profile.model;
    if (!models) return;
    sel.replaceChildren();
    if (!current) sel.append(h('option', { value: '', text: 'choose a model…' }));
    const groups = new Map();
    for (const m of models.models) {
      if (!groups.has(m.group)) groups.set(m.group, []);
      groups.get(m.group).push(m);
    }
    let found = false;
    for (const [g, ms_] of groups) {
      const og = h('optgroup', { label: g });
      for (const m of ms_) {
        const ctx = m.context_window ? ` · ${compact(m.context_window)}` : '';
        og.append(h('option', { value: m.slug, text: m.slug + ctx }));
        if (m.slug === current) found = true;
      }
      sel.append(og);
    }
    if (current && !found) sel.prepend(h('option', { value: current, text: `${current} (not routable now)` }));
    sel.value = current || '';
    sel.title = models.source;
  }

  async function act(el, path, body, after) {
    if (state.busy) return;
    state.busy = true;
    el.classList.add('busy');
    message('working…', '');
    try {
      const r = await api(path, body);
      message(r.messages && r.messages.length ? r.messages : 'done', 'ok');
      if (after) await after();
    } catch (e) {
      message(e.message, 'error');
    } finally {
      el.classList.remove('busy');
      state.busy = false;
      await loadSettings();
    }
  }
  document.querySelectorAll('#desktop-switch button').forEach((btn) => btn.addEventListener('click', () => {
    if (btn.getAttribute('aria-checked') === 'true') return;
    act($('#desktop-switch'), 'desktop', { on: btn.dataset.value === 'on' });
  }));
  $('#websearch-switch').addEventListener('click', () => {
    const on = $('#websearch-switch').getAttribute('aria-checked') !== 'true';
    act($('#websearch-switch'), 'websearch', { on });
  });
  $('#model-select').addEventListener('change', () => {
    const model = $('#model-select').value;
    if (model) act($('#model-select').parentElement, 'model', { model });
  });
  $('#update-models').addEventListener('click', () => act($('#update-models'), 'catalog', {}, loadModels));

  async function loadSettings() {
    try { renderSettings(await api('settings')); } catch (e) { if (e.status !== 401) message(e.message, 'error'); }
  }
  async function loadModels() {
    try { state.models = await api('models'); renderPicker(); } catch (e) { if (e.status !== 401) message(e.message, 'error'); }
  }

  // ---- usage ----
  const METRICS = {
    requests: { title: 'Requests per day', value: (d) => d.requests, fmt: compact },
    tokens: { title: 'Tokens per day', value: (d) => d.input_tokens + d.output_tokens, fmt: compact },
    cost: { title: 'Estimated cost per day', value: (d) => d.cost_usd || 0, fmt: (v) => money(v) },
  };
  function niceMax(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }
  function drawChart(days) {
    const metric = METRICS[state.metric];
    $('#chart-title').textContent = metric.title;
    const W = 640, H = 220, L = 44, R = 8, T = 22, B = 34;
    const values = days.map(metric.value);
    const max = niceMax(Math.max(...values, 0));
    const plotW = W - L - R, plotH = H - T - B;
    const slot = plotW / Math.max(days.length, 1);
    const bw = Math.min(46, slot * 0.56);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'xMidYMid meet' });
    for (let i = 0; i <= 4; i++) {
      const y = T + plotH - (plotH * i) / 4;
      root.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y, y2: y }));
      root.append(svg('text', { class: 'axis', x: L - 8, y: y + 4, 'text-anchor': 'end' }, metric.fmt((max * i) / 4)));
    }
    days.forEach((d, i) => {
      const v = values[i];
      const bh = v > 0 ? Math.max(3, (plotH * v) / max) : 2;
      const x = L + slot * i + (slot - bw) / 2;
      const y = T + plotH - bh;
      const today = i === days.length - 1;
      const bar = svg('rect', { class: 'bar' + (v > 0 ? '' : ' zero') + (today && v > 0 ? ' today' : ''), x, y, width: bw, height: bh, rx: 5 });
      bar.append(svg('title', {}, `${d.date}: ${metric.fmt(v)} · ${d.requests} requests, ${d.errors} errors`));
      root.append(bar);
      if (v > 0) root.append(svg('text', { class: 'val', x: x + bw / 2, y: y - 6, 'text-anchor': 'middle' }, metric.fmt(v)));
      root.append(svg('text', { class: 'axis', x: x + bw / 2, y: H - 16, 'text-anchor': 'middle' }, weekday(d.date)));
      root.append(svg('text', { class: 'axis', x: x + bw / 2, y: H - 3, 'text-anchor': 'middle' }, dayNum(d.date)));
    });
    $('#chart').replaceChildren(root);
  }
  function renderUsage(u) {
    state.usage = u;
    const t = u.totals;
    const tot = $('#totals');
    setK(tot, 'requests', nf.format(t.requests));
    setK(tot, 'tokens', compact(t.input_tokens + t.output_tokens));
    setK(tot, 'tokens-sub', `${compact(t.input_tokens)} in · ${compact(t.output_tokens)} out${t.cached_tokens ? ' · ' + compact(t.cached_tokens) + ' cached' : ''}`);
    setK(tot, 'cost', money(t.cost_usd, t.unpriced_requests));
    setK(tot, 'errors', nf.format(t.errors));
    setK(tot, 'errors-sub', t.requests ? `${((100 * t.errors) / t.requests).toFixed(1)}% of requests` : '');
    drawChart(u.days);

    const body = $('#models-table tbody');
    body.replaceChildren();
    if (!u.models.length) body.append(h('tr', { class: 'empty' }, h('td', { colspan: 8, text: u.recording ? 'no requests in these 7 days' : 'nothing recorded yet' })));
    for (const m of u.models) {
      const served = m.provider ? (m.model ? `${m.provider}/${m.model}` : m.provider) : '–';
      body.append(h('tr', {},
        h('td', {}, h('span', { class: 'req', text: m.requested_model || '–' })),
        h('td', {}, h('span', { class: 'routed', text: served })),
        h('td', { class: 'num', text: nf.format(m.requests) }),
        h('td', { class: 'num', text: m.errors ? nf.format(m.errors) : '–' }),
        h('td', { class: 'num', text: compact(m.input_tokens) }),
        h('td', { class: 'num', text: compact(m.output_tokens) }),
        h('td', { class: 'num', text: money(m.cost_usd, m.unpriced_requests) }),
        h('td', { class: 'num', text: ms(m.avg_latency_ms) })));
    }

    const errs = $('#errors');
    errs.replaceChildren();
    if (!u.errors.length) errs.append(h('li', { class: 'empty', text: 'no errors in these 7 days' }));
    for (const e of u.errors) {
      const codes = Object.entries(e.codes).map(([c, n]) => `${c} ×${n}`).join(' · ');
      errs.append(h('li', {}, h('div', { class: 'erow' }, h('span', { text: e.provider }), h('span', { class: 'n', text: nf.format(e.errors) })), h('div', { class: 'codes', text: codes })));
    }
  }
  document.querySelectorAll('#metric-tabs button').forEach((btn) => btn.addEventListener('click', () => {
    state.metric = btn.dataset.metric;
    document.querySelectorAll('#metric-tabs button').forEach((b) => b.setAttribute('aria-selected', String(b === btn)));
    if (state.usage) drawChart(state.usage.days);
  }));

  // ---- recent requests ----
  function statusClass(r) {
    if (r.status >= 500 || (r.error_code && r.status >= 400)) return 'bad';
    if (r.status >= 400 || r.error_code) return 'warn';
    return 'ok';
  }
  function renderRecent(data) {
    const rows = data.requests;
    const body = $('#recent-table tbody');
    const prevNewest = state.newest;
    body.replaceChildren();
    if (!rows.length) body.append(h('tr', { class: 'empty' }, h('td', { colspan: 7, text: 'no requests yet: point codex at the bridge and they show up here' })));
    for (const r of rows) {
      const routed = r.provider ? (r.model ? `${r.provider}/${r.model}` : r.provider) : 'not routed';
      const fresh = prevNewest != null && r.ts_ms > prevNewest;
      body.append(h('tr', { class: fresh ? 'fresh' : null, title: r.client ? `client: ${r.client}` : null },
        h('td', { text: clock(r.ts_ms) }),
        h('td', {}, h('span', { class: 'req', text: r.requested_model || '–' }), h('span', { class: 'arrow', text: '→' }), h('span', { class: 'routed', text: routed })),
        h('td', {}, h('span', { class: 'status ' + statusClass(r), text: String(r.status), title: r.error_code || null })),
        h('td', { class: 'num', text: ms(r.latency_ms) }),
        h('td', { class: 'num', text: ms(r.ttft_ms) }),
        h('td', { class: 'num', text: `${compact(r.input_tokens)} / ${compact(r.output_tokens)}` }),
        h('td', { class: 'num', text: r.cost_usd == null ? '–' : money(r.cost_usd) })));
    }
    const newest = rows.length ? rows[0].ts_ms : null;
    const changed = newest !== state.newest;
    state.newest = newest;
    return changed;
  }

  // ---- polling ----
  let usageAt = 0;
  async function loadUsage() {
    usageAt = Date.now();
    try { renderUsage(await api('usage?days=7')); } catch (e) { if (e.status !== 401) console.warn(e); }
  }
  async function tick() {
    try {
      const [link, recent] = await Promise.all([api('link'), api('recent?limit=20')]);
      renderLink(link);
      const changed = renderRecent(recent);
      if (changed || Date.now() - usageAt > 15000) loadUsage();
      state.lastOk = Date.now();
      $('#live').classList.remove('stale');
      $('#live-label').textContent = 'live';
    } catch (e) {
      if (e.status !== 401) {
        $('#live').classList.add('stale');
        $('#live-label').textContent = 'bridge not answering';
        const o = $('#overall');
        o.className = 'pill bad';
        o.querySelector('.label').textContent = 'Bridge unreachable';
      }
    }
  }
  function refreshAll() {
    tick();
    loadUsage();
    loadSettings();
    loadModels();
  }

  async function start() {
    try {
      const s = await api('session');
      if (s.auth_required) $('#logout').hidden = !s.authenticated;
      if (s.auth_required && !s.authenticated) showLogin();
      else refreshAll();
    } catch (_) {
      refreshAll();
    }
    setInterval(() => { if ($('#login').hidden && !document.hidden) tick(); }, POLL_MS);
    setInterval(() => { if ($('#login').hidden && !document.hidden && !state.busy) loadSettings(); }, 10000);
  }
  start();
})();
