/**
 * Command-line parsing on node:util's parseArgs, with the errors worded for people: an unknown
 * flag names itself and the closest known one; a missing value says which flag wanted it.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parse as parseToml } from 'smol-toml';
import type { FlagSetting } from '../profile/load.js';
import { MproxyError, messageOf } from '../util/errors.js';
import { closest } from '../util/suggest.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  readonly values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  readonly positionals: string[];
  /** Everything after `--`, untouched. */
  readonly rest: string[];
}

export function parseCommandArgs(command: string, argv: readonly string[], options: Options): Parsed {
  const dash = argv.indexOf('--');
  const head = dash < 0 ? [...argv] : argv.slice(0, dash);
  const rest = dash < 0 ? [] : argv.slice(dash + 1);
  try {
    const { values, positionals } = parseArgs({ args: head, options, allowPositionals: true, strict: true });
    return { values: values as Parsed['values'], positionals, rest };
  } catch (err) {
    throw usageError(command, err, options);
  }
}

function usageError(command: string, err: unknown, options: Options): MproxyError {
  const message = messageOf(err);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  const help = `run \`mproxy ${command} --help\` for usage`;
  if (unknown?.[1] !== undefined) {
    const flag = unknown[1];
    const guess = closest(flag.replace(/^-+/, ''), Object.keys(options));
    return new MproxyError('E_USAGE', `unknown option ${flag} for \`mproxy ${command}\``, {
      hint: guess !== undefined ? [`did you mean --${guess}?`, help] : [help],
    });
  }
  const needs = /Option '([^']+)' argument missing/.exec(message);
  if (needs?.[1] !== undefined) return new MproxyError('E_USAGE', `option ${needs[1].replace(/^-., /, '')} needs a value`, { hint: help });
  return new MproxyError('E_USAGE', message.replace(/\. To specify.*$/s, ''), { hint: help });
}

/**
 * `--set KEY.PATH=VALUE`: VALUE is read as a TOML value (`true`, `20`, `["a", "b"]`, `"x"`),
 * and as a plain string when it is not one (`--set target.uri=local`).
 */
export function parseSetFlags(values: readonly (string | boolean)[] | undefined): FlagSetting[] {
  return (values ?? []).map((raw) => {
    const text = String(raw);
    const eq = text.indexOf('=');
    const key = eq < 0 ? '' : text.slice(0, eq);
    if (eq < 0 || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(key)) {
      throw new MproxyError('E_USAGE', `--set ${text}: expected KEY.PATH=VALUE`, {
        hint: 'for example: --set target.agent=none or --set \'sandbox.local_commands=["git"]\'',
      });
    }
    const valueText = text.slice(eq + 1);
    let value: unknown = valueText;
    try {
      value = (parseToml(`v = ${valueText}`) as { v: unknown }).v;
    } catch {
      // Not a TOML value: the plain text is meant.
    }
    return { flag: `--set ${text}`, path: key.split('.'), value };
  });
}
