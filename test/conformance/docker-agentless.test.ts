import { connectDocker } from '../../src/target/docker/index.js';
import { dockerdMissing, startDockerd, type Dockerd } from '../harness/dockerd.js';
import { profileFrom } from '../harness/profile.js';
import { conformanceNeeding } from './suite.js';

let dockerd: Dockerd | undefined;
conformanceNeeding(
  'docker agentless',
  dockerdMissing(),
  async () => {
    dockerd = await startDockerd();
    const name = dockerd.runContainer('busybox', 'conformance-busybox');
    const profile = profileFrom(`[target]\nuri = "docker://${name}"\ndocker_host = "${dockerd.host}"\nagent = "auto"\n`);
    return connectDocker({ kind: 'docker', container: name }, profile, { env: {}, cwd: '/' });
  },
  async () => dockerd?.stop(),
);
