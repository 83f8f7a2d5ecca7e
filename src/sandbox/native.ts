/** The native helpers `mproxy up` runs locally, as built by `npm run build:native` (node-gyp). */
import { accessSync, constants } from 'node:fs';
import { MproxyError } from '../util/errors.js';
import { packagePath } from '../util/package-path.js';

export type NativeTool = 'mproxy-shim' | 'mproxy-trace';

export function nativeToolPath(name: NativeTool): string {
  return packagePath(`build/Release/${name}`);
}

/** The helper's path; a clear error when the build did not make it. */
export function requireNativeTool(name: NativeTool): string {
  const path = nativeToolPath(name);
  try {
    accessSync(path, constants.X_OK);
  } catch (err) {
    throw new MproxyError('E_SANDBOX', `${name} is missing (${path})`, {
      hint: 'run `npm run build` (it needs a C compiler: apt-get install gcc make libc6-dev)',
      cause: err,
    });
  }
  return path;
}

/** Can the exec tracer run here (x86_64 Linux, built)? Else interception falls back to PATH stubs. */
export function tracerAvailable(): boolean {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false;
  try {
    accessSync(nativeToolPath('mproxy-trace'), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
