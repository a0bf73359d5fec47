import type { Source } from './source.js';

/**
 * Which source serves each tool and prompt name, so a call goes straight to its owner instead of
 * asking every source for its list. Built on first use, dropped when any source says its lists
 * changed (a mount restarted), and rebuilt once before a name is called unknown, in case a source
 * changed without saying so. Where two sources serve one name, the first (packs, then mounts in
 * config order) owns it: the one the merged list shows.
 */
export class SourceDirectory {
  private readonly maps: { tool?: Promise<Map<string, Source>>; prompt?: Promise<Map<string, Source>> } = {};

  constructor(readonly sources: readonly Source[]) {
    for (const source of sources) {
      source.onListChanged(() => {
        delete this.maps.tool;
        delete this.maps.prompt;
      });
    }
  }

  async owner(kind: 'tool' | 'prompt', name: string): Promise<Source | undefined> {
    const found = (await this.map(kind)).get(name);
    if (found !== undefined) return found;
    delete this.maps[kind];
    return (await this.map(kind)).get(name);
  }

  private map(kind: 'tool' | 'prompt'): Promise<Map<string, Source>> {
    let map = this.maps[kind];
    if (map === undefined) {
      map = this.build(kind);
      this.maps[kind] = map;
      // A source that could not list (a mount down) is asked again next time.
      map.catch(() => {
        if (this.maps[kind] === map) delete this.maps[kind];
      });
    }
    return map;
  }

  private async build(kind: 'tool' | 'prompt'): Promise<Map<string, Source>> {
    const lists = await Promise.all(this.sources.map((s) => (kind === 'tool' ? s.listTools() : s.listPrompts())));
    const map = new Map<string, Source>();
    lists.forEach((items, i) => {
      const source = this.sources[i]!;
      for (const item of items) if (!map.has(item.name)) map.set(item.name, source);
    });
    return map;
  }
}
