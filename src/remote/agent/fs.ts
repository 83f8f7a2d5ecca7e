/** The agent client's RemoteFs: each file operation one FileOp request; readdir's packed answer unpacked. */
import { type FileOpArgs, type FileOpName, type FileOpResult, unpackDirEntries } from '../../protocol/file-ops.js';
import { MproxyError } from '../../util/errors.js';
import type { RemoteFs } from '../host.js';

/** `request(op, args, pieces)`: sends one FileOp; `pieces`: a read's result may stay in the pieces it arrived in. */
export function agentFs(request: (op: string, a: readonly unknown[], pieces: boolean) => Promise<unknown>, where: () => string): RemoteFs {
  return {
    call: <K extends FileOpName>(op: K, ...args: FileOpArgs<K>): Promise<FileOpResult<K>> => {
      const answer = request(op, args, op === 'read');
      if (op !== 'readdir') return answer as Promise<FileOpResult<K>>;
      return answer.then((packed) => {
        const entries = unpackDirEntries(packed);
        if (entries === undefined) throw new MproxyError('E_PROTOCOL', `the agent on ${where()} answered readdir with something else`);
        return entries as FileOpResult<K>;
      });
    },
  };
}
