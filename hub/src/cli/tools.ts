import { adminRequest, UsageProblem } from './admin-client.js';
import { type CommandSpec, type Io, runCommand, table } from './command.js';

export const TOOLS_USAGE = `usage: brainmesh tools search QUERY… [flags]

  search QUERY…    tools of every node whose name, node or description match the words,
                   best first (what mesh__search_tools answers an agent)

flags:
  --node NAME      only this node's tools
  --limit N        at most N results (1-100, default 20)
  --hub URL        the hub (default $BRAINMESH_HUB, else http://127.0.0.1:8080)
  --api-key KEY    an admin key (default $BRAINMESH_API_KEY, else the local operator key)
  --json           print JSON instead of text

example: brainmesh tools search send email --node medtainer`;

interface ToolHit {
  name: string;
  node: string;
  description: string;
  readOnly: boolean;
  nodeStatus: string;
}

/** The description's first sentence, cut to fit a terminal row. */
const brief = (text: string, width = 72) => {
  const first = text.split(/(?<=\.)\s/)[0] ?? '';
  return first.length <= width ? first : `${first.slice(0, width - 1)}…`;
};

export const toolsSpec: CommandSpec = {
  name: 'tools',
  usage: TOOLS_USAGE,
  options: { node: { type: 'string' }, limit: { type: 'string' } },
  actions: {
    search: {
      args: ['QUERY...'],
      run: async ({ args: [query], flags, target, print }) => {
        const params = new URLSearchParams({ query: query! });
        if (flags.node !== undefined) params.set('node', flags.node as string);
        if (flags.limit !== undefined) {
          const limit = Number(flags.limit);
          if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
            throw new UsageProblem(`--limit must be a whole number from 1 to 100, got "${flags.limit}"`);
          }
          params.set('limit', String(limit));
        }
        const { tools } = await adminRequest<{ tools: ToolHit[] }>(target(), 'GET', `/admin/tools?${params}`);
        const rows = tools.map((t) => [
          t.name,
          t.node === 'mesh' || t.nodeStatus === 'up' ? t.node : `${t.node} (${t.nodeStatus})`,
          t.readOnly ? 'reads' : 'changes',
          brief(t.description),
        ]);
        print(
          tools,
          tools.length === 0
            ? `no tools match "${query}"\n`
            : table([['NAME', 'NODE', 'EFFECT', 'DESCRIPTION'], ...rows]),
        );
      },
    },
  },
};

export const toolsCommand = (argv: string[], env: Readonly<Record<string, string | undefined>>, io: Io) =>
  runCommand(toolsSpec, argv, env, io);
