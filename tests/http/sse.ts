/**
 * A minimal Server-Sent Events reader for tests and benches: reads `GET /events` with
 * fetch and yields parsed events (HTML Living Standard 9.2.6: fields per line, events end at
 * a blank line, comments start with `:`).
 *
 * @module
 */

/** One event as the reader saw it. */
export interface SseEvent {
  readonly id: string | null;
  readonly event: string;
  readonly data: string;
  // deno-lint-ignore no-explicit-any
  readonly json: any;
}

/** An open event stream. */
export interface SseStream {
  /** The next event, or null at the end of the stream. */
  next(): Promise<SseEvent | null>;
  /** Reads events until `predicate` holds for one (returned) or the stream ends (throws). */
  until(predicate: (event: SseEvent) => boolean): Promise<SseEvent>;
  close(): Promise<void>;
  readonly response: Response;
}

/** Opens `url` and waits for the `ready` event, so later changes are sure to be seen. */
export async function openEvents(url: string): Promise<SseStream> {
  const response = await fetch(url);
  if (!response.ok || !response.body) {
    throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const queue: SseEvent[] = [];
  let ended = false;

  const parse = () => {
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id: string | null = null;
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") id = value;
        else if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
      if (data.length === 0) continue;
      const text = data.join("\n");
      queue.push({ id, event, data: text, json: JSON.parse(text) });
    }
  };

  const next = async (): Promise<SseEvent | null> => {
    while (queue.length === 0) {
      if (ended) return null;
      const { done, value } = await reader.read();
      if (done) ended = true;
      else {
        buffer += value;
        parse();
      }
    }
    return queue.shift()!;
  };

  const stream: SseStream = {
    response,
    next,
    async until(predicate) {
      for (let event = await next(); event; event = await next()) {
        if (predicate(event)) return event;
      }
      throw new Error("The event stream ended");
    },
    async close() {
      await reader.cancel().catch(() => {});
    },
  };
  await stream.until((event) => event.event === "ready");
  return stream;
}
