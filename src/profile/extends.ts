/**
 * A profile file and everything it `extends`, as layers lowest first. Paths are relative to the
 * file that names them; a file reached twice is used once (first place wins); a cycle, a missing
 * file, a directory and a self-reference are located errors in the file that names them.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, relative, resolve, isAbsolute } from 'node:path';
import type { Diagnostic, Finding, Layer, Origin } from './diagnostics.js';
import { locate } from './diagnostics.js';
import { readLayer } from './read.js';

export interface ChainContext {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly diagnostics: Diagnostic[];
  /** Real paths already used, so a diamond reads each base once. */
  readonly used: Set<string>;
  /** Pointers already reported as errors: later checks of the same value stay quiet. */
  readonly reported: Set<string>;
  /** Set when a file could not be read or a base not followed: the merged result is incomplete. */
  incomplete: boolean;
}

/** How a file is named in messages: relative to the cwd when below it. */
export function displayName(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

export function loadChain(file: string, ctx: ChainContext, stack: readonly string[] = []): Layer[] {
  const name = displayName(file, ctx.cwd);
  const read = readLayer(file, name, ctx.env);
  if (read.layer === undefined) {
    ctx.diagnostics.push(...read.diagnostics);
    ctx.incomplete = true;
    return [];
  }
  const layer = read.layer;
  const real = realPath(file);
  ctx.used.add(real);
  const refs = layer.data['extends'];
  delete layer.data['extends'];
  const findings: Finding[] = [...read.findings];
  const below: Layer[] = [];
  const list = refs === undefined ? [] : typeof refs === 'string' ? [refs] : Array.isArray(refs) ? refs : undefined;
  if (list === undefined) {
    findings.push({
      pointer: '/extends',
      message: 'expected a string or an array of strings',
      hints: ['extends = "./base.toml" or extends = ["./a.toml", "./b.toml"]'],
    });
    ctx.incomplete = true;
  }
  for (const [i, ref] of (list ?? []).entries()) {
    const pointer = typeof refs === 'string' ? '/extends' : `/extends/${i}`;
    if (typeof ref !== 'string' || ref === '') {
      findings.push({ pointer, message: 'expected a file path (a non-empty string)' });
      continue;
    }
    const target = resolve(dirname(file), ref);
    const problem = checkTarget(target, ref, real, [...stack, real], ctx.cwd);
    if (problem !== undefined) {
      findings.push({ pointer, ...problem });
      ctx.incomplete = true;
      continue;
    }
    if (ctx.used.has(realPath(target))) continue;
    below.push(...loadChain(target, ctx, [...stack, real]));
  }
  if (findings.length > 0) {
    const origins = new Map<string, Origin>();
    if (layer.origin.kind === 'file') {
      for (const [ptr, loc] of layer.origin.locations) origins.set(ptr, { kind: 'file', file: name, ...loc });
    }
    for (const f of findings) {
      ctx.diagnostics.push(locate(f, origins, name));
      ctx.reported.add(f.pointer);
    }
  }
  return [...below, layer];
}

function tomlFilesIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.toml'))
      .sort();
  } catch {
    return [];
  }
}

function checkTarget(
  target: string,
  ref: string,
  self: string,
  stack: readonly string[],
  cwd: string,
): Omit<Finding, 'pointer'> | undefined {
  let isDir: boolean;
  try {
    isDir = statSync(target).isDirectory();
  } catch {
    return {
      message: `\`${ref}\` does not exist (looked for ${displayName(target, cwd)})`,
      hints: ['paths in extends are relative to the file that contains them'],
    };
  }
  if (isDir) {
    // Only files that are there: a hint never names one that does not exist.
    const inside = tomlFilesIn(target).map((name) => `\`${ref.replace(/\/$/, '')}/${name}\``);
    return {
      message: `\`${ref}\` is a directory; extends takes a TOML file`,
      hints: [
        inside.length > 0
          ? `name one of the files in it: ${inside.slice(0, 5).join(', ')}`
          : 'it holds no .toml file; name the file to extend',
      ],
    };
  }
  const real = realPath(target);
  if (real === self) return { message: 'a profile cannot extend itself', hints: ['remove this entry'] };
  const at = stack.indexOf(real);
  if (at >= 0) {
    const cycle = [...stack.slice(at), real].map((f) => displayName(f, cwd)).join(' → ');
    return { message: `extends cycle: ${cycle}`, hints: ['break the cycle: a base profile cannot extend a profile that builds on it'] };
  }
  return undefined;
}

function realPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return resolve(file);
  }
}
