import { type Hello, LINK_CLOSE, LINK_PATH, LINK_SUBPROTOCOL, LinkTokenError, openLink } from '@brainmesh/shared';
import type { FastifyPluginAsync } from 'fastify';
import type { Mesh } from '../mesh/mesh.js';

/**
 * Where a node the hub cannot reach (no URL: behind NAT) dials in. The handshake is the one the
 * hub runs when it dials: the node's hello names it, its token must verify with the keys the
 * registry pinned for that node and carry this connection's nonce, and a disabled or unknown node
 * is refused like a bad token. Every refusal closes the socket the same way; the log says why.
 */
export const linkSocketRoutes: FastifyPluginAsync<{ mesh: Mesh }> = async (app, deps) => {
  app.get(LINK_PATH, { websocket: true }, (socket, request) => {
    if (socket.protocol !== LINK_SUBPROTOCOL) {
      request.log.warn({ protocol: socket.protocol }, 'link refused: not the link protocol');
      socket.close(LINK_CLOSE.refused, 'refused');
      return;
    }
    // Until the node's hello says who it is, the hub's side of the handshake knows no node.
    let claimed: string | undefined;
    openLink(socket, {
      role: 'hub',
      id: deps.mesh.hubId,
      instance: deps.mesh.instance,
      sign: (aud, nonce) => {
        const link = deps.mesh.links.get(aud);
        if (link === undefined) return Promise.reject(new LinkTokenError('wrong-audience'));
        return link.identity().sign(aud, nonce);
      },
      verify: async (peer: Hello, token, nonce) => {
        claimed = peer.id;
        const link = deps.mesh.links.get(peer.id);
        if (link === undefined) throw new LinkTokenError('wrong-issuer');
        const proven = await link.identity().verify(peer, token, nonce);
        // A node keeps one link to each hub process behind its hub's address (replicas), and
        // finds them by dialling until it reaches only processes it has one to: this one.
        if (peer.instance !== undefined && link.dialledBy() === peer.instance)
          throw new LinkTokenError('already-linked');
        return proven;
      },
    }).then(
      (linked) => {
        const link = deps.mesh.links.get(linked.peerId);
        if (link === undefined) {
          linked.close(LINK_CLOSE.refused, 'refused');
          return;
        }
        void link.attach(linked, 'dial-out');
      },
      (err: unknown) => {
        const reason = err instanceof Error ? err.message : String(err);
        // The node searching for replicas it has no link to yet, not a fault.
        if (reason.endsWith('already-linked')) request.log.debug({ node: claimed }, 'link refused: already linked');
        else request.log.warn({ node: claimed, reason }, 'link handshake refused');
      },
    );
  });
};
