/** The MCP SDK's own client, talking to the built `mproxy mcp` over stdio, as an MCP host would start it. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { MPROXY_ARGV } from '../helpers/cli.js';

export interface McpSession {
  readonly client: Client;
  /** A tool call's result: its text, its structured fields, and whether it is an error. */
  call(name: string, args: Record<string, unknown>): Promise<Called>;
  /** What mproxy wrote on stderr so far. */
  stderr(): string;
  close(): Promise<void>;
}

export interface Called {
  readonly text: string;
  readonly fields: Record<string, unknown>;
  readonly isError: boolean;
}

export function called(result: CallToolResult): Called {
  const first = result.content[0];
  return {
    text: first?.type === 'text' ? first.text : '',
    fields: (result.structuredContent ?? {}) as Record<string, unknown>,
    isError: result.isError === true,
  };
}

export async function mcpSession(
  profile: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; args?: readonly string[] },
): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...MPROXY_ARGV, 'mcp', profile, ...(options.args ?? [])],
    cwd: options.cwd,
    // The SDK's transport takes only defined values.
    env: Object.fromEntries(Object.entries(options.env).filter((e): e is [string, string] => e[1] !== undefined)),
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: 'mproxy-test', version: '1' });
  try {
    await client.connect(transport);
  } catch (e) {
    throw new Error(`mproxy mcp did not start: ${String(e)}\n${err}`);
  }
  return {
    client,
    call: async (name, args) => called((await client.callTool({ name, arguments: args })) as CallToolResult),
    stderr: () => err,
    close: () => client.close(),
  };
}
