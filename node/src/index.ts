export { loadNodeConfig, type NodeConfig, nodeConfigSchema } from './config.js';
export { type RunningNode, startNode } from './node.js';
export { definePrompt, defineTool, jsonResult, type ToolPack, textResult } from './pack.js';
export { nodeProcess } from './process.js';
export type { CallContext } from './source.js';
