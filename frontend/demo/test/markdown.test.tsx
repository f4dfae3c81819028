import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { Markdown, parseBlocks } from "../src/markdown";

const html = (source: string): string => renderToStaticMarkup(<Markdown source={source} />);

describe("Markdown", () => {
  it("renders the usual blocks", () => {
    expect(html("# Shopping list\n\n- **spaghetti**, 200 g\n- eggs\n\n1. boil\n2. stir")).toBe(
      '<div class="markdown"><h3>Shopping list</h3><ul><li><strong>spaghetti</strong>, 200 g</li><li>eggs</li></ul>' +
        '<ol start="1"><li>boil</li><li>stir</li></ol></div>',
    );
  });

  it("renders tables, quotes, code and rules", () => {
    const out = html("| Wine | Why |\n|---|---|\n| Frascati | *crisp* |\n\n> Serve chilled\n\n```\nx < y\n```\n\n---");
    expect(out).toContain("<table><thead><tr><th>Wine</th><th>Why</th></tr></thead>");
    expect(out).toContain("<td>Frascati</td><td><em>crisp</em></td>");
    expect(out).toContain("<blockquote>Serve chilled</blockquote>");
    expect(out).toContain("<pre><code>x &lt; y</code></pre><hr/>");
  });

  it("never lets markup through", () => {
    const out = html('<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n- <b>bold?</b>');
    expect(out).not.toContain("<script");
    expect(out).not.toContain("<img");
    expect(out).not.toContain("<b>");
    expect(out).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  it("links only http(s) and mailto", () => {
    expect(html("[shop](https://example.com/a)")).toContain(
      '<a href="https://example.com/a" target="_blank" rel="noopener noreferrer nofollow">shop</a>',
    );
    const js = html("[click](javascript:alert(1))");
    expect(js).not.toContain("<a");
    expect(js).not.toContain('href="javascript');
  });

  it("keeps paragraphs and inline code", () => {
    expect(parseBlocks("one\ntwo\n\nthree")).toEqual([
      { kind: "paragraph", text: "one two" },
      { kind: "paragraph", text: "three" },
    ]);
    expect(html("use `2 tbsp` oil")).toBe('<div class="markdown"><p>use <code>2 tbsp</code> oil</p></div>');
  });
});
