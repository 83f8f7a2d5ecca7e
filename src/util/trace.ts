/**
 * The protocol trace of `--debug`: one sink for the process, set once by the command line. Off,
 * it costs a test of one variable per frame; nothing is formatted.
 */
let sink: ((line: string) => void) | undefined;

export function enableTrace(write: (line: string) => void): void {
  sink = write;
}

/** The sink, or undefined while tracing is off (callers format their line only when it is set). */
export function traceSink(): ((line: string) => void) | undefined {
  return sink;
}
