/**
 * The program's run in the foreground inside bwrap: the terminal's signals reach it directly,
 * SIGTERM/SIGHUP are passed on, and Ctrl-Z stops mproxy with the job so the shell gets its prompt
 * back. Its exit status (128+N for a signal) is the session's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { signalNumber } from '../broker/signals.js';
import { shellStatus } from '../remote/host.js';
import { MproxyError } from '../util/errors.js';
import { groupStopped, ownProcessGroup, processStopped } from '../util/process.js';

/**
 * Stops this process once the sandbox has stopped, and with it everything else of the job (a
 * command still stopping would find the shell holding the terminal): within 2 s. A program that
 * handles Ctrl-Z itself and runs on keeps mproxy running, as its mounts must be served.
 */
async function stopWithJob(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  // Leading a job (a shell's): all of it, bwrap included; else bwrap alone.
  const atRest = ownProcessGroup() === process.pid ? () => groupStopped(process.pid, process.pid) : () => processStopped(pid);
  for (const end = Date.now() + 2000; Date.now() < end; await sleep(20)) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (atRest()) {
      process.kill(process.pid, 'SIGSTOP');
      return;
    }
  }
}

/** SIGCONT to the job (the sandbox and everything in it, stopped or not); to bwrap alone without one. */
function continueJob(child: ChildProcess): void {
  const group = ownProcessGroup();
  try {
    if (group !== undefined && group === process.pid) process.kill(-group, 'SIGCONT');
    else child.kill('SIGCONT');
  } catch {
    // Gone already.
  }
}

/** Runs bwrap in the foreground; its exit status (128+N for a signal) is the session's. */
export function runProgram(bwrap: string, args: readonly string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    // cwd "/": never a directory inside a mount this process serves (spawn would wait on it).
    // Descriptors leaked past exec (libfuse's /dev/fuse) are closed by mproxy-trace inside.
    const child = spawn(bwrap, args, { stdio: 'inherit', env, cwd: '/' });
    // The terminal's signals reach the program directly; mproxy waits for it to end.
    const ignore = (): void => undefined;
    // SIGTERM/SIGHUP are passed on, with SIGCONT after: a stopped job would hold them forever.
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
      continueJob(child);
    };
    // Ctrl-Z stops the program and the sandbox (the terminal signals the whole job); mproxy
    // stops with them, so the shell gets its prompt back, and `fg` continues all of it.
    const suspend = (): void => void stopWithJob(child);
    const quiet: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT'];
    const passed: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP'];
    for (const sig of quiet) process.on(sig, ignore);
    for (const sig of passed) process.on(sig, forward);
    process.on('SIGTSTP', suspend);
    const done = (): void => {
      for (const sig of quiet) process.off(sig, ignore);
      for (const sig of passed) process.off(sig, forward);
      process.off('SIGTSTP', suspend);
    };
    child.once('error', (err) => {
      done();
      reject(
        new MproxyError('E_SANDBOX', `cannot start bwrap: ${err.message}`, {
          hint: ['install bubblewrap (apt-get install bubblewrap)', 'mproxy doctor checks it'],
        }),
      );
    });
    child.once('exit', (code, signal) => {
      done();
      resolve(shellStatus({ code, signal }, signalNumber));
    });
  });
}
