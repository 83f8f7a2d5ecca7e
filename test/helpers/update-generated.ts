/**
 * Rewrites the files generated from the schema: schemas/profile.schema.json and the profile
 * reference section of README.md. `npm run generate`; tests fail while either is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { profileSchema } from '../../src/profile/schema.js';
import { schemaReference } from '../../src/profile/reference.js';
import { REPO_ROOT } from './cli.js';

const START = '<!-- profile-reference:start -->';
const END = '<!-- profile-reference:end -->';

writeFileSync(join(REPO_ROOT, 'schemas/profile.schema.json'), `${JSON.stringify(profileSchema, null, 2)}\n`);
const readmePath = join(REPO_ROOT, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const start = readme.indexOf(START);
const end = readme.indexOf(END);
if (start < 0 || end < start) throw new Error(`README.md lacks ${START} … ${END}`);
writeFileSync(readmePath, `${readme.slice(0, start) + START}\n${schemaReference()}${readme.slice(end)}`);
console.log('wrote schemas/profile.schema.json and the README profile reference');
