/**
 * The files of one mount with I/O under way, by node: a NodeIo each, made at the first read or
 * write, closed once idle for a while (nothing left to send), closed when the kernel forgets
 * the node, and flushed and closed at unmount.
 */
import type { NodeIo } from './node-io.js';
import type { FsNode } from './nodes.js';

const IDLE_MS = 5000;

export class OpenFiles {
  private readonly ios = new Map<number, NodeIo>();
  private readonly idleTimer: NodeJS.Timeout;

  constructor(private readonly make: (node: FsNode) => NodeIo) {
    this.idleTimer = setInterval(() => this.closeIdle(), IDLE_MS);
    this.idleTimer.unref();
  }

  get(ino: number): NodeIo | undefined {
    return this.ios.get(ino);
  }

  /** `node`'s NodeIo, made if it has none. */
  of(node: FsNode): NodeIo {
    let io = this.ios.get(node.ino);
    if (io === undefined) {
      io = this.make(node);
      this.ios.set(node.ino, io);
    }
    return io;
  }

  /** The kernel forgot the node: its file is closed (after what it still has to send). */
  drop(ino: number): void {
    const io = this.ios.get(ino);
    this.ios.delete(ino);
    void io?.close().catch(() => undefined);
  }

  private closeIdle(): void {
    const before = Date.now() - IDLE_MS;
    for (const [ino, io] of this.ios) {
      if (io.lastUsed > before || !io.clean) continue;
      this.ios.delete(ino);
      void io.close().catch(() => undefined);
    }
  }

  /** Sends every write still held (the flush at unmount). */
  async flushAll(): Promise<void> {
    await Promise.all([...this.ios.values()].map((io) => io.flush().catch(() => undefined)));
  }

  async closeAll(): Promise<void> {
    clearInterval(this.idleTimer);
    await Promise.all([...this.ios.values()].map((io) => io.close().catch(() => undefined)));
    this.ios.clear();
  }
}
