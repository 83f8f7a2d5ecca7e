import { clientHome, connectHarness } from '../harness/ssh-client.js';
import { startSshd, type Sshd } from '../harness/sshd.js';
import { sshdMissing } from '../harness/system.js';
import { conformanceNeeding } from './suite.js';

let sshd: Sshd | undefined;
conformanceNeeding(
  'ssh + agent',
  sshdMissing(),
  async () => {
    // Banner text from the login shell must not disturb the agent's start.
    sshd = await startSshd({ loginChatter: 'Welcome! Last login: yesterday\n' });
    return connectHarness(sshd, clientHome(sshd));
  },
  async () => sshd?.stop(),
);
