import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Author, Knowledge } from './engine.js';

/** Files larger than this are skipped (and named in the log): a knowledge base is prose, not dumps. */
const MAX_FILE_BYTES = 2 * 1024 * 1024;

export interface FolderIngest {
  added: number;
  updated: number;
  unchanged: number;
  skipped: { file: string; reason: string }[];
}

/**
 * Keeps the .md and .txt files of a folder (and its subfolders) in the knowledge base: each file
 * a document whose slug comes from its path, its title from its first heading or its name. A
 * file that changed since the last read becomes a new version; one that did not changes nothing.
 * Links are not followed, so the folder cannot lead outside itself.
 */
export async function ingestFolder(knowledge: Knowledge, folder: string, author: Author): Promise<FolderIngest> {
  const root = path.resolve(folder);
  const result: FolderIngest = { added: 0, updated: 0, unchanged: 0, skipped: [] };
  for (const file of await walk(root)) {
    const relative = path.relative(root, file);
    const size = (await stat(file)).size;
    if (size > MAX_FILE_BYTES) {
      result.skipped.push({ file: relative, reason: `${size} bytes, over ${MAX_FILE_BYTES}` });
      continue;
    }
    const body = await readFile(file, 'utf8');
    const heading = /^#\s+(.+)$/m.exec(body)?.[1]?.trim();
    const slug = relative
      .toLowerCase()
      .replace(/\.(md|markdown|txt)$/, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80);
    const put = await knowledge.put(
      {
        slug: slug.length > 0 ? slug : 'untitled',
        title: heading ?? path.basename(relative).replace(/\.[^.]+$/, ''),
        body,
        tags: ['folder'],
        source: `file:${relative}`,
      },
      author,
    );
    if (!put.changed) result.unchanged += 1;
    else if (put.version === 1) result.added += 1;
    else result.updated += 1;
  }
  return result;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else if (entry.isFile() && /\.(md|markdown|txt)$/i.test(entry.name)) out.push(full);
  }
  return out.sort();
}
