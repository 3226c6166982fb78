// A TypeScript consumer of the package's CommonJS types (the "require" condition) that brings no
// Redis client types; type-checked in the ES2020-ES2022 x module-setting matrix.
import session = require("express-session");
import connectSmartRedis = require("connect-smart-redis");

const connection: connectSmartRedis.RedisConnection = {
  send: () => Promise.resolve(null),
  masters: () => Promise.resolve([]),
  ready: false,
  address: "127.0.0.1:6379",
  onStateChange: () => {},
};
const SmartRedis = connectSmartRedis(session);
const store: connectSmartRedis.SmartRedisStore = new SmartRedis({ client: connection, ttl: 60 });
const asStore: session.Store = new connectSmartRedis.SmartRedisStore({ client: connection });
const error: Error = new connectSmartRedis.RedisUnavailableError("down", { cause: 1 });

export { asStore, error, store };
