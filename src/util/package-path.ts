/**
 * Paths inside the installed package (its agent bundle, native helpers, schemas, profiles),
 * wherever the running code sits: this module compiles to dist/src/util/ and is bundled into
 * dist/bundle/cli/, both three levels below the package root. Every file mproxy ships is found
 * through here, so moving code between the two never breaks a path.
 */
import { fileURLToPath } from 'node:url';

/** `relative` (from the package root, with forward slashes) as an absolute path. */
export function packagePath(relative: string): string {
  return fileURLToPath(new URL(`../../../${relative}`, import.meta.url));
}
