/**
 * The file operations as POSIX sh, for remotes with neither the agent nor SFTP (a Docker
 * container of busybox) and for what SFTP cannot carry (paths that are not UTF-8). Paths enter
 * as octal escapes decoded by `printf %b`, so any bytes but NUL survive and a script is plain
 * ASCII; names leave NUL-terminated. Failures a tool would not name exactly are checked first
 * and reported as `\0errno:NAME` on stderr; otherwise the tool's own message is mapped
 * (sh-fs.ts). Only busybox-level tools: stat -c, dd with byte offsets, truncate, touch -d @N.
 */

/** dev ino mode(hex) nlink uid gid rdev-major(hex) rdev-minor(hex) size blocks block-size atime mtime ctime */
export const STAT_FORMAT = '%d %i %f %h %u %g %t %T %s %b %B %X %Y %Z';

const PRELUDE = [
  'fail() { printf \'\\000errno:%s\\n\' "$1" >&2; exit 1; }',
  'here() { [ -e "$1" ] || [ -L "$1" ]; }',
  'realdir() { [ -d "$1" ] && [ ! -L "$1" ]; }',
].join('\n');

/** `NAME=` the bytes, in sh: `printf %b` of octal escapes, with a guard against $( ) eating newlines. */
export function bytesVar(name: string, bytes: Uint8Array): string {
  const oct = [...bytes].map((b) => `\\0${b.toString(8).padStart(3, '0')}`).join('');
  return `${name}=$(printf %b '${oct}'; echo x); ${name}=\${${name}%x}`;
}

/** A whole decimal for a script; anything else is a caller's bug, never shell syntax. */
export function int(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a non-negative integer: ${n}`);
  return String(n);
}

/** A process umask applied to `mode` (permission bits only), as open(2) and mkdir(2) do. */
const MASKED = (mode: number): string => `$(printf %o $(( ${int(mode & 0o7777)} & ~0$(umask) )))`;

export interface OpenCheck {
  readonly read: boolean;
  readonly write: boolean;
  readonly create: boolean;
  readonly exclusive: boolean;
  readonly truncate: boolean;
  readonly mode: number;
}

/** Each script expects its paths in $p (and $q), set with bytesVar before it. */
export const SCRIPTS = {
  stat: () => `stat -L -c '${STAT_FORMAT}' -- "$p"`,
  lstat: () => `stat -c '${STAT_FORMAT}' -- "$p"`,
  // The count, the names (NUL-terminated), then one lstat line per name in order.
  readdir: () =>
    [
      'cd -P -- "$p" || exit 1',
      'set -- * .[!.]* ..?*',
      'for f; do shift; if here "$f"; then set -- "$@" "$f"; fi; done',
      'printf \'%s\\000\' "$#"',
      '[ $# -eq 0 ] && exit 0',
      'printf \'%s\\000\' "$@"',
      // One stat for all; when one entry vanished meanwhile, its output is dropped (a line short,
      // the rest would pair with the wrong names) and each is asked alone, '-' for the gone.
      `if s=$(stat -c '${STAT_FORMAT}' -- "$@" 2>/dev/null); then printf '%s\\n' "$s"; else for f; do stat -c '${STAT_FORMAT}' ` +
        `-- "$f" 2>/dev/null || echo -; done; fi`,
    ].join('\n'),
  open: (o: OpenCheck) =>
    [
      'if ! here "$p"; then',
      o.create ? `  cat /dev/null > "$p" || exit 1; chmod ${MASKED(o.mode)} -- "$p" || exit 1` : '  fail ENOENT',
      'else',
      o.create && o.exclusive ? '  fail EEXIST' : '',
      '  [ -e "$p" ] || fail ENOENT',
      o.write ? '  [ -d "$p" ] && fail EISDIR' : '',
      o.read ? '  [ -r "$p" ] || fail EACCES' : '',
      o.write ? '  [ -w "$p" ] || fail EACCES' : '',
      o.truncate && o.write ? '  cat /dev/null > "$p" || exit 1' : '',
      'fi',
    ]
      .filter((l) => l !== '')
      .join('\n'),
  read: (position: number, length: number) =>
    `[ -d "$p" ] && fail EISDIR; dd if="$p" bs=65536 skip=${int(position)} count=${int(length)} iflag=skip_bytes,count_bytes ` +
    `2>/dev/null || { [ -r "$p" ] || fail EACCES; fail EIO; }`,
  // dd always talks on stderr: keep what it said only when it failed.
  write: (position: number) =>
    `e=$(dd of="$p" bs=65536 seek=${int(position)} oflag=seek_bytes conv=notrunc 2>&1) || { echo "$e" >&2; exit 1; }`,
  append: () => 'cat >> "$p"',
  truncate: (length: number) => `here "$p" || fail ENOENT; [ -d "$p" ] && fail EISDIR; truncate -c -s ${int(length)} -- "$p"`,
  fsync: () => 'sync',
  mkdir: (mode: number) => `mkdir -m ${MASKED(mode)} -- "$p"`,
  mkdirAll: (mode: number) => `if here "$p"; then [ -d "$p" ] || fail ENOTDIR; else mkdir -p -m ${MASKED(mode)} -- "$p"; fi`,
  unlink: () => 'realdir "$p" && fail EISDIR; rm -- "$p"',
  rmdir: () => 'rmdir -- "$p"',
  remove: () => 'if realdir "$p"; then rmdir -- "$p"; else rm -- "$p"; fi',
  // rename(2): a directory may replace an empty directory; mv would move into it instead.
  rename: () =>
    [
      'here "$p" || fail ENOENT',
      'if realdir "$q"; then',
      '  realdir "$p" || fail EISDIR',
      '  [ "$p" -ef "$q" ] && exit 0',
      '  rmdir -- "$q" 2>/dev/null || fail ENOTEMPTY',
      'elif here "$q" && realdir "$p"; then fail ENOTDIR',
      'fi',
      'mv -f -- "$p" "$q"',
    ].join('\n'),
  chmod: (mode: number) => `chmod ${(mode & 0o7777).toString(8)} -- "$p"`,
  chown: (uid: number, gid: number) => `chown -h ${int(uid)}:${int(gid)} -- "$p"`,
  utimes: (atimeMs: number, mtimeMs: number) =>
    `here "$p" || fail ENOENT; touch -c -a -d @${int(Math.floor(atimeMs / 1000))} -- "$p" && touch -c -m -d ` +
    `@${int(Math.floor(mtimeMs / 1000))} -- "$p"`,
  readlink: () => '[ -L "$p" ] || { here "$p" && fail EINVAL; fail ENOENT; }; readlink -- "$p"',
  symlink: () => 'here "$q" && fail EEXIST; ln -s -- "$p" "$q"',
  link: () => 'here "$p" || fail ENOENT; here "$q" && fail EEXIST; realdir "$p" && fail EPERM; ln -- "$p" "$q"',
  // readlink -f first: busybox's realpath takes `--` for a file, prints the path and fails. The
  // x keeps a name's trailing newlines through $( ).
  realpath: () =>
    'here "$p" || fail ENOENT; r=$(readlink -f -- "$p" 2>/dev/null && echo x) || r=$(realpath "$p" 2>/dev/null && echo x) || ' +
    'fail ENOENT; printf %s "${r%x}"',
  statfs: () => 'stat -f -c \'%S %b %f %a %c %d\' -- "$p"',
  getwd: () => 'pwd -P',
  readFile: (limit: number) =>
    `[ -d "$p" ] && fail EISDIR; here "$p" || fail ENOENT; [ -r "$p" ] || fail EACCES; dd if="$p" bs=65536 count=${int(limit)} ` +
    `iflag=count_bytes 2>/dev/null`,
} as const;

export function script(body: string, paths: readonly (readonly [string, Uint8Array])[]): string {
  return [PRELUDE, ...paths.map(([name, bytes]) => bytesVar(name, bytes)), body, ''].join('\n');
}
