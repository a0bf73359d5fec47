export { buildHubApp, type HubDeps } from './app.js';
export { type HubConfig, hubConfigSchema, loadHubConfig } from './config.js';
export { type RunningHub, startHub } from './hub.js';
export { hubProcess } from './process.js';
