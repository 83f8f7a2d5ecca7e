import { after, describe } from 'node:test';
import { clientHome, connectHarness } from '../harness/ssh-client.js';
import { startSshd, type Sshd } from '../harness/sshd.js';
import { IN_CI, sshdMissing } from '../harness/system.js';
import { conformance } from './suite.js';

const missing = sshdMissing();
if (missing !== undefined && !IN_CI) {
  describe.skip(`conformance: ssh + agent (${missing})`, () => undefined);
} else {
  let sshd: Sshd | undefined;
  after(async () => sshd?.stop());
  conformance('ssh + agent', async () => {
    if (missing !== undefined) throw new Error(`missing system component under CI=true: ${missing}`);
    // Banner text from the login shell must not disturb the agent's start.
    sshd = await startSshd({ loginChatter: 'Welcome! Last login: yesterday\n' });
    return connectHarness(sshd, clientHome(sshd));
  });
}
