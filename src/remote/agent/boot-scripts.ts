/**
 * Deploying the agent with POSIX sh scripts, shared by every transport (ssh exec channels,
 * docker exec): probe for node and what is already cached, upload what is missing, start it.
 * Status lines carry a marker, so whatever a login shell prints around them is ignored.
 * No single quotes in the scripts: the ssh transport wraps them in some.
 */
import { agentBundle, helperMachines, NODE_FLAGS, ptyHelper, type Payload } from './bundle.js';

export type NodeStatus =
  | { readonly kind: 'ready' }
  | { readonly kind: 'need-upload' }
  | { readonly kind: 'no-node' }
  | { readonly kind: 'old-node'; readonly version: string };

export interface Probe {
  readonly node: NodeStatus;
  /** `uname -s` and `uname -m` of the remote. */
  readonly system: string;
  readonly machine: string;
  readonly helperCached: boolean;
}

const MARK = 'MPROXY-BOOT:';
const SYS = 'MPROXY-BOOT-SYS:';
const HELPER = 'MPROXY-BOOT-HELPER:';
const CACHE = '"$HOME/.cache/mproxy"';
/** What a start script prints (then exits 1) when a cached file is not what its name says. */
export const REFUSED = 'mproxy-boot: refusing to run';

/**
 * `sum FILE` prints FILE's sha256 in hex: with sha256sum where it works, else with node (every
 * remote that runs the agent has it), so no file is ever trusted unchecked.
 */
const SUM = [
  'sum() {',
  '  s=$(sha256sum < "$1" 2>/dev/null); s=${s%% *}',
  '  [ ${#s} -eq 64 ] || s=$(node -e ' +
    '"process.stdout.write(require(\\"crypto\\").createHash(\\"sha256\\")' +
    '.update(require(\\"fs\\").readFileSync(process.argv[1])).digest(\\"hex\\"))" "$1" 2>/dev/null)',
  '  echo "$s"',
  '}',
].join('\n');

/** A shell test: is the cached `file` present with the content its name promises? */
function intact(path: string, file: Payload): string {
  return `[ -f ${path} ] && [ "$(sum ${path})" = ${file.sha256} ]`;
}

export function probeScript(): string {
  const helper = ptyHelper();
  return [
    `d=${CACHE}`,
    SUM,
    `echo "${SYS}$(uname -s) $(uname -m)"`,
    `command -v node >/dev/null 2>&1 || { echo ${MARK}no-node; exit 0; }`,
    'v=$(node --version 2>/dev/null)',
    `case "$v" in v1[89].*|v[2-9][0-9].*) ;; *) echo "${MARK}old-node $v"; exit 0;; esac`,
    // A cached file whose bytes are not what its name says (a damaged disk, a tampered cache) is replaced.
    helper !== undefined
      ? `if [ -x "$d/${helper.cacheName}" ] && ${intact(`"$d/${helper.cacheName}"`, helper)}; then echo ${HELPER}cached; fi`
      : ':',
    `if ${intact(`"$d/${agentBundle().cacheName}"`, agentBundle())}; then echo ${MARK}ready; else echo ${MARK}need-upload; fi`,
  ].join('\n');
}

/** The probe's verdict, or undefined when its output has none (the shell did not run it). */
export function parseProbe(stdout: string): Probe | undefined {
  const lines = stdout.split('\n');
  const line = lines
    .find((l) => l.startsWith(MARK))
    ?.slice(MARK.length)
    .trim();
  const [system = '', machine = ''] = (lines.find((l) => l.startsWith(SYS))?.slice(SYS.length) ?? '').trim().split(' ');
  let node: NodeStatus;
  if (line === 'ready' || line === 'need-upload' || line === 'no-node') node = { kind: line };
  else if (line?.startsWith('old-node') === true) node = { kind: 'old-node', version: line.slice('old-node'.length).trim() || 'unknown' };
  else return undefined;
  return { node, system, machine, helperCached: lines.some((l) => l.trim() === `${HELPER}cached`) };
}

/**
 * Reads a file on stdin into a temporary name, checks its sha256 and renames it into place
 * (atomic, no ETXTBSY): a transfer cut short or damaged never takes the cached name.
 */
export function uploadScript(file: Payload, mode: '600' | '700'): string {
  return [
    'umask 077',
    `d=${CACHE}`,
    SUM,
    'mkdir -p "$d" || exit 1',
    't="$d/.upload.$$"',
    'cat > "$t" || { rc=$?; rm -f "$t"; exit $rc; }',
    `${intact('"$t"', file)} || { rm -f "$t"; echo "the uploaded file arrived damaged (its sha256 is not ${file.sha256})" >&2; exit 1; }`,
    `chmod ${mode} "$t" && mv -f "$t" "$d/${file.cacheName}" && exit 0`,
    'rc=$?; rm -f "$t"; exit $rc',
  ].join('\n');
}

/**
 * Starts the agent; it is told where the pty helper is when there is one. The same shell that
 * execs them checks both files first, and refuses (saying so on stdout, exit 1) what does not
 * match: nothing replaced between the probe and the start is ever run.
 */
export function startScript(withHelper: boolean): string {
  const helper = withHelper ? ptyHelper() : undefined;
  const files = [agentBundle(), ...(helper !== undefined ? [helper] : [])];
  return [
    `d=${CACHE}`,
    SUM,
    ...files.map(
      (f) => `${intact(`"$d/${f.cacheName}"`, f)} || { echo "${REFUSED} $d/${f.cacheName}: its sha256 is not ${f.sha256}"; exit 1; }`,
    ),
    `exec node ${NODE_FLAGS.join(' ')} "$d/${agentBundle().cacheName}"${helper !== undefined ? ` "$d/${helper.cacheName}"` : ''}`,
  ].join('\n');
}

/**
 * The start without a probe first, for a remote that has run this agent before: the cached
 * agent is checked and started (with the cached pty helper where it is intact and the machine
 * is of its kind); anything else — no node, no agent cached, a damaged file — prints NOT_READY
 * and ends, and the caller falls back to probe, upload and start. One round trip saved per
 * connection.
 */
export function quickStartScript(): string {
  const agent = agentBundle();
  const helper = ptyHelper();
  const machines = helper !== undefined && process.platform === 'linux' ? helperMachines() : [];
  return [
    `d=${CACHE}`,
    SUM,
    `${intact(`"$d/${agent.cacheName}"`, agent)} && command -v node >/dev/null 2>&1 || { echo ${NOT_READY}; exit 0; }`,
    helper !== undefined && machines.length > 0
      ? `case "$(uname -s) $(uname -m)" in ${machines.map((m) => `"Linux ${m}"`).join('|')}) if [ -x "$d/${helper.cacheName}" ] ` +
        `&& ${intact(`"$d/${helper.cacheName}"`, helper)}; ` +
        `then exec node ${NODE_FLAGS.join(' ')} "$d/${agent.cacheName}" "$d/${helper.cacheName}"; fi;; esac`
      : ':',
    `exec node ${NODE_FLAGS.join(' ')} "$d/${agent.cacheName}"`,
  ].join('\n');
}

/** What the quick start prints when the remote needs the probe. */
export const NOT_READY = 'MPROXY-BOOT:not-ready';
