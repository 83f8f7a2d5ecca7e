/**
 * What every MCP tool works with: the target, the roots it may reach, the environment remote
 * commands get (filtered by [env] exactly as under `up`), the output cap, and the recording that
 * audits each call. A tool returns text for the model and the same facts as structured fields.
 */
import type { CommandObserver } from '../broker/shim-connection.js';
import type { RemoteHost } from '../remote/host.js';
import { posix } from 'node:path';
import { type Confinement, confined, RealRoots, type Resolved, remoteOf } from './confine.js';

export interface ToolContext {
  readonly host: RemoteHost;
  readonly confinement: Confinement;
  /** The complete environment of a remote shell command. */
  readonly env: Readonly<Record<string, string>>;
  /** Each stream of a shell command, and a search's output, is cut past this. */
  readonly maxOutputBytes: number;
  readonly shellTimeoutMs: number;
  readonly audit?: CommandObserver;
}

export interface ToolResult {
  /** What the model reads. */
  readonly text: string;
  /** The same, as fields matching the tool's output schema. */
  readonly structured: Record<string, unknown>;
}

/** The arguments a tool's input schema has already accepted. */
export type ToolArgs = Readonly<Record<string, unknown>>;

export interface Tool {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Readonly<Record<string, unknown>>;
  readonly outputSchema: Readonly<Record<string, unknown>>;
  /** Changes nothing on the target (MCP's readOnlyHint). */
  readonly readOnly: boolean;
  run(ctx: ToolContext, args: ToolArgs, paths: PathResolver): Promise<ToolResult>;
}

/** Resolves tool paths under the context's confinement, the roots' real paths asked once. */
export class PathResolver {
  private readonly realRoots: RealRoots;

  constructor(private readonly ctx: ToolContext) {
    this.realRoots = new RealRoots(ctx.confinement.roots);
  }

  resolve(given: string | undefined): Promise<Resolved> {
    return confined(this.ctx.host.fs, this.ctx.confinement, given ?? this.ctx.confinement.workspace, this.realRoots);
  }

  /** The entry itself, not what a symlink there leads to: its directory is what must be inside. */
  async resolveEntry(given: string): Promise<Resolved> {
    const c = this.ctx.confinement;
    const path = remoteOf(c, given);
    if (c.roots.some((r) => r.remote === path) || path === '/') return this.resolve(given);
    const dir = await this.resolve(posix.dirname(path));
    return { path, real: posix.join(dir.real, posix.basename(path)) };
  }
}

/** Bytes as text for the model: UTF-8, with U+FFFD where a byte is not. */
export function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
}

/**
 * A file's bytes as text, or undefined when they look like a binary file: a NUL early on, or not
 * UTF-8 (a character cut at the end, as a capped read leaves it, is fine and dropped).
 */
export function textOf(bytes: Uint8Array): string | undefined {
  if (bytes.subarray(0, 8192).includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
  } catch {
    return undefined;
  }
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);
export const bool = (v: unknown): boolean => v === true;
