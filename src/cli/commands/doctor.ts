/**
 * `mproxy doctor [PROFILE]`: this machine's parts, each with what a missing one breaks and the
 * fix; with PROFILE, also the target reached, the tier picked, and what that tier cannot do.
 */
import type { CheckResult } from '../../doctor/checks.js';
import { messageOf } from '../../util/errors.js';
import type { Command, CommandIO } from '../command.js';
import { loadProfileArg } from '../profile-arg.js';

const MARK: Readonly<Record<CheckResult['status'], string>> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

async function targetChecks(arg: string | undefined, io: CommandIO): Promise<CheckResult[]> {
  const loaded = await loadProfileArg(arg, io);
  if (loaded.profile === undefined)
    return [{ name: 'profile', status: 'fail', detail: `${loaded.file} is not valid`, fix: 'fix the problems above (mproxy validate)' }];
  const results: CheckResult[] = [{ name: 'profile', status: 'ok', detail: loaded.file }];
  try {
    const { connect } = await import('../../runner/connect.js');
    const host = await connect(loaded.profile, {
      home: io.home,
      cwd: io.cwd,
      env: io.env,
      warn: (message) => io.stderr(`mproxy: warning: ${message}\n`),
    });
    const info = host.info();
    await host.close();
    results.push({
      name: 'target',
      status: 'ok',
      detail: `${loaded.profile.target.uri}: ${info.platform}/${info.arch}, user ${info.user}, tier ${info.tier}`,
    });
    for (const l of info.limitations) results.push({ name: `tier ${info.tier}`, status: 'warn', detail: `no ${l.feature}`, fix: l.why });
  } catch (err) {
    const hints = (err as { hints?: readonly string[] }).hints ?? [];
    results.push({
      name: 'target',
      status: 'fail',
      detail: `${loaded.profile.target.uri}: ${messageOf(err)}`,
      fix: hints.join('; ') || 'see the message',
    });
  }
  return results;
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: "check bwrap, FUSE, user namespaces, ssh-agent (and a profile's target), each with its fix",
  usage: 'mproxy doctor [PROFILE]',
  details: ['Exit status: 0 when nothing failed (warnings allowed), 1 otherwise.'],
  options: {},
  failureExit: 1,
  async run(args, io) {
    const { localChecks } = await import('../../doctor/checks.js');
    const results = localChecks(io.env);
    if (args.positionals.length > 0) results.push(...(await targetChecks(args.positionals[0], io)));
    for (const r of results) {
      io.stdout(`${MARK[r.status]}  ${r.name.padEnd(16)} ${r.detail}\n`);
      if (r.fix !== undefined && r.status !== 'ok') io.stdout(`      ${''.padEnd(16)} ${r.fix}\n`);
    }
    return results.some((r) => r.status === 'fail') ? 1 : 0;
  },
};
