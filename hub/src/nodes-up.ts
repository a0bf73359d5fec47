/** What of the mesh (`Mesh`) this reads: each link's state, and the event that says it changed. */
export interface LinkStates {
  readonly links: ReadonlyMap<string, { status: string; record: { url: string | null }; lastSeen: Date | undefined }>;
  on(event: 'changed', listener: () => void): unknown;
  off(event: 'changed', listener: () => void): unknown;
}

/**
 * Calls `listener` with each node whose link is up now, then with each node whose link comes up
 * (again) later: what `brainmesh up` waits for before it calls a node ready. Read off the mesh's
 * `changed` event, which fires (coalesced) on every change of a link's state.
 *
 * A node that restarts on another port may come back before a health check has seen it go: its
 * link then reconnects to the new address without ever leaving `up`. That counts as coming up
 * again once the new connection is made (the link's `lastSeen` moves on).
 */
export function watchNodesUp(mesh: LinkStates, listener: (node: string) => void): () => void {
  /** The address each node was reported up at. */
  const reported = new Map<string, string | null>();
  /** For a node up at a new address: its `lastSeen` when the move was noticed. */
  const moved = new Map<string, Date | undefined>();
  const check = () => {
    for (const [id, link] of mesh.links) {
      if (link.status !== 'up') {
        reported.delete(id);
        moved.delete(id);
      } else if (!reported.has(id)) {
        reported.set(id, link.record.url);
        listener(id);
      } else if (reported.get(id) !== link.record.url) {
        if (!moved.has(id)) {
          moved.set(id, link.lastSeen);
        } else if (link.lastSeen !== moved.get(id)) {
          moved.delete(id);
          reported.set(id, link.record.url);
          listener(id);
        }
      }
    }
    for (const id of reported.keys()) if (!mesh.links.has(id)) reported.delete(id);
  };
  mesh.on('changed', check);
  check();
  return () => {
    mesh.off('changed', check);
  };
}
