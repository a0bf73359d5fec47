/**
 * The sign-in and consent page. Plain HTML that works without script, with labels for every
 * field (so it reads and works by keyboard), and errors said in words above the form.
 */

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export interface ConsentPage {
  clientName: string;
  clientId: string;
  redirectHost: string;
  scopes: string[];
  /** The authorization request, carried through the form unchanged. */
  fields: Record<string, string>;
  username?: string;
  error?: string;
  rememberedScopes: string[];
}

const SCOPE_WORDS: Record<string, string> = {
  admin: 'everything, including managing the mesh',
  audit: "the audit trail: every call's arguments and results, on every node",
};

function describeScope(scope: string): string {
  if (SCOPE_WORDS[scope] !== undefined) return SCOPE_WORDS[scope];
  const [kind, arg] = scope.split(/:(.*)/s);
  if (kind === 'node') return `every tool of the node ${arg}`;
  if (kind === 'tools') return `tools matching ${arg}`;
  if (kind === 'read') return `read-only tools matching ${arg}`;
  return scope;
}

export function consentPage(page: ConsentPage): string {
  const hidden = Object.entries(page.fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n      ');
  const scopes = page.scopes
    .map((s) => `<li><code>${escapeHtml(s)}</code>: ${escapeHtml(describeScope(s))}</li>`)
    .join('');
  const remembered =
    page.rememberedScopes.length > 0 && page.scopes.every((s) => page.rememberedScopes.includes(s))
      ? '<p class="note">You allowed this application these permissions before.</p>'
      : '';
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Allow ${escapeHtml(page.clientName)} to use brainmesh?</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; color: #1a1a1a; }
    .error { background: #fde8e8; border: 1px solid #c81e1e; padding: .75rem; border-radius: .375rem; }
    .note { color: #555; }
    label { display: block; margin-top: 1rem; font-weight: 600; }
    input[type=text], input[type=password] { width: 100%; padding: .5rem; font-size: 1rem; box-sizing: border-box; }
    .buttons { margin-top: 1.5rem; display: flex; gap: .75rem; }
    button { padding: .6rem 1.2rem; font-size: 1rem; border-radius: .375rem; border: 1px solid #444; cursor: pointer; }
    button[value=allow] { background: #1a56db; color: white; border-color: #1a56db; }
    button:focus-visible, input:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
  </style>
</head>
<body>
  <main>
    <h1>Allow ${escapeHtml(page.clientName)} to use brainmesh?</h1>
    ${page.error === undefined ? '' : `<p class="error" role="alert" id="error">${escapeHtml(page.error)}</p>`}
    <p><strong>${escapeHtml(page.clientName)}</strong> (<code>${escapeHtml(page.clientId)}</code>) asks to act for you, and will be sent back to <strong>${escapeHtml(page.redirectHost)}</strong>. It wants:</p>
    <ul>${scopes}</ul>
    ${remembered}
    <form method="post" action="/oauth/authorize">
      ${hidden}
      <label for="username">Operator name</label>
      <input type="text" id="username" name="username" autocomplete="username" required value="${escapeHtml(page.username ?? '')}" ${page.username ? '' : 'autofocus'}>
      <label for="password">Password</label>
      <input type="password" id="password" name="password" autocomplete="current-password" required ${page.username ? 'autofocus' : ''}>
      <div class="buttons">
        <button type="submit" name="decision" value="allow">Allow</button>
        <button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
      </div>
    </form>
  </main>
</body>
</html>`;
}

export function errorPage(title: string, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body { font: 16px/1.5 system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; }</style></head>
<body><main><h1>${escapeHtml(title)}</h1><p role="alert">${escapeHtml(message)}</p></main></body></html>`;
}
