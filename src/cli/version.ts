/** mproxy's version, as package.json says. */
import { readFileSync } from 'node:fs';
import { packagePath } from '../util/package-path.js';

export function version(): string {
  const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}
