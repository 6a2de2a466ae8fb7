/** The MIME fixture corpus (`tests/fixtures/mime/*.eml`), shared by the corpus, fuzz and interop tests. */

/** The directory of the corpus and of the expected ENVELOPE / BODYSTRUCTURE files. */
export const FIXTURE_DIR = new URL("../fixtures/mime/", import.meta.url);

/** The corpus: name (file name without `.eml`) → raw message, sorted by name. */
export function fixtures(): Array<[string, Uint8Array]> {
  return [...Deno.readDirSync(FIXTURE_DIR)]
    .filter((entry) => entry.name.endsWith(".eml"))
    .map((entry) => entry.name.slice(0, -4))
    .sort()
    .map((name) => [name, Deno.readFileSync(new URL(`${name}.eml`, FIXTURE_DIR))]);
}
