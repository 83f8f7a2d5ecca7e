/**
 * The merged profile checked against the JSON Schema with ajv, each ajv error turned into a
 * finding in the user's words: "unknown key `kep`" with "did you mean `keep`?", "expected one
 * of strict, accept-new", "`15` is not a duration" — never a JSON pointer or a regex.
 */
import { createRequire } from 'node:module';
import type AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { packagePath } from '../util/package-path.js';
import { closest } from '../util/suggest.js';
import type { Finding, Origin } from './diagnostics.js';
import { profileSchema } from './schema.js';
import type { JsonSchema } from './schema-types.js';
import { AJV_OPTIONS } from './validator-code.js';

/** The validator the build wrote (validator-code.ts), else compiled now (a build without that step). */
function loadValidator(): ValidateFunction {
  const require = createRequire(import.meta.url);
  try {
    return require(packagePath('dist/src/profile/profile-validator.cjs')) as ValidateFunction;
  } catch {
    const Ajv = (require('ajv') as typeof AjvModule).default;
    return new Ajv(AJV_OPTIONS).compile(profileSchema);
  }
}

const validateProfile = loadValidator();

/** What a value of a titled shape looks like, for pattern and format failures. */
const SHAPES: Readonly<Record<string, { what: string; hint: string }>> = {
  duration: { what: 'a duration', hint: 'write a number and a unit: 250ms, 15s, 2m, 1h, 1d (or combined: 1m30s)' },
  'target-uri': {
    what: 'a target',
    hint: 'write local, user@host, ssh://[user@]host[:port], docker://NAME, compose://PROJECT/SERVICE[/N] or compose://./SERVICE',
  },
  flag: { what: 'a flag', hint: 'write --name or -x, or COMMAND:--name to apply it to one command only (mysql:-p)' },
  size: { what: 'a size', hint: 'write a number and a unit: 4096, 64KiB, 512MiB, 2GiB (or KB, MB, GB for powers of 1000)' },
};

export interface SchemaCheckOptions {
  /** A base or overlay file: keys may be missing (they come from the profile that uses it). */
  readonly partial?: boolean;
}

export function checkSchema(data: unknown, origins: ReadonlyMap<string, Origin>, options: SchemaCheckOptions = {}): Finding[] {
  if (validateProfile(data)) return [];
  const findings: Finding[] = [];
  for (const error of validateProfile.errors ?? []) {
    if (options.partial === true && error.keyword === 'required') continue;
    const finding = describe(error, origins);
    if (finding !== undefined) findings.push(finding);
  }
  return dedupe(findings);
}

function describe(error: ErrorObject, origins: ReadonlyMap<string, Origin>): Finding | undefined {
  const ptr = error.instancePath;
  const schema = (error.parentSchema ?? {}) as JsonSchema;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const allowed = Object.keys(schema.properties ?? {});
      const guess = closest(key, allowed);
      const where = ptr === '' ? 'at the top level' : 'here';
      return {
        pointer: `${ptr}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        at: 'key',
        message: `unknown key \`${key}\``,
        hints: guess !== undefined ? [`did you mean \`${guess}\`?`] : allowed.length > 0 ? [`allowed ${where}: ${allowed.join(', ')}`] : [],
      };
    }
    case 'required': {
      const missing = String(params['missingProperty']);
      if (ptr === '/target' && missing === 'uri' && origins.get('/target')?.kind === 'default') {
        return {
          pointer: '/target',
          message: 'no [target] table: a profile must say which machine to reach',
          hints: ['add a [target] table, e.g.\n[target]\nuri = "ssh://user@host"   # or "local", "docker://NAME", "compose://./SERVICE"'],
        };
      }
      return {
        pointer: ptr,
        at: 'key',
        message: `missing required key \`${missing}\``,
        hints: describeSchema(schema.properties?.[missing]),
      };
    }
    case 'type':
      return {
        pointer: ptr,
        message: `expected ${typeWords(String(params['type']))}, found ${tomlTypeOf(error.data)}`,
        hints: typeHints(schema, error.data, ptr),
      };
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map(String);
      const guess = typeof error.data === 'string' ? closest(error.data, allowed) : undefined;
      return {
        pointer: ptr,
        message: `${show(error.data)} is not allowed`,
        hints: [`expected one of ${allowed.join(', ')}`, ...(guess !== undefined ? [`did you mean \`${guess}\`?`] : [])],
      };
    }
    case 'pattern': {
      const shape = SHAPES[schema.title ?? ''];
      if (shape === undefined)
        return { pointer: ptr, message: `${show(error.data)} does not have the expected form`, hints: describeSchema(schema) };
      return { pointer: ptr, message: `${show(error.data)} is not ${shape.what}`, hints: [shape.hint] };
    }
    case 'minLength':
      return { pointer: ptr, message: 'must not be empty', hints: describeSchema(schema) };
    case 'minItems':
      return {
        pointer: ptr,
        message: `must have at least ${String(params['limit'])} item${params['limit'] === 1 ? '' : 's'}`,
        hints: describeSchema(schema),
      };
    case 'minimum':
    case 'maximum':
      return {
        pointer: ptr,
        message: `must be ${error.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params['limit'])}`,
        hints: describeSchema(schema),
      };
    default:
      return { pointer: ptr, message: error.message ?? `fails ${error.keyword}`, hints: [] };
  }
}

/** How to write the expected type, for the common slips: a bare duration, a scalar for a list, [t] for [[t]]. */
function typeHints(schema: JsonSchema, data: unknown, ptr: string): string[] {
  const shape = SHAPES[schema.title ?? ''];
  if (shape !== undefined) return [`${shape.what} is a quoted string; ${shape.hint}`];
  if (schema.type === 'array' && schema.items?.properties !== undefined)
    return [`write each entry under an array-of-tables header: [[${ptr.slice(ptr.lastIndexOf('/') + 1)}]]`];
  if (schema.type === 'array' && typeof data === 'string') return [`put it in a list: [${JSON.stringify(data)}]`];
  return [];
}

function describeSchema(schema: JsonSchema | undefined): string[] {
  return schema?.description === undefined ? [] : [schema.description];
}

/** ajv reports a union type once per branch; keep the first finding for each pointer and message. */
function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.pointer}\0${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const JSON_TO_TOML: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true or false)',
  array: 'an array',
  object: 'a table',
};

function typeWords(types: string): string {
  return types
    .split(',')
    .map((t) => JSON_TO_TOML[t] ?? t)
    .join(' or ');
}

export function tomlTypeOf(value: unknown): string {
  if (typeof value === 'string') return `a string (${show(value)})`;
  if (typeof value === 'boolean') return `a boolean (${String(value)})`;
  if (typeof value === 'number' || typeof value === 'bigint')
    return `${Number.isInteger(Number(value)) ? 'an integer' : 'a float'} (${String(value)})`;
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date/time';
  return 'a table';
}

export function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return `\`${text.length > 60 ? `${text.slice(0, 57)}...` : text}\``;
}
