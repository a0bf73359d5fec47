import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { BrainmeshError } from '@brainmesh/shared';

/**
 * The configured folders, and the one rule for every path a tool is given: it names something
 * inside one of them once `..` and symbolic links are resolved. A path that leaves (absolute
 * elsewhere, `../..`, or a link pointing out) is refused with the same words whichever way it
 * tried, and what lies outside is never opened.
 */
export interface Folder {
  name: string;
  /** Its real path (links resolved), checked at start. */
  root: string;
}

export class Folders {
  private constructor(private readonly byName: Map<string, Folder>) {}

  static async open(folders: readonly { name: string; path: string }[]): Promise<Folders> {
    const byName = new Map<string, Folder>();
    for (const f of folders) {
      if (byName.has(f.name)) throw new BrainmeshError('CONFIG_INVALID', `workspace folder "${f.name}" is named twice`);
      let root: string;
      try {
        root = await realpath(path.resolve(f.path));
        if (!(await stat(root)).isDirectory()) throw new Error('not a folder');
      } catch {
        throw new BrainmeshError(
          'CONFIG_INVALID',
          `workspace folder "${f.name}": ${f.path} is not a folder this node can read`,
        );
      }
      byName.set(f.name, { name: f.name, root });
    }
    return new Folders(byName);
  }

  list(): Folder[] {
    return [...this.byName.values()];
  }

  get(name: string): Folder {
    const folder = this.byName.get(name);
    if (folder === undefined)
      throw new BrainmeshError(
        'NOT_FOUND',
        `no workspace folder "${name}"; have ${[...this.byName.keys()].join(', ')}`,
      );
    return folder;
  }

  /** The real path of `relative` inside folder `name`; refused when it is not inside. */
  async resolve(name: string, relative: string): Promise<{ folder: Folder; real: string; inside: string }> {
    const folder = this.get(name);
    const refused = () =>
      new BrainmeshError(
        'FORBIDDEN',
        `${relative} is outside the workspace folder "${name}"; paths are relative to it`,
      );
    const target = path.resolve(folder.root, relative);
    if (!within(folder.root, target)) throw refused();
    let real: string;
    try {
      real = await realpath(target);
    } catch {
      throw new BrainmeshError('NOT_FOUND', `${relative} does not exist in the workspace folder "${name}"`);
    }
    if (!within(folder.root, real)) throw refused();
    return { folder, real, inside: path.relative(folder.root, real) || '.' };
  }
}

function within(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
