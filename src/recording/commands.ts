/** A recording's records folded into one entry per remote command, as `mproxy log` shows them. */
import type { RecordingRecord } from './records.js';

export interface RecordedCommand {
  readonly seq: number;
  readonly parent?: number;
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly startMs: number;
  /** Unset while the command runs, or when the recording stops before its end. */
  endMs?: number;
  exitCode?: number | null;
  signal?: string | null;
  bytesIn?: number;
  bytesOut?: number;
  readonly io: { readonly s: 0 | 1 | 2; readonly d: Uint8Array }[];
}

export interface Folded {
  readonly commands: RecordedCommand[];
  /** The footer's word on stdio capture: true when max_size stopped it. */
  readonly capped: boolean;
  readonly complete: boolean;
}

export function foldRecords(records: readonly RecordingRecord[]): Folded {
  const bySeq = new Map<number, RecordedCommand>();
  let capped = false;
  let complete = false;
  for (const r of records) {
    if (r.k === 'start') {
      bySeq.set(r.seq, {
        seq: r.seq,
        ...(r.parent !== undefined ? { parent: r.parent } : {}),
        argv: r.argv,
        cwd: r.cwd,
        env: r.env,
        startMs: r.t,
        io: [],
      });
    } else if (r.k === 'io') {
      bySeq.get(r.seq)?.io.push({ s: r.s, d: r.d });
    } else if (r.k === 'end') {
      const c = bySeq.get(r.seq);
      if (c === undefined) continue;
      c.endMs = r.t;
      c.exitCode = r.code;
      c.signal = r.signal;
      c.bytesIn = r.bytesIn;
      c.bytesOut = r.bytesOut;
    } else if (r.k === 'footer') {
      capped = r.capped;
      complete = true;
    }
  }
  return { commands: [...bySeq.values()].sort((a, b) => a.seq - b.seq), capped, complete };
}

/** The command as `--json` prints it: plain field names. */
export function commandJson(c: RecordedCommand): Record<string, unknown> {
  return {
    seq: c.seq,
    parent: c.parent ?? null,
    argv: c.argv,
    cwd: c.cwd,
    start: new Date(c.startMs).toISOString(),
    durationMs: c.endMs === undefined ? null : c.endMs - c.startMs,
    exitCode: c.exitCode ?? null,
    signal: c.signal ?? null,
    bytesIn: c.bytesIn ?? null,
    bytesOut: c.bytesOut ?? null,
    env: c.env,
  };
}
