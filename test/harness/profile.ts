/** A Profile for tests, loaded the way users' profiles are (defaults and validation included). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProfile } from '../../src/profile/load.js';
import type { Profile } from '../../src/profile/schema.js';

export function profileFrom(toml: string): Profile {
  const dir = mkdtempSync(join(tmpdir(), 'mproxy-profile-'));
  try {
    writeFileSync(join(dir, 'p.toml'), toml);
    const r = loadProfile('p.toml', {
      cwd: dir,
      env: { MPROXY_SYSTEM_CONFIG: '/nonexistent', MPROXY_USER_CONFIG: '/nonexistent' },
      home: dir,
    });
    if (r.profile === undefined) throw new Error(`test profile invalid: ${r.diagnostics.map((d) => d.message).join('; ')}`);
    return r.profile;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
