import { after, describe } from 'node:test';
import { connectDocker } from '../../src/target/docker/index.js';
import { startDockerd, dockerdMissing, type Dockerd } from '../harness/dockerd.js';
import { profileFrom } from '../harness/profile.js';
import { IN_CI } from '../harness/system.js';
import { conformance } from './suite.js';

const missing = dockerdMissing();
if (missing !== undefined && !IN_CI) {
  describe.skip(`conformance: docker + agent (${missing})`, () => undefined);
} else {
  let dockerd: Dockerd | undefined;
  after(async () => dockerd?.stop());
  conformance('docker + agent', async () => {
    if (missing !== undefined) throw new Error(`missing system component under CI=true: ${missing}`);
    dockerd = await startDockerd();
    const name = dockerd.runContainer('node', 'conformance-node');
    const profile = profileFrom(`[target]\nuri = "docker://${name}"\ndocker_host = "${dockerd.host}"\n`);
    return connectDocker({ kind: 'docker', container: name }, profile, { env: {}, cwd: '/' });
  });
}
