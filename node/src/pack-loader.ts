import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BrainmeshError, parseSection } from '@brainmesh/shared';
import type { NodeConfig } from './config.js';
import { isPack, PACK_NAME, type PackDefinition } from './pack.js';

/**
 * Finds the packs a node config names and checks each block of settings with its own pack's
 * schema. The runtime names no pack: `use: notes` is looked for as the package
 * `@brainmesh/pack-notes` (the workspace's packs, node/packs/*, are linked under that name), then
 * as a package named `notes`; `use: '@acme/brainmesh-pack-crm'` as that package. Packages are
 * looked for in `node_modules` from the config file's folder up, then from the node package's.
 */

export interface LoadedPack {
  definition: PackDefinition;
  /** Parsed by the pack's schema, environment overrides applied; frozen. */
  settings: unknown;
  /** Where it was found, for the log. */
  from: string;
}

const NODE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface LoadPacksOptions {
  /** The config file: its folder is where packages are looked for first, and errors name it. */
  file?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** Folders to look for packages from, after the config file's (default: the node package's own). */
  roots?: readonly string[];
}

export async function loadPacks(config: Readonly<NodeConfig>, options: LoadPacksOptions): Promise<LoadedPack[]> {
  const where = options.file ?? 'config';
  const roots = [
    ...(options.file === undefined ? [] : [path.dirname(path.resolve(options.file))]),
    ...(options.roots ?? [NODE_ROOT]),
  ];
  const loaded: LoadedPack[] = [];
  const seen = new Set<string>();
  for (const [i, block] of config.packs.entries()) {
    const label = `packs[${i}] (${block.use})`;
    const { definition, from } = await findPack(block.use, roots, `${where}: ${label}`);
    if (seen.has(definition.name))
      throw configError(`${where}: ${label}: pack "${definition.name}" is named twice`, options.file);
    seen.add(definition.name);
    if (definition.settings === undefined && block.settings !== undefined && Object.keys(block.settings).length > 0)
      throw configError(`${where}: ${label}.settings: this pack takes no settings`, options.file);
    const settings =
      definition.settings === undefined
        ? Object.freeze({})
        : parseSection({
            schema: definition.settings,
            raw: block.settings,
            label: `${label}.settings`,
            file: options.file,
            env: options.env,
            envOverrides: definition.env ?? {},
          });
    loaded.push({ definition, settings, from });
  }
  return loaded;
}

async function findPack(
  use: string,
  roots: readonly string[],
  at: string,
): Promise<{ definition: PackDefinition; from: string }> {
  const tried: string[] = [];
  const short = PACK_NAME.test(use);
  const names = short ? [`@brainmesh/pack-${use}`, use] : [use];
  for (const name of names) {
    for (const root of roots) {
      const entry = packageEntry(name, root);
      if (entry !== undefined) return { definition: await importPack(entry, at), from: entry };
    }
    tried.push(name);
  }
  throw configError(
    `${at}: no such pack (looked for ${tried.join(' and ')} in node_modules from ${roots.join(' and ')})`,
    undefined,
  );
}

/** The file a package's main entry is, found the way Node looks for packages: node_modules, up the folders. */
function packageEntry(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const folder = path.join(dir, 'node_modules', name);
    const manifest = path.join(folder, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
        exports?: unknown;
        main?: string;
      };
      return path.join(folder, mainOf(pkg));
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

function mainOf(pkg: { exports?: unknown; main?: string }): string {
  let root = pkg.exports;
  if (typeof root === 'object' && root !== null && '.' in root) root = (root as Record<string, unknown>)['.'];
  if (typeof root === 'object' && root !== null) {
    const conditions = root as Record<string, unknown>;
    root = conditions.import ?? conditions.default ?? conditions.node;
  }
  if (typeof root === 'string') return root;
  return pkg.main ?? 'index.js';
}

async function importPack(file: string, at: string): Promise<PackDefinition> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new BrainmeshError(
      'CONFIG_INVALID',
      `${at}: ${file} could not be loaded: ${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}`,
      { cause },
    );
  }
  const value = isPack(mod.default) ? mod.default : mod.pack;
  if (!isPack(value))
    throw configError(`${at}: ${file} exports no pack (a default export or \`pack\` made by definePack)`, undefined);
  return value;
}

function configError(message: string, file: string | undefined): BrainmeshError {
  return new BrainmeshError('CONFIG_INVALID', message, { details: { file } });
}
