/**
 * The profile validator as standalone JavaScript (ajv's standaloneCode), written at build time
 * (`npm run build:validator`) beside schema-check.js: compiling the schema at every start cost
 * ~40 ms of each command's start. The options are the ones the fallback compiles with.
 */
import { createRequire } from 'node:module';
import type AjvModule from 'ajv';
import { profileSchema } from './schema.js';

export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true, allowUnionTypes: true } as const;

/** Standalone CommonJS source of the validator (exports the validate function). */
export function validatorSource(): string {
  const require = createRequire(import.meta.url);
  const Ajv = (require('ajv') as typeof AjvModule).default;
  const standalone = (require('ajv/dist/standalone') as { default: (ajv: InstanceType<typeof AjvModule.default>, fn: unknown) => string })
    .default;
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
  return standalone(ajv, ajv.compile(profileSchema));
}
