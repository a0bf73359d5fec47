// The brainmesh dashboard: plain browser JavaScript, served by the hub as it is (no build step,
// no other site). Every figure comes from the hub's admin API; the audit's live tail from its
// WebSocket. Text reaches the page as text nodes only, never as markup.

const UI_HEADER = 'x-brainmesh-ui';
const main = document.getElementById('main');
const statusLine = document.getElementById('status');
/** What the page on screen must stop when another takes its place: timers, sockets. */
let cleanups = [];

class SignedOut extends Error {}

/**
 * The secret the sign-in returned, the other half of the sign-in with the cookie: this origin's
 * storage only (port included), where the cookie goes to every port of the host.
 */
const SECRET_KEY = 'brainmesh-ui-secret';
const secret = () => localStorage.getItem(SECRET_KEY) ?? 'signed-out';

async function api(method, path, body) {
  const headers = { [UI_HEADER]: secret() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (res.status === 401 && path !== '/ui/session') {
    showSignIn();
    throw new SignedOut('signed out');
  }
  if (res.status === 204) return undefined;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.message ?? `the hub answered HTTP ${res.status}`);
  return data;
}

/** An element: attributes (on* are listeners), then children (strings become text). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A form's submit handler: the page stays, and `work` runs with its failure reported. */
function submitted(work) {
  return (event) => {
    event.preventDefault();
    work().catch(report);
  };
}

function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

function say(message) {
  statusLine.textContent = message;
}

function when(iso) {
  return iso === null || iso === undefined ? '—' : new Date(iso).toLocaleString();
}

function duration(seconds) {
  const d = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  return d > 0 ? `${d} d ${hours} h` : hours > 0 ? `${hours} h ${m} min` : `${m} min ${seconds % 60} s`;
}

/** Asks in the confirmation dialog; resolves true for Yes. */
function confirmed(question) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = question;
  dialog.returnValue = '';
  dialog.showModal();
  document.getElementById('confirm-no').focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true });
  });
}

/** Shows something once (a new key, a token, a row) in a dialog. */
function show(title, ...body) {
  const dialog = document.getElementById('shown');
  document.getElementById('shown-title').textContent = title;
  document.getElementById('shown-body').replaceChildren(...body);
  dialog.showModal();
}

/** A table's scroller for narrow screens: reachable by keyboard, so it scrolls by keys too. */
function scroller(label) {
  return { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': label };
}

function heading(text) {
  return h('h1', { tabindex: '-1' }, text);
}

// ---- signing in ----------------------------------------------------------------------------

function showSignIn(message) {
  for (const stop of cleanups) stop();
  cleanups = [];
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
  const error = h('p', { class: 'alert', role: 'alert', id: 'signin-error', hidden: message === undefined }, message);
  const form = h(
    'form',
    { class: 'signin', onsubmit: signIn },
    h('label', { for: 'username' }, 'Operator name'),
    h('input', { type: 'text', id: 'username', name: 'username', autocomplete: 'username', required: true }),
    h('label', { for: 'password' }, 'Password'),
    h('input', {
      type: 'password',
      id: 'password',
      name: 'password',
      autocomplete: 'current-password',
      required: true,
    }),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Sign in')),
  );
  main.replaceChildren(heading('Sign in to brainmesh'), error, form);
  document.title = 'Sign in · brainmesh';
  document.getElementById('username').focus();

  async function signIn(event) {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const signedIn = await api('POST', '/ui/session', {
        username: data.get('username'),
        password: data.get('password'),
      });
      localStorage.setItem(SECRET_KEY, signedIn.secret);
      await start();
    } catch (err) {
      error.hidden = false;
      error.textContent = `${err.message}.`;
      document.getElementById('password').value = '';
      document.getElementById('password').focus();
    }
  }
}

document.getElementById('sign-out').addEventListener('click', async () => {
  await api('DELETE', '/ui/session').catch(() => {});
  localStorage.removeItem(SECRET_KEY);
  showSignIn();
});

// ---- overview ------------------------------------------------------------------------------

function sparkline(counts) {
  const width = 96;
  const height = 24;
  const top = Math.max(1, ...counts);
  const step = width / Math.max(1, counts.length - 1);
  const points = counts.map((n, i) => `${(i * step).toFixed(1)},${(height - 2 - (n / top) * (height - 4)).toFixed(1)}`);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('aria-hidden', 'true');
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', points.join(' '));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', '#1a56db');
  line.setAttribute('stroke-width', '1.5');
  svg.append(line);
  return svg;
}

async function overview() {
  const facts = h('dl', { class: 'facts' });
  const rows = h('tbody');
  const table = h(
    'div',
    scroller('Nodes'),
    h(
      'table',
      { id: 'nodes' },
      h('caption', {}, 'Every node, refreshed every 5 seconds'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Node', 'Link', 'Direction', 'Circuit', 'Tools', 'Latency', 'Calls per minute'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      rows,
    ),
  );
  main.replaceChildren(heading('Overview'), h('h2', {}, 'Hub'), facts, h('h2', {}, 'Nodes'), table);

  const refresh = async () => {
    const [status, activity] = await Promise.all([
      api('GET', '/admin/status'),
      api('GET', '/admin/activity?minutes=15'),
    ]);
    const { hub } = status;
    facts.replaceChildren(
      ...[
        ['Hub', `${hub.id} (version ${hub.version})`],
        ['Up for', duration(hub.uptimeSeconds)],
        ['Storage', `database ${hub.storage.database}, store ${hub.storage.store}`],
        ['Nodes', `${status.nodes.up} of ${status.nodes.total} up`],
        ['Tools', String(status.tools)],
      ].flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    );
    rows.replaceChildren(
      ...status.list.map((node) => {
        const counts = activity.nodes[node.id] ?? new Array(activity.minutes).fill(0);
        const lastMinute = counts.at(-2) ?? 0;
        const link = node.status === 'disabled' ? 'disabled' : node.link;
        return h(
          'tr',
          { 'data-node': node.id },
          h('th', { scope: 'row' }, node.id),
          h('td', { class: link }, link),
          h('td', {}, node.direction ?? '—'),
          h('td', { class: node.circuit.state }, node.circuit.state),
          h('td', {}, String(node.tools)),
          h('td', {}, node.latencyMs === null ? '—' : `${node.latencyMs} ms`),
          h('td', {}, sparkline(counts), ` ${lastMinute} in the last minute, ${counts.at(-1) ?? 0} in this one`),
        );
      }),
    );
  };
  await refresh();
  const timer = setInterval(() => refresh().catch(report), 5_000);
  cleanups.push(() => clearInterval(timer));
}

// ---- tools ---------------------------------------------------------------------------------

/** The most the admin API lists at once. */
const TOOL_LIMIT = 500;

async function tools() {
  const list = h('ul', { id: 'tool-list', class: 'tools' });
  const count = h('p', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { role: 'search', onsubmit: submitted(find) },
    h('label', { for: 'tool-query' }, 'Search the catalog'),
    h('input', { type: 'search', id: 'tool-query', name: 'query', placeholder: 'words from a name or description' }),
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Search')),
  );
  main.replaceChildren(heading('Tools'), form, count, list);

  async function find() {
    const query = document.getElementById('tool-query').value.trim();
    const { tools } = await api('GET', `/admin/tools?limit=${TOOL_LIMIT}&query=${encodeURIComponent(query)}`);
    const shown = tools.length === TOOL_LIMIT ? `the first ${TOOL_LIMIT} tools` : plural(tools.length, 'tool');
    count.textContent = query === '' ? shown : `${shown} match “${query}”, best first`;
    list.replaceChildren(
      ...tools.map((tool) => {
        const body = h('div', {}, 'Loading…');
        const details = h(
          'details',
          {
            ontoggle: async () => {
              if (!details.open || details.dataset.loaded) return;
              details.dataset.loaded = '1';
              const { tool: whole } = await api('GET', `/admin/tools/${encodeURIComponent(tool.name)}`);
              const hints = Object.entries(whole.annotations ?? {});
              body.replaceChildren(
                h('p', {}, whole.description ?? ''),
                h('h3', {}, 'Annotations'),
                hints.length === 0
                  ? h('p', {}, 'none')
                  : h('dl', { class: 'facts' }, ...hints.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])),
                h('h3', {}, 'Input schema'),
                h('pre', {}, JSON.stringify(whole.inputSchema, null, 2)),
                whole.outputSchema === undefined
                  ? null
                  : [h('h3', {}, 'Output schema'), h('pre', {}, JSON.stringify(whole.outputSchema, null, 2))],
              );
            },
          },
          h(
            'summary',
            {},
            h('code', {}, tool.name),
            ` (${tool.node}${tool.readOnly ? ', read-only' : ''}): ${tool.title ?? tool.description}`,
          ),
          body,
        );
        return h('li', {}, details);
      }),
    );
  }
  await find();
}

// ---- audit ---------------------------------------------------------------------------------

const AUDIT_FIELDS = ['node', 'tool', 'status', 'principal', 'since', 'text'];

function auditRow(row, fresh) {
  return h(
    'tr',
    { class: fresh ? 'fresh' : undefined, 'data-trace': row.traceId },
    h('td', {}, when(row.at)),
    h('td', {}, row.node),
    h('td', {}, h('code', {}, row.tool)),
    h('td', { class: row.status }, row.status),
    h('td', {}, row.principal),
    h('td', {}, `${row.durationMs} ms`),
    h(
      'td',
      {},
      h(
        'button',
        {
          type: 'button',
          'aria-label': `View the call of ${row.tool} at ${when(row.at)}`,
          onclick: () =>
            show(
              `${row.node}: ${row.tool}`,
              h(
                'dl',
                { class: 'facts' },
                ...[
                  ['Trace id', row.traceId],
                  ['At', when(row.at)],
                  ['Principal', row.principal],
                  ['Status', row.status],
                  ['Source', row.source],
                  ['Duration', `${row.durationMs} ms`],
                  ['Error', row.error ?? '—'],
                ].flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
              ),
              h('h3', {}, 'Arguments'),
              h('pre', {}, JSON.stringify(row.params, null, 2)),
              h('h3', {}, 'Result'),
              h('pre', {}, JSON.stringify(row.response, null, 2)),
            ),
        },
        'View',
      ),
    ),
  );
}

function auditTable(id, caption, body) {
  return h(
    'div',
    scroller(caption),
    h(
      'table',
      { id },
      h('caption', {}, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['At', 'Node', 'Tool', 'Status', 'Principal', 'Took', ''].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      body,
    ),
  );
}

async function audit() {
  const { nodes } = await api('GET', '/admin/nodes');
  const field = (name, label, input) => h('div', {}, h('label', { for: `audit-${name}` }, label), input);
  const text = (name) => h('input', { type: 'text', id: `audit-${name}`, name });
  const select = (name, options) =>
    h(
      'select',
      { id: `audit-${name}`, name },
      h('option', { value: '' }, 'any'),
      ...options.map((o) => h('option', { value: o }, o)),
    );
  const form = h(
    'form',
    { class: 'filters', onsubmit: submitted(apply) },
    field(
      'node',
      'Node',
      select(
        'node',
        nodes.map((n) => n.id),
      ),
    ),
    field('tool', 'Tool', text('tool')),
    field('status', 'Status', select('status', ['ok', 'error', 'cancelled'])),
    field('principal', 'Principal', text('principal')),
    field('since', 'Since', h('input', { type: 'datetime-local', id: 'audit-since', name: 'since' })),
    field('text', 'Text in the arguments', text('text')),
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'submit', class: 'primary' }, 'Search'),
      h('button', { type: 'button', id: 'verify', onclick: verify }, 'Verify chain'),
    ),
  );
  const verdict = h('div', { id: 'verify-result', 'aria-live': 'polite' });
  const liveState = h('p', { id: 'live-state', 'aria-live': 'polite' }, 'Connecting the live tail…');
  const liveRows = h('tbody', { id: 'live-rows' });
  const foundRows = h('tbody', { id: 'found-rows' });
  main.replaceChildren(
    heading('Audit'),
    form,
    verdict,
    h('h2', {}, 'Live'),
    liveState,
    auditTable('live', 'Calls as they reach the audit trail, newest first', liveRows),
    h('h2', {}, 'Search results'),
    auditTable('found', 'The newest calls that match, newest first', foundRows),
  );

  let socket;
  let last;
  /** The filters last applied (the search's and the live tail's), not the form as edited since. */
  let applied = new URLSearchParams();
  const filters = () => {
    const params = new URLSearchParams();
    const data = new FormData(form);
    for (const name of AUDIT_FIELDS) {
      const value = String(data.get(name) ?? '').trim();
      if (value === '') continue;
      params.set(name, name === 'since' ? new Date(value).toISOString() : value);
    }
    return params;
  };
  const connect = () => {
    const params = new URLSearchParams(applied);
    if (last !== undefined) params.set('after', String(last));
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ui/live?${params}`);
    socket = ws;
    // The secret first: a WebSocket's handshake carries no header of ours.
    ws.addEventListener('open', () => ws.send(JSON.stringify({ secret: secret() })));
    ws.addEventListener('message', (event) => {
      const message = JSON.parse(event.data);
      if (message.type === 'live') liveState.textContent = 'Live: new calls appear here as they are recorded.';
      if (message.type !== 'audit') return;
      last = message.row.id;
      liveRows.prepend(auditRow(message.row, true));
      while (liveRows.children.length > 200) liveRows.lastElementChild.remove();
    });
    ws.addEventListener('close', (event) => {
      if (socket !== ws) return;
      if (event.code === 4401) return showSignIn('Your sign-in has ended; sign in again.');
      if (event.code === 4400) {
        liveState.textContent = 'The live tail cannot follow these filters; change them and search again.';
        return;
      }
      liveState.textContent = 'The live tail was cut; reconnecting…';
      const timer = setTimeout(connect, 2_000);
      cleanups.push(() => clearTimeout(timer));
    });
  };
  cleanups.push(() => {
    const ws = socket;
    socket = undefined;
    ws?.close();
  });

  async function search() {
    const { events } = await api('GET', `/admin/audit?limit=50&${applied}`);
    foundRows.replaceChildren(...events.map((row) => auditRow(row, false)));
    say(`${plural(events.length, 'call')} found`);
  }

  async function apply() {
    applied = filters();
    await search();
    // The live tail follows the same filters.
    last = undefined;
    liveRows.replaceChildren();
    const ws = socket;
    socket = undefined;
    ws?.close();
    connect();
  }

  async function verify() {
    verdict.replaceChildren(h('p', {}, 'Verifying every node’s chain…'));
    const result = await api('GET', '/admin/audit/verify');
    verdict.replaceChildren(
      h(
        'p',
        { class: result.ok ? 'ok' : 'bad', role: 'status' },
        result.ok ? 'Every chain holds.' : 'A chain does not hold.',
      ),
      h(
        'ul',
        {},
        ...result.nodes.map((n) =>
          h(
            'li',
            {},
            n.ok
              ? `${n.node}: holds (${plural(n.rows, 'row')}, ${plural(n.batches, 'signed batch', 'signed batches')})`
              : `${n.node}: does not hold at seq ${n.problem.seq} (${n.problem.kind}: ${n.problem.detail})`,
          ),
        ),
      ),
    );
  }

  connect();
  await search();
}

// ---- keys and nodes ------------------------------------------------------------------------

async function access() {
  const [{ keys }, { nodes }] = await Promise.all([api('GET', '/admin/keys'), api('GET', '/admin/nodes')]);
  const scopePicker = h(
    'fieldset',
    {},
    h('legend', {}, 'Scopes'),
    ...['admin', 'audit', ...nodes.map((n) => `node:${n.id}`)].map((scope) =>
      h('label', {}, h('input', { type: 'checkbox', name: 'scope', value: scope }), scope),
    ),
    h('label', { for: 'key-other' }, 'Other scopes (space-separated, such as tools:crm__* or read:*)'),
    h('input', { type: 'text', id: 'key-other', name: 'other' }),
  );
  const keyForm = h(
    'form',
    { onsubmit: submitted(createKey) },
    h('label', { for: 'key-name' }, 'Name'),
    h('input', { type: 'text', id: 'key-name', name: 'name', required: true }),
    scopePicker,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create key')),
  );
  const enrolForm = h(
    'form',
    { onsubmit: submitted(enrol) },
    h('label', { for: 'enrol-node' }, 'New node’s name'),
    h('input', { type: 'text', id: 'enrol-node', name: 'node', required: true, pattern: '[a-z0-9][a-z0-9-]{0,62}' }),
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Make an enrolment token')),
  );
  const keyRows = keys.map((key) =>
    h(
      'tr',
      { 'data-key': key.id },
      h('th', { scope: 'row' }, key.name),
      h('td', {}, h('code', {}, key.id)),
      h('td', {}, key.scopes.join(' ')),
      h('td', { class: key.status }, key.status),
      h('td', {}, when(key.lastUsedAt)),
      h(
        'td',
        {},
        key.status === 'active'
          ? h(
              'button',
              {
                type: 'button',
                class: 'danger',
                'aria-label': `Revoke the key ${key.name}`,
                onclick: () => revoke(key),
              },
              'Revoke',
            )
          : null,
      ),
    ),
  );
  const nodeRows = nodes.map((node) =>
    h(
      'tr',
      { 'data-node': node.id },
      h('th', { scope: 'row' }, node.id),
      h('td', {}, node.status),
      h('td', { class: node.link }, node.link),
      h(
        'td',
        {},
        h(
          'button',
          {
            type: 'button',
            'aria-label': `${node.status === 'disabled' ? 'Enable' : 'Disable'} the node ${node.id}`,
            onclick: () => toggle(node),
          },
          node.status === 'disabled' ? 'Enable' : 'Disable',
        ),
      ),
    ),
  );
  const table = (id, caption, columns, rows) =>
    h(
      'div',
      scroller(caption),
      h(
        'table',
        { id },
        h('caption', {}, caption),
        h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, ...rows),
      ),
    );
  main.replaceChildren(
    heading('Keys and nodes'),
    h('h2', {}, 'API keys'),
    table('keys', 'Every API key, revoked ones too', ['Name', 'Id', 'Scopes', 'Status', 'Last used', ''], keyRows),
    h('h2', {}, 'New API key'),
    keyForm,
    h('h2', {}, 'Nodes'),
    table('node-admin', 'Enrolled nodes', ['Node', 'Status', 'Link', ''], nodeRows),
    h('h2', {}, 'Enrol a node'),
    enrolForm,
  );

  async function revoke(key) {
    if (!(await confirmed(`Revoke the key “${key.name}” (${key.id})? Calls with it are refused from now on.`))) return;
    await api('DELETE', `/admin/keys/${key.id}`);
    say(`The key ${key.name} is revoked.`);
    await access();
  }

  async function toggle(node) {
    const enable = node.status === 'disabled';
    const question = enable
      ? `Enable the node ${node.id}? The hub links to it and serves its tools again.`
      : `Disable the node ${node.id}? Its link is closed and every call to it refused until it is enabled.`;
    if (!(await confirmed(question))) return;
    await api('POST', `/admin/nodes/${node.id}/${enable ? 'enable' : 'disable'}`);
    say(`The node ${node.id} is ${enable ? 'enabled' : 'disabled'}.`);
    await access();
  }

  async function createKey() {
    const data = new FormData(keyForm);
    const scopes = [
      ...data.getAll('scope').map(String),
      ...String(data.get('other') ?? '')
        .split(/\s+/)
        .filter(Boolean),
    ];
    if (scopes.length === 0) return say('Choose at least one scope.');
    const name = String(data.get('name')).trim();
    if (!(await confirmed(`Create the key “${name}” with ${scopes.join(', ')}?`))) return;
    const made = await api('POST', '/admin/keys', { name, scopes });
    await access();
    show(
      `The key ${made.name}`,
      h('p', {}, 'Copy it now: the hub keeps only its hash and cannot show it again.'),
      h('p', { class: 'secret' }, made.key),
    );
  }

  async function enrol() {
    const node = String(new FormData(enrolForm).get('node')).trim();
    if (!(await confirmed(`Make a one-time enrolment token for a new node named ${node}?`))) return;
    const made = await api('POST', '/admin/enrolments', { node });
    show(
      `Enrolment token for ${made.node}`,
      h(
        'p',
        {},
        `Give it to the new node at its first start (BRAINMESH_ENROLMENT_TOKEN). It works once, until ${when(made.expiresAt)}.`,
      ),
      h('p', { class: 'secret' }, made.token),
    );
  }
}

// ---- routing -------------------------------------------------------------------------------

const PAGES = {
  overview: ['Overview', overview],
  tools: ['Tools', tools],
  audit: ['Audit', audit],
  access: ['Keys and nodes', access],
};

function report(err) {
  if (err instanceof SignedOut) return;
  say(`Something failed: ${err.message}`);
}

async function route() {
  for (const stop of cleanups) stop();
  cleanups = [];
  const name = Object.hasOwn(PAGES, location.hash.slice(1)) ? location.hash.slice(1) : 'overview';
  const [title, render] = PAGES[name];
  document.title = `${title} · brainmesh`;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === `#${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    await render();
    main.querySelector('h1')?.focus();
  } catch (err) {
    report(err);
  }
}

async function start() {
  let who;
  try {
    who = await api('GET', '/ui/session');
  } catch {
    return showSignIn();
  }
  document.getElementById('who-name').textContent = `Signed in as ${who.username}`;
  document.getElementById('who').hidden = false;
  document.getElementById('nav').hidden = false;
  await route();
}

window.addEventListener('hashchange', () => void route());
window.addEventListener('unhandledrejection', (event) => report(event.reason));
void start();
