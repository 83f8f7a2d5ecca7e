/**
 * Two ends of one forwarded connection joined: bytes both ways, each direction's end passed on
 * (half-close, so a client may send a request and still read the answer), and a failure on
 * either side tearing down both at once — never a connection left open on one side only.
 */
import type { Duplex } from 'node:stream';

export function join(a: Duplex, b: Duplex): Promise<void> {
  return new Promise((resolve) => {
    let closed = 0;
    const done = (): void => {
      closed += 1;
      if (closed === 2) resolve();
    };
    const fail = (): void => {
      a.destroy();
      b.destroy();
    };
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      from.on('error', fail);
      from.pipe(to, { end: true });
      from.once('close', () => {
        // A side that closed without ending cleanly (reset, lost link) takes the other with it.
        if (!from.readableEnded || !from.writableFinished) to.destroy();
        done();
      });
    }
  });
}
