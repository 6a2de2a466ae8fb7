/**
 * A SQLite file path in a fresh temporary directory, removed with the directory when the
 * returned object is disposed (`await using`): the SQLite tests' one helper for it.
 *
 * @module
 */

/** `prefix` names the directory (`elektromail-<prefix>-...`), so a leftover says whose it is. */
export async function tempDb(
  prefix: string,
): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: `elektromail-${prefix}-` });
  return {
    path: `${dir}/mail.db`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}
