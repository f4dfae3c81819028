import { describe, expect, it } from "vitest";

import { describeError, truncateUtf8, utf8Length } from "../src/errors";

describe("truncateUtf8", () => {
  it("leaves text within the limit alone", () => {
    expect(truncateUtf8("hello", 5)).toBe("hello");
    expect(truncateUtf8("", 0)).toBe("");
  });

  it("cuts by bytes, not characters, and ends with an ellipsis", () => {
    const cut = truncateUtf8("ééééé", 8); // 10 bytes; the ellipsis takes 3
    expect(cut).toBe("éé…");
    expect(utf8Length(cut)).toBe(7);
  });

  it("never splits a surrogate pair", () => {
    const cut = truncateUtf8("ab🍝🍝🍝", 9); // budget 6 bytes after the ellipsis: "ab" + one 4-byte emoji
    expect(cut).toBe("ab🍝…");
    const tight = truncateUtf8("ab🍝🍝", 8); // budget 5: the emoji does not fit whole
    expect(tight).toBe("ab…");
  });

  it("trims trailing space before the ellipsis", () => {
    expect(truncateUtf8("one two three", 7)).toBe("one…");
  });

  it("returns nothing when not even the ellipsis fits", () => {
    expect(truncateUtf8("abcdef", 2)).toBe("");
  });
});

describe("describeError", () => {
  it("reads Errors, strings and other values", () => {
    expect(describeError(new Error("boom"))).toBe("boom");
    expect(describeError(new RangeError(""))).toBe("RangeError");
    expect(describeError("text")).toBe("text");
    expect(describeError({ a: 1 })).toBe('{"a":1}');
    expect(describeError(undefined)).toBe("undefined");
  });
});
