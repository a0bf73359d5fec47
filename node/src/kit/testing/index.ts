/** Test helpers for packs: call a tool as the node would, and serve an emulator on loopback. */

export { type SharedStores, sharedStoreBackends } from '@brainmesh/shared/testing';
export { type Called, type CallOptions, callTool, quietLogger } from './call-tool.js';
export { type FakeService, type RecordedRequest, type Scripted, serveFake } from './serve-fake.js';
