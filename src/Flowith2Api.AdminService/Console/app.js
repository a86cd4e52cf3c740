'use strict';
// The Flowith2Api web console. Hand-written, no dependencies, no CDN: every element is built with the DOM API
// (never innerHTML), so nothing the gateway stores (labels, session turns, tool output) can run as markup.
(() => {
  const main = document.getElementById('main');
  const toast = document.getElementById('toast');
  let csrf = null;
  let refreshTimer = null;

  // ---------- helpers ----------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
      else if (name === 'dataset') Object.assign(el.dataset, value);
      else el.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function svg(tag, attrs, ...children) {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attrs || {})) el.setAttribute(name, String(value));
    for (const child of children.flat()) if (child) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return el;
  }

  function show(message, bad) {
    toast.textContent = message;
    toast.className = 'toast show' + (bad ? ' bad' : '');
    clearTimeout(show.timer);
    show.timer = setTimeout(() => { toast.className = 'toast'; }, 4000);
  }

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(method, path, body) {
    const headers = { 'x-csrf-token': csrf }; // on every call: the gateway refuses the session cookie without it
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401) {
      location.replace('/admin/login?next=' + encodeURIComponent(location.pathname));
      throw new ApiError(401, 'Signed out.');
    }
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = text; }
    if (!response.ok) {
      const message = (data && (data.detail || (data.error && data.error.message))) || `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, message);
    }
    return data;
  }

  const fmt = {
    int: n => (n === null || n === undefined) ? '–' : Number(n).toLocaleString('en-US'),
    ms: n => (n === null || n === undefined) ? '–' : (n >= 1000 ? (n / 1000).toFixed(2) + ' s' : n.toFixed(n < 10 ? 2 : 0) + ' ms'),
    pct: n => (n === null || n === undefined || isNaN(n)) ? '–' : (n * 100).toFixed(1) + ' %',
    time: s => s ? new Date(s).toLocaleString() : '–',
  };

  function badge(state) { return h('span', { class: 'badge ' + state }, state); }

  function td(label, ...content) { return h('td', { 'data-label': label }, ...content); }

  // ---------- charts (SVG, drawn by hand) ----------
  const colours = ['var(--c1)', 'var(--c2)', 'var(--c3)', 'var(--c4)', 'var(--c5)', 'var(--c6)'];

  function lineChart(title, series, format, id, floor = 0) {
    const W = 600, H = 180, L = 52, R = 8, T = 8, B = 22;
    const all = series.flatMap(s => s.points).filter(p => p.v !== null && p.v !== undefined);
    const end = Date.now();
    const start = end - 3600 * 1000;
    const max = Math.max(1e-9, floor, ...all.map(p => p.v));
    const x = t => L + (W - L - R) * (t - start) / (end - start);
    const y = v => T + (H - T - B) * (1 - v / max);
    const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title}, last hour` });
    for (const f of [0, 0.5, 1]) {
      chart.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: y(max * f), y2: y(max * f) }));
      chart.append(svg('text', { class: 'tick', x: L - 4, y: y(max * f) + 3, 'text-anchor': 'end' }, all.length ? format(max * f) : ''));
    }
    for (const minutes of [60, 45, 30, 15, 0]) {
      const t = end - minutes * 60000;
      chart.append(svg('text', { class: 'tick', x: x(t), y: H - 6, 'text-anchor': 'middle' }, minutes ? `-${minutes}m` : 'now'));
    }
    series.forEach((s, i) => {
      const points = s.points.filter(p => p.v !== null && p.v !== undefined && p.t >= start);
      if (points.length === 0) return;
      const d = points.map((p, j) => `${j ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
      chart.append(svg('path', { d, fill: 'none', stroke: colours[i % colours.length], 'stroke-width': 2 }, svg('title', {}, s.name)));
      if (points.length === 1) chart.append(svg('circle', { cx: x(points[0].t), cy: y(points[0].v), r: 3, fill: colours[i % colours.length] }));
    });
    const legend = h('div', { class: 'legend' }, series.map((s, i) => {
      const last = [...s.points].reverse().find(p => p.v !== null && p.v !== undefined);
      const item = h('span', {}, `${s.name}: ${last ? format(last.v) : '–'}`);
      item.style.setProperty('--swatch', colours[i % colours.length]);
      return item;
    }));
    return h('figure', { class: 'chart', id }, h('h2', {}, title), chart, legend,
      all.length ? null : h('p', { class: 'muted small' }, 'No traffic in the last hour yet.'));
  }

  // ---------- pages ----------
  const pages = {
    async dashboard() {
      const [stats, series, credentials] = await Promise.all([
        api('GET', '/v1/admin/stats').catch(e => ({ error: e.message })),
        api('GET', '/v1/admin/stats/series').catch(() => ({ points: [], interval_seconds: 10 })),
        api('GET', '/v1/admin/tokens'),
      ]);
      const view = [h('h1', {}, 'Dashboard')];
      if (stats.error) {
        view.push(h('section', { class: 'panel' }, h('p', { class: 'error' }, stats.error)));
      } else {
        const r = stats.requests;
        view.push(h('div', { class: 'cards', id: 'summary' },
          card('Requests', fmt.int(r.total)),
          card('Success rate', r.total ? fmt.pct(r.succeeded / r.total) : '–'),
          card('Latency p50 / p95', `${fmt.ms(stats.latency_ms.p50)} / ${fmt.ms(stats.latency_ms.p95)}`),
          card('Latency p99', fmt.ms(stats.latency_ms.p99)),
          card('First token p50 / p95', `${fmt.ms(stats.time_to_first_token_ms.p50)} / ${fmt.ms(stats.time_to_first_token_ms.p95)}`),
          card('Tokens in / out', `${fmt.int(stats.tokens.input)} / ${fmt.int(stats.tokens.output)}`),
          card('Active streams', fmt.int(stats.active_streams)),
          card('Retries', fmt.int(stats.retries)),
          card('Credentials', `${stats.credentials.enabled} ok · ${stats.credentials.cooling} cooling · ${stats.credentials.disabled} off`)));
      }
      const points = series.points || [];
      const line = (name, pick) => ({ name, points: points.map(p => ({ t: p.t, v: pick(p) })) });
      const per = (p, n) => n / (p.seconds || series.interval_seconds || 10); // a missed sample makes a longer point
      view.push(h('div', { class: 'charts' },
        lineChart('Requests per second', [line('req/s', p => per(p, p.requests))], v => v.toFixed(v < 10 ? 2 : 0), 'chart-rps'),
        lineChart('Success rate', [line('success', p => p.requests ? p.succeeded / p.requests : null)], fmt.pct, 'chart-success'),
        lineChart('Latency', [line('p50', p => p.latency_ms.p50), line('p95', p => p.latency_ms.p95), line('p99', p => p.latency_ms.p99)], fmt.ms, 'chart-latency'),
        lineChart('Time to first token', [line('p50', p => p.time_to_first_token_ms.p50), line('p95', p => p.time_to_first_token_ms.p95),
          line('p99', p => p.time_to_first_token_ms.p99)], fmt.ms, 'chart-ttft'),
        lineChart('Tokens per second', [line('in', p => per(p, p.tokens_in)), line('out', p => per(p, p.tokens_out))], v => v.toFixed(v < 10 ? 2 : 0), 'chart-tokens'),
        lineChart('Active streams', [line('streams', p => p.active_streams)], v => v.toFixed(v < 10 ? 1 : 0), 'chart-streams', 2),
        lineChart('Requests per model', names(points, 'by_model').map(n => line(n, p => per(p, p.by_model[n] || 0))), v => v.toFixed(2), 'chart-models'),
        lineChart('Requests per credential', names(points, 'by_credential').map(n => line(n, p => per(p, p.by_credential[n] || 0))), v => v.toFixed(2), 'chart-credentials')));
      if (!stats.error) {
        view.push(h('div', { class: 'split' },
          breakdown('By model', 'Model', stats.by_model, 'by-model'),
          breakdown('By credential', 'Credential', stats.by_credential, 'by-credential')));
      }
      view.push(h('section', { class: 'panel', id: 'health' }, h('h2', {}, 'Credential health'),
        h('table', { class: 'responsive' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Credential'), h('th', {}, 'State'), h('th', { class: 'num' }, 'Uses'), h('th', { class: 'num' }, 'Failures'), h('th', {}, 'Last error'))),
          h('tbody', {}, credentials.tokens.map(c => h('tr', {},
            td('Credential', h('code', {}, c.token), c.label ? ` ${c.label}` : ''), td('State', badge(c.state)), h('td', { class: 'num', 'data-label': 'Uses' }, fmt.int(c.use_count)),
            h('td', { class: 'num', 'data-label': 'Failures' }, fmt.int(c.failure_count)), td('Last error', c.last_error || '–')))))));
      return view;
    },

    async credentials() {
      const list = await api('GET', '/v1/admin/tokens');
      const error = h('p', { class: 'error', role: 'alert' });
      const tokens = h('textarea', { id: 'new-tokens', name: 'tokens', rows: 3, spellcheck: 'false', placeholder: 'One token, or a batch: one per line or comma-separated' });
      const label = h('input', { id: 'new-label', name: 'label', type: 'text', maxlength: 200 });
      const add = h('form', { class: 'inline', id: 'add-credential', onsubmit: async event => {
        event.preventDefault();
        error.textContent = '';
        const values = tokens.value.split(/[\s,]+/).map(t => t.trim()).filter(Boolean);
        if (values.length === 0) { error.textContent = 'Paste at least one token.'; tokens.focus(); return; }
        try {
          if (values.length === 1) {
            const result = await api('POST', '/v1/admin/tokens', { token: values[0], label: label.value.trim() || undefined });
            show(result.added ? `Added ${result.token}.` : `${result.token} was already there.`);
          } else {
            const result = await api('POST', '/v1/admin/tokens/batch', { tokens: values });
            show(`Added ${result.added}, ${result.existing} already there.`);
          }
          tokens.value = '';
          label.value = '';
          await render();
        } catch (e) { error.textContent = e.message; }
      } },
      h('div', { class: 'grow' }, h('label', { for: 'new-tokens' }, 'Tokens'), tokens),
      h('div', {}, h('label', { for: 'new-label' }, 'Label (single token)'), label),
      h('div', {}, h('button', { class: 'primary', type: 'submit' }, 'Add')));
      const rows = list.tokens.map(c => h('tr', { dataset: { id: c.id } },
        td('Id', c.id), td('Credential', h('code', {}, c.token), c.label ? h('div', { class: 'muted small' }, c.label) : null),
        td('State', badge(c.state)), td('Reason', c.reason || '–'), td('Last error', c.last_error || '–'),
        h('td', { class: 'num', 'data-label': 'Uses' }, fmt.int(c.use_count)), h('td', { class: 'num', 'data-label': 'Failures' }, fmt.int(c.failure_count)),
        td('Last used', fmt.time(c.last_used)),
        td('Actions', h('div', { class: 'actions' },
          c.state === 'enabled' && !c.admin_disabled
            ? h('button', { type: 'button', 'aria-label': `Disable ${c.token}`, onclick: () => act('POST', `/v1/admin/tokens/${c.id}/disable`, `Disabled ${c.token}.`) }, 'Disable')
            : h('button', { type: 'button', 'aria-label': `Enable ${c.token}`, onclick: () => act('POST', `/v1/admin/tokens/${c.id}/enable`, `Enabled ${c.token}.`) }, 'Enable'),
          h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${c.token}`, onclick: () => {
            if (confirm(`Delete credential ${c.token}?`)) act('DELETE', `/v1/admin/tokens/${c.id}`, `Deleted ${c.token}.`);
          } }, 'Delete')))));
      return [h('h1', {}, 'Credentials'),
        h('section', { class: 'panel' }, h('h2', {}, 'Add credentials'), add, error),
        h('section', { class: 'panel' }, h('h2', {}, `${list.total} credential${list.total === 1 ? '' : 's'}`),
          h('table', { class: 'responsive', id: 'credentials' },
            h('thead', {}, h('tr', {}, ['Id', 'Credential', 'State', 'Reason', 'Last error'].map(t => h('th', {}, t)),
              h('th', { class: 'num' }, 'Uses'), h('th', { class: 'num' }, 'Failures'), h('th', {}, 'Last used'), h('th', {}, 'Actions'))),
            h('tbody', {}, rows))),
        h('section', { class: 'panel' }, h('h2', {}, 'Export'), h('p', { class: 'muted' }, 'Full values, for moving the pool elsewhere. Handle the file like a password.'),
          h('div', { class: 'actions' }, ['json', 'text', 'env'].map(format =>
            h('button', { type: 'button', onclick: () => exportTokens(format) }, `Export ${format}`))))];
    },

    async keys() {
      const list = await api('GET', '/v1/admin/keys');
      const error = h('p', { class: 'error', role: 'alert' });
      const created = h('div', { id: 'created-key', 'aria-live': 'polite' });
      const name = h('input', { id: 'key-name', name: 'name', type: 'text', required: true, maxlength: 200 });
      const admin = h('input', { id: 'key-admin', name: 'is_admin', type: 'checkbox' });
      const limit = h('input', { id: 'key-limit', name: 'rate_limit_per_minute', type: 'number', min: 1, max: 1000000, placeholder: 'no limit' });
      const form = h('form', { class: 'inline', id: 'create-key', onsubmit: async event => {
        event.preventDefault();
        error.textContent = '';
        if (!name.value.trim()) { error.textContent = 'Give the key a name.'; name.focus(); return; }
        try {
          const key = await api('POST', '/v1/admin/keys', { name: name.value.trim(), is_admin: admin.checked,
            rate_limit_per_minute: limit.value ? Number(limit.value) : null });
          name.value = ''; limit.value = ''; admin.checked = false;
          await render();
          const box = document.getElementById('created-key');
          box.replaceChildren(h('div', { class: 'secret' }, h('strong', {}, `New key "${key.name}" — shown only this once: `),
            h('code', { id: 'new-key-value' }, key.key), ' ',
            h('button', { type: 'button', onclick: () => navigator.clipboard?.writeText(key.key).then(() => show('Copied.')) }, 'Copy')));
        } catch (e) { error.textContent = e.message; }
      } },
      h('div', {}, h('label', { for: 'key-name' }, 'Name'), name),
      h('div', { class: 'check' }, admin, h('label', { for: 'key-admin' }, 'Admin')),
      h('div', {}, h('label', { for: 'key-limit' }, 'Requests per minute'), limit),
      h('div', {}, h('button', { class: 'primary', type: 'submit' }, 'Create key')));
      const rows = list.keys.map(k => h('tr', { dataset: { id: k.id, name: k.name } },
        td('Name', k.name), td('Key', h('code', {}, k.key)), td('Key id', h('code', {}, k.key_id)), td('Admin', k.is_admin ? 'yes' : 'no'),
        td('State', badge(k.enabled ? 'enabled' : 'disabled')), td('Rate limit', k.rate_limit_per_minute ? `${k.rate_limit_per_minute}/min` : 'none'),
        td('Created', fmt.time(k.created)),
        td('Actions', h('div', { class: 'actions' },
          h('button', { type: 'button', 'aria-label': `${k.enabled ? 'Disable' : 'Enable'} key ${k.name}`,
            onclick: () => act('PATCH', `/v1/admin/keys/${k.id}`, `${k.enabled ? 'Disabled' : 'Enabled'} ${k.name}.`, { enabled: !k.enabled }) }, k.enabled ? 'Disable' : 'Enable'),
          h('button', { type: 'button', class: 'danger', 'aria-label': `Delete key ${k.name}`, onclick: () => {
            if (confirm(`Delete key ${k.name}? Clients using it are refused at once.`)) act('DELETE', `/v1/admin/keys/${k.id}`, `Deleted ${k.name}.`);
          } }, 'Delete')))));
      return [h('h1', {}, 'API keys'),
        h('section', { class: 'panel' }, h('h2', {}, 'Create a key'), form, error, created),
        h('section', { class: 'panel' }, h('table', { class: 'responsive', id: 'keys' },
          h('thead', {}, h('tr', {}, ['Name', 'Key', 'Key id', 'Admin', 'State', 'Rate limit', 'Created', 'Actions'].map(t => h('th', {}, t)))),
          h('tbody', {}, rows)))];
    },

    async config() {
      const { settings } = await api('GET', '/v1/admin/config');
      const rows = settings.map(s => {
        const id = 'setting-' + s.key;
        const error = h('p', { class: 'error', id: id + '-error', role: 'alert' });
        let input;
        if (s.type === 'boolean') input = h('input', { id, type: 'checkbox', checked: s.value === true, 'aria-describedby': id + '-error' });
        else if (s.type === 'integer') input = h('input', { id, type: 'number', value: s.value, 'aria-describedby': id + '-error' });
        else if (/prompt/i.test(s.key)) { input = h('textarea', { id, rows: 3, 'aria-describedby': id + '-error' }); input.value = s.value ?? ''; }
        else input = h('input', { id, type: 'text', value: s.value ?? '', 'aria-describedby': id + '-error' });
        const save = h('button', { type: 'button', class: 'primary', 'aria-label': `Save ${s.key}`, onclick: async () => {
          error.textContent = '';
          let value;
          if (s.type === 'boolean') value = input.checked;
          else if (s.type === 'integer') {
            if (!/^-?\d+$/.test(input.value.trim())) { error.textContent = `'${s.key}' must be a whole number.`; input.focus(); return; }
            value = Number(input.value);
          } else value = input.value;
          try {
            await api('PATCH', '/v1/admin/config', { [s.key]: value });
            show(`Saved ${s.key}.`);
            await render();
          } catch (e) { error.textContent = e.message; input.focus(); }
        } }, 'Save');
        return h('div', { class: 'setting', dataset: { key: s.key } },
          h('div', {}, h('label', { for: id }, s.key), h('div', { class: 'meta muted' }, h('code', {}, s.env), s.overridden ? h('span', { class: 'badge cooling spaced' }, 'changed') : null),
            h('div', { class: 'meta' }, s.description), h('div', { class: 'meta muted' }, 'Default: ', h('code', {}, JSON.stringify(s.default)))),
          h('div', { class: 'field' }, input, error), h('div', {}, save));
      });
      return [h('h1', {}, 'Config'), h('p', { class: 'muted' }, 'Runtime settings: a change reaches every replica within a second and outlives restarts.'),
        h('section', { class: 'panel', id: 'settings' }, rows)];
    },

    async sessions() {
      const params = new URLSearchParams(location.search);
      const wanted = params.get('session_id');
      const input = h('input', { id: 'session-id', name: 'session_id', type: 'search', value: wanted || '', spellcheck: 'false' });
      const view = [h('h1', {}, 'Sessions'),
        h('section', { class: 'panel' }, h('form', { class: 'inline', id: 'find-session', onsubmit: event => {
          event.preventDefault();
          const id = input.value.trim();
          navigate('/admin/sessions' + (id ? '?session_id=' + encodeURIComponent(id) : ''));
        } }, h('div', {}, h('label', { for: 'session-id' }, 'Session id'), input), h('div', {}, h('button', { class: 'primary', type: 'submit' }, 'Find'))))];
      if (wanted) {
        try {
          const s = await api('GET', '/v1/admin/sessions?session_id=' + encodeURIComponent(wanted));
          view.push(h('section', { class: 'panel', id: 'session' },
            h('h2', {}, 'Session ', h('code', {}, s.session_id)),
            h('p', { class: 'muted' }, `Key ${s.owner_key_id} · ${s.message_count} messages · ${fmt.int(s.size_bytes)} bytes · last used ${fmt.time(s.last_used)}`),
            s.turns.map(t => h('div', { class: 'turn ' + t.role }, h('strong', {}, t.role), '\n', t.content)),
            h('button', { type: 'button', class: 'danger', onclick: async () => {
              if (!confirm(`Delete session ${s.session_id}?`)) return;
              try { await api('DELETE', '/v1/admin/sessions?session_id=' + encodeURIComponent(s.session_id)); show('Session deleted.'); navigate('/admin/sessions'); }
              catch (e) { show(e.message, true); }
            } }, 'Delete session')));
        } catch (e) {
          view.push(h('section', { class: 'panel' }, h('p', { class: 'error', role: 'alert' }, e.message)));
        }
      }
      const recent = await api('GET', '/v1/admin/sessions?limit=50').catch(() => null);
      if (recent) {
        view.push(h('section', { class: 'panel' }, h('h2', {}, `Recent sessions (${recent.total})`),
          h('table', { class: 'responsive' }, h('thead', {}, h('tr', {}, ['Session', 'Key', 'Messages', 'Last used'].map(t => h('th', {}, t)))),
            h('tbody', {}, recent.data.map(s => h('tr', {},
              td('Session', h('a', { href: '/admin/sessions?session_id=' + encodeURIComponent(s.session_id) }, s.session_id)),
              td('Key', h('code', {}, s.owner_key_id)), td('Messages', s.message_count), td('Last used', fmt.time(s.last_used))))))));
      }
      return view;
    },

    async tools() {
      const { tools } = await api('GET', '/v1/admin/tools');
      const select = h('select', { id: 'tool-name', name: 'tool' }, tools.map(t => h('option', { value: t.name, disabled: !t.enabled }, `${t.name}${t.enabled ? '' : ' (off)'}`)));
      const schema = h('pre', { class: 'result', id: 'tool-schema', tabindex: 0, 'aria-label': 'Arguments schema' }); // scrollable: reachable by keyboard
      const args = h('textarea', { id: 'tool-arguments', name: 'arguments', rows: 6, spellcheck: 'false' });
      const error = h('p', { class: 'error', role: 'alert' });
      const output = h('div', { id: 'tool-result', 'aria-live': 'polite' });
      const describe = () => {
        const tool = tools.find(t => t.name === select.value);
        schema.textContent = tool ? `${tool.description || ''}\n\n${JSON.stringify(tool.input_schema, null, 2)}${tool.unavailable_reason ? '\n\n' + tool.unavailable_reason : ''}` : '';
        const example = {};
        for (const name of (tool?.input_schema?.required || [])) example[name] = '';
        args.value = JSON.stringify(example, null, 2);
      };
      select.addEventListener('change', describe);
      const first = tools.find(t => t.enabled);
      if (first) select.value = first.name;
      describe();
      const form = h('form', { id: 'run-tool', onsubmit: async event => {
        event.preventDefault();
        error.textContent = '';
        let parsed;
        try { parsed = args.value.trim() ? JSON.parse(args.value) : {}; } catch (e) { error.textContent = 'Arguments must be a JSON object: ' + e.message; args.focus(); return; }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) { error.textContent = 'Arguments must be a JSON object.'; args.focus(); return; }
        const button = form.querySelector('button[type=submit]');
        button.disabled = true;
        try {
          const result = await api('POST', '/v1/admin/tools/execute', { tool: select.value, arguments: parsed });
          output.replaceChildren(h('p', { class: result.is_error ? 'error' : 'ok' }, `${result.tool}: ${result.is_error ? 'failed' : 'done'} in ${fmt.ms(result.duration_ms)}`),
            h('pre', { class: 'result', tabindex: 0, 'aria-label': 'Tool result' }, result.result));
        } catch (e) { error.textContent = e.message; }
        finally { button.disabled = false; }
      } },
      h('div', {}, h('label', { for: 'tool-name' }, 'Tool')), select,
      h('h2', { class: 'gap-top' }, 'Arguments schema'), schema,
      h('label', { for: 'tool-arguments' }, 'Arguments (JSON)'), args, error,
      h('button', { class: 'primary', type: 'submit' }, 'Run'));
      return [h('h1', {}, 'Tools'), h('section', { class: 'panel' }, form), h('section', { class: 'panel' }, h('h2', {}, 'Result'), output)];
    },
  };

  function card(label, value) { return h('div', { class: 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value)); }

  function names(points, group) {
    const seen = new Set();
    for (const p of points) for (const n of Object.keys(p[group] || {})) seen.add(n);
    return [...seen].slice(0, 6);
  }

  function breakdown(title, what, counts, id) {
    const entries = Object.entries(counts || {});
    const total = entries.reduce((sum, [, n]) => sum + n, 0);
    return h('section', { class: 'panel', id }, h('h2', {}, title),
      entries.length === 0 ? h('p', { class: 'muted' }, 'No requests yet.') :
        h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, what), h('th', { class: 'num' }, 'Requests'), h('th', { class: 'num' }, 'Share'))),
          h('tbody', {}, entries.map(([name, n]) => h('tr', {}, h('td', {}, h('code', {}, name)), h('td', { class: 'num' }, fmt.int(n)),
            h('td', { class: 'num' }, fmt.pct(n / total)))))));
  }

  async function act(method, path, message, body) {
    try { await api(method, path, body); show(message); await render(); }
    catch (e) { show(e.message, true); }
  }

  async function exportTokens(format) {
    try {
      const response = await fetch('/v1/admin/tokens/export?format=' + format, { credentials: 'same-origin', headers: { 'x-csrf-token': csrf } });
      if (!response.ok) throw new Error(`Export failed (${response.status}).`);
      const blob = await response.blob();
      const link = h('a', { href: URL.createObjectURL(blob), download: `flowith-tokens.${format === 'text' ? 'txt' : format}` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    } catch (e) { show(e.message, true); }
  }

  // ---------- routing ----------
  function pageName() { return location.pathname.replace(/^\/admin\/?/, '') || 'dashboard'; }

  async function render() {
    clearTimeout(refreshTimer);
    const name = pageName();
    const page = pages[name];
    for (const link of document.querySelectorAll('header nav a')) {
      if (link.dataset.page === name) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
    }
    if (!page) { main.replaceChildren(h('h1', {}, 'Not found')); return; }
    document.title = `${name[0].toUpperCase()}${name.slice(1)} · Flowith2Api console`;
    try {
      const content = await page();
      if (pageName() !== name) return; // navigated away meanwhile
      const focused = document.activeElement?.id;
      main.replaceChildren(...content);
      main.dataset.ready = name;
      if (focused && document.getElementById(focused) && main.contains(document.getElementById(focused))) document.getElementById(focused).focus();
    } catch (e) {
      if (e.status !== 401) main.replaceChildren(h('h1', {}, 'Something went wrong'), h('p', { class: 'error', role: 'alert' }, e.message));
    }
    if (name === 'dashboard') refreshTimer = setTimeout(render, 3000); // live: a short poll
  }

  function navigate(path) {
    history.pushState(null, '', path);
    render().then(() => main.focus({ preventScroll: true }));
  }

  document.addEventListener('click', event => {
    const link = event.target.closest('a');
    if (!link || link.target || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const url = new URL(link.href, location.href);
    if (url.origin === location.origin && /^\/admin\/[a-z]+$/.test(url.pathname) && pages[url.pathname.slice(7)]) {
      event.preventDefault();
      navigate(url.pathname + url.search);
    }
  });
  window.addEventListener('popstate', render);

  document.getElementById('signout').addEventListener('click', async () => {
    try {
      if (!csrf) {
        const session = await fetch('/admin/api/session', { credentials: 'same-origin' });
        if (session.ok) csrf = (await session.json()).csrf_token;
      }
      const response = await fetch('/admin/api/session', { method: 'DELETE', credentials: 'same-origin', headers: { 'x-csrf-token': csrf || '' } });
      if (!response.ok) { show('Signing out failed: the session is still open. Try again.', true); return; }
      location.replace('/admin/login');
    } catch { show('The gateway cannot be reached; the session is still open.', true); }
  });

  (async () => {
    const response = await fetch('/admin/api/session', { credentials: 'same-origin' });
    if (!response.ok) { location.replace('/admin/login?next=' + encodeURIComponent(location.pathname)); return; }
    const session = await response.json();
    csrf = session.csrf_token;
    document.getElementById('who').textContent = `Signed in as ${session.key_name}`;
    await render();
  })();
})();
