/** Colour arithmetic for the branding's primary colour (WCAG 2 contrast). */

type Rgb = readonly [number, number, number];

/** `#rrggbb` to its channels; null for anything else. */
export function parseHex(hex: string): Rgb | null {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  return m ? [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)] : null;
}

function toHex([r, g, b]: Rgb): string {
  return '#' + [r, g, b].map((c) => Math.round(c).toString(16).padStart(2, '0')).join('');
}

/** WCAG 2's relative luminance. */
export function luminance([r, g, b]: Rgb): number {
  const linear = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/** WCAG 2's contrast ratio of two colours (1 to 21). */
export function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];

/** `colour` mixed with black by `amount` (0: unchanged, 1: black). */
function shade(colour: Rgb, amount: number): Rgb {
  return [colour[0] * (1 - amount), colour[1] * (1 - amount), colour[2] * (1 - amount)];
}

/**
 * The text colour for `background`: white wherever it meets WCAG AA (4.5:1), as on
 * Bootstrap's own blue; otherwise whichever of white and black reads better. (Pure "highest
 * contrast" picks black on mid-tone blues and greens, which people find harder to read.)
 */
export function textOn(background: string): '#ffffff' | '#000000' {
  const rgb = parseHex(background) ?? BLACK;
  const onWhite = contrast(rgb, WHITE);
  return onWhite >= 4.5 || onWhite >= contrast(rgb, BLACK) ? '#ffffff' : '#000000';
}

/** The colours the app derives from a primary colour; null for a colour that is not `#rrggbb`. */
export interface BrandPalette {
  base: string;
  baseRgb: string;
  hover: string;
  active: string;
  /** Text on the base colour (buttons): white or black. */
  onBase: string;
  /** The colour as text on white (links, outline buttons): darkened until it reads (4.5:1). */
  text: string;
  textRgb: string;
  textHover: string;
  textHoverRgb: string;
}

export function brandPalette(hex: string): BrandPalette | null {
  const base = parseHex(hex);
  if (!base) return null;
  let text = base;
  for (let amount = 0.05; contrast(text, WHITE) < 4.5 && amount <= 1; amount += 0.05) {
    text = shade(base, amount);
  }
  const textHover = shade(text, 0.2);
  const rgb = (c: Rgb) => c.map((v) => Math.round(v)).join(', ');
  return {
    base: toHex(base),
    baseRgb: rgb(base),
    hover: toHex(shade(base, 0.15)),
    active: toHex(shade(base, 0.2)),
    onBase: textOn(toHex(base)),
    text: toHex(text),
    textRgb: rgb(text),
    textHover: toHex(textHover),
    textHoverRgb: rgb(textHover),
  };
}
