import { after, describe } from 'node:test';
import { clientHome, connectHarness } from '../harness/ssh-client.js';
import { startSshd, type Sshd } from '../harness/sshd.js';
import { IN_CI, sshdMissing } from '../harness/system.js';
import { conformance } from './suite.js';

const missing = sshdMissing();
if (missing !== undefined && !IN_CI) {
  describe.skip(`conformance: ssh agentless (${missing})`, () => undefined);
} else {
  let sshd: Sshd | undefined;
  after(async () => sshd?.stop());
  // The old box this tier exists for: no node at all.
  conformance('ssh agentless', async () => {
    if (missing !== undefined) throw new Error(`missing system component under CI=true: ${missing}`);
    sshd = await startSshd({ withoutNode: true, loginChatter: 'Welcome to an old box\n' });
    return connectHarness(sshd, clientHome(sshd), 'auto');
  });
}
