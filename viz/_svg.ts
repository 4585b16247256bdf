// Text helpers of the HTML report: escaping and number formats that do not
// depend on the locale, so that the same model always gives the same bytes.

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text made safe for HTML and SVG, in element content and in quoted
 * attributes. Control characters (which XML forbids) become U+FFFD, and so do
 * lone surrogates, so that the bytes are valid UTF-8.
 */
export function esc(text: string): string {
  return text
    .replace(LONE_SURROGATE, "\ufffd")
    // deno-lint-ignore no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "\ufffd")
    .replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** An integer with `,` every three digits, whatever the locale: `12,345`. */
export function int(n: number): string {
  const sign = n < 0 ? "-" : "";
  const digits = String(Math.abs(Math.round(n)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A number with at most `places` decimals, trailing zeros dropped: `2.5`, `3`. */
export function dec(n: number, places = 1): string {
  const fixed = n.toFixed(places);
  return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
}

/** A coordinate for SVG: at most two decimals. */
export function px(n: number): string {
  return dec(n, 2);
}

/** `ticks 3..7`, or `tick 3` when the range is one tick. */
export function tickRange(from: number, to: number): string {
  return from === to ? `tick ${from}` : `ticks ${from}..${to}`;
}

/** `1 error`, `2 errors`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${int(n)} ${n === 1 ? one : many}`;
}

/** A string cut to `max` characters (code points), with `…` when cut. */
export function clip(text: string, max: number): string {
  const points = [...text];
  return points.length <= max ? text : `${points.slice(0, max - 1).join("")}…`;
}
