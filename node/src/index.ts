export { z } from 'zod';
export { loadNodeConfig, type NodeConfig, nodeConfigSchema, type PackBlock } from './config.js';
export { type RunningNode, startNode } from './node.js';
export {
  definePack,
  definePrompt,
  defineTool,
  isPack,
  jsonResult,
  type PackContext,
  type PackDefinition,
  type PackInstance,
  type PackSpec,
  type PromptDefinition,
  type ResourceDefinition,
  type ToolDefinition,
  type ToolPack,
  textResult,
} from './pack.js';
export { type LoadedPack, type LoadPacksOptions, loadPacks } from './pack-loader.js';
export { nodeProcess } from './process.js';
export type { CallContext } from './source.js';
