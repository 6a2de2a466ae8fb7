/**
 * scripts/strip_comments.ts, the bundle's post-processing: comments and indentation go, and
 * non-ASCII characters of string and regular expression literals become escapes, while
 * everything a comment marker can hide in (strings, template literals, regular expressions,
 * a tagged template's raw text) stays as it was.
 *
 * @module
 */

import assert from "node:assert/strict";
import { stripComments } from "../../scripts/strip_comments.ts";

Deno.test("stripComments drops JSDoc, line comments and indentation, and keeps line breaks", () => {
  const source = "/**\n * Doc.\n */\nfunction f(a) {\n  // why\n  return a + 1; // more\n}\n";
  assert.equal(stripComments(source), "function f(a) {\nreturn a + 1;\n}\n");
});

Deno.test("stripComments escapes non-ASCII characters of strings and regular expressions", () => {
  const source = 'const a = "caf\u00e9 \u2026", b = /c\u00f3digo|[\u20ac\u00a3]/gi;\n';
  const stripped = stripComments(source)!;
  assert.equal(
    stripped,
    'const a = "caf\\u00e9 \\u2026", b = /c\\u00f3digo|[\\u20ac\\u00a3]/gi;\n',
  );
  // The same values, written in ASCII.
  assert.deepEqual(new Function(`${stripped}; return [a, b.source, b.test("C\u00d3DIGO")];`)(), [
    "caf\u00e9 \u2026",
    "c\\u00f3digo|[\\u20ac\\u00a3]",
    true,
  ]);
  assert.match(stripped, /^[\x00-\x7f]*$/);
});

Deno.test("stripComments leaves comment markers inside literals alone", () => {
  const cases = [
    "const s = 'a // b /* c */', t = \"it's // here\";\n",
    "const r = /[/]\\/\\/x/g, q = /\\/*/;\n",
    "const t = `a // b ${c + `d ${'}'} e`} /* f */`;\n",
    "x = a / b / c; y = i++ / 2;\n",
    "if (a) {\n}\n/re/.exec(s);\n",
  ];
  for (const source of cases) assert.equal(stripComments(source), source);
});

Deno.test("stripComments keeps a tagged template's raw text and a template's lines", () => {
  const source = "const a = String.raw`x\n  \u2026 // y`;\nconst b = `\n    kept`;\n";
  assert.equal(stripComments(source), source);
  assert.equal(stripComments("f(`a\n  \u00e9`);\n"), "f(`a\n  \\u00e9`);\n");
});

Deno.test("stripComments keeps legal comments and refuses what it cannot scan", () => {
  assert.equal(stripComments("/*! MIT */\nx();\n"), "/*! MIT */\nx();\n");
  assert.equal(stripComments("/** @license MIT */\nx();\n"), "/** @license MIT */\nx();\n");
  assert.equal(stripComments('const s = "open;\n'), null);
  assert.equal(stripComments("/* open\n"), null);
  assert.equal(stripComments("const t = `open ${a\n"), null);
});
