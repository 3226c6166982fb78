// A TypeScript consumer of the package's ES module types; type-checked (not run) with
// tsconfig.nodenext.json and tsconfig.bundler.json.
import connectSmartRedis, {
  RedisUnavailableError,
  type Serializer,
  SmartRedisStore,
  type SmartRedisStoreOptions,
} from "connect-smart-redis";
import session from "express-session";
import { createClient } from "redis";

const serializer: Serializer = {
  stringify: (value) => JSON.stringify(value),
  parse: (text) => JSON.parse(text),
};
const options: SmartRedisStoreOptions = {
  client: createClient(),
  ttl: 30 * 24 * 60 * 60,
  prefix: "app:",
  serializer,
};
const store: SmartRedisStore = new SmartRedisStore(options);
const asStore: session.Store = store;
const middleware = session({ store, secret: "keyboard cat", resave: false, saveUninitialized: false });

const SmartRedis = connectSmartRedis(session);
const seedStyle: SmartRedisStore = new SmartRedis({ client: createClient(), ttl: () => 3600 });
const loaded: Promise<session.SessionData | null> = seedStyle.get("sid");
const unavailable: Error = new RedisUnavailableError("Redis is down");

// @ts-expect-error ttl is a number of seconds or a function returning one
new SmartRedisStore({ client: createClient(), ttl: "30d" });

export { asStore, loaded, middleware, unavailable };
