/** The source files under a directory, recursively (TypeScript by default): what the house tests check. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export function sources(dir: string, endings: readonly string[] = ['.ts']): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name), endings) : endings.some((x) => e.name.endsWith(x)) ? [join(dir, e.name)] : [],
  );
}
