/** `mproxy schema [--markdown]`: the profile JSON Schema, or the profile reference generated from it. */
import { profileSchema } from '../../profile/schema.js';
import { schemaReference } from '../../profile/reference.js';
import type { Command } from '../command.js';

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'print the profile JSON Schema (for editors and CI)',
  usage: 'mproxy schema [--markdown]',
  details: [
    'The same document as schemas/profile.schema.json. Point an editor at it with a first line',
    'of `#:schema ./path/to/profile.schema.json` in a profile (taplo, Even Better TOML).',
  ],
  options: {
    markdown: { type: 'boolean', description: 'print the profile reference (every key, its type, default and meaning) as Markdown' },
  },
  failureExit: 1,
  run(args, io) {
    io.stdout(args.values['markdown'] === true ? schemaReference() : `${JSON.stringify(profileSchema, null, 2)}\n`);
    return 0;
  },
};
