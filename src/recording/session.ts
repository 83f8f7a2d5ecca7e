/**
 * A session's recording per the profile's [recording]: where the file goes ({profile}, {time},
 * {pid} filled in; a relative path starts at the project root, the directory holding .mproxy/),
 * older recordings of the same profile beyond `keep` deleted, and the broker's command events
 * written as records — stdio too under `mode = "full"`. Redacted values (variables matching
 * `redact`, flags in `redact_args`) are cut out of argv, env and captured stdio (redact.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { CommandObserver } from '../broker/shim-connection.js';
import { settingsOf } from '../profile/runtime.js';
import type { Profile } from '../profile/schema.js';
import { MproxyError, messageOf } from '../util/errors.js';
import { compileNamePattern } from '../util/patterns.js';
import { RECORDING_VERSION } from './records.js';
import { parseArgRules, redactArgv, StdioScrubber } from './redact.js';
import { RecordingWriter } from './writer.js';

export interface SessionRecording extends CommandObserver {
  readonly path: string;
  /** Writes the footer and waits until every record is in the file. */
  close(): Promise<void>;
}

const isStdio = (fd: number): fd is 0 | 1 | 2 => fd === 0 || fd === 1 || fd === 2;

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** The file for a session: `template` is absolute (the loader anchors it at the project root). */
export function recordingPath(template: string, name: string, now: Date, pid: number): string {
  return template.replaceAll('{profile}', name).replaceAll('{time}', stamp(now)).replaceAll('{pid}', String(pid));
}

/** The recordings made from `template` for profile `name`, newest first ({time}, {pid} in the file name). */
export function listRecordings(template: string, name: string): string[] {
  const pattern = basename(template).replaceAll('{profile}', name);
  const escaped = pattern
    .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
    .replaceAll('{time}', '[0-9TZ]+')
    .replaceAll('{pid}', '[0-9]+');
  const same = new RegExp(`^${escaped}$`);
  const dir = dirname(template.replaceAll('{profile}', name));
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  return files
    .filter((f) => same.test(f))
    .map((f) => ({ path: join(dir, f), t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t || b.path.localeCompare(a.path))
    .map((r) => r.path);
}

/** Deletes the oldest recordings of this profile beyond `keep` (0 keeps all). */
export function pruneRecordings(template: string, name: string, keep: number): void {
  if (keep <= 0) return;
  for (const old of listRecordings(template, name).slice(keep)) unlinkSync(old);
}

/**
 * Recordings hold what commands printed: the directory they go to gets a .gitignore of `*` when
 * mproxy makes it, or when it holds recordings only, so none is ever committed by accident. A
 * directory holding anything else (a recording path pointed at the repository itself) is left
 * alone.
 */
function keepOutOfGit(dir: string): void {
  const ignore = join(dir, '.gitignore');
  if (existsSync(ignore)) return;
  const made = mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined;
  if (made || readdirSync(dir).every((name) => name.endsWith('.cbor')))
    writeFileSync(ignore, '# mproxy recordings: what remote commands printed. Never committed.\n*\n', { mode: 0o644 });
}

export function openRecording(
  profile: Profile,
  name: string,
  profileFile: string,
  warn: (message: string) => void,
): SessionRecording | undefined {
  const rec = profile.recording;
  if (rec.mode === 'off') return undefined;
  const now = new Date();
  const path = recordingPath(rec.path, name, now, process.pid);
  const redacts = rec.redact.map((p) => compileNamePattern(p, { ignoreCase: true })).map((c) => (c.ok ? c.value : () => false));
  const onError = (err: Error): void => warn(`recording to ${path} stopped: ${err.message}; the session goes on unrecorded`);
  let writer: RecordingWriter;
  try {
    keepOutOfGit(dirname(path));
    writer = new RecordingWriter(path, {
      redact: (n) => redacts.some((r) => r(n)),
      maxBytes: settingsOf(profile).recordingMaxBytes,
      onError,
    });
  } catch (err) {
    throw new MproxyError('E_RECORDING', `cannot create the recording ${path}: ${messageOf(err)}`, {
      hint: '[recording] path must name a file that does not exist yet, in a directory you can write; or set mode = "off"',
      cause: err,
    });
  }
  let profileSha256 = '';
  try {
    profileSha256 = createHash('sha256').update(readFileSync(profileFile)).digest('hex');
  } catch {
    // An embedded profile read from elsewhere: no hash.
  }
  writer.header({
    version: RECORDING_VERSION,
    profile: profileFile,
    profileSha256,
    target: profile.target.uri,
    user: userInfo().username,
    start: now.getTime(),
    host: hostname(),
    pid: process.pid,
  });
  pruneRecordings(rec.path, name, rec.keep);
  const full = rec.mode === 'full';
  const argRules = parseArgRules(rec.redact_args);
  const scrubber = new StdioScrubber();
  const counts = new Map<number, { in: number; out: number }>();
  let seq = 0;
  return {
    path,
    started(argv, cmdCwd, env) {
      seq += 1;
      counts.set(seq, { in: 0, out: 0 });
      for (const [k, v] of Object.entries(env)) if (redacts.some((r) => r(k))) scrubber.add(v);
      const shown = redactArgv(argv, argRules);
      for (const v of shown.taken) scrubber.add(v);
      writer.start({ seq, t: Date.now(), argv: shown.argv, cwd: cmdCwd, env });
      return seq;
    },
    data(id, fd, chunk) {
      const c = counts.get(id);
      if (c === undefined) return;
      if (fd === 0) c.in += chunk.length;
      else c.out += chunk.length;
      if (!full || !isStdio(fd)) return;
      const clean = scrubber.scrub(`${id}:${fd}`, chunk);
      if (clean.length > 0) writer.io(id, fd, clean);
    },
    ended(id, code, signal) {
      const c = counts.get(id) ?? { in: 0, out: 0 };
      counts.delete(id);
      for (const fd of [0, 1, 2] as const) {
        const rest = scrubber.flush(`${id}:${fd}`);
        if (full && rest.length > 0) writer.io(id, fd, rest);
      }
      writer.end({ seq: id, t: Date.now(), code, signal, bytesIn: c.in, bytesOut: c.out });
    },
    close: () => writer.close(),
  };
}
