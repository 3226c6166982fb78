// A TypeScript consumer of the package's ES module types that brings no Redis client types, so
// that the type-check matrix (targets ES2020-ES2022 x module settings) checks our .d.ts alone.
import connectSmartRedis, {
  type ConnectionState,
  type RedisConnection,
  RedisUnavailableError,
  SessionConflictError,
  SessionDataError,
  SessionLockedError,
  SmartRedisStore,
  type SmartRedisStoreOptions,
} from "connect-smart-redis";
import session from "express-session";

const connection: RedisConnection = {
  send: (_key, args) => Promise.resolve(args.length),
  masters: () => Promise.resolve([{ send: () => Promise.resolve(null) }]),
  ready: true,
  address: "127.0.0.1:6379",
  onStateChange: (listener: (state: ConnectionState) => void) => listener({ ready: true }),
};
const options: SmartRedisStoreOptions = { client: connection, ttl: () => 60, prefix: "app:" };
const store: session.Store = new SmartRedisStore(options);
const Factory = connectSmartRedis(session);
const seedStyle: SmartRedisStore = new Factory({ client: connection });
const errors: Error[] = [
  new RedisUnavailableError("Redis is down", { cause: new Error("ECONNREFUSED") }),
  new SessionConflictError("conflict"),
  new SessionDataError("unreadable", { cause: "x" }),
  new SessionLockedError("locked"),
];

export { errors, seedStyle, store };
