/**
 * What a recording must not keep: values of flags named in `recording.redact_args` in a
 * command's argv, and — once seen in a redacted variable or flag — the same values wherever they
 * turn up in captured stdio (`env` or `echo "$TOKEN"` would print them).
 *
 * A rule is `--name` or `-x`, optionally scoped to one command as `CMD:--name` (matched against
 * the basename of argv[0]). For `--password=V` and `-pV` the attached value goes; a bare
 * `--password` or `-p` takes the next argument with it — the safe reading when a flag's value
 * may be separate (`sshpass -p V`), at the price of hiding a word that was not a secret
 * (`mysql -p dbname`).
 */
import { basename } from 'node:path';
import { REDACTED } from './writer.js';

export interface ArgRule {
  /** Only for commands whose argv[0] has this basename; every command when absent. */
  readonly command?: string;
  readonly flag: string;
}

/** Secrets shorter than this are not cut from stdio: "1" or "on" would shred the output. */
const MIN_SECRET = 4;

export function parseArgRules(items: readonly string[]): ArgRule[] {
  return items.map((item) => {
    const colon = item.indexOf(':');
    return colon < 0 ? { flag: item } : { command: item.slice(0, colon), flag: item.slice(colon + 1) };
  });
}

/** argv with redacted values replaced, and the values taken out (to scrub from stdio). */
export function redactArgv(argv: readonly string[], rules: readonly ArgRule[]): { argv: string[]; taken: string[] } {
  const name = basename(argv[0] ?? '');
  const flags = rules.filter((r) => r.command === undefined || r.command === name).map((r) => r.flag);
  const out = [...argv];
  const taken: string[] = [];
  if (flags.length === 0) return { argv: out, taken };
  for (let i = 1; i < out.length; i++) {
    const arg = out[i] ?? '';
    if (arg === '--') break; // operands from here on
    for (const flag of flags) {
      if (arg === flag && i + 1 < out.length) {
        taken.push(out[i + 1] ?? '');
        out[i + 1] = REDACTED;
        i++;
        break;
      }
      const attached = flag.startsWith('--') ? `${flag}=` : flag;
      if (arg.length > attached.length && arg.startsWith(attached)) {
        taken.push(arg.slice(attached.length));
        out[i] = attached + REDACTED;
        break;
      }
    }
  }
  return { argv: out, taken };
}

/**
 * Cuts known secret values out of captured stdio. Each stream (a command's fd) is scrubbed as
 * one text: the end of a chunk that could begin a secret is held back until the next chunk (or
 * the stream's end) shows whether it does, so a value split across chunks is still cut.
 */
export class StdioScrubber {
  /** Secrets as latin1 text of their UTF-8 bytes: every byte maps to one char and back. */
  private readonly secrets = new Set<string>();
  private readonly held = new Map<string, string>();

  add(value: string): void {
    if (value.length >= MIN_SECRET) this.secrets.add(Buffer.from(value).toString('latin1'));
  }

  /** `chunk` of stream `key` with secrets cut, less what is held back for the next one. */
  scrub(key: string, chunk: Buffer): Buffer {
    // Nothing to look for (the usual case): the chunk as it came, not copied through a string.
    if (this.secrets.size === 0) return chunk;
    let text = (this.held.get(key) ?? '') + chunk.toString('latin1');
    for (const secret of this.secrets) if (text.includes(secret)) text = text.split(secret).join(REDACTED);
    const keep = this.heldBack(text);
    if (keep > 0) this.held.set(key, text.slice(text.length - keep));
    else this.held.delete(key);
    return Buffer.from(text.slice(0, text.length - keep), 'latin1');
  }

  /** What is still held back of stream `key`, at its end (it begins no whole secret). */
  flush(key: string): Buffer {
    const rest = this.held.get(key) ?? '';
    this.held.delete(key);
    return Buffer.from(rest, 'latin1');
  }

  /** The longest end of `text` that is the start of a secret (and not the whole of one). */
  private heldBack(text: string): number {
    let keep = 0;
    for (const secret of this.secrets) {
      for (let n = Math.min(secret.length - 1, text.length); n > keep; n--) {
        if (text.endsWith(secret.slice(0, n))) {
          keep = n;
          break;
        }
      }
    }
    return keep;
  }
}
