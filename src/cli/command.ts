/** The shape every subcommand has, and what it may touch of the outside world. */
import type { Options, Parsed } from './args.js';

export interface CommandIO {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly home: string;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Set with --verbose: says what mproxy is doing, on stderr. */
  readonly verbose?: (message: string) => void;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly details: readonly string[];
  readonly options: Options & Readonly<Record<string, { readonly description?: string; readonly valueName?: string }>>;
  /** Exit status when mproxy itself fails (1 for checks, 125 where the program's code is passed through). */
  readonly failureExit: number;
  run(args: Parsed, io: CommandIO): number | Promise<number>;
}
