/**
 * A Fastify app with the Fastify face over real HTTP, for the drop-in tests
 * (behaviours @fastify/session's own suite checks).
 */

import { createHmac } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import { type FastifySessionOptions, type FastifySmartSession, smartRedisSession } from "../fastify.ts";
import type { Client } from "./_helpers.ts";

declare module "fastify" {
  interface FastifyRequest {
    session: FastifySmartSession;
  }
}

/** The apps' secret. */
export const SECRET = "a secret of at least thirty-two characters";

/** A running app. */
export interface Running extends AsyncDisposable {
  app: FastifyInstance;
  url: string;
  get(path: string, headers?: Record<string, string>): Promise<{ body: string; cookies: string[] }>;
}

/** A Fastify app with the face, its routes added by `routes`, listening on loopback. */
export async function start(
  client: Client,
  options: Partial<FastifySessionOptions>,
  routes: (app: FastifyInstance) => void,
): Promise<Running> {
  const app = Fastify({ trustProxy: true });
  await app.register(smartRedisSession, { client, secret: SECRET, cookie: { secure: false }, ...options });
  routes(app);
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    async get(path, headers = {}) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
      return { body: await response.text(), cookies: response.headers.getSetCookie() };
    },
    async [Symbol.asyncDispose]() {
      await app.close();
    },
  };
}

/** The `name=value` of a Set-Cookie header. */
export const pair = (setCookie: string): string => setCookie.split(";", 1)[0];

/** A value's signature as cookie-signature makes it. */
export function sig(value: string, algorithm = "sha256", secret = SECRET): string {
  return createHmac(algorithm, secret).update(value).digest("base64").replace(/=+$/, "");
}
