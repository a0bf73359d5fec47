import { adminRequest, UsageProblem } from './admin-client.js';
import { type CommandSpec, type Io, runCommand, table } from './command.js';

export const KEYS_USAGE = `usage: brainmesh keys <create|list|revoke> [NAME|ID] [flags]

  create NAME --scope SCOPE [--scope SCOPE…] [--expires-in DAYS]
                      make an API key; it is shown once, so store it now
  list                every key: id, name, scopes, status, last use (never the key)
  revoke ID           stop a key; its next request is refused

scopes: admin          everything, and the admin API
        audit          the audit trail of every node, arguments included (mesh__audit_search)
        node:NAME      every tool, resource and prompt of one node
        tools:GLOB     tools whose hub name matches GLOB (e.g. tools:medtainer__gohighlevel_*)
        read:GLOB      the same, read-only tools only

flags:
  --hub URL        the hub (default $BRAINMESH_HUB, else http://127.0.0.1:8080)
  --api-key KEY    an admin key (default $BRAINMESH_API_KEY, else the local operator key)
  --json           print JSON instead of text

example: brainmesh keys create claude-desktop --scope node:devmcp --scope read:*`;

interface KeyView {
  id: string;
  name: string;
  scopes: string[];
  status: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export const keysSpec: CommandSpec = {
  name: 'keys',
  usage: KEYS_USAGE,
  options: { scope: { type: 'string', multiple: true }, 'expires-in': { type: 'string' } },
  actions: {
    create: {
      args: ['NAME'],
      run: async ({ args: [name], flags, target, print }) => {
        const scopes = (flags.scope as string[] | undefined) ?? [];
        if (scopes.length === 0) throw new UsageProblem('create needs at least one --scope');
        const days = flags['expires-in'] === undefined ? undefined : Number(flags['expires-in']);
        if (days !== undefined && (!Number.isFinite(days) || days <= 0)) {
          throw new UsageProblem(`--expires-in must be a positive number of days, got "${flags['expires-in']}"`);
        }
        const made = await adminRequest<{
          id: string;
          key: string;
          name: string;
          scopes: string[];
          expiresAt: string | null;
        }>(target(), 'POST', '/admin/keys', {
          name,
          scopes,
          ...(days === undefined ? {} : { expiresAt: new Date(Date.now() + days * 86_400_000).toISOString() }),
        });
        print(
          made,
          `API key ${made.id} (${made.name}; ${made.scopes.join(', ')}${made.expiresAt ? `; until ${made.expiresAt}` : ''}):\n\n  ${made.key}\n\nIt is shown this once; the hub keeps only its hash.\n`,
        );
      },
    },
    list: {
      args: [],
      run: async ({ target, print }) => {
        const { keys } = await adminRequest<{ keys: KeyView[] }>(target(), 'GET', '/admin/keys');
        const rows = keys.map((k) => [
          k.id,
          k.name,
          k.status,
          k.scopes.join(','),
          k.expiresAt ?? '-',
          k.lastUsedAt ?? '-',
        ]);
        print(keys, table([['ID', 'NAME', 'STATUS', 'SCOPES', 'EXPIRES', 'LAST USED'], ...rows]));
      },
    },
    revoke: {
      args: ['ID'],
      run: async ({ args: [id], target, print }) => {
        await adminRequest(target(), 'DELETE', `/admin/keys/${encodeURIComponent(id!)}`);
        print({ revoked: id }, `${id} revoked\n`);
      },
    },
  },
};

export const keysCommand = (argv: string[], env: Readonly<Record<string, string | undefined>>, io: Io) =>
  runCommand(keysSpec, argv, env, io);
