/** The one file of dockerode's lib mproxy imports by itself (client.ts says why). */
declare module 'dockerode/lib/container.js' {
  import type DockerModem from 'docker-modem';
  import type Dockerode from 'dockerode';

  const Container: new (modem: DockerModem, id: string) => Dockerode.Container;
  export default Container;
}
