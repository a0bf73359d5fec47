import { listEverything, type McpLists } from '@brainmesh/shared';
import { Client, SdkError, SdkErrorCode, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type {
  CallToolResult,
  CompleteRequest,
  CompleteResult,
  CreateMessageRequest,
  CreateMessageResult,
  ElicitRequest,
  ElicitResult,
  GetPromptResult,
  ReadResourceResult,
} from '@modelcontextprotocol/sdk/types.js';

/** Where a mounted server's questions go: the caller of the call in flight (mount-source.ts). */
export interface Asker {
  sample(params: CreateMessageRequest['params']): Promise<CreateMessageResult>;
  elicit(params: ElicitRequest['params']): Promise<ElicitResult>;
}

/**
 * A mounted HTTP server of MCP's 2026-07-28 revision, through the SDK's v2 client: no session;
 * each request carries its envelope; a server that needs the user or the model answers
 * `input_required`, which the client answers by asking the caller of the call in flight (the
 * hub's client, in whichever era it speaks) and calling again, as the SDK does on its own with
 * the handlers set here; list changes come over a `subscriptions/listen` stream.
 *
 * `connect` asks `server/discover` first and says `undefined` when the server does not
 * speak the revision (a 2025-era server answers the probe with an error), so the mount falls back
 * to the v1 client and `initialize`, on the transport tuned for it.
 */
const MODERN = '2026-07-28';

export class ModernMount {
  private subscription: { close(): Promise<void> } | undefined;

  private constructor(private readonly client: Client) {}

  lists(): Promise<McpLists> {
    // The v2 client has the v1 client's list methods; lists are read fresh (`refresh`).
    return listEverything(this.client as never);
  }

  /** Listens for list changes, when the server offers them; a server that does not is left alone. */
  async onListChanged(changed: () => void): Promise<void> {
    const caps = this.client.getServerCapabilities() ?? {};
    const filter = {
      ...(caps.tools?.listChanged ? { toolsListChanged: true } : {}),
      ...(caps.resources?.listChanged ? { resourcesListChanged: true } : {}),
      ...(caps.prompts?.listChanged ? { promptsListChanged: true } : {}),
    };
    if (Object.keys(filter).length === 0) return;
    for (const method of [
      'notifications/tools/list_changed',
      'notifications/resources/list_changed',
      'notifications/prompts/list_changed',
    ] as const)
      this.client.setNotificationHandler(method, () => changed());
    this.subscription = await this.client.listen(filter);
  }

  callTool(
    name: string,
    args: Record<string, unknown>,
    options: {
      signal: AbortSignal;
      onprogress: (p: { progress: number; total?: number | undefined; message?: string | undefined }) => void;
    },
  ): Promise<CallToolResult> {
    return this.client.callTool(
      { name, arguments: args },
      { signal: options.signal, onprogress: options.onprogress, resetTimeoutOnProgress: true, timeout: 10 * 60_000 },
    ) as Promise<CallToolResult>;
  }

  readResource(uri: string, signal: AbortSignal): Promise<ReadResourceResult> {
    return this.client.readResource({ uri }, { signal, cacheMode: 'bypass' }) as Promise<ReadResourceResult>;
  }

  getPrompt(name: string, args: Record<string, string>, signal: AbortSignal): Promise<GetPromptResult> {
    return this.client.getPrompt({ name, arguments: args }, { signal }) as Promise<GetPromptResult>;
  }

  complete(params: CompleteRequest['params'], signal: AbortSignal): Promise<CompleteResult> {
    return this.client.complete(params as never, { signal }) as Promise<CompleteResult>;
  }

  async close(): Promise<void> {
    await this.subscription?.close().catch(() => {});
    await this.client.close();
  }

  /**
   * The mount as a 2026-07-28 server, or undefined when it speaks an older revision (closed
   * again: the mount connects to it the 2025 way).
   */
  static async connect(
    url: URL,
    headers: Record<string, string>,
    asker: () => Asker,
  ): Promise<ModernMount | undefined> {
    const client = new Client({ name: 'brainmesh-node', version: '0.1.0' }, {
      capabilities: { sampling: {}, elicitation: { form: {} } },
      // Pinned, not 'auto': a server that does not answer the probe as a 2026 one is connected
      // to by the v1 client (mount-source.ts), and 'auto' would first open, then close, a whole
      // 2025 session on this client (an initialize and a GET stream) for nothing.
      versionNegotiation: { mode: { pin: MODERN }, probe: { timeoutMs: 10_000, maxRetries: 0 } },
      // A mount's lists are read fresh each time it says they changed: no cache between.
      defaultCacheTtlMs: 0,
    } as never);
    client.setRequestHandler('sampling/createMessage', (request) => asker().sample(request.params as never) as never);
    client.setRequestHandler('elicitation/create', (request) => asker().elicit(request.params as never) as never);
    try {
      await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
    } catch (err) {
      await client.close().catch(() => {});
      // Not a 2026 server (or not reachable: then the 2025 way fails too, and says why).
      if (err instanceof SdkError && err.code === SdkErrorCode.EraNegotiationFailed) return undefined;
      throw err;
    }
    return new ModernMount(client);
  }
}
