/**
 * The MCP server of `mproxy mcp`: the tool table, each call's arguments checked against the
 * tool's JSON Schema (ajv) before it runs, every failure an error result the model can read
 * (never a crash of the server), and every call audited in the recording — shell commands as
 * the commands they are, the file tools as `mcp:NAME` with their paths.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, type CallToolResult, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { createRequire } from 'node:module';
import type AjvModule from 'ajv';
import type { ValidateFunction } from 'ajv';
import { isMproxyError, messageOf } from '../util/errors.js';
import { PathResolver, type Tool, type ToolArgs, type ToolContext } from './context.js';
import { editFileTool, readFileTool, writeFileTool } from './files.js';
import { listDirectoryTool, statTool } from './listing.js';
import { searchTool } from './search.js';
import { runShellCommand } from './shell.js';

/** Code Remote's four first (clients written for it work unchanged), then mproxy's own. */
export const TOOLS: readonly Tool[] = [runShellCommand, readFileTool, writeFileTool, listDirectoryTool, editFileTool, searchTool, statTool];

/** What the audit shows of a file tool's call: its name and paths, never file contents. */
function auditArgv(tool: Tool, args: ToolArgs): string[] {
  const shown = ['path', 'pattern', 'glob'].flatMap((k) => (typeof args[k] === 'string' ? [`${k}=${String(args[k])}`] : []));
  return [`mcp:${tool.name}`, ...shown];
}

function failure(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

export interface McpServerOptions {
  readonly name: string;
  readonly version: string;
}

/** A validator per tool, compiled once for every server of this process. */
function validators(): Map<string, ValidateFunction> {
  const Ajv = (createRequire(import.meta.url)('ajv') as typeof AjvModule).default;
  const ajv = new Ajv({ strict: false, useDefaults: true, allErrors: false });
  return new Map(TOOLS.map((t) => [t.name, ajv.compile(t.inputSchema)]));
}

let compiled: Map<string, ValidateFunction> | undefined;

/** A server answering tools/list and tools/call for `ctx`; connect it to a transport. */
export function mcpServer(ctx: ToolContext, options: McpServerOptions): Server {
  compiled ??= validators();
  const checks = compiled;
  const paths = new PathResolver(ctx);
  const server = new Server({ name: options.name, version: options.version }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: TOOLS.map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: t.inputSchema as { type: 'object' },
      outputSchema: t.outputSchema as { type: 'object' },
      annotations: { readOnlyHint: t.readOnly, openWorldHint: false },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const tool = TOOLS.find((t) => t.name === request.params.name);
    if (tool === undefined) return failure(`no tool named ${request.params.name}; the tools: ${TOOLS.map((t) => t.name).join(', ')}`);
    const args: Record<string, unknown> = { ...(request.params.arguments ?? {}) };
    const check = checks.get(tool.name);
    if (check !== undefined && !check(args)) {
      const why = (check.errors ?? []).map((e) => `${e.instancePath === '' ? 'arguments' : e.instancePath.slice(1)} ${e.message ?? ''}`);
      return failure(`${tool.name}: invalid arguments: ${why.join('; ')}`);
    }
    // The shell tool records itself, as the command it runs.
    const id = tool === runShellCommand ? undefined : ctx.audit?.started(auditArgv(tool, args), ctx.confinement.workspace, {});
    try {
      const result = await tool.run(ctx, args, paths);
      if (id !== undefined) {
        ctx.audit?.data(id, 1, Buffer.from(result.text));
        ctx.audit?.ended(id, 0, null);
      }
      return { content: [{ type: 'text', text: result.text }], structuredContent: result.structured };
    } catch (err) {
      const hints = isMproxyError(err) ? err.hints.map((h) => `hint: ${h}`) : [];
      const message = [`${tool.name}: ${messageOf(err)}`, ...hints].join('\n');
      if (id !== undefined) {
        ctx.audit?.data(id, 2, Buffer.from(message));
        ctx.audit?.ended(id, 1, null);
      }
      return failure(message);
    }
  });
  return server;
}
