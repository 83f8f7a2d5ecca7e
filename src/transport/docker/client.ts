/**
 * The Docker Engine API as mproxy uses it: dockerode's Container and Exec over its modem
 * (docker-modem), without dockerode's Docker class. That class's module loads BuildKit's gRPC
 * stack (@grpc/grpc-js, protobufjs) at require time, for builds mproxy never runs: about 60 ms
 * of every Docker command's start measured here (dockerode 112 ms, these parts 54 ms). The
 * two daemon-level calls mproxy makes (ping, list containers) are the modem requests
 * dockerode's own methods send.
 */
import DockerModem from 'docker-modem';
import type Dockerode from 'dockerode';
// dockerode has no exports map: its lib files are part of what it ships (types: dockerode-lib.d.ts).
import Container from 'dockerode/lib/container.js';

export type DockerOptions = DockerModem.ConstructorOptions;

export class DockerClient {
  readonly modem: DockerModem;

  constructor(options: DockerOptions) {
    this.modem = new DockerModem(options);
    // What dockerode's Docker constructor does: its classes make their promises with it.
    this.modem.Promise = Promise;
  }

  getContainer(id: string): Dockerode.Container {
    return new Container(this.modem, id);
  }

  /** GET /_ping: is the daemon there? */
  ping(): Promise<unknown> {
    return this.dial({ path: '/_ping', method: 'GET', statusCodes: { 200: true, 500: 'server error' } });
  }

  /** GET /containers/json, as dockerode's listContainers sends it. */
  listContainers(options: { all?: boolean; filters?: Record<string, string[]> }): Promise<Dockerode.ContainerInfo[]> {
    return this.dial({
      path: '/containers/json?',
      method: 'GET',
      options,
      statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
    });
  }

  private dial<T>(options: DockerModem.DialOptions): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.modem.dial(options, (err: unknown, data: unknown) => (err ? reject(err) : resolve(data as T))),
    );
  }
}
