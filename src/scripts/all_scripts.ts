/**
 * Every Lua script the store runs, for loading them ahead of use.
 * @module
 */

import { COMMIT_SCRIPT } from "./commit_script.ts";
import { CONVERT_SCRIPT } from "./convert_script.ts";
import { DESTROY_SCRIPT } from "./destroy_script.ts";
import { LOAD_SCRIPT } from "./load_script.ts";
import { REFRESH_SCRIPT } from "./refresh_script.ts";
import { RELEASE_SCRIPT } from "./release_script.ts";
import { REPLACE_SCRIPT } from "./replace_script.ts";
import type { LuaScript } from "./script_runner.ts";
import { USER_DESTROY_SCRIPT } from "./user_destroy_script.ts";
import { USER_INDEX_SCRIPT } from "./user_index_script.ts";
import { USER_MARK_SCRIPT } from "./user_mark_script.ts";
import { USER_PROBE_SCRIPT } from "./user_probe_script.ts";

/** The store's scripts. */
export const ALL_SCRIPTS: readonly LuaScript[] = [
  LOAD_SCRIPT,
  COMMIT_SCRIPT,
  REPLACE_SCRIPT,
  REFRESH_SCRIPT,
  DESTROY_SCRIPT,
  RELEASE_SCRIPT,
  CONVERT_SCRIPT,
  USER_INDEX_SCRIPT,
  USER_DESTROY_SCRIPT,
  USER_PROBE_SCRIPT,
  USER_MARK_SCRIPT,
];
