import { connectDocker } from '../../src/runner/connect.js';
import { dockerdMissing, startDockerd, type Dockerd } from '../harness/dockerd.js';
import { conformanceNeeding } from './suite.js';

let dockerd: Dockerd | undefined;
conformanceNeeding(
  'docker + agent',
  dockerdMissing(),
  async () => {
    dockerd = await startDockerd();
    const name = dockerd.runContainer('node', 'conformance-node');
    return connectDocker({ kind: 'docker', container: name }, 'auto', { dockerHost: dockerd.host, env: {}, cwd: '/', opTimeoutMs: 20_000 });
  },
  async () => dockerd?.stop(),
);
