/**
 * Files opened here for a child (ExecFrame.files): a redirection of a local command to or from a
 * file of the mount (`< f`, `> f`, `>> f`, `2>&1`) becomes the same open on this machine, so the
 * bytes never travel. One open per entry, with the entry's access mode (and O_APPEND), never
 * creating or truncating (the local open did that through the mount); every fd of the entry gets
 * that one open file description, as a dup would. The agent holds its copy until the child has
 * exited, then reads where the child left the position (/proc/self/fdinfo: Node has no lseek).
 */
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import type { FileOpen } from '../../src/protocol/frames.js';

const ACCESS: Readonly<Record<FileOpen['mode'], number>> = {
  r: constants.O_RDONLY,
  w: constants.O_WRONLY,
  rw: constants.O_RDWR,
};

/** Can positions be read back here (Linux's /proc)? Without, the agent does not offer 'files'. */
export function filesSupported(): boolean {
  try {
    return /^pos:\s*\d+/m.test(readFileSync('/proc/self/fdinfo/0', 'latin1'));
  } catch {
    return false;
  }
}

export class ChildFiles {
  /** Child fd → the agent's fd of its open file. */
  readonly byFd = new Map<number, number>();
  private readonly opened: number[] = [];

  constructor(files: readonly FileOpen[]) {
    try {
      for (const f of files) {
        const flags = ACCESS[f.mode] | (f.append === true ? constants.O_APPEND : 0) | constants.O_NOCTTY;
        let fd: number;
        try {
          fd = openSync(f.path, flags);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
          throw new Error(`cannot open ${f.path} on the remote (fd ${f.fds.join(', ')}): ${code}`);
        }
        this.opened.push(fd);
        for (const childFd of f.fds) this.byFd.set(childFd, fd);
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Where each file's position is now, in the order of the Exec's entries (-1: unreadable). */
  positions(): number[] {
    return this.opened.map((fd) => {
      try {
        const m = /^pos:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
        return m === null ? -1 : Number(m[1]);
      } catch {
        return -1;
      }
    });
  }

  close(): void {
    for (const fd of this.opened.splice(0)) {
      try {
        closeSync(fd);
      } catch {
        // Closed already.
      }
    }
  }
}
