/**
 * One real nats-server for the whole suite (as nats.js does): tests get its URL and token via inject().
 * Tests that restart a server start their own.
 */
import type { TestProject } from 'vitest/node';
import { startNatsServer, type NatsServerHandle } from '../bus/natsServer.ts';

let server: NatsServerHandle | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = await startNatsServer();
  project.provide('natsUrl', server.url);
  project.provide('natsToken', server.token);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    natsUrl: string;
    natsToken: string;
  }
}
