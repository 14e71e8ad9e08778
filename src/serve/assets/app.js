// The synsim lab page: scenario and knobs in the URL's fragment, runs through the server's
// API, the new run (B) compared with the previous one (A).
'use strict';

(() => {
  const token = new URLSearchParams(location.search).get('token') || '';
  const $ = (id) => document.getElementById(id);
  const KNOBS = ['backlog', 'syncookies', 'synack_retries', 'profile', 'syn_retries',
    'rate', 'start', 'stop', 'spoof', 'latency', 'loss'];
  const KNOB_LABELS = {
    backlog: 'backlog', syncookies: 'SYN cookies', synack_retries: 'synack_retries',
    profile: 'server profile', syn_retries: 'client syn_retries', rate: 'attack rate (SYN/s)',
    start: 'attack start (ms)', stop: 'attack stop (ms)', spoof: 'spoofed from',
    latency: 'latency (ms)', loss: 'loss probability',
  };
  const CHART_LABELS = {
    queues: 'Queues', outcomes: 'Outcomes', states: 'States', ladder: 'Ladder',
  };
  // Pasted text longer than this is left out of the link (browsers cap URL lengths).
  const MAX_TEXT_IN_LINK = 30000;
  const runs = { a: null, b: null };
  let chart = 'queues';
  let info = null;
  let seq = 0;
  let limits = null;

  const knobEl = (k) => $('k-' + k);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === undefined || c === null) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  function withToken(url) {
    return url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token);
  }

  async function api(path, body) {
    const opts = { headers: { 'X-Synsim-Token': token } };
    if (body !== undefined) {
      opts.method = 'POST';
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(path, opts);
    let data;
    try {
      data = await r.json();
    } catch (_) {
      data = { error: `the server answered HTTP ${r.status}` };
    }
    if (!r.ok) {
      const err = new Error(data.error || `HTTP ${r.status}`);
      err.status = r.status;
      throw err;
    }
    return data;
  }

  // --- state in the URL ---------------------------------------------------------------------

  function pastedText() {
    return $('paste').value.trim();
  }

  function controlsState() {
    const p = new URLSearchParams();
    const text = pastedText();
    if (text) {
      if (text.length <= MAX_TEXT_IN_LINK) p.set('text', text);
    } else if ($('scenario').value) {
      p.set('scenario', $('scenario').value);
    }
    for (const k of KNOBS) {
      const v = knobEl(k).value.trim();
      if (v) p.set(k, v);
    }
    const sets = $('sets').value.trim();
    if (sets) p.set('sets', sets);
    return p;
  }

  function writeUrl() {
    const p = controlsState();
    const hash = p.toString();
    history.replaceState(null, '', location.pathname + location.search + (hash ? '#' + hash : ''));
    const share = new URLSearchParams(p);
    if ($('autorun').checked) share.set('run', '1');
    $('link').value = location.origin + location.pathname + location.search + '#' + share.toString();
    for (const k of KNOBS) knobEl(k).classList.toggle('overridden', knobEl(k).value.trim() !== '');
    if (pastedText() && pastedText().length > MAX_TEXT_IN_LINK) {
      $('link').value = '(the pasted scenario is too long for a link: save it as a file instead)';
    }
  }

  function restore(p) {
    const text = p.get('text');
    $('paste').value = text || '';
    if (text) $('paste-box').open = true;
    const want = p.get('scenario');
    const sel = $('scenario');
    if (want && [...sel.options].some((o) => o.value === want)) sel.value = want;
    for (const k of KNOBS) {
      const e = knobEl(k);
      const v = p.get(k) || '';
      if (e.tagName === 'SELECT' && ![...e.options].some((o) => o.value === v)) {
        e.value = '';
      } else {
        e.value = v;
      }
    }
    $('sets').value = p.get('sets') || '';
    if ($('sets').value) $('sets-box').open = true;
  }

  // --- the scenario and its knob values -----------------------------------------------------

  function fillScenarios(list) {
    const sel = $('scenario');
    sel.replaceChildren();
    const groups = new Map();
    for (const s of list.scenarios) {
      if (!groups.has(s.group)) groups.set(s.group, []);
      groups.get(s.group).push(s);
    }
    for (const [g, items] of groups) {
      const og = el('optgroup', { label: g ? g + '/' : list.dir + '/' });
      for (const s of items) {
        const tag = s.attackers ? ' (attack)' : '';
        og.append(el('option', { value: s.path }, s.name + tag));
      }
      sel.append(og);
    }
    const paths = list.scenarios.map((s) => s.path);
    sel.value = paths.includes('syn_flood.json') ? 'syn_flood.json' : (paths[0] || '');
    const l = list.limits;
    limits = l;
    $('limits').textContent = `This server: loopback page with a per-start token; at most ${l.max_runs} ` +
      `run(s) at once, ${l.max_run_secs} s and ${l.max_events.toLocaleString('en')} events per run, ` +
      `scenarios up to ${Math.round(l.max_scenario_bytes / 1024)} KiB; the newest ${l.keep_runs} runs are kept.`;
  }

  function showKnobDefaults(eff) {
    for (const k of KNOBS) {
      const e = knobEl(k);
      const v = eff ? eff[k] : null;
      const shown = v === null || v === undefined ? '—' : String(v);
      if (e.tagName === 'SELECT') {
        e.options[0].textContent = `(${shown})`;
      } else {
        e.placeholder = shown;
      }
    }
  }

  async function loadInfo() {
    const mine = ++seq;
    const text = pastedText();
    let got;
    try {
      got = text ? await api('/api/inspect', { text })
        : await api('/api/scenario?path=' + encodeURIComponent($('scenario').value));
    } catch (e) {
      if (mine !== seq) return;
      info = null;
      showKnobDefaults(null);
      $('description').textContent = '';
      showError(e.message);
      return;
    }
    if (mine !== seq) return;
    info = got;
    hideError();
    $('description').textContent = got.description || '(no description)';
    showKnobDefaults(got.effective);
    $('attack-knobs').disabled = got.attackers === 0;
    $('client-knobs').disabled = got.clients === 0;
  }

  // --- runs ---------------------------------------------------------------------------------

  function setStatus(state, text) {
    $('status').dataset.state = state;
    $('status').textContent = text;
  }

  function showError(msg) {
    $('error').textContent = msg;
    $('error').hidden = false;
  }

  function hideError() {
    $('error').hidden = true;
    $('error').textContent = '';
  }

  async function run() {
    const body = { knobs: {}, sets: $('sets').value.split('\n').map((s) => s.trim()).filter(Boolean) };
    const text = pastedText();
    if (limits && new Blob([text]).size > limits.max_scenario_bytes) {
      showError(`The pasted scenario has ${new Blob([text]).size} bytes, above this server's limit of ` +
        `${limits.max_scenario_bytes} bytes.`);
      setStatus('error', 'Not run:');
      return;
    }
    if (text) body.text = text;
    else body.scenario = $('scenario').value;
    for (const k of KNOBS) {
      const v = knobEl(k).value.trim();
      if (v) body.knobs[k] = v;
    }
    writeUrl();
    setStatus('running', 'Running…');
    $('run').disabled = true;
    hideError();
    const t0 = performance.now();
    try {
      const r = await api('/api/run', body);
      r.page_ms = performance.now() - t0;
      runs.a = runs.b;
      runs.b = r;
      saveRuns();
      render();
      $('status').dataset.run = r.id;
      setStatus('done', `Run ${r.id} of ${r.name}: ${r.summary.events.toLocaleString('en')} events, ` +
        `answered in ${Math.round(r.page_ms)} ms.`);
    } catch (e) {
      showError(e.message);
      setStatus(e.status === 503 ? 'busy' : 'error',
        e.status === 503 ? 'The server is busy: try again in a moment.' : 'The run failed:');
    } finally {
      $('run').disabled = false;
    }
  }

  // The two runs shown survive a reload of the page (not a restart of the server: the key
  // holds the token).
  const storeKey = 'synsim-lab-runs-' + token;

  function saveRuns() {
    try {
      sessionStorage.setItem(storeKey, JSON.stringify(runs));
    } catch (_) {
      // Storage full or off: the comparison just does not survive a reload.
    }
  }

  function loadRuns() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(storeKey) || 'null');
      if (saved && saved.b) {
        runs.a = saved.a;
        runs.b = saved.b;
        render();
      }
    } catch (_) {
      // Nothing usable saved.
    }
  }

  // --- the comparison -----------------------------------------------------------------------

  const fmt = (v) => {
    if (v === null || v === undefined) return '–';
    if (typeof v === 'number') {
      return Number.isInteger(v) ? v.toLocaleString('en') : v.toLocaleString('en', { maximumFractionDigits: 3 });
    }
    return String(v);
  };
  const share = (n, of) => (of ? n / of : null);
  const pct = (r) => (r === null || r === undefined ? '–' : (100 * r).toFixed(1) + ' %');

  // One row of the table: key (data-metric), label, value(run), and optionally show(run) (the
  // text), rate(run) (a share shown and compared next to a count), kind ('count', 'share',
  // 'setting', 'ms', 'timing') and optional (left out while zero or empty in both runs).
  function rows() {
    // Settings: the knobs that differ between A and B (all of them for a first run).
    const out = [{ section: runs.a ? 'Settings that differ' : 'Settings (as run)' }];
    const differ = KNOBS.filter((k) => !runs.a || runs.a.effective[k] !== runs.b.effective[k]);
    if (differ.length === 0) out.push({ key: 'knob_none', label: '(same settings: a rerun)', value: () => null, kind: 'setting' });
    for (const k of differ) {
      out.push({ key: 'knob_' + k, label: KNOB_LABELS[k], value: (r) => r.effective[k], kind: 'setting' });
    }
    out.push({ section: 'Outcomes of the clients\' attempts' });
    out.push({ key: 'attempts', label: 'attempts', value: (r) => r.summary.attempts, kind: 'count' });
    for (const [k, label] of [['established', 'established'], ['timed_out', 'timed out'],
      ['refused', 'refused'], ['reset', 'reset'], ['unreachable', 'unreachable'], ['unfinished', 'unfinished']]) {
      const n = (r) => r.summary.outcomes[k] || 0;
      const rate = (r) => share(n(r), r.summary.attempts);
      out.push({
        key: k, label, value: n, rate, kind: 'count',
        show: (r) => `${fmt(n(r))} (${pct(rate(r))})`,
        optional: !['established', 'timed_out', 'refused'].includes(k),
      });
    }
    out.push({
      key: 'during_attack', label: 'established, attack window', kind: 'share', optional: true,
      value: (r) => (r.summary.phases[0] ? r.summary.phases[0].during.success_rate : null),
    });
    out.push({ section: 'Queues of listeners[0]' });
    const li = (r) => r.summary.listeners[0] || {};
    for (const [k, label] of [['syn_queue_capacity', 'SYN queue capacity'], ['syn_queue_peak', 'SYN queue peak'],
      ['accept_queue_capacity', 'accept queue capacity'], ['accept_queue_peak', 'accept queue peak']]) {
      out.push({ key: k, label, value: (r) => li(r)[k], kind: 'count' });
    }
    out.push({ section: 'Drops by reason' });
    const reasons = new Set();
    for (const r of [runs.a, runs.b]) if (r) Object.keys(r.summary.drops_by_reason).forEach((k) => reasons.add(k));
    if (reasons.size === 0) out.push({ key: 'drops_none', label: '(none)', value: () => null, kind: 'count' });
    for (const k of [...reasons].sort()) {
      out.push({ key: 'drop_' + k, label: k.replaceAll('_', ' '), value: (r) => r.summary.drops_by_reason[k] || 0, kind: 'count' });
    }
    out.push({ section: 'Latency and run' });
    out.push({ key: 'p50', label: 'connect latency p50 (ms)', value: (r) => r.summary.connect_latency_ms.p50, kind: 'ms', optional: true });
    out.push({ key: 'p90', label: 'connect latency p90 (ms)', value: (r) => r.summary.connect_latency_ms.p90, kind: 'ms', optional: true });
    out.push({ key: 'events', label: 'events simulated', value: (r) => r.summary.events, kind: 'count' });
    out.push({ key: 'wall_ms', label: 'server time (ms)', value: (r) => Math.round(r.wall_ms), kind: 'timing' });
    return out;
  }

  // The B - A text of a row and its direction ('up', 'down' or '').
  function delta(row, a, b) {
    const va = row.value(a);
    const vb = row.value(b);
    if (row.kind === 'timing') return ['', ''];
    if (row.kind === 'setting') return va === vb ? ['', ''] : ['changed', ''];
    if (typeof va !== 'number' || typeof vb !== 'number') return va === vb ? ['', ''] : ['changed', ''];
    const d = vb - va;
    const pp = (x) => `${x >= 0 ? '+' : '−'}${(100 * Math.abs(x)).toFixed(1)} pp`;
    if (row.kind === 'share') return Math.abs(d) < 1e-12 ? ['=', ''] : [pp(d), d > 0 ? 'up' : 'down'];
    const dr = row.rate ? (row.rate(b) || 0) - (row.rate(a) || 0) : 0;
    if (Math.abs(d) < 1e-12 && Math.abs(dr) < 1e-12) return ['=', ''];
    const n = row.kind === 'ms' ? Math.round(Math.abs(d) * 1000) / 1000 : Math.abs(d);
    let text = (d >= 0 ? '+' : '−') + fmt(n);
    if (row.rate) text += ` (${pp(dr)})`;
    return [text, d > 0 ? 'up' : d < 0 ? 'down' : ''];
  }

  function cell(cls, r, row) {
    if (!r) return el('td', { class: cls }, '');
    const v = row.value(r);
    const text = row.show ? row.show(r) : (row.kind === 'share' ? pct(v) : fmt(v));
    return el('td', { class: cls, 'data-value': v === null || v === undefined ? '' : v }, text);
  }

  function caption(r, other) {
    const diff = other ? KNOBS.filter((k) => other.effective[k] !== r.effective[k])
      .map((k) => `${KNOB_LABELS[k]} ${fmt(r.effective[k])}`) : [];
    return `${r.id}: ${r.name}` + (diff.length ? ' · ' + diff.join(', ') : '');
  }

  function render() {
    const { a, b } = runs;
    $('placeholder').hidden = true;
    $('ab').hidden = false;
    $('head-a').replaceChildren('A: previous run', el('small', {}, a ? caption(a, b) : 'none yet'));
    $('head-b').replaceChildren('B: this run', el('small', {}, caption(b, a)));
    const body = [];
    for (const row of rows()) {
      if (row.section) {
        body.push(el('tr', { class: 'section' }, el('th', { colspan: 4, scope: 'rowgroup' }, row.section)));
        continue;
      }
      if (row.optional && !(a && row.value(a)) && !row.value(b)) continue;
      const [d, dir] = a ? delta(row, a, b) : ['', ''];
      const changed = a && d !== '' && d !== '=';
      body.push(el('tr', { 'data-metric': row.key, class: changed ? 'changed' : null },
        el('th', { scope: 'row' }, row.label), cell('a', a, row), cell('b', b, row),
        el('td', { class: 'd ' + dir }, d)));
    }
    $('ab').tBodies[0].replaceChildren(...body);
    renderCharts();
  }

  function renderCharts() {
    const { a, b } = runs;
    const names = Object.keys(CHART_LABELS).filter((n) => n in b.charts);
    if (!names.includes(chart)) chart = names[0];
    $('chart-area').hidden = names.length === 0;
    $('chart-tabs').replaceChildren(...names.map((n) => {
      const t = el('button', { type: 'button', role: 'tab', 'aria-selected': n === chart ? 'true' : 'false' },
        CHART_LABELS[n] || n);
      t.addEventListener('click', () => { chart = n; renderCharts(); });
      return t;
    }));
    for (const [side, r, other] of [['a', a, b], ['b', b, a]]) {
      const fig = $('fig-' + side);
      const url = r && r.charts[chart];
      fig.classList.toggle('empty', !url);
      fig.querySelector('figcaption').replaceChildren(el('span', { class: 'tag ' + side }, side.toUpperCase()),
        ' ', r ? caption(r, other) : 'no previous run yet');
      const img = fig.querySelector('img');
      const link = fig.querySelector('a');
      if (url) {
        img.src = withToken(url);
        img.alt = `${chart} chart of run ${r.id}`;
        link.href = withToken(url);
      } else {
        img.removeAttribute('src');
        link.removeAttribute('href');
      }
      fig.querySelector('.files').replaceChildren(...(r ? Object.entries(r.files).map(([n, u]) =>
        el('a', { href: withToken(u), target: '_blank', rel: 'noopener' }, n)) : []));
    }
  }

  // --- wiring -------------------------------------------------------------------------------

  async function init() {
    $('controls').addEventListener('submit', (ev) => { ev.preventDefault(); run(); });
    $('controls').addEventListener('input', (ev) => {
      if (ev.target.id !== 'paste') writeUrl();
    });
    $('scenario').addEventListener('change', () => { writeUrl(); loadInfo(); });
    $('paste').addEventListener('change', () => { writeUrl(); loadInfo(); });
    $('autorun').addEventListener('change', writeUrl);
    $('clear').addEventListener('click', () => {
      for (const k of KNOBS) knobEl(k).value = '';
      $('sets').value = '';
      writeUrl();
    });
    $('copy-text').addEventListener('click', () => {
      if (info && info.text) {
        $('paste').value = info.text;
        writeUrl();
      }
    });
    $('link').addEventListener('focus', () => $('link').select());
    let list;
    try {
      list = await api('/api/scenarios');
    } catch (e) {
      showError('Cannot list the scenarios: ' + e.message);
      return;
    }
    fillScenarios(list);
    const state = new URLSearchParams(location.hash.slice(1));
    restore(state);
    writeUrl();
    loadRuns();
    await loadInfo();
    document.body.dataset.ready = 'true';
    if (state.get('run') === '1') run();
    // A link opened in the same tab changes only the fragment: restore from it as on load.
    window.addEventListener('hashchange', async () => {
      const st = new URLSearchParams(location.hash.slice(1));
      restore(st);
      writeUrl();
      await loadInfo();
      if (st.get('run') === '1') run();
    });
  }

  document.addEventListener('DOMContentLoaded', init);
})();
