import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * Where a program from Debian's packages is: on PATH, or in one of `alsoIn` (a user's PATH may
 * lack /usr/sbin, where HAProxy is). Throws with the package to install when it is nowhere.
 */
export function findProgram(name: string, alsoIn: readonly string[], debianPackage = name): string {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), ...alsoIn]) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  throw new Error(
    `${name} is not installed: install Debian\u2019s ${debianPackage} (apt-get install -y ${debianPackage})`,
  );
}
