/**
 * A bare RESP connection to a redis-server on 127.0.0.1: commands written as
 * they are, replies parsed as they come, nothing else. The write-floor
 * benchmark's clients: one per loop, or one shared by every loop (as the apps'
 * node-redis client is), with no client library's cost in the way.
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

/**
 * One connection. Calls may overlap, as a client library's do: what is sent in the same tick
 * leaves in one write, and replies are handed out in order.
 */
export class RespConnection implements AsyncDisposable {
  #conn: Deno.TcpConn;
  #buffer = new Uint8Array(0);
  #at = 0;
  #waiting: { resolve(reply: Reply): void; reject(error: Error): void }[] = [];
  #outgoing: string[] = [];
  #writing: Promise<void> = Promise.resolve();
  #reading = false;

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
   * Sends the commands (in one write with whatever else is sent in this tick) and waits for their replies.
   * @param commands The commands, each as its arguments.
   * @returns Their replies, in order; an error reply rejects.
   */
  send(...commands: readonly (readonly string[])[]): Promise<Reply[]> {
    const replies = commands.map(() =>
      new Promise<Reply>((resolve, reject) => this.#waiting.push({ resolve, reject }))
    );
    if (this.#outgoing.push(commands.map(resp).join("")) === 1) queueMicrotask(() => this.#flush());
    if (!this.#reading) this.#read();
    return Promise.all(replies);
  }

  #flush(): void {
    const bytes = encoder.encode(this.#outgoing.join(""));
    this.#outgoing = [];
    this.#writing = this.#writing.then(async () => {
      for (let written = 0; written < bytes.length;) {
        written += await this.#conn.write(bytes.subarray(written));
      }
    });
    this.#writing.catch((error) => this.#fail(error));
  }

  #fail(error: Error): void {
    for (const waiting of this.#waiting.splice(0)) waiting.reject(error);
  }

  /** Reads replies while some are awaited. */
  async #read(): Promise<void> {
    this.#reading = true;
    try {
      while (this.#waiting.length) {
        const reply = await this.#next();
        const waiting = this.#waiting.shift()!;
        if (reply instanceof ReplyError) waiting.reject(reply);
        else waiting.resolve(reply);
      }
    } catch (error) {
      this.#fail(error as Error);
    } finally {
      this.#reading = false;
    }
  }

  /** The next reply, reading from the socket until it is whole. */
  async #next(): Promise<Reply | ReplyError> {
    for (;;) {
      const start = this.#at;
      try {
        const line = this.#line();
        if (line[0] === "-") return new ReplyError(line.slice(1));
        this.#at = start;
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
