import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * Dependencies point one way: packs import the runtime (`@brainmesh/node`, its kit) and shared,
 * never the reverse, and no pack imports another. With no edge from the runtime into a pack, no
 * import circle can pass through one. The runtime finds packs by name at start (pack-loader.ts),
 * by a dynamic import() of a path, which is not an edge here.
 */

const NODE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(NODE, 'src');
const PACKS = path.join(NODE, 'packs');
const PACKAGES: Record<string, string> = {
  '@brainmesh/node': path.join(SRC, 'index.ts'),
  '@brainmesh/node/kit': path.join(SRC, 'kit', 'index.ts'),
  '@brainmesh/node/kit/testing': path.join(SRC, 'kit', 'testing', 'index.ts'),
};
const packNames = readdirSync(PACKS, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);
for (const name of packNames) PACKAGES[`@brainmesh/pack-${name}`] = path.join(PACKS, name, 'src', 'index.ts');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules') return [];
    const full = path.join(dir, e.name);
    return e.isDirectory() ? walk(full) : /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** The specifiers a file imports or re-exports statically. */
function specifiersOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/^\s*(?:import|export)\b[^'";]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

/** Static imports of a file resolved to files of this tree (npm packages dropped). */
function importsOf(file: string): string[] {
  return specifiersOf(file).flatMap((spec) => {
    if (spec in PACKAGES) return [PACKAGES[spec]!];
    if (!spec.startsWith('.')) return [];
    return [path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts')];
  });
}

/** The pack a file belongs to (`packs/<name>`), or undefined for the runtime. */
function packOf(file: string): string | undefined {
  const rel = path.relative(PACKS, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return `packs/${rel.split(path.sep)[0]!}`;
}

/** `zod` of `zod/v4`, `@scope/x` of `@scope/x/y`. */
const packageOf = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

describe('imports between packs and the runtime', () => {
  const files = [SRC, PACKS].flatMap(walk);

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

  it('keeps each pack to its own folder, the packages it declares, and the runtime by its package name', () => {
    const wrong: string[] = [];
    for (const name of packNames) {
      const root = path.join(PACKS, name);
      const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
        name: string;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      assert.equal(manifest.name, `@brainmesh/pack-${name}`);
      const declared = new Set([
        ...Object.keys(manifest.dependencies ?? {}),
        ...Object.keys(manifest.devDependencies ?? {}),
      ]);
      // Of this project's packages, a pack may use the node runtime and shared only.
      for (const dep of declared)
        if (dep.startsWith('@brainmesh/') && dep !== '@brainmesh/node' && dep !== '@brainmesh/shared')
          wrong.push(`${name}/package.json depends on ${dep}`);
      for (const file of walk(root)) {
        for (const spec of specifiersOf(file)) {
          const where = `${path.relative(NODE, file)} imports ${spec}`;
          if (spec.startsWith('.')) {
            const target = path.resolve(path.dirname(file), spec);
            if (path.relative(root, target).startsWith('..')) wrong.push(`${where} (outside the pack)`);
          } else if (!spec.startsWith('node:') && !builtinModules.includes(spec) && !declared.has(packageOf(spec))) {
            wrong.push(`${where} (not in its package.json)`);
          }
        }
      }
    }
    assert.deepEqual(wrong, []);
  });
});
