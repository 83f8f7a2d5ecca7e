/** Help text: the command list, and each command's usage, options and details. */
import type { Command } from './command.js';

export function mainHelp(commands: readonly Command[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const line = (c: Command): string => `  ${c.name.padEnd(width)}  ${c.summary}`;
  return [
    `mproxy ${version} — run a program locally while it sees and acts on another machine`,
    '',
    'Usage: mproxy COMMAND [OPTIONS] [ARGS]',
    '',
    'Commands:',
    ...commands.map(line),
    '',
    'Global options:',
    '  -h, --help     show help (also: mproxy COMMAND --help)',
    '  -V, --version  print the version',
    '  --verbose      say more about what happens',
    '  --debug        show internal details: each agent protocol frame in and out (one line), stack traces of errors',
    '',
    'Profiles are TOML files, usually .mproxy/NAME.toml in your repository; see README.md',
    'and machineproxy.toml.example for every key.',
    '',
  ].join('\n');
}

export function commandHelp(c: Command): string {
  const options = Object.entries(c.options);
  const flag = (name: string, o: (typeof options)[number][1]): string =>
    `--${name}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}${o.multiple === true ? ' (repeatable)' : ''}`;
  const width = Math.max(12, ...options.map(([n, o]) => flag(n, o).length));
  return [
    `Usage: ${c.usage}`,
    '',
    `${c.summary[0]?.toUpperCase() ?? ''}${c.summary.slice(1)}.`,
    ...(c.details.length > 0 ? ['', ...c.details] : []),
    ...(options.length > 0 ? ['', 'Options:', ...options.map(([n, o]) => `  ${flag(n, o).padEnd(width)}  ${o.description ?? ''}`)] : []),
    `${'  -h, --help'.padEnd(width + 2)}  show this help`,
    '',
  ].join('\n');
}
