import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * Dependencies point one way: packs import the runtime (`@brainmesh/node`, its kit), never the
 * reverse, and no pack imports another. With no edge from the runtime into a pack, no import
 * circle can pass through one. The runtime finds packs by name at start (pack-loader.ts), by a
 * dynamic import() of a path, which is not an edge here.
 */

const NODE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(NODE, 'src');
const PACK_ROOTS = [path.join(SRC, 'packs'), path.join(NODE, 'packs')];
const PACKAGES: Record<string, string> = {
  '@brainmesh/node': path.join(SRC, 'index.ts'),
  '@brainmesh/node/kit': path.join(SRC, 'kit', 'index.ts'),
  '@brainmesh/node/kit/testing': path.join(SRC, 'kit', 'testing', 'index.ts'),
};

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules') return [];
    const full = path.join(dir, e.name);
    return e.isDirectory() ? walk(full) : /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Static imports and re-exports of a file, resolved to files (others, such as npm packages, dropped). */
function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specs = [...source.matchAll(/^\s*(?:import|export)\b[^'";]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
  return specs.flatMap((spec) => {
    if (spec in PACKAGES) return [PACKAGES[spec]!];
    if (!spec.startsWith('.')) return [];
    return [path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts')];
  });
}

/** The pack a file belongs to (`packs/<name>`), or undefined for the runtime. */
function packOf(file: string): string | undefined {
  for (const root of PACK_ROOTS) {
    const rel = path.relative(root, file);
    if (!rel.startsWith('..') && !path.isAbsolute(rel))
      return `${path.basename(root)}/${rel.split(path.sep)[0]!.replace(/\.ts$/, '')}`;
  }
  return undefined;
}

describe('imports between packs and the runtime', () => {
  const files = [SRC, path.join(NODE, 'packs')].flatMap((d) => {
    try {
      return walk(d);
    } catch {
      return [];
    }
  });

  it('finds the packs and the runtime it checks', () => {
    assert.ok(files.some((f) => packOf(f) === 'packs/medtainer'));
    assert.ok(files.some((f) => packOf(f) === 'packs/devtools'));
    assert.ok(files.some((f) => f === path.join(SRC, 'node.ts')));
  });

  it('has no import from the runtime into a pack, nor from one pack into another', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = packOf(file);
      for (const target of importsOf(file)) {
        const to = packOf(target);
        if (to !== undefined && to !== from)
          wrong.push(`${path.relative(NODE, file)} -> ${path.relative(NODE, target)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});
