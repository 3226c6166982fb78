/**
 * A bare RESP connection to a redis-server on 127.0.0.1: commands written as
 * they are, replies parsed as they come, nothing else. The write-floor
 * benchmark's clients, so that what it measures in Redis is not shaped by a
 * client library's own batching.
 * @module
 */

import { resp } from "./_resp_pipe.ts";

/** A reply: a string (simple or bulk), a number, null, or an array of replies. */
export type Reply = string | number | null | Reply[];

/** An error reply from Redis. */
export class ReplyError extends Error {
  override name = "ReplyError";
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Thrown inside the parser when the buffer holds only part of a reply. */
const INCOMPLETE = Symbol("incomplete");

/** One connection; one batch of commands at a time. */
export class RespConnection implements AsyncDisposable {
  #conn: Deno.TcpConn;
  #buffer = new Uint8Array(0);
  #at = 0;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /**
   * Connects to a server on 127.0.0.1.
   * @param port Its port.
   * @returns The connection.
   */
  static async open(port: number): Promise<RespConnection> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new RespConnection(conn);
  }

  /**
   * Sends the commands in one write and waits for all their replies.
   * @param commands The commands, each as its arguments.
   * @returns Their replies, in order; an error reply rejects.
   */
  async send(...commands: readonly (readonly string[])[]): Promise<Reply[]> {
    const bytes = encoder.encode(commands.map(resp).join(""));
    for (let written = 0; written < bytes.length;) written += await this.#conn.write(bytes.subarray(written));
    const replies: Reply[] = [];
    while (replies.length < commands.length) replies.push(await this.#next());
    return replies;
  }

  /** The next reply, reading from the socket until it is whole. */
  async #next(): Promise<Reply> {
    for (;;) {
      const start = this.#at;
      try {
        return this.#parse();
      } catch (error) {
        if (error !== INCOMPLETE) throw error;
        this.#at = start;
      }
      const chunk = new Uint8Array(64 * 1024);
      const n = await this.#conn.read(chunk);
      if (n === null) throw new Error("redis-server closed the connection");
      const rest = this.#buffer.subarray(this.#at);
      const joined = new Uint8Array(rest.length + n);
      joined.set(rest);
      joined.set(chunk.subarray(0, n), rest.length);
      this.#buffer = joined;
      this.#at = 0;
    }
  }

  #line(): string {
    const end = this.#buffer.indexOf(13, this.#at); // \r
    if (end < 0 || end + 1 >= this.#buffer.length) throw INCOMPLETE;
    const line = decoder.decode(this.#buffer.subarray(this.#at, end));
    this.#at = end + 2;
    return line;
  }

  #parse(): Reply {
    const line = this.#line();
    const rest = line.slice(1);
    switch (line[0]) {
      case "+":
        return rest;
      case "-":
        throw new ReplyError(rest);
      case ":":
        return Number(rest);
      case "$": {
        const length = Number(rest);
        if (length < 0) return null;
        if (this.#at + length + 2 > this.#buffer.length) throw INCOMPLETE;
        const value = decoder.decode(this.#buffer.subarray(this.#at, this.#at + length));
        this.#at += length + 2;
        return value;
      }
      case "*": {
        const count = Number(rest);
        if (count < 0) return null;
        const items: Reply[] = [];
        for (let i = 0; i < count; i++) items.push(this.#parse());
        return items;
      }
      default:
        throw new Error(`Unexpected reply line ${JSON.stringify(line)}`);
    }
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed already */ }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}
