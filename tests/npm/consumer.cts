// A TypeScript consumer of the package's CommonJS types (the "require" condition); type-checked
// (not run) with tsconfig.nodenext.json.
import session = require("express-session");
import connectSmartRedis = require("connect-smart-redis");
import { createClient } from "redis";

const SmartRedis = connectSmartRedis(session);
const options: connectSmartRedis.SmartRedisStoreOptions = {
  client: createClient(),
  ttl: 30 * 24 * 60 * 60,
  prefix: "app:",
  serializer: { stringify: JSON.stringify, parse: JSON.parse },
};
const store: connectSmartRedis.SmartRedisStore = new SmartRedis(options);
const named = new connectSmartRedis.SmartRedisStore({ client: createClient() });
const asStore: session.Store = named;
const same: typeof connectSmartRedis.default = connectSmartRedis.connectSmartRedis;
const loaded: Promise<session.SessionData | null> = store.get("sid");

// @ts-expect-error prefix is a string
new SmartRedis({ client: createClient(), prefix: 42 });

export { asStore, loaded, same };
