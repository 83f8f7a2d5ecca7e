/**
 * The agent's end of the connection: frames in from stdin, frames out to stdout. Outbound
 * writes report congestion so producers (child stdout readers) pause instead of buffering
 * without bound.
 */
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { FrameDecoder } from '../../src/protocol/codec.js';
import { FrameWriter } from '../../src/protocol/frame-writer.js';
import { SYNC_MARKER, type Frame } from '../../src/protocol/frames.js';

export class AgentChannel extends EventEmitter {
  private congested = false;
  /** Frames of one event-loop turn leave in one write (one SSH packet). */
  private readonly writer: FrameWriter;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
  ) {
    super();
    this.writer = new FrameWriter(output);
    // One drain listener per running exec: fifty at once is normal.
    this.setMaxListeners(0);
    // Before any frame: lets the client skip whatever a login shell printed ahead of us.
    output.write(SYNC_MARKER);
    output.on('drain', () => {
      this.congested = false;
      this.emit('drain');
    });
  }

  get isCongested(): boolean {
    return this.congested;
  }

  start(onFrame: (frame: Frame) => void, onEnd: (error?: Error) => void): void {
    const decoder = new FrameDecoder(onFrame, { pieces: true });
    this.input.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch (err) {
        onEnd(err instanceof Error ? err : new Error(String(err)));
      }
    });
    this.input.on('end', () => onEnd());
    this.input.on('error', (err) => onEnd(err));
    // mproxy went away (EPIPE): the end, as its EOF is. No SIGPIPE handler: a child's closed
    // stdin raises one too, and that is only that child's business.
    this.output.on('error', () => onEnd());
  }

  send(frame: Frame): void {
    if (!this.writer.write(frame)) this.congested = true;
  }
}
