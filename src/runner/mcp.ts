/**
 * `mproxy mcp`: connect to the target once (reconnecting after a drop), open the recording the
 * profile asks for, and serve the MCP tools over stdio until the client closes it, or over HTTP
 * until Ctrl-C. The roots the file tools may reach are the mounts (the remote home without
 * any); remote commands get the environment [env] lets through, as under `up`.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { remoteEnv } from '../broker/env-filter.js';
import type { ToolContext } from '../mcp/context.js';
import { mountsOn, settingsOf } from '../profile/runtime.js';
import type { Profile } from '../profile/schema.js';
import { openRecording } from '../recording/session.js';
import type { RemoteHost } from '../remote/host.js';
import type { ConnectOptions } from './connect.js';
import { inForeground } from './foreground.js';

export interface McpServe {
  /** Serve on this address instead of stdio, requiring `token`. */
  readonly http?: { readonly host: string; readonly port: number; readonly token: string };
  /** Told where the HTTP face listens, once it does. */
  listening?(url: string): void;
}

export interface McpRun {
  readonly profile: Profile;
  readonly profileName: string;
  readonly profileFile: string;
  readonly version: string;
  readonly connect: ConnectOptions & { readonly warn: (message: string) => void };
}

function contextOf(o: McpRun, host: RemoteHost): Omit<ToolContext, 'audit'> {
  const info = host.info();
  const settings = settingsOf(o.profile);
  const mounts = mountsOn(settings, info.home);
  const roots = mounts.length > 0 ? mounts.map((m) => ({ remote: m.remote, local: m.local })) : [{ remote: info.home, local: info.home }];
  return {
    host,
    confinement: { roots, workspace: roots[0]?.remote ?? info.home, confine: o.profile.mcp.confine },
    env: remoteEnv(info, o.profile.env)(o.connect.env),
    maxOutputBytes: settings.mcpMaxOutputBytes,
    shellTimeoutMs: settings.mcpShellTimeoutMs,
  };
}

/** Serves until the client goes (stdio) or a signal comes; 0 then. */
export async function runMcp(o: McpRun, serve: McpServe): Promise<number> {
  const { mcpServer } = await import('../mcp/server.js');
  return inForeground(o.profile, o.connect, async ({ host, stop, teardown }) => {
    const recording = openRecording(o.profile, o.profileName, o.profileFile, o.connect.warn);
    if (recording !== undefined) teardown.add(() => recording.close());
    const ctx: ToolContext = { ...contextOf(o, host), ...(recording !== undefined ? { audit: recording } : {}) };
    const make = (): Server => mcpServer(ctx, { name: 'mproxy', version: o.version });
    const ended = stop.catch(() => undefined);
    if (serve.http !== undefined) {
      const { serveHttp } = await import('../mcp/http.js');
      const face = await teardown.addPending(serveHttp(serve.http.host, serve.http.port, serve.http.token, make), (f) => f.close());
      serve.listening?.(face.url);
      await ended;
      return 0;
    }
    const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
    const transport = new StdioServerTransport();
    const closed = new Promise<void>((resolve) => {
      transport.onclose = () => resolve();
      process.stdin.once('end', () => resolve());
    });
    const server = make();
    teardown.add(() => server.close());
    await server.connect(transport);
    await Promise.race([closed, ended]);
    return 0;
  });
}
