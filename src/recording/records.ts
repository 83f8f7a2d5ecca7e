/**
 * The recording format: a stream of records, each a 4-byte big-endian length and one CBOR map
 * (cbor-x). Append-only: a crash loses no command start or end (in the file when recorded) and
 * at most the stdio of its last moments, and a reader reports where a cut file ends instead of
 * failing.
 *
 *   header  {k:'header', version, profile, profileSha256, target, user, start, host?, pid?}
 *           host and pid: the machine and mproxy process writing it (`log --follow` tells a
 *           session that is gone without a footer from one still running)
 *   start   {k:'start', seq, parent?, t, argv, cwd, env}     a remote command began
 *   io      {k:'io', seq, t, s, d}                          a stdio chunk (s 0 in, 1 out, 2 err)
 *   end     {k:'end', seq, t, code, signal, bytesIn, bytesOut}
 *   footer  {k:'footer', t, commands, capped}                 capped: max_size stopped stdio capture
 * Times are milliseconds since the epoch.
 */
export const RECORDING_VERSION = 1;

export interface HeaderRecord {
  readonly k: 'header';
  readonly version: number;
  readonly profile: string;
  readonly profileSha256: string;
  readonly target: string;
  readonly user: string;
  readonly start: number;
  readonly host?: string;
  readonly pid?: number;
}

export interface StartRecord {
  readonly k: 'start';
  readonly seq: number;
  readonly parent?: number;
  readonly t: number;
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

export interface IoRecord {
  readonly k: 'io';
  readonly seq: number;
  readonly t: number;
  readonly s: 0 | 1 | 2;
  readonly d: Uint8Array;
}

export interface EndRecord {
  readonly k: 'end';
  readonly seq: number;
  readonly t: number;
  readonly code: number | null;
  readonly signal: string | null;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

export interface FooterRecord {
  readonly k: 'footer';
  readonly t: number;
  readonly commands: number;
  readonly capped: boolean;
}

export type RecordingRecord = HeaderRecord | StartRecord | IoRecord | EndRecord | FooterRecord;

/** Largest record a reader accepts: anything longer is a corrupt length. */
export const MAX_RECORD = 16 * 1024 * 1024;
