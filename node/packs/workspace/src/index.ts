import { definePack, type PackContext, type PackInstance } from '@brainmesh/node';
import { commandTools } from './commands.js';
import { fileTools } from './files.js';
import { Folders } from './folders.js';
import { gitTools } from './git.js';
import { type WorkspaceSettings, workspaceSettingsSchema } from './settings.js';

/**
 * The operator's workspace on a DevMCP node: files, search, git and allowlisted commands, inside
 * the folders its config names and nowhere else.
 */
export const pack = definePack({
  name: 'workspace',
  version: '0.1.0',
  settings: workspaceSettingsSchema,
  create: (ctx) => createWorkspace(ctx),
});

export default pack;

export async function createWorkspace(ctx: Pick<PackContext<WorkspaceSettings>, 'settings'>): Promise<PackInstance> {
  const folders = await Folders.open(ctx.settings.folders);
  return { tools: [...fileTools(folders), ...gitTools(folders), ...commandTools(folders, ctx.settings)] };
}
