// A stdio MCP server that will not stop when asked: it ignores SIGINT and SIGTERM, stays up when
// its stdin closes, and its one tool (`hang`) never answers. Only SIGKILL ends it. A node that
// mounts it must still stop on time and leave it dead.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
setInterval(() => {}, 60_000);

const server = new McpServer({ name: 'stubborn', version: '1.0.0' });
server.registerTool('hang', { description: 'Never answers.' }, () => {
  // Said on stderr, which the node logs (at debug level): the call has arrived.
  process.stderr.write('hang called\n');
  return new Promise(() => {});
});
await server.connect(new StdioServerTransport());
