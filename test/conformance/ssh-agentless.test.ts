import { clientHome, connectHarness } from '../harness/ssh-client.js';
import { startSshd, type Sshd } from '../harness/sshd.js';
import { sshdMissing } from '../harness/system.js';
import { conformanceNeeding } from './suite.js';

let sshd: Sshd | undefined;
conformanceNeeding(
  'ssh agentless',
  sshdMissing(),
  async () => {
    // The old box this tier exists for: no node at all, and a chatty login shell.
    sshd = await startSshd({ withoutNode: true, loginChatter: 'Welcome to an old box\n' });
    return connectHarness(sshd, clientHome(sshd), 'auto');
  },
  async () => sshd?.stop(),
);
