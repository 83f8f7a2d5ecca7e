/**
 * Startup of a session as listr2 tasks, shown while they run and cleared before the program
 * takes the terminal (a plain line per step when stderr is not a terminal, or with --verbose).
 * Every step registers how to undo itself; a failure, or Ctrl-C, at any step undoes what was
 * done, in reverse, and names the step that failed.
 */
import { Listr, ListrLogger, ProcessOutput } from 'listr2';
import { signalNumber } from '../broker/signals.js';
import { shellStatus } from '../remote/host.js';
import { MproxyError, isMproxyError, messageOf } from '../util/errors.js';

export interface Step<C> {
  readonly title: string;
  run(ctx: C, setTitle: (title: string) => void): Promise<void>;
}

/** Undo actions, run last-in first-out; each runs even if an earlier one failed. */
export class Teardown {
  private readonly undo: (() => unknown)[] = [];

  add(action: () => unknown): void {
    this.undo.push(action);
  }

  /**
   * Undoes what `pending` brings, whenever it arrives: should Ctrl-C win the race with it, what
   * arrives later is closed too, never left open. Returns `pending`.
   */
  addPending<T>(pending: Promise<T>, undo: (value: T) => unknown): Promise<T> {
    this.undo.push(() =>
      pending.then(
        (value) => undo(value),
        () => undefined,
      ),
    );
    return pending;
  }

  /**
   * Runs every undo action while holding SIGINT, SIGTERM and SIGHUP: a Ctrl-C that lands as the
   * program exits must not kill mproxy halfway (a mount, a session directory left behind). The
   * third signal abandons the cleanup, for a teardown stuck past its deadlines.
   */
  async run(): Promise<void> {
    const release = holdSignals();
    try {
      while (this.undo.length > 0) {
        const action = this.undo.pop();
        try {
          await action?.();
        } catch {
          // Teardown goes on: the other resources still need releasing.
        }
      }
    } finally {
      release();
    }
  }
}

const HELD: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function holdSignals(): () => void {
  let count = 0;
  const held = (signal: NodeJS.Signals): void => {
    count += 1;
    // The first is usually the program's own Ctrl-C arriving late: no word about it.
    if (count === 2) process.stderr.write(`mproxy: still cleaning up; ${signal} once more abandons it (mounts or files may be left)\n`);
    if (count >= 3) process.exit(shellStatus({ code: null, signal }, signalNumber));
  };
  for (const s of HELD) process.on(s, held);
  return () => HELD.forEach((s) => process.off(s, held));
}

/** Rejects as soon as Ctrl-C (or SIGTERM/SIGHUP) arrives; `done()` stops listening. */
export function interruption(): { readonly promise: Promise<never>; done(): void } {
  let fail: (err: Error) => void = () => undefined;
  const promise = new Promise<never>((_, reject) => {
    fail = reject;
  });
  promise.catch(() => undefined);
  const handler = (signal: NodeJS.Signals): void =>
    fail(new MproxyError('E_INTERRUPTED', `interrupted (${signal}) during startup; everything started so far was stopped`));
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, handler);
  return { promise, done: () => signals.forEach((s) => process.off(s, handler)) };
}

export async function runSteps<C>(
  steps: readonly Step<C>[],
  ctx: C,
  options: { readonly plain: boolean; readonly interrupted: Promise<never> },
): Promise<void> {
  const output = new ProcessOutput(process.stderr, process.stderr);
  const list = new Listr(
    steps.map((step) => ({
      title: step.title,
      task: async (_: unknown, task: { title: string }) => {
        try {
          await Promise.race([step.run(ctx, (t) => (task.title = t)), options.interrupted]);
        } catch (err) {
          if (isMproxyError(err) && err.code === 'E_INTERRUPTED') throw err;
          const code = isMproxyError(err) ? err.code : 'E_INTERNAL';
          const pointer = isMproxyError(err) ? err.pointer : undefined;
          throw new MproxyError(code, `${step.title} failed: ${messageOf(err)}`, {
            hint: isMproxyError(err) ? err.hints : [],
            cause: err,
            ...(pointer !== undefined ? { pointer } : {}),
          });
        }
      },
    })),
    {
      concurrent: false,
      exitOnError: true,
      registerSignalListeners: false,
      renderer: 'default',
      rendererOptions: { clearOutput: true, collapseErrors: false, logger: new ListrLogger({ processOutput: output }) },
      fallbackRenderer: 'simple',
      fallbackRendererOptions: { logger: new ListrLogger({ processOutput: output, useIcons: false }) },
      fallbackRendererCondition: options.plain,
    },
  );
  await list.run();
}
