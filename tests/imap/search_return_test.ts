/**
 * RETURN-option evaluation (search_return.ts) over ordered number lists: ascending as SEARCH
 * gives them, and in another order as SORT will (ESORT, RFC 5267 3).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  esearchData,
  partialSlice,
  returnedPositions,
  type ReturnRequest,
} from "../../lib/imap/search_return.ts";

const request = (options: string[], partial: [number, number] | null = null): ReturnRequest => ({
  options,
  partial: partial && { first: partial[0], last: partial[1] },
});

Deno.test("search_return: PARTIAL slices count from the start or, negative, from the end (RFC 9394)", () => {
  const numbers = [2, 3, 5, 7, 11, 13];
  const cases: Array<[[number, number], number[]]> = [
    [[1, 2], [2, 3]],
    [[2, 4], [3, 5, 7]],
    [[5, 100], [11, 13]],
    [[6, 6], [13]],
    [[7, 9], []],
    [[-1, -1], [13]],
    [[-1, -2], [11, 13]],
    [[-2, -4], [5, 7, 11]],
    [[-5, -100], [2, 3]],
    [[-6, -6], [2]],
    [[-7, -9], []],
  ];
  for (const [[first, last], expected] of cases) {
    assert.deepEqual(partialSlice(numbers, { first, last }), expected, `${first}:${last}`);
  }
  assert.deepEqual(partialSlice([], { first: -1, last: -5 }), []);
});

Deno.test("search_return: ESEARCH data in Dovecot's order; NIL past the end; COUNT of the whole result", () => {
  const numbers = [1, 2, 3, 5, 9];
  assert.equal(esearchData(numbers, request(["ALL"])), " ALL 1:3,5,9");
  assert.equal(
    esearchData(numbers, request(["COUNT", "PARTIAL", "MAX", "MIN"], [2, 3])),
    " MIN 1 MAX 9 PARTIAL (2:3 2:3) COUNT 5",
  );
  assert.equal(esearchData(numbers, request(["PARTIAL"], [-1, -2])), " PARTIAL (-1:-2 5,9)");
  assert.equal(esearchData(numbers, request(["PARTIAL"], [10, 30])), " PARTIAL (10:30 NIL)");
  // Nothing matched: MIN, MAX and ALL are left out (RFC 4731 3.1), PARTIAL says NIL.
  assert.equal(
    esearchData([], request(["MIN", "MAX", "PARTIAL", "COUNT"], [1, 5])),
    " PARTIAL (1:5 NIL) COUNT 0",
  );
  assert.equal(esearchData([], request(["UPDATE"])), "");
});

Deno.test("search_return: an ordered (SORT) result keeps its order; MIN and MAX are its first and last", () => {
  const sorted = [9, 2, 3, 1, 5];
  // RFC 5267 3 (ESORT), as Dovecot 2.3 answers: MIN/MAX in sort order.
  assert.equal(
    esearchData(sorted, request(["MIN", "MAX", "ALL", "COUNT"]), true),
    " MIN 9 MAX 5 ALL 9,2:3,1,5 COUNT 5",
  );
  // A SEARCH's (unordered) MIN and MAX are the extremes.
  assert.equal(esearchData(sorted, request(["MIN", "MAX"])), " MIN 1 MAX 9");
  assert.equal(esearchData(sorted, request(["PARTIAL"], [1, 3]), true), " PARTIAL (1:3 9,2:3)");
  assert.equal(esearchData(sorted, request(["PARTIAL"], [-1, -2]), true), " PARTIAL (-1:-2 1,5)");
  assert.deepEqual(returnedPositions(sorted, request(["MIN", "MAX", "SAVE"]), true), [0, 4]);
  assert.deepEqual(returnedPositions(sorted, request(["MIN", "MAX", "SAVE"])), [0, 3]);
});

Deno.test("search_return: what SAVE keeps and MODSEQ covers (RFC 5182 2.1, RFC 9394)", () => {
  const numbers = [4, 6, 8, 10];
  assert.deepEqual(returnedPositions(numbers, request(["MIN", "SAVE"])), [0]);
  assert.deepEqual(returnedPositions(numbers, request(["MAX", "MIN"])), [0, 3]);
  assert.deepEqual(returnedPositions(numbers, request(["MIN", "COUNT"])), [0, 1, 2, 3]);
  assert.deepEqual(returnedPositions(numbers, request(["PARTIAL", "SAVE"], [-1, -2])), [2, 3]);
  assert.deepEqual(returnedPositions(numbers, request(["PARTIAL", "MIN"], [3, 3])), [0, 2]);
  assert.deepEqual(returnedPositions(numbers, request(["SAVE"])), [0, 1, 2, 3]);
  assert.deepEqual(returnedPositions(numbers, request(["UPDATE"])), [0, 1, 2, 3]);
  assert.deepEqual(returnedPositions([], request(["MIN"])), []);
});
