/** Asking the user for a secret on the terminal, without echo; undefined when there is no terminal. */
import { openSync, closeSync } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';

export function askSecret(question: string): Promise<string | undefined> {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    return Promise.resolve(undefined);
  }
  const input = new ReadStream(fd);
  const output = new WriteStream(fd);
  output.write(question);
  input.setRawMode(true);
  return new Promise((resolve) => {
    let answer = '';
    const finish = (value: string | undefined): void => {
      input.setRawMode(false);
      input.off('data', onData);
      output.write('\n');
      input.destroy();
      try {
        closeSync(fd);
      } catch {
        // Closed with the stream.
      }
      resolve(value);
    };
    const onData = (data: Buffer): void => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(answer);
        if (ch === '\u0003' || ch === '\u0004') return finish(undefined);
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    input.on('data', onData);
  });
}
