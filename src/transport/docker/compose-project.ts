/**
 * The compose project of a directory, named as `docker compose` does: COMPOSE_PROJECT_NAME, else
 * the `name:` of the compose file there, else the directory's name normalised (lowercase, only
 * letters, digits, `_` and `-`, starting with a letter or digit).
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

export function normaliseProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[^a-z0-9]+/, '');
}

export function composeProjectName(dir: string, env: NodeJS.ProcessEnv): string {
  const fromEnv = env['COMPOSE_PROJECT_NAME'];
  if (fromEnv !== undefined && fromEnv !== '') return normaliseProjectName(fromEnv);
  for (const file of COMPOSE_FILES) {
    let text: string;
    try {
      text = readFileSync(join(dir, file), 'utf8');
    } catch {
      continue;
    }
    // A top-level `name:` key (no indentation); quotes optional.
    const m = /^name:\s*["']?([^"'\n#]+?)["']?\s*(#.*)?$/m.exec(text);
    if (m?.[1] !== undefined) return normaliseProjectName(m[1]);
    break;
  }
  return normaliseProjectName(basename(dir));
}
