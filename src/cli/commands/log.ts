/** `mproxy log RECORDING`: what ran on the remote — a table, JSON, one command's output, or live. */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, relative, resolve } from 'node:path';
import { commandJson, foldRecords, type RecordedCommand } from '../../recording/commands.js';
import type { RecordingRecord } from '../../recording/records.js';
// The recording's reader and writer (cbor-x) load when log runs, not with every command.
import type { readRecording as ReadRecording } from '../../recording/reader.js';
import { MproxyError, messageOf } from '../../util/errors.js';
import { processGone } from '../../util/process.js';
import type { Command, CommandIO } from '../command.js';
import { loadProfileArg } from '../profile-arg.js';

const FOLLOW_MS = 250;

/** The bytes of `path` from `offset` to its current end. */
function readFrom(path: string, offset: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new MproxyError('E_RECORDING', `cannot read ${path}: ${messageOf(err)}`, {
      hint: 'recordings are written where [recording] path says (default .mproxy/recordings/)',
    });
  }
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - offset));
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

function exitText(c: RecordedCommand): string {
  if (c.endMs === undefined) return '…';
  return c.signal !== null && c.signal !== undefined ? c.signal : String(c.exitCode ?? '?');
}

/** One table row, cut to the terminal's width. */
function row(c: RecordedCommand, width: number): string {
  const start = new Date(c.startMs).toISOString().slice(11, 23);
  const duration = c.endMs === undefined ? '' : `${c.endMs - c.startMs} ms`;
  const line = `${String(c.seq).padStart(4)}  ${start}  ${duration.padStart(9)}  ${exitText(c).padStart(7)}  ${c.cwd}  ${c.argv.join(' ')}`;
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** A recording file, or — for a name that is not a file — the newest recording of that profile. */
async function recordingArg(arg: string, io: CommandIO): Promise<string> {
  const path = resolve(io.cwd, arg);
  if (existsSync(path) || arg.includes('/') || arg.endsWith('.cbor')) return path;
  const loaded = await loadProfileArg(arg, io);
  if (loaded.profile === undefined)
    throw new MproxyError('E_PROFILE_INVALID', `${loaded.file} is not valid`, { hint: `mproxy validate ${loaded.file}` });
  const template = loaded.profile.recording.path;
  const { listRecordings } = await import('../../recording/session.js');
  const newest = listRecordings(template, basename(loaded.file, '.toml'))[0];
  if (newest === undefined) {
    throw new MproxyError(
      'E_RECORDING',
      `no recordings of profile ${arg} (looked for ${template.replaceAll('{profile}', basename(loaded.file, '.toml'))})`,
      {
        hint:
          loaded.profile.recording.mode === 'off'
            ? 'recording is off for it: set [recording] mode = "commands" or "full"'
            : 'run `mproxy up` with it first',
      },
    );
  }
  io.stderr(`mproxy: ${relative(io.cwd, newest) || newest}, the newest recording of ${arg}\n`);
  return newest;
}

export const logCommand: Command = {
  name: 'log',
  summary: "list the commands of a recording, or print one command's output",
  usage: 'mproxy log RECORDING|PROFILE [--json] [--show N] [--grep TEXT] [--follow]',
  details: [
    'A table of the remote commands a `mproxy up` session ran (seq, start, duration, exit, cwd,',
    "argv); --json prints one object per command instead. --show N writes command N's recorded",
    'stdout to stdout and stderr to stderr, byte for byte (needs recording.mode = "full").',
    'A recording cut short by a crash is read up to where it ends, and that is said.',
    "PROFILE instead of a file reads that profile's newest recording (its [recording] path).",
  ],
  options: {
    json: {
      type: 'boolean',
      description: 'one JSON object per command: seq, argv, cwd, start, durationMs, exitCode, signal, bytesIn, bytesOut, env',
    },
    show: { type: 'string', valueName: 'N', description: "write command N's recorded stdout and stderr" },
    grep: { type: 'string', valueName: 'TEXT', description: 'only commands whose argv contains TEXT' },
    follow: {
      type: 'boolean',
      short: 'f',
      description: 'keep reading a live recording until its session ends, or is gone without ending it (Ctrl-C stops)',
    },
  },
  failureExit: 1,
  async run(args, io) {
    if (args.positionals.length !== 1)
      throw new MproxyError('E_USAGE', 'log takes one RECORDING file or PROFILE', {
        hint: 'mproxy log .mproxy/recordings/build-box-20261124T101500Z.cbor, or mproxy log build-box for its newest',
      });
    const path = await recordingArg(args.positionals[0] ?? '', io);
    const { readRecording } = await import('../../recording/reader.js');
    const grep = args.values['grep'] as string | undefined;
    const keep = (c: RecordedCommand): boolean => grep === undefined || c.argv.join(' ').includes(grep);
    const show = args.values['show'] as string | undefined;
    if (show !== undefined) return showOutput(path, show, io, readRecording);
    const json = args.values['json'] === true;
    const width = process.stdout.columns ?? 160;
    const print = (c: RecordedCommand): void => io.stdout(json ? `${JSON.stringify(commandJson(c))}\n` : `${row(c, width)}\n`);
    const header = (): void => {
      if (!json) io.stdout(`${'seq'.padStart(4)}  ${'start'.padEnd(12)}  ${'duration'.padStart(9)}  ${'exit'.padStart(7)}  cwd  argv\n`);
    };
    if (args.values['follow'] !== true) {
      const read = readRecording(readFrom(path, 0));
      header();
      for (const c of foldRecords(read.records).commands.filter(keep)) print(c);
      if (read.damage !== undefined)
        io.stderr(`mproxy: ${path} ends early at byte ${read.damage.offset}: ${read.damage.why}; the commands before it are listed\n`);
      return 0;
    }
    // Follow: print each command once it has ended, until the footer (the session's end). Only
    // what was appended since the last whole record is read each time; stdio is not kept. A
    // session gone without its footer (killed) ends the follow too, when it ran on this machine.
    const printed = new Set<number>();
    const records: RecordingRecord[] = [];
    let offset = 0;
    let first = true;
    for (;;) {
      const appended = readFrom(path, offset);
      const fresh = readRecording(appended);
      records.push(...fresh.records.filter((r) => r.k !== 'io'));
      offset += fresh.damage?.offset ?? appended.length;
      const folded = foldRecords(records);
      if (first) header();
      first = false;
      for (const c of folded.commands) {
        if (printed.has(c.seq) || (c.endMs === undefined && !folded.complete)) continue;
        printed.add(c.seq);
        if (keep(c)) print(c);
      }
      if (folded.complete) return 0;
      const writer = records.find((r) => r.k === 'header');
      if (
        appended.length === 0 &&
        writer?.k === 'header' &&
        writer.pid !== undefined &&
        writer.host === hostname() &&
        processGone(writer.pid, writer.start)
      ) {
        // One last read: what it wrote just before it went.
        if (readFrom(path, offset).length > 0) continue;
        for (const c of folded.commands.filter((c) => !printed.has(c.seq) && keep(c))) print(c);
        io.stderr(
          `mproxy: the session that wrote ${path} (pid ${writer.pid}) is gone without ending the recording (killed?); commands ` +
            `still running then are listed with … as their exit\n`,
        );
        return 0;
      }
      await new Promise((r) => setTimeout(r, FOLLOW_MS));
    }
  },
};

function showOutput(path: string, which: string, io: CommandIO, readRecording: typeof ReadRecording): number {
  const seq = Number(which);
  const read = readRecording(readFrom(path, 0));
  const command = foldRecords(read.records).commands.find((c) => c.seq === seq);
  if (command === undefined)
    throw new MproxyError('E_USAGE', `no command ${which} in ${path}`, { hint: '`mproxy log RECORDING` lists them with their numbers' });
  for (const chunk of command.io) {
    if (chunk.s === 1) process.stdout.write(chunk.d);
    else if (chunk.s === 2) process.stderr.write(chunk.d);
  }
  if (command.io.length === 0 && (command.bytesOut ?? 0) > 0)
    io.stderr('mproxy: this recording has no stdio (recording.mode = "commands", or max_size was reached)\n');
  return 0;
}
