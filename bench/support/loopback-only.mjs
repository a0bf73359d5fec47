// Preloaded (`node --import`) into third-party servers that listen on every interface when given
// only a port (server-everything, mcp-hub): pins them to 127.0.0.1, since benchmarks talk only to
// loopback, and reports the port actually bound on stderr, so they can be started on port 0.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const portOnly = typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]));
  if (portOnly && typeof args[1] !== 'string') {
    args.splice(1, 0, '127.0.0.1');
    this.once('listening', () => {
      process.stderr.write(`${JSON.stringify({ loopbackPort: this.address().port })}\n`);
    });
  }
  return listen.apply(this, args);
};
