import { BrainmeshError, type Db, type Logger } from '@brainmesh/shared';
import type { ToolPack } from '../pack.js';
import { devtoolsPack } from './devtools.js';
import { medtainerPack } from './medtainer/index.js';
import type { MedtainerSettings } from './medtainer/settings.js';

export interface PackEnv {
  nodeName: string;
  startedAt: Date;
  db: Db;
  logger: Logger;
  medtainer: MedtainerSettings;
}

/** The built-in packs a node config can name. */
export const PACKS: Readonly<Record<string, (env: PackEnv) => ToolPack>> = {
  devtools: devtoolsPack,
  medtainer: medtainerPack,
};

export function loadPacks(names: readonly string[], env: PackEnv): ToolPack[] {
  return names.map((name) => {
    const make = PACKS[name];
    if (make === undefined) {
      throw new BrainmeshError(
        'CONFIG_INVALID',
        `packs: no pack named "${name}" (have: ${Object.keys(PACKS).join(', ')})`,
      );
    }
    return make(env);
  });
}
